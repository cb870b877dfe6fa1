#include "ike/per_resource.h"

#include <algorithm>
#include <array>

#include "crypto/hash.h"
#include "ike/ike_sa.h"
#include "ike/payload_access.h"
#include "util/hex.h"
#include "util/log.h"

namespace ikeplex::ike {
namespace {

bool alive(const ChildSa& c) noexcept {
    return c.state == ChildState::kInstalled || c.state == ChildState::kRekeying;
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

}  // namespace

std::string identifier_text(ByteView identifier) {
    return identifier.empty() ? std::string("none") : to_hex(identifier);
}

Bytes resource_identifier(const IkeSa& sa, ResourceId resource) {
    if (resource.is_none()) {
        return {};
    }
    // Keyed hash of the resource index: unique per IKE SA and resource, reveals nothing.
    const std::uint32_t i = resource.index();
    const std::array<std::uint8_t, 4> index{
            static_cast<std::uint8_t>(i >> 24U), static_cast<std::uint8_t>(i >> 16U),
            static_cast<std::uint8_t>(i >> 8U), static_cast<std::uint8_t>(i)};
    auto h = crypto::hash(sa.services().registry, "SHA256", {sa.resource_salt, index});
    if (!h || h->size() < 4) {
        return {};  // the identifier is optional; never fall back to the raw index
    }
    return {h->begin(), h->begin() + 4};
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

MemberPlan plan_member(const IkeSa& sa, const ChildConfig& config, ResourceId resource) {
    MemberPlan plan;
    if (!config.per_cpu_sas) {
        return plan;
    }
    auto it = sa.groups.find(config.name);
    if (it != sa.groups.end() && it->second.peer_declined) {
        return plan;  // a regular Child SA, as the peer wants
    }
    plan.resource_info = true;
    const ChildSa* fallback = group_fallback(sa, config);
    if (fallback == nullptr) {
        return plan;  // the fallback comes first
    }
    plan.resource = resource;
    plan.copy = fallback;
    return plan;
}

void complete_member(IkeSa& sa, ChildSa& c, bool asked, std::span<const wire::Payload> response) {
    if (!asked) {
        return;
    }
    const auto* info = find_notify(response, wire::NotifyType::kSaResourceInfo);
    if (info == nullptr) {
        GroupState& g = sa.groups[c.name()];
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
            identifier_text(resource_identifier(sa, c.resource)), identifier_text(info->data));
}

Binding bind_member(IkeSa& sa, const ChildConfig& config, std::span<const TrafficSelector> local_ts,
                    std::span<const TrafficSelector> remote_ts,
                    std::span<const wire::Payload> request, bool rekey) {
    Binding b;
    const auto* info = find_notify(request, wire::NotifyType::kSaResourceInfo);
    if (rekey || !config.per_cpu_sas) {
        return b;  // a rekey keeps what the old SA had; no per-CPU config: regular SA
    }
    GroupState& g = sa.groups[config.name];
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
    const ChildSa* fallback = group_fallback(sa, config);
    if (fallback == nullptr) {
        return b;  // this one becomes the fallback
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
    // A resource without a member first, then round-robin (design.md §4).
    const std::uint32_t n = std::max(sa.services().settings.resources, 1U);
    for (std::uint32_t r = 0; r < n; ++r) {
        if (!has_member(sa, config, ResourceId::cpu(r))) {
            b.resource = ResourceId::cpu(r);
            return b;
        }
    }
    b.resource = ResourceId::cpu(g.next_rr++ % n);
    return b;
}

void on_acquire(IkeSa& sa, const ChildConfig& config, ResourceId resource, Step& step,
                bool explicit_request) {
    if (sa.state() == IkeState::kDeleting || sa.state() == IkeState::kDestroyed ||
        sa.state() == IkeState::kRekeyed) {
        return;
    }
    const auto busy = [&](ResourceId r) { return sa.creating(config, r); };
    if (!config.per_cpu_sas || sa.groups[config.name].peer_declined) {
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
    if (group_fallback(sa, config) == nullptr) {
        if (!busy(ResourceId::none())) {
            sa.create_child(config, ResourceId::none(), step);  // the fallback first
        }
        return;
    }
    if (resource.is_none() || has_member(sa, config, resource) || busy(resource)) {
        return;
    }
    GroupState& g = sa.groups[config.name];
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
        c.config->per_cpu_sas_start != PerCpuStart::kAll || !sa.is_original_initiator()) {
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

void on_child_removed(IkeSa& sa, const ChildSa& removed, Step& step) {
    if (!removed.group_member || removed.config == nullptr) {
        return;
    }
    sa.groups[removed.name()].full = false;  // room for another member
    if (!removed.resource.is_none() || sa.closing() || sa.state() != IkeState::kEstablished ||
        !sa.is_original_initiator()) {
        return;
    }
    // The fallback is gone but the group lives on: re-create it at once (design.md §4).
    if (group_fallback(sa, *removed.config) == nullptr &&
        group_member_count(sa, *removed.config) > 0 &&
        !sa.creating(*removed.config, ResourceId::none())) {
        IKE_LOG(info, sa, "re-creating the fallback CHILD_SA of group {}", removed.name());
        sa.create_child(*removed.config, ResourceId::none(), step);
    }
}

void on_ts_max_queue(IkeSa& sa, const ChildConfig& config, Step& step) {
    GroupState& g = sa.groups[config.name];
    g.full = true;
    g.full_until = step.now + sa.services().settings.group_full_backoff;
    IKE_LOG(info, sa,
            "peer refuses more per-CPU SAs for CHILD_SA {} (TS_MAX_QUEUE) at {} members; traffic "
            "stays on "
            "the existing SAs",
            config.name, group_member_count(sa, config));
}

}  // namespace ikeplex::ike
