// Tunnels that heal themselves (issue 19): what follows the end of an IKE SA or the peer's
// deletion of a Child SA, as swanctl.conf's actions say (strongSwan's semantics):
//
//  - the peer stopped answering an established IKE SA (DPD, or any request's retransmissions
//    timed out): each Child SA config it held or was creating follows its dpd_action
//    (clear: nothing; trap: a trap policy; restart: the connection is initiated again at once);
//  - the peer deleted the IKE SA, or one Child SA: close_action (none, trap, start);
//  - an attempt to establish failed because the peer did not answer: with keyingtries left
//    (0: no limit), the next attempt after a back-off that doubles from restart_delay up to
//    restart_delay_max, plus up to half of it at random, so that thousands of tunnels do not
//    retry in step; the whole series restores every Child SA config the first attempt asked
//    for (RFC 9611 groups come back with their fallback: members follow as they do on a
//    first set-up);
//  - the peer came back with INITIAL_CONTACT (its new IKE SA replaces the old one), an
//    operator's terminate, a rekey, shutdown: nothing.
//
// A restart reuses an IKE SA of the connection that exists (the peer may have come back
// first), and asks for a Child SA only where none exists or is being made: no duplicates.
#include <algorithm>

#include "ike/manager.h"

namespace ikeplex::ike {

namespace {

/// Two IKE SAs of a connection that both peers initiated at once come up within seconds of
/// each other; a reauthentication's (reauth_time) new one comes long after the old one.
constexpr Duration kDuplicateWindow = std::chrono::seconds(30);

/// Event kHeal for operators (VICI ike-heal): what a heal did to `conn`.
void heal_event(Step& step, const char* action, const std::string& conn, std::string child = {},
                std::uint32_t ike_id = 0, std::uint32_t attempt = 0, Duration next_in = {}) {
    Event e;
    e.kind = EventKind::kHeal;
    e.ike_id = ike_id;
    e.name = std::move(child);
    e.reason = action;
    e.conn = conn;
    e.attempt = attempt;
    e.next_in = next_in;
    step.out.events.push_back(std::move(e));
}

}  // namespace

void IkeSaManager::heal_after(const IkeSa& sa, Step& step) {
    if (stopping_ || sa.config() == nullptr) {
        return;
    }
    // The connection as loaded now (a reload may have changed its actions, or removed it).
    const ConfigPtr conn = configs_.find(sa.config()->name);
    if (conn == nullptr) {
        return;
    }
    if (follow_redirect(sa, conn, step)) {
        return;  // RFC 5685: set up again at the new gateway (manager_redirect.cc)
    }
    const EndInfo& end = sa.end();
    if (end.reauth) {
        IKE_LOG(info, sa, "reauthenticating: initiating {} again (break-before-make)", conn->name);
        restart_now(*conn, end.children, step, false);
        return;
    }
    if (!end.was_up && end.cause != EndCause::kDead && sa.is_original_initiator()) {
        // An attempt that failed otherwise (authentication, proposals): not retried, and the
        // series ends (a later attempt's keyingtries count from 1 again).
        if (auto it = restarts_.find(conn->name); it != restarts_.end() && it->second.slot == 0) {
            restarts_.erase(it);
        }
    }
    switch (end.cause) {
        case EndCause::kDead:
            if (!end.was_up) {
                if (sa.is_original_initiator()) {
                    retry_later(*conn, end.children, step);
                }
                return;
            }
            apply_actions(
                    sa, *conn, end.children, "peer not responding", "dpd_action = restart",
                    [](const ChildConfig& c) {
                        return c.dpd_action == DpdAction::kTrap      ? Action::kTrap
                               : c.dpd_action == DpdAction::kRestart ? Action::kStart
                                                                     : Action::kNone;
                    },
                    step);
            return;
        case EndCause::kPeerClosed:
            apply_actions(
                    sa, *conn, end.children, "deleted by the peer", "close_action = start",
                    [](const ChildConfig& c) {
                        return c.close_action == CloseAction::kTrap    ? Action::kTrap
                               : c.close_action == CloseAction::kStart ? Action::kStart
                                                                       : Action::kNone;
                    },
                    step);
            return;
        case EndCause::kLocal:
        case EndCause::kReplaced:
            return;
    }
}

void IkeSaManager::apply_actions(const IkeSa& sa, const PeerConfig& conn,
                                 const std::vector<std::string>& children, const char* why,
                                 const char* which, Action (*action)(const ChildConfig&),
                                 Step& step) {
    std::vector<std::string> again;
    for (const std::string& n : children) {
        const ChildConfig* c = conn.child(n);
        const Action a = c != nullptr ? action(*c) : Action::kNone;
        if (a == Action::kTrap) {
            install_trap(conn, *c, step);
            heal_event(step, "trap", conn.name, n);
        } else if (a == Action::kStart) {
            again.push_back(n);
        }
    }
    if (!again.empty()) {
        IKE_LOG(info, sa, "{}: initiating {} again ({})", why, conn.name, which);
        restart_now(conn, again, step);
    }
}

void IkeSaManager::note_child_closed(IkeSa& sa, const ChildSa& child, Step& step) {
    if (stopping_ || sa.closing() || sa.config() == nullptr || child.config == nullptr) {
        return;
    }
    const ConfigPtr conn = configs_.find(sa.config()->name);
    const ChildConfig* cfg = conn != nullptr ? conn->child(child.config->name) : nullptr;
    if (cfg == nullptr) {
        return;
    }
    if (cfg->close_action == CloseAction::kTrap) {
        install_trap(*conn, *cfg, step);
        heal_event(step, "trap", conn->name, cfg->name, sa.id());
    } else if (cfg->close_action == CloseAction::kStart) {
        IKE_LOG(info, sa,
                "CHILD_SA {} deleted by the peer: creating it again (close_action = start)",
                cfg->name);
        ++counters_.restarts;
        sa.hold_config(conn);
        // Nothing if the group or another request already brings it back.
        ike::on_acquire(sa, *cfg, ResourceId::none(), step, false);
        heal_event(step, "restart", conn->name, cfg->name, sa.id(), 1);
    }
}

void IkeSaManager::install_trap(const PeerConfig& conn, const ChildConfig& child, Step& step) {
    const ReqId reqid = reqid_for(conn, child);
    const IpAddress local = conn.local_addrs.empty() ? IpAddress() : conn.local_addrs.front();
    const IpAddress remote = conn.remote_addrs.empty() ? IpAddress() : conn.remote_addrs.front();
    // "dynamic[proto/port]" selectors take the configured addresses (none: left out).
    std::vector<TrafficSelector> local_ts = resolve_dynamic(child.local_ts, local);
    std::vector<TrafficSelector> remote_ts = resolve_dynamic(child.remote_ts, remote);
    Policy& p = policies_[PolicyKey{reqid, local_ts, remote_ts}];
    if (!p.trap && p.users == 0) {
        p.policy = InstallPolicy{reqid,
                                 std::move(local_ts),
                                 std::move(remote_ts),
                                 Endpoint{local, conn.local_port},
                                 Endpoint{remote, conn.remote_port},
                                 child.mode,
                                 true,
                                 child.per_cpu_sas};
        step.out.commands.emplace_back(p.policy);
        ++counters_.traps;
        log::info(log::Subsystem::kCfg, "installed trap policy for {}/{} (reqid {})", conn.name,
                  child.name, reqid.value());
    }
    p.trap = true;
    p.trap_per_cpu = child.per_cpu_sas;
}

void IkeSaManager::restart_now(const PeerConfig& conn, const std::vector<std::string>& children,
                               Step& step, bool count) {
    cancel_restart(conn.name);
    if (const IkeSa* up = sa_of_config(conn);
        up != nullptr && up->state() == IkeState::kEstablished) {
        // The peer (or a reauthentication) has it up already: only what is missing.
        for (const std::string& n : children) {
            (void)start(conn.name, n, step, ResourceId::none(), true);
        }
        return;
    }
    if (count) {
        ++counters_.restarts;
    }
    restarts_[conn.name].children = children;  // attempt 1 of a new series
    std::uint32_t ike_id = 0;
    for (const std::string& n : children) {
        auto r = start(conn.name, n, step, ResourceId::none(), true);
        if (!r) {
            log::error(log::Subsystem::kIke, "cannot initiate {}/{} again: {}", conn.name, n,
                       r.error().detail);
            restarts_.erase(conn.name);
            heal_event(step, "give-up", conn.name, n, ike_id, 1);
            return;
        }
        ike_id = *r;
    }
    heal_event(step, "restart", conn.name, {}, ike_id, 1);
}

void IkeSaManager::retry_later(const PeerConfig& conn, const std::vector<std::string>& children,
                               Step& step) {
    Restart& r = restarts_[conn.name];
    if (r.slot != 0) {
        return;  // another failed SA of the connection scheduled the next attempt already
    }
    ++r.attempts;
    for (const std::string& n : children) {
        if (std::find(r.children.begin(), r.children.end(), n) == r.children.end()) {
            r.children.push_back(n);
        }
    }
    if (conn.keyingtries != 0 && r.attempts >= conn.keyingtries) {
        log::info(log::Subsystem::kIke, "{}: giving up after {} attempt{} (keyingtries = {})",
                  conn.name, r.attempts, r.attempts == 1 ? "" : "s", conn.keyingtries);
        heal_event(step, "give-up", conn.name, {}, 0, r.attempts);
        restarts_.erase(conn.name);
        return;
    }
    // restart_delay * 2^(attempts-1), at most restart_delay_max, plus up to half at random.
    const auto base = settings_.restart_delay.count();
    const auto cap = std::max(settings_.restart_delay_max.count(), base);
    std::int64_t wait = base;
    for (std::uint32_t k = 1; k < r.attempts && wait < cap; ++k) {
        wait *= 2;
    }
    wait = std::min(wait, cap);
    const auto half = static_cast<std::uint64_t>(wait / 2);
    if (half > 0) {
        wait += static_cast<std::int64_t>(services_.random.u64() % (half + 1));
    }
    r.at = step.now + Duration(wait);
    r.slot = next_restart_slot_++;
    restart_slots_[r.slot] = conn.name;
    timers_.set(TimerKey{0, TimerKind::kRestart, r.slot}, r.at);
    log::info(log::Subsystem::kIke, "{}: attempt {} failed; trying again in {} ms{}", conn.name,
              r.attempts, wait,
              conn.keyingtries == 0
                      ? std::string(" (keyingtries = 0: until it succeeds)")
                      : fmt::format(" (attempt {} of {})", r.attempts + 1, conn.keyingtries));
    heal_event(step, "retry", conn.name, {}, 0, r.attempts, Duration(wait));
}

void IkeSaManager::on_restart_timer(std::uint32_t slot, Step& step) {
    const auto s = restart_slots_.find(slot);
    if (s == restart_slots_.end()) {
        return;
    }
    const std::string name = s->second;
    restart_slots_.erase(s);
    auto it = restarts_.find(name);
    if (it == restarts_.end() || it->second.slot != slot) {
        return;
    }
    it->second.slot = 0;
    const ConfigPtr conn = configs_.find(name);
    if (stopping_ || conn == nullptr) {
        restarts_.erase(it);
        return;
    }
    ++counters_.retries;
    const std::vector<std::string> children = it->second.children;
    const std::uint32_t attempts = it->second.attempts;  // start() may change restarts_
    if (children.empty()) {
        if (auto r = start(name, "", step, ResourceId::none(), true); !r) {
            log::error(log::Subsystem::kIke, "cannot initiate {} again: {}", name,
                       r.error().detail);
            heal_event(step, "give-up", name, {}, 0, attempts);
            restarts_.erase(name);
        }
        return;
    }
    for (const std::string& n : children) {
        if (auto r = start(name, n, step, ResourceId::none(), true); !r) {
            log::error(log::Subsystem::kIke, "cannot initiate {}/{} again: {}", name, n,
                       r.error().detail);
            heal_event(step, "give-up", name, n, 0, attempts);
            restarts_.erase(name);
            return;
        }
    }
}

void IkeSaManager::restart_succeeded(const IkeSa& sa) {
    if (sa.config() != nullptr) {
        cancel_restart(sa.config()->name);
    }
}

void IkeSaManager::resolve_duplicates(std::uint32_t id, Step& step) {
    IkeSa* sa = find(id);
    if (sa == nullptr || sa->state() != IkeState::kEstablished || sa->config() == nullptr) {
        return;
    }
    // The other one of a pair is ours when this one is the peer's: the connection's initiator
    // SA, one lookup (a responder holding thousands of a load generator's IKE SAs with one
    // identity must not scan them all for each new one). Else the peer's, by identities.
    std::vector<std::uint32_t> candidates;
    if (!sa->is_original_initiator()) {
        if (const auto ours = index_.initiator_of(sa->config()->name)) {
            candidates.push_back(*ours);
        }
    } else {
        candidates = index_.with_ids(SaIndex::ids_of(*sa));
    }
    for (const std::uint32_t other_id : candidates) {
        IkeSa* other = find(other_id);
        // A pair only when each side initiated one: never the many IKE SAs a peer may make
        // itself (a load generator, unique = no), and we never make two of one connection.
        // Only recently authenticated ones: a reauthentication's new IKE SA beside the old one
        // (even one just rekeyed) is no duplicate (and ours are known: reauths_).
        if (other == nullptr || other == sa || other->state() != IkeState::kEstablished ||
            step.now - other->authenticated_at() > kDuplicateWindow ||
            reauths_.contains(sa->id()) || reauths_.contains(other->id()) ||
            other->config() == nullptr || other->config()->name != sa->config()->name ||
            other->is_original_initiator() == sa->is_original_initiator() ||
            other->remote().address != sa->remote().address ||
            other->local_id() != sa->local_id() || other->remote_id() != sa->remote_id()) {
            continue;
        }
        // Both sides know both SPIi: they pick the same SA without a word.
        IkeSa& loser = other->spi_i().value() > sa->spi_i().value() ? *other : *sa;
        const IkeSa& winner = &loser == sa ? *other : *sa;
        IKE_LOG(info, loser, "duplicate of IKE_SA {} (both peers initiated {}): deleting this one",
                winner.label(), sa->config()->name);
        ++counters_.duplicates_deleted;
        loser.delete_ike("duplicate IKE_SA", step);
        if (&loser == sa) {
            return;
        }
    }
}

bool IkeSaManager::cancel_restart(std::string_view conn) {
    auto it = restarts_.find(conn);
    if (it == restarts_.end()) {
        return false;
    }
    if (it->second.slot != 0) {
        timers_.cancel(TimerKey{0, TimerKind::kRestart, it->second.slot});
        restart_slots_.erase(it->second.slot);
    }
    restarts_.erase(it);
    return true;
}

std::vector<PendingRestart> IkeSaManager::pending_restarts() const {
    std::vector<PendingRestart> out;
    for (const auto& [name, r] : restarts_) {
        if (r.slot != 0) {
            out.push_back(PendingRestart{name, r.children, r.attempts, r.at});
        }
    }
    return out;
}

}  // namespace ikeplex::ike
