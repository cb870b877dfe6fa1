// Half-open responder IKE SAs (IKE_SA_INIT answered, IKE_AUTH not yet received), counted in
// all and per initiator address: what the COOKIE and blocking thresholds are measured against
// (RFC 7296 §2.6; RFC 8019 §4.1, "limit the number of half-open SAs per source address";
// strongSwan's cookie_threshold, cookie_threshold_ip, block_threshold, init_limit_half_open).
#pragma once

#include <cstdint>
#include <unordered_map>

#include "util/ip_address.h"

namespace ikeplex::ike {

struct AddressHash {
    std::size_t operator()(const IpAddress& a) const noexcept;
};

class HalfOpenTable {
public:
    /// IKE SA `id` is half-open, set up by an IKE_SA_INIT from `from`.
    void add(std::uint32_t id, const IpAddress& from);
    /// IKE SA `id` is no longer half-open (established or gone); nothing if it was not.
    void remove(std::uint32_t id);

    [[nodiscard]] std::size_t size() const noexcept { return by_id_.size(); }
    /// Half-open IKE SAs set up from address `a`.
    [[nodiscard]] std::uint32_t from(const IpAddress& a) const noexcept;
    /// Addresses with at least one half-open IKE SA.
    [[nodiscard]] std::size_t addresses() const noexcept { return per_address_.size(); }

private:
    std::unordered_map<std::uint32_t, IpAddress> by_id_;
    std::unordered_map<IpAddress, std::uint32_t, AddressHash> per_address_;
};

/// Why an IKE_SA_INIT request gets no state (yet): the admission decision of
/// IkeSaManager::on_init_request, in the order strongSwan's receiver applies it.
enum class InitGate : std::uint8_t {
    kAdmit,        ///< create a half-open IKE SA
    kNeedCookie,   ///< answer with a COOKIE (and keep nothing)
    kBlocked,      ///< drop: the address has block_threshold half-open SAs
    kGlobalLimit,  ///< drop: init_limit_half_open half-open SAs in all
};

struct InitLimits {
    std::uint32_t cookie_threshold;
    std::uint32_t cookie_threshold_ip;
    std::uint32_t block_threshold;
    std::uint32_t init_limit_half_open;
};

/// The gate for a request from `from`; `cookie_ok`: it carries a COOKIE we made.
[[nodiscard]] InitGate init_gate(const HalfOpenTable& t, const InitLimits& l, const IpAddress& from,
                                 bool cookie_ok) noexcept;

}  // namespace ikeplex::ike
