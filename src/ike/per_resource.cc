#include "ike/per_resource.h"

#include <algorithm>
#include <array>
#include <optional>
#include <vector>

#include "crypto/hash.h"
#include "ike/exchanges.h"
#include "ike/ike_sa.h"
#include "ike/payload_access.h"
#include "util/hex.h"
#include "util/log.h"

namespace ikeplex::ike {
Groups& groups_of(IkeSa& sa) {
    return sa.states().get<Groups>();
}

const Groups& groups_of(const IkeSa& sa) {
    static const Groups none;  // only before the IKE SA's constructor made its own
    const Groups* g = sa.states().find<Groups>();
    return g != nullptr ? *g : none;
}

namespace {

/// Installed, or (RFC 9370) made by the peer's request and waiting for its IKE_FOLLOWUP_KE
/// rounds: it holds its resource, so a second request for that resource is not bound to it.
bool alive(const ChildSa& c) noexcept {
    return c.state == ChildState::kInstalled || c.state == ChildState::kRekeying ||
           c.state == ChildState::kCreating;
}

/// Members of `config`'s group: group members of this config, alive.
template <class F>
void for_each_member(const IkeSa& sa, const ChildConfig& config, F&& f) {
    for (const auto& c : sa.children()) {
        if (c->group_member && c->config != nullptr && c->config->name == config.name &&
            alive(*c)) {
            f(*c);
        }
    }
}

bool has_member(const IkeSa& sa, const ChildConfig& config, ResourceId resource) {
    bool found = false;
    for_each_member(sa, config, [&](const ChildSa& c) { found = found || c.resource == resource; });
    return found;
}

std::string describe_resource(ResourceId r) {
    return r.is_none() ? "fallback" : fmt::format("cpu {}", r.index());
}

/// The lowest identifier slot that no SA of the group on `resource` has (in any state) and,
/// for the responder (`skip_pending`), not the one of our own request for it under way.
std::uint32_t free_slot(const IkeSa& sa, const ChildConfig& config, ResourceId resource,
                        bool skip_pending) {
    std::vector<std::uint32_t> used;
    for (const auto& c : sa.children()) {
        if (c->group_member && c->config != nullptr && c->config->name == config.name &&
            c->resource == resource) {
            used.push_back(c->member_info.slot);
        }
    }
    if (skip_pending && sa.creating(config, resource)) {
        if (auto g = groups_of(sa).by_child.find(config.name); g != groups_of(sa).by_child.end()) {
            if (auto p = g->second.pending_slots.find(resource);
                p != g->second.pending_slots.end()) {
                used.push_back(p->second);
            }
        }
    }
    std::uint32_t slot = 0;
    while (std::find(used.begin(), used.end(), slot) != used.end()) {
        ++slot;
    }
    return slot;
}

}  // namespace

std::string identifier_text(ByteView identifier) {
    return identifier.empty() ? std::string("none") : to_hex(identifier);
}

Bytes resource_identifier(const IkeSa& sa, ResourceId resource, std::uint32_t slot) {
    if (resource.is_none()) {
        return {};
    }
    // A keyed permutation (a 4-round Feistel network over 16-bit halves, SHA-256 of the
    // per-IKE-SA secret as round function) of slot (13 bits) | resource index (19 bits):
    // different (resource, slot) pairs always give different identifiers, and the CPU number
    // cannot be read from one.
    const std::uint32_t v = (slot << 19U) | (resource.index() & 0x7FFFFU);
    auto left = static_cast<std::uint16_t>(v >> 16U);
    auto right = static_cast<std::uint16_t>(v);
    for (std::uint8_t round = 0; round < 4; ++round) {
        const std::array<std::uint8_t, 3> in{round, static_cast<std::uint8_t>(right >> 8U),
                                             static_cast<std::uint8_t>(right)};
        auto h = crypto::hash(sa.services().registry, "SHA256", {groups_of(sa).salt, in});
        if (!h || h->size() < 2) {
            return {};  // the identifier is optional; never fall back to the raw index
        }
        const auto f = static_cast<std::uint16_t>(((*h)[0] << 8U) | (*h)[1]);
        const auto next = static_cast<std::uint16_t>(left ^ f);
        left = right;
        right = next;
    }
    return {static_cast<std::uint8_t>(left >> 8U), static_cast<std::uint8_t>(left),
            static_cast<std::uint8_t>(right >> 8U), static_cast<std::uint8_t>(right)};
}

const ChildSa* group_fallback(const IkeSa& sa, const ChildConfig& config) {
    const ChildSa* found = nullptr;
    for_each_member(sa, config, [&](const ChildSa& c) {
        if (c.resource.is_none() && found == nullptr) {
            found = &c;
        }
    });
    return found;
}

std::size_t group_member_count(const IkeSa& sa, const ChildConfig& config) {
    std::size_t n = 0;
    for_each_member(sa, config, [&](const ChildSa& c) { n += c.resource.is_none() ? 0U : 1U; });
    return n;
}

/// Whether failed installs keep `config`'s group from asking for SAs now (on_install_failed()).
bool installs_blocked(IkeSa& sa, const ChildConfig& config, TimePoint now) {
    const GroupState& g = groups_of(sa).by_child[config.name];
    return g.install_failed || now < g.install_retry_at;
}

MemberPlan plan_member(IkeSa& sa, const ChildConfig& config, ResourceId resource) {
    MemberPlan plan;
    if (!config.per_cpu_sas) {
        return plan;
    }
    auto it = groups_of(sa).by_child.find(config.name);
    if (it != groups_of(sa).by_child.end() && it->second.peer_declined) {
        return plan;  // a regular Child SA, as the peer wants
    }
    plan.resource_info = true;
    const ChildSa* fallback = group_fallback(sa, config);
    if (fallback == nullptr) {
        return plan;  // the fallback comes first
    }
    plan.resource = resource;
    plan.copy = fallback;
    if (!resource.is_none()) {
        plan.slot = free_slot(sa, config, resource, false);
        groups_of(sa).by_child[config.name].pending_slots[resource] = plan.slot;
    }
    return plan;
}

bool request_still_needed(const IkeSa& sa, const ChildConfig& config, ResourceId resource) {
    auto it = groups_of(sa).by_child.find(config.name);
    if (!config.per_cpu_sas || (it != groups_of(sa).by_child.end() && it->second.peer_declined)) {
        return true;  // regular Child SAs: whatever was asked for
    }
    if (group_fallback(sa, config) == nullptr) {
        // This request makes the fallback (plan_member()), unless another of ours does.
        return !sa.creating(config, ResourceId::none());
    }
    return !resource.is_none() && !has_member(sa, config, resource);
}

void complete_member(IkeSa& sa, ChildSa& c, bool asked, std::span<const wire::Payload> response) {
    if (!asked) {
        return;
    }
    const auto* info = find_notify(response, wire::NotifyType::kSaResourceInfo);
    if (info == nullptr) {
        GroupState& g = groups_of(sa).by_child[c.name()];
        if (!g.peer_declined) {
            IKE_LOG(info, sa,
                    "peer did not answer SA_RESOURCE_INFO: CHILD_SA {}{{{}}} is a regular "
                    "CHILD_SA, no per-CPU "
                    "SAs will be requested",
                    c.name(), c.id);
        }
        g.peer_declined = true;
        c.group_member = false;
        c.resource = ResourceId::none();
        return;
    }
    c.group_member = true;
    IKE_LOG(info, sa, "CHILD_SA {}{{{}}} is the group's {} (our id {}, the peer's id {})", c.name(),
            c.id, describe_resource(c.resource),
            identifier_text(resource_identifier(sa, c.resource, c.member_info.slot)),
            identifier_text(info->data));
}

// ikeplex rule for crossing member requests (RFC 9611 leaves it open; docs/rfc-compliance.md):
// both sides may ask for a member of the same resource at once (each kernel raises a per-CPU
// acquire, e.g. for a ping's request on one side and its reply on the other).
//  1. A responder binds a member request to a resource that has neither an SA of the group
//     nor a request of ours queued or under way; failing that, to one without an SA whose
//     own request is still queued (it will not be sent, rule 2); failing that, to one whose
//     own request is under way (the requests cross: `crossed`); failing that, round-robin.
//  2. An acquire for a resource that has an SA or a request of ours is dropped (on_acquire()),
//     and a queued request whose resource got an SA meanwhile is not sent
//     (request_still_needed()).
//  3. When our own request for resource R completes and R already has an SA of the group
//     (only a crossing peer request can have put it there), one of the two is redundant: the
//     one requested by the side that is not the original initiator of the current IKE SA is
//     deleted, by whichever side sees the redundancy (both may: RFC 7296 §1.4.1). The rule
//     names a side, not a pair of exchanges, so both sides agree whichever requests each of
//     them paired up. Until then (and after a deletion, until an acquire brings a new
//     member) the CPU's traffic goes on the fallback.
//  4. The fallback is special: a request that becomes the fallback on one side must be the
//     fallback on the other too, and a side may see the crossing while the other does not (a
//     reordered response). So a side without a fallback whose own request for one is sent
//     and unanswered answers the peer's crossing request with TEMPORARY_FAILURE if it is the
//     original initiator of the IKE SA, and takes it as the fallback (deleting its own when
//     that completes, rule 3) if it is not; the refused side retries later, and drops the
//     retry once it has a fallback.
void resolve_crossing(IkeSa& sa, const ChildSa& ours, Step& step) {
    if (!ours.group_member || ours.config == nullptr || ours.member_info.peer_requested) {
        return;
    }
    bool redundant = false;
    std::uint32_t partner = 0;
    for_each_member(sa, *ours.config, [&](const ChildSa& c) {
        if (&c == &ours || c.resource != ours.resource) {
            return;
        }
        redundant = true;
        if (partner == 0 && c.member_info.peer_requested && c.member_info.crossed) {
            partner = c.id;
        }
    });
    if (!redundant) {
        return;
    }
    const bool we_win = sa.is_original_initiator();
    const std::uint32_t doomed = we_win ? partner : ours.id;
    IKE_LOG(info, sa, "CHILD_SA {}{{{}}} for the group's {} crossed the peer's request: {}",
            ours.name(), ours.id, describe_resource(ours.resource),
            doomed == 0 ? std::string("the peer deletes its redundant one")
                        : fmt::format("deleting the redundant {{{}}} ({})", doomed,
                                      we_win ? "the peer's request" : "ours"));
    for (const auto& c : sa.children()) {
        if (c->resource == ours.resource && c->config == ours.config) {
            c->member_info.crossed = false;  // resolved
        }
    }
    if (doomed != 0) {
        sa.delete_child(doomed, step);
    }
}

namespace {

/// The resource a peer's new member binds to (RFC 9611 rule 1, resolved at
/// resolve_crossing()): a free resource, else one our queued request was to fill, else one our
/// request under way is filling, else round-robin (design.md §4).
void choose_resource(IkeSa& sa, const ChildConfig& config, GroupState& g, Binding& b) {
    const std::uint32_t n = std::max(sa.services().settings.resources, 1U);
    std::optional<ResourceId> unsent;    // our request for it is queued: it will not be sent
    std::optional<ResourceId> crossing;  // our request for it is under way
    for (std::uint32_t r = 0; r < n; ++r) {
        const ResourceId res = ResourceId::cpu(r);
        if (has_member(sa, config, res)) {
            continue;
        }
        if (!sa.creating(config, res)) {
            b.resource = res;
            b.info.slot = free_slot(sa, config, res, true);
            return;
        }
        if (sa.requesting(config, res)) {
            crossing = crossing.value_or(res);
        } else {
            unsent = unsent.value_or(res);
        }
    }
    if (unsent) {
        b.resource = *unsent;
    } else if (crossing) {
        IKE_LOG(info, sa, "the peer's per-CPU request for CHILD_SA {} crosses ours for {}",
                config.name, describe_resource(*crossing));
        b.info.crossed = true;
        b.resource = *crossing;
    } else {
        b.resource = ResourceId::cpu(g.next_rr++ % n);
    }
    b.info.slot = free_slot(sa, config, b.resource, true);
}

}  // namespace

Binding bind_member(IkeSa& sa, const ChildConfig& config, std::span<const TrafficSelector> local_ts,
                    std::span<const TrafficSelector> remote_ts,
                    std::span<const wire::Payload> request, bool rekey, TimePoint now) {
    Binding b;
    const auto* info = find_notify(request, wire::NotifyType::kSaResourceInfo);
    if (rekey || !config.per_cpu_sas) {
        return b;  // a rekey keeps what the old SA had; no per-CPU config: regular SA
    }
    GroupState& g = groups_of(sa).by_child[config.name];
    if (g.install_failed) {
        b.fail = true;  // our backend cannot install the group's SAs (logged when it stopped)
        return b;
    }
    if (now < g.install_retry_at) {
        IKE_LOG(info, sa,
                "group of CHILD_SA {} backs off after a failed install: TEMPORARY_FAILURE",
                config.name);
        b.retry_later = true;
        return b;
    }
    if (info == nullptr) {
        if (!g.peer_declined) {
            IKE_LOG(info, sa,
                    "peer did not send SA_RESOURCE_INFO for CHILD_SA {}: creating a regular "
                    "CHILD_SA",
                    config.name);
        }
        g.peer_declined = true;
        return b;
    }
    g.peer_declined = false;
    b.member = true;
    b.info.peer_requested = true;
    // A fallback we are deleting does not count: the peer's re-creation of it may come before
    // the response to our Delete (when that is lost and repeated).
    const ChildSa* fallback = group_fallback(sa, config);
    if (fallback == nullptr) {
        // This one becomes the fallback, unless it crosses our own request for one (rule 4).
        if (sa.requesting(config, ResourceId::none())) {
            if (sa.is_original_initiator()) {
                IKE_LOG(info, sa,
                        "the peer's request for CHILD_SA {} crosses ours for the fallback: "
                        "TEMPORARY_FAILURE",
                        config.name);
                b.retry_later = true;
                return b;
            }
            b.info.crossed = true;
        }
        return b;
    }
    if (!std::equal(local_ts.begin(), local_ts.end(), fallback->local_ts.begin(),
                    fallback->local_ts.end()) ||
        !std::equal(remote_ts.begin(), remote_ts.end(), fallback->remote_ts.begin(),
                    fallback->remote_ts.end())) {
        IKE_LOG(info, sa,
                "per-CPU request for CHILD_SA {} with other selectors than its group: regular "
                "CHILD_SA",
                config.name);
        b.member = false;
        return b;
    }
    if (group_member_count(sa, config) >= config.per_cpu_sas_max) {
        IKE_LOG(info, sa, "group of CHILD_SA {} has {} per-CPU SAs, the limit: TS_MAX_QUEUE",
                config.name, config.per_cpu_sas_max);
        b.refuse = true;
        return b;
    }
    choose_resource(sa, config, g, b);
    return b;
}

void on_acquire(IkeSa& sa, const ChildConfig& config, ResourceId resource, Step& step,
                bool explicit_request) {
    if (sa.state() == IkeState::kDeleting || sa.state() == IkeState::kDestroyed ||
        sa.state() == IkeState::kRekeyed) {
        return;
    }
    if (sa.at_child_limit(true)) {
        IKE_LOG(debug, sa, "IKE_SA holds max_child_sas = {}: no new CHILD_SA {}",
                sa.services().settings.max_child_sas, config.name);
        return;
    }
    const auto busy = [&](ResourceId r) { return sa.creating(config, r); };
    if (!config.per_cpu_sas || groups_of(sa).by_child[config.name].peer_declined) {
        // A regular Child SA: one unless an operator explicitly asks for another.
        bool exists = busy(ResourceId::none());
        for (const auto& c : sa.children()) {
            exists =
                    exists || (c->config != nullptr && c->config->name == config.name && alive(*c));
        }
        if (!exists || explicit_request) {
            sa.create_child(config, ResourceId::none(), step);
        }
        return;
    }
    if (installs_blocked(sa, config, step.now)) {
        IKE_LOG(debug, sa, "group of CHILD_SA {} backs off after failed installs", config.name);
        return;
    }
    if (group_fallback(sa, config) == nullptr) {
        if (!busy(ResourceId::none())) {
            sa.create_child(config, ResourceId::none(), step);  // the fallback first
        }
        return;
    }
    if (resource.is_none() || has_member(sa, config, resource) || busy(resource)) {
        return;
    }
    GroupState& g = groups_of(sa).by_child[config.name];
    if (g.full && step.now < g.full_until) {
        IKE_LOG(debug, sa, "group of CHILD_SA {} is full (TS_MAX_QUEUE), not asking for {}",
                config.name, describe_resource(resource));
        return;
    }
    g.full = false;
    if (group_member_count(sa, config) >= config.per_cpu_sas_max) {
        IKE_LOG(debug, sa, "group of CHILD_SA {} has its {} per-CPU SAs", config.name,
                config.per_cpu_sas_max);
        return;
    }
    IKE_LOG(info, sa, "requesting a per-CPU CHILD_SA {} for {}", config.name,
            describe_resource(resource));
    sa.create_child(config, resource, step);
}

void on_member_installed(IkeSa& sa, const ChildSa& c, Step& step) {
    if (!c.group_member || !c.resource.is_none() || c.config == nullptr ||
        c.config->per_cpu_sas_start != PerCpuStart::kAll || !sa.is_original_initiator() ||
        installs_blocked(sa, *c.config, step.now)) {
        return;
    }
    // The fallback is up: one member per local resource, sent as the window allows.
    const ChildConfig& config = *c.config;
    const std::uint32_t n =
            std::min(std::max(sa.services().settings.resources, 1U), config.per_cpu_sas_max);
    for (std::uint32_t r = 0; r < n; ++r) {
        const ResourceId res = ResourceId::cpu(r);
        if (!has_member(sa, config, res) && !sa.creating(config, res)) {
            sa.create_child(config, res, step);
        }
    }
}

// ikeplex rule: a group with members always has a fallback. When it goes (not replaced by a
// rekey), the side that did not delete it re-creates it at once: the receiver of the peer's
// Delete, or the side that lost it without a Delete exchange; when both deleted it at once,
// the original initiator of the current IKE SA. None of this depends on who initiated an
// earlier IKE SA, and the request is queued even while the IKE SA is being rekeyed (it moves
// to the new IKE SA). The side that deleted it (also facing a peer that is not ikeplex)
// re-creates it itself after a grace of two retransmit timeouts, unless the peer's has come
// by then (request_still_needed()); should both ask at once, rule 4 above applies.
void on_child_removed(IkeSa& sa, const ChildSa& removed, Removal how, Step& step) {
    if (!removed.group_member || removed.config == nullptr) {
        return;
    }
    groups_of(sa).by_child[removed.name()].full = false;  // room for another member
    if (!removed.resource.is_none() || sa.closing() || sa.state() == IkeState::kRekeyed) {
        return;
    }
    const ChildConfig& config = *removed.config;
    if (group_fallback(sa, config) != nullptr || group_member_count(sa, config) == 0 ||
        sa.creating(config, ResourceId::none())) {
        return;
    }
    const GroupState& g = groups_of(sa).by_child[config.name];
    if (g.install_failed) {
        return;  // the group stopped here (on_install_failed())
    }
    if (step.now < g.install_retry_at) {
        // Our last install of the group failed: ask again when the back-off ends.
        sa.queue_later(make_child_create(config, ResourceId::none(), 0),
                       g.install_retry_at - step.now, step);
        return;
    }
    const bool now = how == Removal::kDeletedByBoth ? sa.is_original_initiator()
                                                    : how != Removal::kDeletedByUs;
    if (now) {
        IKE_LOG(info, sa, "re-creating the fallback CHILD_SA of group {}", removed.name());
        sa.create_child(config, ResourceId::none(), step);
        return;
    }
    const Duration grace = 2 * sa.services().settings.retransmit_timeout;
    IKE_LOG(info, sa, "the peer re-creates the fallback CHILD_SA of group {} (else we do in {} ms)",
            removed.name(), grace.count());
    sa.queue_later(make_child_create(config, ResourceId::none(), 0), grace, step);
}

void on_install_failed(IkeSa& sa, const ChildConfig& config, const std::string& reason,
                       Step& step) {
    if (!config.per_cpu_sas) {
        return;
    }
    GroupState& g = groups_of(sa).by_child[config.name];
    if (g.install_failed) {
        return;
    }
    if (++g.install_failures >= kMaxInstallFailures) {
        g.install_failed = true;
        log::error(log::Subsystem::kIke,
                   "{} group of CHILD_SA {} stopped: the backend refused {} of its SAs (last: {}); "
                   "no more SAs of this group on this IKE_SA",
                   sa.label(), config.name, g.install_failures, reason);
        return;
    }
    const Duration wait = std::chrono::seconds(1) * (1U << (g.install_failures - 1));
    g.install_retry_at = step.now + wait;
    IKE_LOG(info, sa, "installing an SA of group {} failed: no new SA of it for {} s", config.name,
            std::chrono::duration_cast<std::chrono::seconds>(wait).count());
}

void on_ts_max_queue(IkeSa& sa, const ChildConfig& config, Step& step, const char* why) {
    GroupState& g = groups_of(sa).by_child[config.name];
    g.full = true;
    g.full_until = step.now + sa.services().settings.group_full_backoff;
    IKE_LOG(info, sa,
            "peer refuses more per-CPU SAs for CHILD_SA {} ({}) at {} members; traffic stays on "
            "the existing SAs",
            config.name, why, group_member_count(sa, config));
}

}  // namespace ikeplex::ike
