// IkeSa: its Child SAs — lookup, installation into the backend, lifetimes, removal, and
// handing them to a new IKE SA after an IKE rekey.
#include <algorithm>
#include <tuple>

#include "ike/ike_sa.h"
#include "util/log.h"

namespace ikeplex::ike {

const char* to_string(ChildState s) noexcept {
    switch (s) {
        case ChildState::kCreating:
            return "CREATING";
        case ChildState::kInstalled:
            return "INSTALLED";
        case ChildState::kRekeying:
            return "REKEYING";
        case ChildState::kRekeyed:
            return "REKEYED";
        case ChildState::kDeleting:
            return "DELETING";
    }
    return "UNKNOWN";
}

ChildSa* IkeSa::child(std::uint32_t id) noexcept {
    for (auto& c : children_) {
        if (c->id == id) {
            return c.get();
        }
    }
    return nullptr;
}

const ChildSa* IkeSa::child(std::uint32_t id) const noexcept {
    for (const auto& c : children_) {
        if (c->id == id) {
            return c.get();
        }
    }
    return nullptr;
}

ChildSa* IkeSa::child_by_spi_in(Spi spi) noexcept {
    for (auto& c : children_) {
        if (c->spi_in == spi) {
            return c.get();
        }
    }
    return nullptr;
}

ChildSa* IkeSa::child_by_spi_out(Spi spi) noexcept {
    for (auto& c : children_) {
        if (c->spi_out == spi && c->state != ChildState::kCreating) {
            return c.get();
        }
    }
    return nullptr;
}

bool IkeSa::requesting(const ChildConfig& config, ResourceId resource) const noexcept {
    return std::any_of(outstanding_.begin(), outstanding_.end(), [&](const auto& o) {
        const auto what = o.second.exchange ? o.second.exchange->creates() : std::nullopt;
        return what && what->first->name == config.name && what->second == resource;
    });
}

ChildSa& IkeSa::add_child(std::unique_ptr<ChildSa> c) {
    children_.push_back(std::move(c));
    registry_.note_child_added(*this, *children_.back());
    return *children_.back();
}

void IkeSa::move_children_to(IkeSa& other, Step& step) {
    for (auto& c : children_) {
        // The lifetimes keep running: move each deadline to the new IKE SA's timer keys.
        for (TimerKind k :
             {TimerKind::kChildRekey, TimerKind::kChildExpire, TimerKind::kDeleteLater}) {
            const TimerKey old{id_, k, c->id};
            if (auto at = services_.timers.deadline(old)) {
                services_.timers.cancel(old);
                services_.timers.set({other.id(), k, c->id}, *at);
            }
        }
        registry_.note_child_removed(*c);
        other.children_.push_back(std::move(c));
        registry_.note_child_added(other, *other.children_.back());
    }
    children_.clear();
    (void)step;
}

void IkeSa::install_child(ChildSa& c, crypto::ChildKeys&& keys, bool we_initiated, Step& step) {
    c.udp_encap = udp_encap();
    std::tie(c.local, c.remote) = std::tie(local_, remote_);  // the path it is installed on
    // Volume limits with their jitter, drawn once per Child SA (strongSwan: rekey_bytes minus
    // a random part of rand_bytes; likewise packets), so that SAs set up together do not all
    // reach their soft limit at once.
    const auto jittered = [this](std::uint64_t rekey, std::uint64_t rand) {
        return rekey > 0 && rand > 0 ? rekey - services_.random.u64() % std::min(rand, rekey)
                                     : rekey;
    };
    std::uint64_t soft_bytes = 0;
    std::uint64_t soft_packets = 0;
    if (c.config != nullptr) {
        const Lifetimes& l = c.config->lifetimes;
        soft_bytes = jittered(l.rekey_bytes, l.rand_bytes);
        soft_packets = jittered(l.rekey_packets, l.rand_packets);
    }
    const auto base = [&](bool inbound) {
        InstallSa sa;
        sa.child_id = c.id;
        sa.child_name = c.name();
        sa.reqid = c.reqid;
        sa.spi = inbound ? c.spi_in : c.spi_out;
        sa.inbound = inbound;
        sa.src = inbound ? remote_ : local_;
        sa.dst = inbound ? local_ : remote_;
        sa.udp_encap = c.udp_encap;
        sa.mode = c.mode;
        sa.encr_id = c.algorithms.encr->id;
        sa.encr_key_bits = c.algorithms.encr->key_bits;
        sa.integ_id = c.algorithms.integ != nullptr ? c.algorithms.integ->id : 0;
        sa.esn = c.algorithms.esn;
        sa.replay_window =
                c.config != nullptr ? c.config->replay_window : ChildConfig{}.replay_window;
        if (c.config != nullptr) {
            const Lifetimes& l = c.config->lifetimes;
            sa.soft_bytes = soft_bytes;
            sa.hard_bytes = l.life_bytes;
            sa.soft_packets = soft_packets;
            sa.hard_packets = l.life_packets;
        }
        sa.resource = c.resource;
        sa.local_ts = c.local_ts;
        sa.remote_ts = c.remote_ts;
        return sa;
    };
    // KEYMAT: initiator-to-responder keys first (RFC 7296 §2.17).
    InstallSa in = base(true);
    InstallSa out = base(false);
    in.encr_key = we_initiated ? std::move(keys.encr_r) : std::move(keys.encr_i);
    in.integ_key = we_initiated ? std::move(keys.integ_r) : std::move(keys.integ_i);
    out.encr_key = we_initiated ? std::move(keys.encr_i) : std::move(keys.encr_r);
    out.integ_key = we_initiated ? std::move(keys.integ_i) : std::move(keys.integ_r);
    // Per-CPU acquires only for a real group: when the peer did not answer SA_RESOURCE_INFO
    // this is a regular Child SA, and a policy asking for an SA per CPU would hold every CPU's
    // first packet on a larval state nobody resolves (issue 14). Such a policy replaces a
    // per-CPU trap before the SAs go in: with an SA installed under the trap's flag, a packet
    // on a CPU would raise a per-CPU acquire, whose larval state then blocks that CPU.
    const bool policy_first = !c.group_member;
    if (policy_first) {
        registry_.acquire_policy(InstallPolicy{c.reqid, c.local_ts, c.remote_ts, local_, remote_,
                                               c.mode, false, false},
                                 step);
    }
    step.out.commands.emplace_back(std::move(in));
    step.out.commands.emplace_back(std::move(out));
    if (!policy_first) {
        registry_.acquire_policy(InstallPolicy{c.reqid, c.local_ts, c.remote_ts, local_, remote_,
                                               c.mode, false, true},
                                 step);
    }
    c.state = ChildState::kInstalled;
    c.established = step.now;
    arm_child_lifetimes(c, step);
    log::info(log::Subsystem::kIke,
              "{} CHILD_SA {}{{{}}} established with SPIs {}_i {}_o and TS {} === {}{}", label(),
              c.name(), c.id, c.spi_in, c.spi_out, to_string(c.local_ts), to_string(c.remote_ts),
              c.resource.is_none() ? "" : fmt::format(" ({})", c.resource));
    emit(step, EventKind::kChildUp, c.id);
    on_member_installed(*this, c, step);
}

void IkeSa::hold_outbound(ChildSa& c, Step& step) {
    auto& cmds = step.out.commands;
    for (auto it = cmds.begin(); it != cmds.end(); ++it) {
        auto* install = std::get_if<InstallSa>(&*it);
        if (install != nullptr && install->child_id == c.id && !install->inbound) {
            c.pending_outbound = std::make_unique<InstallSa>(std::move(*install));
            cmds.erase(it);
            return;
        }
    }
}

void IkeSa::release_successor(const ChildSa& c, Step& step) {
    if (c.replaced_by == 0) {
        return;
    }
    // Its successor's outbound SA, held back since the rekey (hold_outbound), goes in before
    // this one's goes out: the peer has installed the new inbound SA by now.
    if (ChildSa* next = child(c.replaced_by); next != nullptr && next->pending_outbound) {
        step.out.commands.emplace_back(std::move(*next->pending_outbound));
        next->pending_outbound.reset();
    }
}

void IkeSa::remove_outbound(ChildSa& c, Step& step) {
    release_successor(c, step);
    if (c.state != ChildState::kCreating && !c.outbound_removed) {
        if (!c.pending_outbound) {
            step.out.commands.emplace_back(DeleteSa{c.id, c.spi_out, false, c.remote});
        }
        c.pending_outbound.reset();
        c.outbound_removed = true;
    }
}

void IkeSa::arm_child_lifetimes(const ChildSa& c, Step& step) {
    if (c.config == nullptr) {
        return;
    }
    const Lifetimes& l = c.config->lifetimes;
    if (l.rekey_time.count() > 0) {
        const auto jitter = l.rand_time.count() > 0
                                    ? Duration(static_cast<std::int64_t>(
                                              services_.random.u64() %
                                              static_cast<std::uint64_t>(l.rand_time.count())))
                                    : Duration(0);
        services_.timers.set({id_, TimerKind::kChildRekey, c.id}, step.now + l.rekey_time - jitter);
    }
    if (l.life_time.count() > 0) {
        services_.timers.set({id_, TimerKind::kChildExpire, c.id}, step.now + l.life_time);
    }
}

void IkeSa::remove_child(std::uint32_t id, const char* reason, Step& step, bool quiet,
                         Removal how) {
    auto it = std::find_if(children_.begin(), children_.end(),
                           [id](const auto& c) { return c->id == id; });
    if (it == children_.end()) {
        return;
    }
    ChildSa& c = **it;
    release_successor(c, step);
    services_.timers.cancel({id_, TimerKind::kChildRekey, id});
    services_.timers.cancel({id_, TimerKind::kChildExpire, id});
    services_.timers.cancel({id_, TimerKind::kDeleteLater, id});
    services_.spis.release(c.spi_in);
    if (c.state != ChildState::kCreating) {
        step.out.commands.emplace_back(DeleteSa{c.id, c.spi_in, true, c.local});
        if (!c.outbound_removed && !c.pending_outbound) {
            step.out.commands.emplace_back(DeleteSa{c.id, c.spi_out, false, c.remote});
        }
        registry_.release_policy(DeletePolicy{c.reqid, c.local_ts, c.remote_ts}, step);
        log::info(log::Subsystem::kIke, "{} CHILD_SA {}{{{}}} with SPIs {}_i {}_o removed ({})",
                  label(), c.name(), c.id, c.spi_in, c.spi_out, reason);
        if (!quiet) {
            emit(step, EventKind::kChildDown, c.id, 0, reason);
        }
    }
    registry_.note_child_removed(c);
    const std::unique_ptr<ChildSa> gone = std::move(*it);
    children_.erase(it);
    for (auto& o : children_) {
        if (o->replaced_by == id && o->state == ChildState::kRekeyed) {
            // The SA a rekey made goes before the one it replaced (deleted at once, before
            // the rekey's initiator deleted the old one): the rekey did not happen.
            o->state = ChildState::kInstalled;
            o->replaced_by = 0;
        }
    }
    if (!quiet) {
        on_child_removed(*this, *gone, how, step);
        if (how == Removal::kDeletedByPeer && gone->config != nullptr &&
            gone->resource == ResourceId::none()) {
            registry_.note_child_closed(*this, *gone, step);
        }
    }
}

}  // namespace ikeplex::ike
