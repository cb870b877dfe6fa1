// The IKE SA manager's side of the backend (design.md §5): the events a backend reports
// (acquires, expiries, install failures, NAT mappings) and the policies, shared by reqid and
// selectors among the Child SAs that use them (a trap policy stays when its last SA goes).
#include <algorithm>

#include "ike/manager.h"
#include "ike/mobike.h"
#include "ike/per_resource.h"

namespace ikeplex::ike {

void IkeSaManager::on_backend_event(const BackendEvent& event, Step& step) {
    if (const auto* a = std::get_if<Acquire>(&event)) {
        on_acquire(*a, step);
    } else if (const auto* e = std::get_if<Expire>(&event)) {
        if (auto found = find_child_by_spi(e->spi, e->inbound)) {
            auto [sa, child] = *found;
            log::info(log::Subsystem::kChd, "{} {} lifetime of CHILD_SA {}{{{}}} reached",
                      sa->label(), e->hard ? "hard" : "soft", child->name(), child->id);
            if (e->hard) {
                sa->delete_child(child->id, step);
            } else {
                sa->rekey_child(child->id, step);
            }
        }
    } else if (const auto* f = std::get_if<InstallFailed>(&event)) {
        ++counters_.backend_failures;
        if (IkeSa* sa = sa_of_child(f->child_id)) {
            log::error(log::Subsystem::kKnl, "{} installing CHILD_SA {{{}}} failed: {}",
                       sa->label(), f->child_id, f->reason);
            // A command waiting for the Child SA (a VICI initiate) learns that it failed: the
            // child-up it saw was the negotiation's, before the backend refused the SA.
            const ChildSa* child = sa->child(f->child_id);
            step.out.events.push_back(
                    Event{EventKind::kChildFailed, sa->id(), f->child_id, 0,
                          child != nullptr ? child->name() : std::string(),
                          "installing the CHILD_SA failed: " + f->reason,
                          sa->config() != nullptr ? sa->config()->name : std::string()});
            if (child != nullptr && child->config != nullptr) {
                on_install_failed(*sa, *child->config, f->reason, step);  // RFC 9611 groups
            }
            sa->delete_child(f->child_id, step);
        }
    } else if (const auto* m = std::get_if<Mapping>(&event)) {
        if (auto found = find_child_by_spi(m->spi, true)) {
            IkeSa* sa = found->first;
            ++counters_.nat_mappings;
            if (sa->udp_encap() && sa->remote() == m->old_remote) {
                log::info(log::Subsystem::kKnl,
                          "{} NAT mapping of CHILD_SA {}{{{}}} changed: {} -> {}", sa->label(),
                          found->second->name(), found->second->id, m->old_remote, m->remote);
                sa->set_endpoints(sa->local(), m->remote);
                for (const auto& c : sa->children()) {
                    if (c->remote == m->old_remote) {
                        c->remote = m->remote;  // the backend moved it
                    }
                }
                if (m->remote.address != m->old_remote.address) {
                    // The backend moved only port changes; new SAs to the new address.
                    std::vector<std::uint32_t> ids;
                    for (const auto& c : sa->children()) {
                        ids.push_back(c->id);
                    }
                    for (std::uint32_t id : ids) {
                        sa->rekey_child(id, step);
                    }
                }
            }
        }
    }
    finish(step);
}

void IkeSaManager::on_acquire(const Acquire& a, Step& step) {
    ++counters_.acquires;
    if (stopping_) {
        ++counters_.refused_stopping;
        return;
    }
    const auto names = by_reqid(a.reqid);
    if (!names) {
        reject("acquire for an unknown reqid", Endpoint{}, nullptr, step);
        return;
    }
    // One negotiation per (reqid, resource) at a time; the backend repeats acquires while
    // packets keep coming.
    const auto key = std::make_pair(a.reqid, a.resource);
    if (auto it = acquiring_.find(key);
        it != acquiring_.end() && step.now - it->second < settings_.half_open_timeout) {
        return;
    }
    acquiring_[key] = step.now;
    log::info(log::Subsystem::kKnl, "acquire for {}/{} (reqid {}{})", names->first->name,
              names->second->name, a.reqid.value(),
              a.resource.is_none() ? std::string() : fmt::format(", {}", a.resource));
    if (auto r = start(names->first->name, names->second->name, step, a.resource, true); !r) {
        log::info(log::Subsystem::kKnl, "acquire not handled: {}", r.error().detail);
    }
}

// ----------------------------------------------------------------------------- commands

void IkeSaManager::acquire_policy(InstallPolicy policy, Step& step) {
    Policy& p = policies_[PolicyKey{policy.reqid, policy.local_ts, policy.remote_ts}];
    if (p.users++ == 0) {
        // A trap policy becomes a regular one (the backend replaces it by reqid and selectors).
        p.policy = std::move(policy);
        step.out.commands.emplace_back(p.policy);
    }
}

void IkeSaManager::release_policy(const DeletePolicy& policy, Step& step) {
    auto it = policies_.find(PolicyKey{policy.reqid, policy.local_ts, policy.remote_ts});
    if (it == policies_.end() || it->second.users == 0) {
        return;
    }
    Policy& p = it->second;
    if (--p.users > 0) {
        return;
    }
    if (p.trap) {
        // Back to a trap: traffic raises acquires again.
        InstallPolicy trap = p.policy;
        trap.trap = true;
        trap.per_cpu_acquire = p.trap_per_cpu;  // a degraded group's policy had lost it
        step.out.commands.emplace_back(std::move(trap));
        return;
    }
    step.out.commands.emplace_back(policy);
    policies_.erase(it);
}

}  // namespace ikeplex::ike

namespace ikeplex::ike {

void IkeSaManager::move_policy(ReqId reqid, const std::vector<TrafficSelector>& local_ts,
                               const std::vector<TrafficSelector>& remote_ts, const Endpoint& local,
                               const Endpoint& remote, Step& step) {
    auto it = policies_.find(PolicyKey{reqid, local_ts, remote_ts});
    if (it == policies_.end() || it->second.users == 0) {
        return;
    }
    InstallPolicy& p = it->second.policy;
    if (p.local == local && p.remote == remote) {
        return;  // another Child SA of the policy moved it already
    }
    p.local = local;
    p.remote = remote;
    step.out.commands.emplace_back(p);
}

void IkeSaManager::note_mobike_refused(const IkeSa& sa, const char* why, TimePoint now) {
    ++counters_.mobike_refused;
    PEER_LOG(peer_log_, now, info, log::Subsystem::kIke, "{} MOBIKE: {}", sa.label(), why);
}

void IkeSaManager::on_local_addresses(std::vector<IpAddress> addresses, Step& step) {
    local_addresses_ = std::move(addresses);
    // Once per change of the host's addresses (not per packet): every IKE SA that may move.
    std::vector<std::uint32_t> ids;
    for (const auto& [id, sa] : sas_) {
        if (sa->mobike().on && sa->mobike().mover) {
            ids.push_back(id);
        }
    }
    std::sort(ids.begin(), ids.end());
    for (std::uint32_t id : ids) {
        if (IkeSa* sa = find(id)) {
            mobike_roam(*sa, local_addresses_, source_lookup_, step);
        }
    }
    finish(step);
}

}  // namespace ikeplex::ike
