// MOBIKE (RFC 4555): the IKEv2 mobility and multihoming protocol. The IKE SA's original
// initiator moves the IKE SA and its Child SAs to new addresses with an INFORMATIONAL
// UPDATE_SA_ADDRESSES (§3.5); both sides announce their other addresses (§3.4, §3.6); COOKIE2
// checks return routability (§3.7); NAT detection runs again on every move (§3.8).
//
//   HDR, SK {N(UPDATE_SA_ADDRESSES), N(NATD_S_IP), N(NATD_D_IP), N(COOKIE2),
//            N(ADDITIONAL_*_ADDRESS)+ | N(NO_ADDITIONAL_ADDRESSES)}  -->
//                     <--  HDR, SK {N(NATD_S_IP), N(NATD_D_IP), N(COOKIE2)}
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "ike/ike_sa.h"
#include "util/result.h"

namespace ikeplex::ike {

/// The MOBIKE notifies of a message, their data checked (§4.2): COOKIE2 of 8 to 64 octets,
/// ADDITIONAL_IP4_ADDRESS of 4 and ADDITIONAL_IP6_ADDRESS of 16; anything else is an error.
struct MobikeNotifies {
    bool supported{false};
    bool update{false};
    bool no_additional{false};
    bool no_nats{false};  ///< NO_NATS_ALLOWED (§3.9; not acted upon, see rfc-compliance.md)
    std::optional<Bytes> cookie2;
    std::vector<IpAddress> additional;
    std::vector<const Bytes*> natd_src;  ///< NAT_DETECTION_SOURCE_IP data (may be several)
    const Bytes* natd_dst{nullptr};
    /// The peer's address list is announced (ADDITIONAL_* or NO_ADDITIONAL_ADDRESSES).
    [[nodiscard]] bool addresses_given() const noexcept {
        return no_additional || !additional.empty();
    }
};
/// At most this many additional addresses are taken from one message.
inline constexpr std::size_t kMaxAdditionalAddresses = 16;
Result<MobikeNotifies> parse_mobike(std::span<const wire::Payload> ps);

/// §3.5/§3.8: what the peer's NAT detection data says about the path (local, remote):
/// {NAT in front of us, NAT in front of the peer}; nothing without both notifies.
std::optional<std::pair<bool, bool>> mobike_nat(const IkeSa& sa, const MobikeNotifies& n,
                                                const Endpoint& local, const Endpoint& remote);

/// Our other addresses for a MOBIKE message sent from `from` (§3.4, §3.6):
/// N(ADDITIONAL_IP4/6_ADDRESS) for each, or N(NO_ADDITIONAL_ADDRESSES).
void append_additional_addresses(const IkeSa& sa, const IpAddress& from,
                                 std::vector<wire::Payload>& out);

/// IKE_AUTH, both roles (§3.2, §3.4): what we add to our message, and what the peer's says
/// (called with the peer's message that carries the SA payload). `ours`: we offered MOBIKE.
void mobike_auth_payloads(const IkeSa& sa, std::vector<wire::Payload>& out);
void mobike_auth_done(IkeSa& sa, std::span<const wire::Payload> peer, bool ours, Step& step);

/// The host's addresses changed: an IKE SA we move (mobike().mover) finds its new path with
/// `lookup` (to the peer's address, else to one of its additional addresses) among
/// `addresses`; if it differs, the IKE SA moves at once and an UPDATE_SA_ADDRESSES is queued.
/// No path: nothing (a later call retries).
using RouteLookup = std::function<std::optional<IpAddress>(const IpAddress& remote)>;
void mobike_roam(IkeSa& sa, const std::vector<IpAddress>& addresses, const RouteLookup& lookup,
                 Step& step);

/// An IKE rekey's product took over an IKE SA whose update was due: it sends its own.
void mobike_after_rekey(IkeSa& survivor, Step& step);

/// MOBIKE's part of the answer to an INFORMATIONAL request: COOKIE2 echoed, NAT detection
/// answered, UPDATE_SA_ADDRESSES carried out (or refused), the peer's addresses stored.
/// Appends what the response carries to `out` (which goes back the way the request came, as
/// every response: RFC 7296 §2.11).
void answer_mobike(IkeSa& sa, std::span<const wire::Payload> request,
                   std::vector<wire::Payload>& out, Step& step);

/// Moves every installed Child SA of `sa` whose endpoints or encapsulation differ from the IKE
/// SA's (UpdateSaAddresses for each direction, then its policies again).
void move_children(IkeSa& sa, Step& step);

}  // namespace ikeplex::ike
