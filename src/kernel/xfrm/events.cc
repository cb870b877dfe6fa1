// The XFRM backend's kernel events: ACQUIRE, EXPIRE and MAPPING from the multicast socket.
#include <linux/xfrm.h>

#include "kernel/xfrm/backend.h"
#include "kernel/xfrm/selectors.h"
#include "util/log.h"

namespace ikeplex::kernel {
namespace {

using log::Subsystem;

}  // namespace

xfrm::SaSpec clone_spec(const xfrm::SaSpec& o) {
    const auto copy = [](const std::optional<xfrm::Algorithm>& a) {
        return a ? std::optional<xfrm::Algorithm>(
                           xfrm::Algorithm{a->name, a->icv_bits, a->key.clone()})
                 : std::nullopt;
    };
    xfrm::SaSpec s;
    s.src = o.src;
    s.dst = o.dst;
    s.spi = o.spi;
    s.proto = o.proto;
    s.mode = o.mode;
    s.reqid = o.reqid;
    s.selector = o.selector;
    s.replay_window = o.replay_window;
    s.esn = o.esn;
    s.aead = copy(o.aead);
    s.encryption = copy(o.encryption);
    s.integrity = copy(o.integrity);
    s.encap = o.encap;
    s.lifetime = o.lifetime;
    s.pcpu = o.pcpu;
    s.direction = o.direction;
    s.seq = o.seq;
    s.flags = o.flags;
    s.replay = o.replay;
    s.used = o.used;
    return s;
}

void XfrmBackend::poll_events() {
    auto events = events_.take_events();
    if (!events) {
        log::warn(Subsystem::kKnl, "xfrm: reading kernel events: {}", events.error().to_string());
        return;
    }
    for (const auto& datagram : *events) {
        auto msgs = netlink::split_messages(datagram);
        if (!msgs) {
            ++counters_.malformed_events;
            continue;
        }
        for (const netlink::Message& m : *msgs) {
            if (m.type == XFRM_MSG_ACQUIRE) {
                auto a = xfrm::parse_acquire(m.payload);
                if (!a) {
                    ++counters_.malformed_events;
                    log::warn(Subsystem::kKnl, "xfrm: malformed ACQUIRE: {}",
                              a.error().to_string());
                    continue;
                }
                ++counters_.acquires;
                ike::Acquire acq;
                acq.reqid = ReqId(a->reqid);
                acq.resource = a->pcpu ? ResourceId::cpu(*a->pcpu) : ResourceId::none();
                acq.src = packet_ts(a->selector.src, a->selector, a->selector.sport,
                                    a->selector.sport_mask);
                acq.dst = packet_ts(a->selector.dst, a->selector, a->selector.dport,
                                    a->selector.dport_mask);
                log::debug(Subsystem::kKnl, "xfrm: ACQUIRE reqid {} {} -> {}{}", a->reqid,
                           a->selector.src, a->selector.dst,
                           a->pcpu ? fmt::format(", cpu {}", *a->pcpu) : std::string());
                report(acq);
            } else if (m.type == XFRM_MSG_EXPIRE) {
                auto e = xfrm::parse_expire(m.payload);
                if (!e) {
                    ++counters_.malformed_events;
                    continue;
                }
                ++counters_.expires;
                const Spi spi = e->sa.spi;
                if (larval_.count(spi) != 0) {
                    larval_.erase(spi);  // an unused ALLOCSPI reservation timed out
                    continue;
                }
                auto it = sas_.find(SaKey{spi, e->sa.dst});
                if (it == sas_.end()) {
                    continue;  // not ours (or already gone)
                }
                const bool inbound = it->second.inbound;
                if (e->hard) {
                    sas_.erase(it);  // the kernel deletes it
                }
                report(ike::Expire{spi, inbound, e->hard});
            } else if (m.type == XFRM_MSG_MAPPING) {
                auto mp = xfrm::parse_mapping(m.payload);
                if (!mp) {
                    ++counters_.malformed_events;
                    continue;
                }
                ++counters_.mappings;
                on_mapping(*mp);
            }
        }
    }
}

void XfrmBackend::on_mapping(const xfrm::MappingMsg& m) {
    auto in = sas_.find(SaKey{m.spi, m.dst});
    if (in == sas_.end() || !in->second.inbound) {
        return;
    }
    const Endpoint old_peer{m.old_src, m.old_sport};
    const Endpoint new_peer{m.new_src, m.new_sport};
    if (m.new_src == m.old_src) {
        // Only the peer's port moved: every UDP-encapsulated SA with that peer follows in place
        // (UPDSA of a valid SA changes its encapsulation and keeps its sequence numbers and
        // replay state), the inbound ones too so that the kernel stops reporting the change.
        for (auto& [key, rec] : sas_) {
            if (!rec.spec || !rec.spec->encap) {
                continue;
            }
            const bool to_peer = !rec.inbound && rec.spec->dst == m.old_src &&
                                 rec.spec->encap->dport == m.old_sport;
            const bool from_peer = rec.inbound && rec.spec->src == m.old_src &&
                                   rec.spec->encap->sport == m.old_sport;
            if (!to_peer && !from_peer) {
                continue;
            }
            xfrm::SaSpec moved = clone_spec(*rec.spec);
            (to_peer ? moved.encap->dport : moved.encap->sport) = m.new_sport;
            auto r = request(xfrm::build_new_sa(moved, true), "UPDSA (NAT mapping)");
            if (r && r->error == 0) {
                rec.spec = std::move(moved);
            } else if (r) {
                log::warn(Subsystem::kKnl, "xfrm: moving SA {} to {}: {}", key.first, new_peer,
                          netlink::kernel_says(*r));
            }
        }
        log::info(Subsystem::kKnl, "xfrm: NAT mapping of SA {} changed: {} -> {}", m.spi, old_peer,
                  new_peer);
    } else {
        // A new address changes the SAs' identity and the policies' templates: the IKE side
        // rekeys the Child SAs to the new address instead.
        log::info(Subsystem::kKnl,
                  "xfrm: NAT mapping of SA {} moved to another address: {} -> {} (rekeying)", m.spi,
                  old_peer, new_peer);
    }
    report(ike::Mapping{m.spi, old_peer, new_peer});
}

}  // namespace ikeplex::kernel
