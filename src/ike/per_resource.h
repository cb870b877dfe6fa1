// RFC 9611 per-resource Child SA groups (design.md §4).
//
// A group is the Child SAs of one per-CPU child config under one IKE SA that were negotiated
// with SA_RESOURCE_INFO and have identical traffic selectors. The first is the fallback (no
// resource); members are bound to a local resource (a CPU / data-plane worker). This module
// decides when a member is requested, what the request carries, how a responder binds a
// member, the limit (TS_MAX_QUEUE), and what happens when members come and go. The exchanges
// (child_create.cc, child_negotiation.cc, ike_auth.cc) call it at the right moments.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ike/child_sa.h"
#include "ike/config.h"
#include "ike/exchange_state.h"
#include "ike/time.h"
#include "util/bytes.h"
#include "wire/payloads.h"

namespace ikeplex::ike {

class IkeSa;
struct Step;

/// What an IKE SA remembers about the group of one child config.
struct GroupState {
    bool peer_declined{false};  ///< the peer does not do RFC 9611 for this config
    bool full{false};           ///< the peer answered TS_MAX_QUEUE
    TimePoint full_until{};     ///< ...and we wait until then (or until a member goes)
    std::uint32_t next_rr{0};   ///< responder: round-robin cursor once every resource has one
    /// Identifier slots of our own member requests under way, per resource (the responder
    /// gives a request that crosses ours another one).
    std::map<ResourceId, std::uint32_t> pending_slots;
    /// SAs of the group the backend could not install (on_install_failed()). Until
    /// `install_retry_at` no SA of the group is requested, re-created or accepted (the back-off
    /// doubles from 1 s); at kMaxInstallFailures the group stops on this IKE SA.
    std::uint32_t install_failures{0};
    TimePoint install_retry_at{};
    bool install_failed{false};
};

/// RFC 9611 on one IKE SA (and its rekeyed successors, which take it over): the group of each
/// child config by name, and the secret our resource identifiers are derived from (drawn when
/// the IKE SA is made).
struct Groups final : ExchangeState {
    std::map<std::string, GroupState> by_child;
    Bytes salt;
};
/// The RFC 9611 state of an IKE SA (every IKE SA has one from its start).
Groups& groups_of(IkeSa& sa);
const Groups& groups_of(const IkeSa& sa);

/// Installs of a group's SAs that may fail before the group stops on its IKE SA.
inline constexpr std::uint32_t kMaxInstallFailures = 3;

/// The 4-byte opaque identifier we send for the `slot`-th SA of `resource` (0: its first) on
/// this IKE SA and its rekeyed successors: a keyed permutation of (slot, resource), so no two
/// SAs of a group share one (RFC 9611 §3) and the CPU number is not revealed (§7); empty for
/// the fallback.
Bytes resource_identifier(const IkeSa& sa, ResourceId resource, std::uint32_t slot = 0);

/// An SA_RESOURCE_INFO identifier for logs: hex, or "none" when absent.
std::string identifier_text(ByteView identifier);

/// The group's fallback (installed or being rekeyed), or nullptr.
const ChildSa* group_fallback(const IkeSa& sa, const ChildConfig& config);
/// Resource-bound members of the group (the fallback not counted).
std::size_t group_member_count(const IkeSa& sa, const ChildConfig& config);

/// Initiator: how to ask for a new Child SA of `config` for `resource` (plan_member() also
/// records the identifier slot of a member request, see GroupState::pending_slots).
struct MemberPlan {
    bool resource_info{false};     ///< add N(SA_RESOURCE_INFO)
    ResourceId resource;           ///< the resource the new SA will serve (none: fallback)
    const ChildSa* copy{nullptr};  ///< a member: copy this SA's proposal and selectors
    std::uint32_t slot{0};         ///< for its identifier (resource_identifier())
};
MemberPlan plan_member(IkeSa& sa, const ChildConfig& config, ResourceId resource);

/// Initiator: the response to a request that carried SA_RESOURCE_INFO arrived and the Child
/// SA `c` was created from it; records whether the peer made it a group member.
void complete_member(IkeSa& sa, ChildSa& c, bool asked, std::span<const wire::Payload> response);

/// Initiator, about to send a new Child SA request of `config` for `resource` (queued
/// earlier): false when the group no longer needs it, because the peer's request gave that
/// resource (or the fallback) an SA meanwhile, or another request of ours makes the fallback.
bool request_still_needed(const IkeSa& sa, const ChildConfig& config, ResourceId resource);

/// Initiator: our new group member `ours` was just installed. If its resource got another SA
/// of the group meanwhile (the peer's request crossed ours), delete the redundant one
/// (the ikeplex rule in the comment at the definition).
void resolve_crossing(IkeSa& sa, const ChildSa& ours, Step& step);

/// Responder: where a request for `config` goes.
struct Binding {
    bool member{false};       ///< a group member (answer with SA_RESOURCE_INFO)
    bool refuse{false};       ///< the group is at its limit: answer TS_MAX_QUEUE
    bool retry_later{false};  ///< crosses our own request for the fallback, or our installs of
                              ///< the group back off: TEMPORARY_FAILURE
    bool fail{false};         ///< the group stopped here (installs failed): NO_PROPOSAL_CHOSEN
    ResourceId resource;
    MemberInfo info;  ///< its identifier slot; crossed: our own request for it is under way
};
Binding bind_member(IkeSa& sa, const ChildConfig& config, std::span<const TrafficSelector> local_ts,
                    std::span<const TrafficSelector> remote_ts,
                    std::span<const wire::Payload> request, bool rekey, TimePoint now);

/// Traffic for `config` on `resource` has no SA of its own (an acquire, or an operator's
/// initiate when `explicit_request`): request what is missing, if anything.
void on_acquire(IkeSa& sa, const ChildConfig& config, ResourceId resource, Step& step,
                bool explicit_request = false);
/// A group member was installed: with `per_cpu_sas_start = all`, the IKE SA's original
/// initiator asks for one member per local resource after the fallback.
void on_member_installed(IkeSa& sa, const ChildSa& c, Step& step);
/// How a Child SA went away.
enum class Removal : std::uint8_t {
    kLocal,          ///< without a Delete exchange (the peer does not know it, IKE SA closing)
    kDeletedByUs,    ///< our Delete was answered
    kDeletedByPeer,  ///< the peer's Delete
    kDeletedByBoth,  ///< both sent a Delete at once (RFC 7296 §1.4.1)
};
/// A Child SA went away (not replaced by a rekey): the group is no longer full; a lost
/// fallback is re-created while members remain, by the side that did not delete it.
void on_child_removed(IkeSa& sa, const ChildSa& removed, Removal how, Step& step);
/// The peer answered TS_MAX_QUEUE (or NO_ADDITIONAL_SAS: `why`) for a member of `config`:
/// the group is full until a member goes away or `group_full_backoff` passes.
void on_ts_max_queue(IkeSa& sa, const ChildConfig& config, Step& step,
                     const char* why = "TS_MAX_QUEUE");
/// The backend could not install an SA of `config`'s group (e.g. a kernel without ESP): the
/// group backs off (1 s, 2 s, ...) and after kMaxInstallFailures stops on this IKE SA with one
/// error, instead of re-creating and deleting its fallback without end.
void on_install_failed(IkeSa& sa, const ChildConfig& config, const std::string& reason, Step& step);

}  // namespace ikeplex::ike
