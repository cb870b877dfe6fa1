// The XFRM backend's side of MOBIKE (RFC 4555 §3.5): an installed SA moves to new outer
// addresses, and the Child SA's tunnel routes follow the new path to the peer.
//
// The kernel finds an SA by (destination, SPI, protocol), and UPDSA of a valid SA changes its
// encapsulation ports but neither its source nor its destination nor whether it encapsulates
// (xfrm_state_update). So an SA whose addresses or encapsulation change is deleted and added
// again with the same SPI, keys, XFRMA_SA_PCPU and direction, carrying over its replay state
// (XFRMA_REPLAY_VAL / XFRMA_REPLAY_ESN_VAL, read with GETSA just before) and used lifetime
// (XFRMA_LTIME_VAL): sequence numbers continue and a per-CPU member stays on its CPU.
// XFRM_MSG_MIGRATE is not used: it finds one SA per (addresses, reqid) and cannot tell the
// members of a per-CPU group apart (../shared/docs/peers.md §3.4). Only ports: UPDSA in place.
#include <linux/xfrm.h>

#include "kernel/xfrm/backend.h"
#include "kernel/xfrm/selectors.h"
#include "util/log.h"

namespace ikeplex::kernel {
namespace {

using log::Subsystem;

/// Sequence numbers skipped on an outbound SA that is re-added: packets the kernel sent between
/// the GETSA and the DELSA must not have their numbers used again (the peer would drop them as
/// replays); a few numbers skipped are nothing to its window.
constexpr std::uint64_t kSeqMargin = 16;

}  // namespace

std::optional<xfrm::SaInfo> XfrmBackend::current(const SaKey& key) const {
    auto reply = send(xfrm::build_get_sa(key.second, key.first));
    std::optional<xfrm::SaInfo> out;
    if (reply && reply->error == 0 && !reply->messages.empty()) {
        if (auto msgs = netlink::split_messages(reply->messages.front()); msgs && !msgs->empty()) {
            if (auto sa = xfrm::parse_sa(msgs->front().payload)) {
                out = std::move(*sa);
            }
        }
    }
    if (reply) {
        for (auto& m : reply->messages) {  // the answer carries the keys
            secure_zero(MutByteView(m.data(), m.size()));
        }
    }
    return out;
}

void XfrmBackend::move_sa(const ike::UpdateSaAddresses& c) {
    auto it = locate(c.spi, c.old_dst.address, c.inbound);
    if (it == sas_.end() || !it->second.spec) {
        report(ike::InstallFailed{c.child_id, c.spi, "moving an SA the kernel does not have"});
        return;
    }
    const SaKey old_key = it->first;
    const xfrm::SaSpec& was = *it->second.spec;
    xfrm::SaSpec moved = clone_spec(was);
    moved.src = c.src.address;
    moved.dst = c.dst.address;
    moved.encap = c.udp_encap ? std::optional<xfrm::Encap>(xfrm::Encap{c.src.port, c.dst.port, {}})
                              : std::nullopt;
    if (moved.mode == xfrm::XfrmMode::kTransport) {
        moved.selector = host_selector(moved.src, moved.dst);
    }
    const bool in_place = moved.src == was.src && moved.dst == was.dst &&
                          moved.encap.has_value() == was.encap.has_value();
    Result<netlink::Socket::Reply> reply = make_error(Errc::kState, "not sent");
    if (in_place) {
        // Only the encapsulation ports: UPDSA keeps everything else (as on a NAT mapping).
        reply = request(xfrm::build_new_sa(moved, true), "UPDSA (MOBIKE)");
    } else {
        if (auto now = current(old_key)) {
            moved.replay = now->replay;
            if (moved.replay && !c.inbound) {
                moved.replay->oseq += kSeqMargin;
            }
            moved.used = xfrm::LifetimeUsed{now->counters.bytes, now->counters.packets,
                                            now->counters.add_time, now->counters.use_time};
        } else {
            log::warn(Subsystem::kKnl, "xfrm: SA {} not readable before its move: counters restart",
                      c.spi);
        }
        (void)request(xfrm::build_del_sa(old_key.second, old_key.first), "DELSA (MOBIKE)");
        reply = request(xfrm::build_new_sa(moved, false), "NEWSA (MOBIKE)");
    }
    InstalledSa rec{it->second.inbound, it->second.reqid, std::nullopt};
    sas_.erase(it);
    if (!reply || reply->error != 0) {
        ++counters_.sa_install_failed;
        const std::string why = reply ? netlink::kernel_says(*reply) : reply.error().to_string();
        log::error(Subsystem::kKnl, "xfrm: moving {} SA {} to {} -> {} failed: {}",
                   c.inbound ? "inbound" : "outbound", c.spi, c.src, c.dst, why);
        report(ike::InstallFailed{c.child_id, c.spi, "kernel refused the moved SA: " + why});
        return;
    }
    log::info(Subsystem::kKnl, "xfrm: SA {} {} moved to {} -> {}{}", c.spi,
              c.inbound ? "in" : "out", c.src, c.dst, in_place ? " (ports only)" : "");
    const SaKey key{c.spi, moved.dst};
    moved.replay.reset();
    moved.used.reset();
    rec.spec = std::move(moved);
    sas_[key] = std::move(rec);
}

void XfrmBackend::route_policy(const PolicyKey& key, const ike::InstallPolicy& p) {
    const std::pair<IpAddress, IpAddress> ends{p.local.address, p.remote.address};
    bool& routed = routed_[key];
    if (auto e = route_ends_.find(key); routed && e != route_ends_.end() && e->second != ends) {
        // MOBIKE moved the Child SA: its routes follow the new path to the peer.
        remove_routes(p.remote_ts);
        routed = false;
    }
    if (!routed) {
        routed = add_routes(p);
    }
    route_ends_[key] = ends;
}

}  // namespace ikeplex::kernel
