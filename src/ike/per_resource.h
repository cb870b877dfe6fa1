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
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ike/child_sa.h"
#include "ike/config.h"
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
};

/// The 4-byte opaque identifier we send for `resource` on this IKE SA (never the raw CPU
/// number, RFC 9611 §7); empty for the fallback.
Bytes resource_identifier(const IkeSa& sa, ResourceId resource);

/// An SA_RESOURCE_INFO identifier for logs: hex, or "none" when absent.
std::string identifier_text(ByteView identifier);

/// The group's fallback (installed or being rekeyed), or nullptr.
const ChildSa* group_fallback(const IkeSa& sa, const ChildConfig& config);
/// Resource-bound members of the group (the fallback not counted).
std::size_t group_member_count(const IkeSa& sa, const ChildConfig& config);

/// Initiator: how to ask for a new Child SA of `config` for `resource`.
struct MemberPlan {
    bool resource_info{false};     ///< add N(SA_RESOURCE_INFO)
    ResourceId resource;           ///< the resource the new SA will serve (none: fallback)
    const ChildSa* copy{nullptr};  ///< a member: copy this SA's proposal and selectors
};
MemberPlan plan_member(const IkeSa& sa, const ChildConfig& config, ResourceId resource);

/// Initiator: the response to a request that carried SA_RESOURCE_INFO arrived and the Child
/// SA `c` was created from it; records whether the peer made it a group member.
void complete_member(IkeSa& sa, ChildSa& c, bool asked, std::span<const wire::Payload> response);

/// Responder: where a request for `config` goes.
struct Binding {
    bool member{false};  ///< a group member (answer with SA_RESOURCE_INFO)
    bool refuse{false};  ///< the group is at its limit: answer TS_MAX_QUEUE
    ResourceId resource;
};
Binding bind_member(IkeSa& sa, const ChildConfig& config, std::span<const TrafficSelector> local_ts,
                    std::span<const TrafficSelector> remote_ts,
                    std::span<const wire::Payload> request, bool rekey);

/// Traffic for `config` on `resource` has no SA of its own (an acquire, or an operator's
/// initiate when `explicit_request`): request what is missing, if anything.
void on_acquire(IkeSa& sa, const ChildConfig& config, ResourceId resource, Step& step,
                bool explicit_request = false);
/// A group member was installed: with `per_cpu_sas_start = all`, the IKE SA's original
/// initiator asks for one member per local resource after the fallback.
void on_member_installed(IkeSa& sa, const ChildSa& c, Step& step);
/// A Child SA went away (not replaced by a rekey): the group is no longer full; a lost
/// fallback is re-created while members remain.
void on_child_removed(IkeSa& sa, const ChildSa& removed, Step& step);
/// The peer answered TS_MAX_QUEUE for a member of `config`.
void on_ts_max_queue(IkeSa& sa, const ChildConfig& config, Step& step);

}  // namespace ikeplex::ike
