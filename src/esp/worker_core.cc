#include "esp/worker_core.h"

#include <limits>

#include "util/log.h"
#include "util/overload.h"

namespace ikeplex::esp {
namespace {

/// An acquire for the same policy and resource at most this often (the engine also
/// de-duplicates; this keeps a flood of packets from becoming a flood of events).
constexpr std::int64_t kAcquireIntervalMs = 1000;

}  // namespace

WorkerCore::WorkerCore(unsigned index, const crypto::Registry& registry, EventQueue& events,
                       crypto::IpsecMb* mb) noexcept
    : PacketCore(index), registry_(registry), events_(events), mb_(mb) {}

void WorkerCore::apply(Command& c) {
    std::visit(Overload{
                       [&](AddSa& a) { add(a.sa); },
                       [&](RemoveSa& r) {
                           if (r.inbound && r.grace_ms > 0) {
                               retire(r.spi, r.grace_ms);
                           } else {
                               remove(r.spi, r.inbound);
                           }
                       },
                       [&](SetPolicies& s) { policies_ = std::move(s.table); },
                       [&](MoveSa& m) { move(m); },
               },
               c);
}

void WorkerCore::add(const SaPtr& sa) {
    const SaConfig& c = sa->config();
    auto crypto = SaCrypto::create(registry_, c.encr_id, c.encr_key_bits, c.integ_id,
                                   c.encr_key.view(), c.integ_key.view(), mb_);
    if (!crypto) {
        // The backend checked the algorithms before sending the command; this is a library
        // failure. The SA stays unusable here and its packets are dropped as kNoSa.
        log::error(log::Subsystem::kEsp, "worker {}: cannot key SA {:08x}: {}", index(),
                   c.spi.value(), crypto.error().to_string());
        return;
    }
    const SaPath path{c.local, c.peer, c.udp_encap};
    if (c.inbound) {
        inbound_.insert_or_assign(c.spi.value(), In{sa, std::move(*crypto),
                                                    ReplayWindow(c.replay_window, c.esn), path});
        return;
    }
    outbound_.insert_or_assign(c.spi.value(), Out{sa, std::move(*crypto), ++next_order_, path});
    rebuild_routes();
}

void WorkerCore::move(const MoveSa& m) {
    // Only the path changes: the entry (crypto context, replay window, the SA's counters and
    // sequence number) stays as it is, so traffic continues where it was.
    if (m.inbound) {
        if (auto it = inbound_.find(m.spi.value()); it != inbound_.end()) {
            it->second.path = m.path;
        }
    } else if (auto it = outbound_.find(m.spi.value()); it != outbound_.end()) {
        it->second.path = m.path;
    }
}

void WorkerCore::remove(Spi spi, bool inbound) {
    if (inbound) {
        inbound_.erase(spi.value());
        return;
    }
    outbound_.erase(spi.value());
    rebuild_routes();
}

void WorkerCore::retire(Spi spi, std::int64_t grace_ms) {
    auto it = inbound_.find(spi.value());
    if (it != inbound_.end()) {
        retiring_.push_back(Retiring{spi.value(), it->second.sa, grace_ms});
    }
}

void WorkerCore::expire_retired(std::int64_t now_ms) {
    if (retiring_.empty()) {
        return;
    }
    for (auto& r : retiring_) {
        if (r.deadline_ms < 0) {
            r.deadline_ms = now_ms + r.grace_ms;
        }
    }
    std::erase_if(retiring_, [&](const Retiring& r) {
        if (now_ms < r.deadline_ms) {
            return false;
        }
        // The SPI may have been handed out again meanwhile: only our SA goes.
        if (auto it = inbound_.find(r.spi); it != inbound_.end() && it->second.sa == r.sa) {
            inbound_.erase(it);
        }
        return true;
    });
}

WorkerCore::Out* WorkerCore::Slot::usable() const noexcept {
    if (oldest != nullptr && !oldest->sa->expired()) {
        return oldest;
    }
    if (newest != nullptr && !newest->sa->expired()) {
        return newest;
    }
    return nullptr;
}

void WorkerCore::rebuild_routes() {
    for (auto& [reqid, r] : routes_) {
        r.own = Slot{};
        r.fallback = Slot{};
    }
    for (auto& [spi, o] : outbound_) {
        const SaConfig& c = o.sa->config();
        if (!c.resource.is_none() && c.resource.index() != index()) {
            continue;  // another worker's SA (not sent here by the data plane, but be safe)
        }
        Route& r = routes_[c.reqid.value()];
        Slot& slot = c.resource.is_none() ? r.fallback : r.own;
        if (slot.oldest == nullptr || o.order < slot.oldest->order) {
            slot.oldest = &o;
        }
        if (slot.newest == nullptr || o.order > slot.newest->order) {
            slot.newest = &o;
        }
    }
}

void WorkerCore::lifetime(Sa& sa, Sa::Crossed crossed) {
    if (crossed == Sa::Crossed::kNone) {
        return;
    }
    events_.push(ExpireEvent{sa.config().spi, sa.config().inbound, crossed == Sa::Crossed::kHard});
}

bool WorkerCore::rate_ok(std::int64_t& last_ms, std::int64_t now_ms) const noexcept {
    if (last_ms >= 0 && now_ms - last_ms < kAcquireIntervalMs) {
        return false;
    }
    last_ms = now_ms;
    return true;
}

void WorkerCore::outbound(std::span<PacketBuf> pkts, std::vector<Outgoing>& out,
                          std::int64_t now_ms) {
    for (PacketBuf& p : pkts) {
        one_outbound(p, out, now_ms);
    }
}

void WorkerCore::outbound(std::span<PacketBuf* const> pkts, std::vector<Outgoing>& out,
                          std::int64_t now_ms) {
    for (PacketBuf* p : pkts) {
        one_outbound(*p, out, now_ms);
    }
}

void WorkerCore::one_outbound(PacketBuf& p, std::vector<Outgoing>& out, std::int64_t now_ms) {
    const auto flow = parse_flow(p.bytes());
    if (!flow) {
        count_drop(Drop::kMalformed);
        return;
    }
    const Policy* policy = policies_ ? policies_->lookup_out(*flow) : nullptr;
    if (policy == nullptr) {
        count_drop(Drop::kNoRoute);
        return;
    }
    auto it = routes_.find(policy->reqid.value());
    Route* route = it == routes_.end() ? nullptr : &it->second;
    Out* use = route != nullptr ? route->own.usable() : nullptr;
    bool on_fallback = false;
    if (use == nullptr) {
        if (route == nullptr) {
            route = &routes_[policy->reqid.value()];
        }
        use = route->fallback.usable();
        if (use != nullptr) {
            on_fallback = true;
            if (policy->per_cpu && rate_ok(route->last_acquire_ms, now_ms)) {
                events_.push(AcquireEvent{policy->reqid, ResourceId::cpu(index()), *flow});
            }
        } else if (rate_ok(route->last_trap_ms, now_ms)) {
            events_.push(AcquireEvent{policy->reqid, ResourceId::none(), *flow});
        }
    }
    if (use == nullptr) {
        count_drop(Drop::kNoSa);
        return;
    }
    Sa& sa = *use->sa;
    const SaConfig& c = sa.config();
    const std::uint64_t seq = sa.next_seq();
    if (!c.esn && seq > std::numeric_limits<std::uint32_t>::max()) {
        // RFC 4303 §3.3.3: the counter must not cycle; the SA is done.
        if (!sa.expired()) {
            sa.expire();
            events_.push(ExpireEvent{c.spi, false, true});
        }
        count_drop(Drop::kSeqExhausted);
        return;
    }
    const std::size_t inner = p.size();
    const Drop d = encapsulate(*use->crypto, c.spi, seq, c.esn, c.mode, p);
    if (d != Drop::kNone) {
        count_drop(d);
        sa.drop(SaDrop::kOther);
        return;
    }
    lifetime(sa, sa.count(inner, now_ms / 1000));
    bump(counters_.tx_packets);
    bump(counters_.tx_bytes, inner);
    if (on_fallback) {
        bump(counters_.fallback_tx);
    }
    out.push_back(Outgoing{&p, use->path.local, use->path.peer, use->path.udp_encap});
}

void WorkerCore::inbound(std::span<PacketBuf> pkts, std::vector<PacketBuf*>& out,
                         std::int64_t now_ms) {
    for (PacketBuf& p : pkts) {
        one_inbound(p, out, now_ms);
    }
}

void WorkerCore::inbound(std::span<PacketBuf* const> pkts, std::vector<PacketBuf*>& out,
                         std::int64_t now_ms) {
    for (PacketBuf* p : pkts) {
        one_inbound(*p, out, now_ms);
    }
}

void WorkerCore::one_inbound(PacketBuf& p, std::vector<PacketBuf*>& out, std::int64_t now_ms) {
    const auto hdr = peek_header(p.bytes());
    if (!hdr) {
        count_drop(Drop::kMalformed);
        return;
    }
    auto it = inbound_.find(hdr->spi.value());
    if (it == inbound_.end()) {
        count_drop(Drop::kNoSa);
        return;
    }
    In& in = it->second;
    Sa& sa = *in.sa;
    const SaConfig& c = sa.config();
    if (sa.expired()) {
        count_drop(Drop::kLifetime);
        return;
    }
    const auto seq = in.window.check(hdr->seq);
    if (!seq) {
        count_drop(Drop::kReplay);
        sa.drop(SaDrop::kReplay);
        return;
    }
    std::uint8_t next_header = 0;
    Drop d = decapsulate(*in.crypto, *seq, c.esn, c.mode, p, next_header);
    if ((d == Drop::kNone || d == Drop::kDummy) && !in.window.update(*seq)) {
        d = Drop::kReplay;
    }
    if (d != Drop::kNone) {
        count_drop(d);
        sa.drop(d == Drop::kIntegrity ? SaDrop::kIntegrity
                : d == Drop::kReplay  ? SaDrop::kReplay
                                      : SaDrop::kOther);
        return;
    }
    if (c.mode == Mode::kTransport &&
        !add_transport_header(p, in.path.peer.address, in.path.local.address, next_header)) {
        count_drop(Drop::kNoRoom);
        return;
    }
    const auto flow = parse_flow(p.bytes());
    // RFC 4303 §5.2: the inner packet must be one the SA's selectors allow.
    const bool allowed = flow && [&] {
        bool src_ok = false;
        bool dst_ok = false;
        for (const auto& s : c.remote_ts) {
            src_ok = src_ok || s.matches_src(*flow);
        }
        for (const auto& s : c.local_ts) {
            dst_ok = dst_ok || s.matches_dst(*flow);
        }
        return src_ok && dst_ok;
    }();
    if (!allowed) {
        count_drop(Drop::kPolicy);
        sa.drop(SaDrop::kOther);
        return;
    }
    const std::size_t inner = p.size();
    lifetime(sa, sa.count(inner, now_ms / 1000));
    bump(counters_.rx_packets);
    bump(counters_.rx_bytes, inner);
    out.push_back(&p);
}

}  // namespace ikeplex::esp
