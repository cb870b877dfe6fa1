// The IKE SA manager's lookups that must not walk every IKE SA (issue 17): IKE SAs by
// connection, by connection and peer, by identities; Child SAs by id and by SPI. The manager
// keeps it in step through the hooks of SaRegistry (an IKE SA reports every change of its
// state, connection, endpoints or identities, and every Child SA it gains or loses).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "ike/ike_sa.h"

namespace ikeplex::ike {

class SaIndex {
public:
    /// What an IKE SA is found by, taken from the SA at each change it reports.
    struct Keys {
        IkeState state{IkeState::kCreated};
        bool initiator{false};
        std::optional<std::string> conn;  ///< the connection's name, if it has one
        Endpoint remote;
        Bytes ids;  ///< local and remote identity, encoded
        bool operator==(const Keys&) const = default;
    };
    [[nodiscard]] static Keys keys_of(const IkeSa& sa);

    // --- IKE SAs ---
    /// Indexes IKE SA `id` under `keys` (a destroyed SA under nothing), replacing what it was
    /// indexed under. Returns its state when last indexed (nothing if it was not).
    std::optional<IkeState> update(std::uint32_t id, Keys keys);
    /// Forgets IKE SA `id` (it is gone).
    void forget(std::uint32_t id);
    /// The lowest id among the original initiator's SAs of `conn` that are connecting,
    /// established or rekeying.
    [[nodiscard]] std::optional<std::uint32_t> initiator_of(const std::string& conn) const;
    /// The lowest id among the established SAs of `conn`.
    [[nodiscard]] std::optional<std::uint32_t> established_of(const std::string& conn) const;
    /// Whether an SA other than `self` of `conn` with peer `remote` exists (not connecting).
    [[nodiscard]] bool other_with_peer(const std::string& conn, const Endpoint& remote,
                                       std::uint32_t self) const;
    /// The SAs with the identities `ids` (Keys::ids) that are not connecting, in id order.
    [[nodiscard]] std::vector<std::uint32_t> with_ids(const Bytes& ids) const;

    // --- Child SAs ---
    void add_child(std::uint32_t ike, const ChildSa& c);
    void remove_child(std::uint32_t child);
    /// The IKE SA that holds Child SA `child`.
    [[nodiscard]] std::optional<std::uint32_t> ike_of(std::uint32_t child) const;
    /// (IKE SA, Child SA) of the Child SAs with inbound (or outbound) SPI `spi`, by IKE SA id.
    [[nodiscard]] std::vector<std::pair<std::uint32_t, std::uint32_t>> by_spi(Spi spi,
                                                                              bool inbound) const;

    /// Entries per index (a leak check: all zero once every SA is gone).
    [[nodiscard]] std::map<std::string, std::size_t> sizes() const;

private:
    struct ChildEntry {
        std::uint32_t ike{0};
        Spi spi_in;
        Spi spi_out;
    };
    using ConnKey = std::pair<std::string, std::uint32_t>;
    using PeerKey = std::tuple<std::string, Endpoint, std::uint32_t>;

    void insert(std::uint32_t id, const Keys& k);
    void erase(std::uint32_t id, const Keys& k);

    std::map<std::uint32_t, Keys> keys_;
    std::set<ConnKey> initiators_;  ///< original initiator, connecting/established/rekeying
    std::set<ConnKey> established_;
    std::set<PeerKey> peers_;                        ///< not connecting
    std::set<std::pair<Bytes, std::uint32_t>> ids_;  ///< not connecting
    std::map<std::uint32_t, ChildEntry> children_;
    std::set<std::pair<Spi, std::uint32_t>> spi_in_;  ///< (SPI, child id)
    std::set<std::pair<Spi, std::uint32_t>> spi_out_;
};

}  // namespace ikeplex::ike
