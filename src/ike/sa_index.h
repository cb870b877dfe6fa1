// The IKE SA manager's lookups that must not walk every IKE SA (issue 17): IKE SAs by
// connection, by connection and peer, by identities; Child SAs by id and by SPI. The manager
// keeps it in step through the hooks of SaRegistry (an IKE SA reports every change of its
// state, connection, endpoints or identities, and every Child SA it gains or loses).
//
// Every index is a hash map, so adding and removing an SA costs O(1) whatever the number of
// SAs. Connection names are interned (one copy per name, counted), identities kept as a
// 64-bit hash (callers compare the SAs' real identities).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ike/ike_sa.h"
#include "util/flat_map.h"

namespace ikeplex::ike {

/// A 64-bit mix (splitmix64's finalizer) for hash keys made of several fields.
[[nodiscard]] constexpr std::uint64_t hash_mix(std::uint64_t x) noexcept {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

struct EndpointHash {
    std::size_t operator()(const Endpoint& e) const noexcept;
};

class SaIndex {
public:
    SaIndex() = default;
    SaIndex(const SaIndex&) = delete;  // Keys point into names_
    SaIndex& operator=(const SaIndex&) = delete;
    SaIndex(SaIndex&&) = delete;
    SaIndex& operator=(SaIndex&&) = delete;
    ~SaIndex() = default;

    /// The hash of an SA's local and remote identity (with_ids); the remote one is the peer's
    /// EAP identity where it has one.
    [[nodiscard]] static std::uint64_t ids_of(const IkeSa& sa) noexcept;

    // --- IKE SAs ---
    /// Indexes IKE SA `sa` under what it is found by now (a destroyed SA under nothing),
    /// replacing what it was indexed under. Returns its state when last indexed (nothing if it
    /// was not).
    std::optional<IkeState> update(const IkeSa& sa);
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
    /// The SAs whose identities hash to `ids` (ids_of) that are not connecting, in id order.
    /// A hash collision can add others: callers compare the identities.
    [[nodiscard]] std::vector<std::uint32_t> with_ids(std::uint64_t ids) const;

    // --- Child SAs ---
    void add_child(std::uint32_t ike, const ChildSa& c);
    void remove_child(std::uint32_t child);
    /// The IKE SA that holds Child SA `child`.
    [[nodiscard]] std::optional<std::uint32_t> ike_of(std::uint32_t child) const;
    /// (IKE SA, Child SA) of the Child SAs with inbound (or outbound) SPI `spi`, by IKE SA id.
    [[nodiscard]] std::vector<std::pair<std::uint32_t, std::uint32_t>> by_spi(Spi spi,
                                                                              bool inbound) const;

    /// The established IKE SAs (of any connection).
    [[nodiscard]] std::size_t established() const noexcept { return live_established_; }
    /// Entries per index (a leak check: all zero once every SA is gone).
    [[nodiscard]] std::map<std::string, std::size_t> sizes() const;

private:
    /// An interned connection name and the number of IKE SAs indexed under it.
    using Name = std::pair<const std::string, std::uint32_t>;
    /// What an IKE SA is found by, taken from the SA at each change it reports.
    struct Keys {
        IkeState state{IkeState::kCreated};
        bool initiator{false};
        Name* conn{nullptr};  ///< the connection's name, if it has one
        Endpoint remote;
        std::uint64_t ids{0};  ///< ids_of
        bool operator==(const Keys&) const = default;
    };
    /// The ids of the IKE SAs under one key, as a min-heap. Leaving costs O(1): an id stays
    /// until a query or a compaction finds that it no longer belongs there.
    struct Group {
        std::vector<std::uint32_t> heap;
        std::uint32_t live{0};
    };
    struct PeerKey {
        const Name* conn{nullptr};
        Endpoint remote;
        bool operator==(const PeerKey&) const = default;
    };
    struct PeerHash {
        std::size_t operator()(const PeerKey& k) const noexcept;
    };
    struct ChildEntry {
        std::uint32_t ike{0};
        Spi spi_in;
        Spi spi_out;
    };
    template <class K>
    using Groups = std::unordered_map<K, Group>;
    using SpiMap = std::unordered_multimap<Spi, std::uint32_t>;  ///< SPI -> child id

    void release(Name* name);
    void insert(std::uint32_t id, const Keys& k);
    void erase(const Keys& k);
    /// Whether IKE SA `id` belongs to group `key` of `groups` now.
    [[nodiscard]] bool belongs(const Groups<const Name*>& groups, const Name* key,
                               std::uint32_t id) const;
    [[nodiscard]] bool belongs_ids(std::uint64_t key, std::uint32_t id) const;
    template <class K, class Belongs>
    void leave(Groups<K>& groups, const K& key, Belongs belongs);
    [[nodiscard]] std::optional<std::uint32_t> first_of(Groups<const Name*>& groups,
                                                        const std::string& conn) const;
    static void erase_spi(SpiMap& map, Spi spi, std::uint32_t child);

    std::unordered_map<std::string, std::uint32_t> names_;  ///< interned: name -> users
    FlatMap<std::uint32_t, Keys> keys_;
    /// Original initiator, connecting/established/rekeying. Lookups drop stale entries.
    mutable Groups<const Name*> initiators_;
    mutable Groups<const Name*> established_;
    std::unordered_map<PeerKey, std::uint32_t, PeerHash> peers_;  ///< not connecting: count
    Groups<std::uint64_t> ids_;                                   ///< not connecting
    FlatMap<std::uint32_t, ChildEntry> children_;
    SpiMap spi_in_;
    SpiMap spi_out_;
    std::size_t live_initiators_{0};
    std::size_t live_established_{0};
    std::size_t live_peers_{0};
    std::size_t live_ids_{0};
};

}  // namespace ikeplex::ike
