#include "daemon/updown_hooks.h"

#include <iterator>

namespace ikeplex::daemon {

void UpdownHooks::on_event(const ike::Event& e) {
    using ike::EventKind;
    switch (e.kind) {
        case EventKind::kChildUp:
            settle(e.ike_id, e.child_id);
            break;
        case EventKind::kChildDown:
            down(e.child_id);
            break;
        case EventKind::kIkeRekeyed:
            for (auto& [id, l] : lineages_) {
                if (l.ike_id == e.ike_id) {
                    l.ike_id = e.new_id;  // the Child SAs moved to the new IKE SA
                    for (auto& [child, sa] : l.members) {
                        sa.ike_id = e.new_id;  // PLUTO_UNIQUEID
                    }
                }
            }
            break;
        case EventKind::kIkeDown:
            // Its Child SAs' down events came first. A lineage left (its last SAs removed as
            // replaced) still gets its down, so that every up has one.
            for (auto it = lineages_.begin(); it != lineages_.end();) {
                if (it->second.ike_id != e.ike_id) {
                    ++it;
                    continue;
                }
                if (!it->second.members.empty()) {
                    sink_(std::prev(it->second.members.end())->second, false);
                }
                for (const auto& [child, sa] : it->second.members) {
                    lineage_.erase(child);
                }
                it = lineages_.erase(it);
            }
            break;
        default:
            break;  // child-rekey: the engine's state says which SA replaces which (settle)
    }
}

void UpdownHooks::settle(std::uint32_t ike_id, std::uint32_t child_id) {
    const ike::IkeSa* sa = manager_.sa(ike_id);
    const ike::ChildSa* c = sa != nullptr ? sa->child(child_id) : nullptr;
    if (c == nullptr || c->config == nullptr || c->config->updown.empty() ||
        c->state == ike::ChildState::kDeleting) {
        return;  // gone again in the same call (e.g. the redundant SA of a rekey collision)
    }
    // A rekey's new SA: the one it replaces names it, or recorded it as the peer's new SA in
    // a simultaneous rekey still to be decided (both new SAs join; the redundant one goes).
    Lineage* joins = nullptr;
    std::uint32_t joins_id = 0;
    for (const auto& o : sa->children()) {
        const bool replaces = o->replaced_by == child_id ||
                              (o->collision && o->collision->peer_child == child_id);
        const auto of = o->id != child_id && replaces ? lineage_.find(o->id) : lineage_.end();
        if (of != lineage_.end()) {
            if (auto l = lineages_.find(of->second); l != lineages_.end()) {
                joins = &l->second;
                joins_id = of->second;
                break;
            }
        }
    }
    if (joins != nullptr) {
        std::string interface = joins->members.empty() ? interface_of(sa->local().address)
                                                       : joins->members.begin()->second.interface;
        joins->members[child_id] = capture_updown(*sa, *c, std::move(interface));
        lineage_[child_id] = joins_id;
        return;
    }
    Lineage& l = lineages_[child_id];
    l.ike_id = ike_id;
    l.members[child_id] = capture_updown(*sa, *c, interface_of(sa->local().address));
    lineage_[child_id] = child_id;
    sink_(l.members[child_id], true);
}

bool UpdownHooks::stands(std::uint32_t ike_id, std::uint32_t child_id) const {
    const ike::IkeSa* sa = manager_.sa(ike_id);
    const ike::ChildSa* c = sa != nullptr ? sa->child(child_id) : nullptr;
    return c != nullptr && c->replaced_by == 0 && c->state != ike::ChildState::kDeleting &&
           c->state != ike::ChildState::kRekeyed;
}

void UpdownHooks::down(std::uint32_t child_id) {
    const auto found = lineage_.find(child_id);
    if (found == lineage_.end()) {
        return;
    }
    const std::uint32_t id = found->second;
    lineage_.erase(found);
    const auto lit = lineages_.find(id);
    if (lit == lineages_.end()) {
        return;
    }
    Lineage& l = lit->second;
    const auto mine = l.members.find(child_id);
    if (mine == l.members.end()) {
        return;
    }
    UpdownSa last = std::move(mine->second);
    l.members.erase(mine);
    // Members replaced meanwhile (removed without an event) no longer count.
    for (auto it = l.members.begin(); it != l.members.end();) {
        if (stands(l.ike_id, it->first)) {
            ++it;
        } else {
            lineage_.erase(it->first);
            it = l.members.erase(it);
        }
    }
    if (l.members.empty()) {
        sink_(last, false);
        lineages_.erase(id);
    }
}

}  // namespace ikeplex::daemon
