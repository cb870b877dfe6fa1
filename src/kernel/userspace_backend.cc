#include "kernel/userspace_backend.h"

#include <cstring>

#include "esp/io/rtnl.h"
#include "esp/io/tun.h"
#include "kernel/ranges.h"
#include "util/log.h"
#include "util/overload.h"
#include "util/sockaddr.h"

namespace ikeplex::kernel {
namespace {

constexpr const char* kNeedsRawEsp =
        "ESP without UDP encapsulation needs raw_esp = yes (or encap = yes on the connection)";

}  // namespace

esp::Selector to_selector(const ike::TrafficSelector& ts) noexcept {
    return esp::Selector::from(ts.start, ts.end, ts.protocol, ts.start_port, ts.end_port);
}

Result<std::unique_ptr<UserspaceBackend>> UserspaceBackend::create(const crypto::Registry& registry,
                                                                   esp::DataplaneOptions options) {
    auto dp = esp::Dataplane::create(registry, std::move(options));
    if (!dp) {
        return dp.error();
    }
    return std::make_unique<UserspaceBackend>(Token{}, std::move(*dp));
}

void UserspaceBackend::apply(std::vector<ike::BackendCommand>& commands) {
    bool policies_changed = false;
    for (auto& cmd : commands) {
        std::visit(Overload{
                           [&](ike::InstallSa& c) { install_sa(c); },
                           [&](ike::DeleteSa& c) { dataplane_->remove(c.spi, c.inbound); },
                           [&](ike::InstallPolicy& c) {
                               // Again for an installed key (MOBIKE sends the policies with
                               // the new endpoints): the entry takes them; the workers'
                               // table holds selectors only, and the routes go via the TUN
                               // with an inner source, so neither changes.
                               const PolicyKey key{c.reqid, c.local_ts, c.remote_ts};
                               if (policies_.find(key) == policies_.end()) {
                                   add_routes(c);
                               }
                               policies_[key] = c;
                               policies_changed = true;
                           },
                           [&](ike::DeletePolicy& c) {
                               const PolicyKey key{c.reqid, c.local_ts, c.remote_ts};
                               if (policies_.erase(key) > 0) {
                                   remove_routes(c.remote_ts);
                                   policies_changed = true;
                               }
                           },
                           [&](ike::UpdateSaAddresses& c) { move_sa(c); },
                   },
                   cmd);
    }
    if (policies_changed) {
        publish_policies();
    }
}

void UserspaceBackend::install_sa(ike::InstallSa& c) {
    esp::SaConfig s;
    s.child_id = c.child_id;
    s.reqid = c.reqid;
    s.spi = c.spi;
    s.inbound = c.inbound;
    s.resource = c.resource;
    s.mode = c.mode == ike::Mode::kTunnel ? esp::Mode::kTunnel : esp::Mode::kTransport;
    s.udp_encap = c.udp_encap;
    s.esn = c.esn;
    s.replay_window = c.replay_window;
    // The data plane's view: local/peer, whatever the direction.
    s.local = c.inbound ? c.dst : c.src;
    s.peer = c.inbound ? c.src : c.dst;
    s.encr_id = c.encr_id;
    s.encr_key_bits = c.encr_key_bits;
    s.integ_id = c.integ_id;
    s.encr_key = std::move(c.encr_key);
    s.integ_key = std::move(c.integ_key);
    s.lifetime = esp::Lifetime{c.soft_bytes, c.hard_bytes, c.soft_packets, c.hard_packets};
    for (const auto& t : c.local_ts) {
        s.local_ts.push_back(to_selector(t));
    }
    for (const auto& t : c.remote_ts) {
        s.remote_ts.push_back(to_selector(t));
    }
    if (!s.udp_encap && !dataplane_->options().raw_esp) {
        report(ike::InstallFailed{c.child_id, c.spi, kNeedsRawEsp});
        return;
    }
    if (auto r = dataplane_->install(std::move(s)); !r) {
        report(ike::InstallFailed{c.child_id, c.spi, r.error().to_string()});
    }
}

void UserspaceBackend::move_sa(const ike::UpdateSaAddresses& c) {
    if (!c.udp_encap && !dataplane_->options().raw_esp) {
        report(ike::InstallFailed{c.child_id, c.spi, kNeedsRawEsp});
        return;
    }
    // The data plane's view: local/peer, whatever the direction.
    const esp::SaPath path{c.inbound ? c.dst : c.src, c.inbound ? c.src : c.dst, c.udp_encap};
    if (auto r = dataplane_->move(c.spi, c.inbound, path); !r) {
        report(ike::InstallFailed{c.child_id, c.spi, r.error().to_string()});
        return;
    }
    log::info(log::Subsystem::kKnl, "SA {} {} moved to {} -> {}{}", c.spi, c.inbound ? "in" : "out",
              c.src, c.dst, c.udp_encap ? " (UDP)" : "");
}

void UserspaceBackend::publish_policies() {
    std::vector<esp::Policy> list;
    for (const auto& [key, p] : policies_) {
        esp::Policy e;
        e.reqid = p.reqid;
        for (const auto& t : p.local_ts) {
            e.local.push_back(to_selector(t));
        }
        for (const auto& t : p.remote_ts) {
            e.remote.push_back(to_selector(t));
        }
        e.per_cpu = p.per_cpu_acquire;
        e.trap = p.trap;
        list.push_back(std::move(e));
    }
    dataplane_->set_policies(std::move(list));
}

Status UserspaceBackend::virtual_ip(const IpAddress& address, bool add, const IpAddress& /*peer*/) {
    if (!add) {
        return vips_.remove(address);
    }
    return vips_.add(address, vip_interface(), [this]() -> Result<unsigned> {
        const esp::io::Tun* tun = dataplane_->tun();
        if (tun == nullptr) {
            return make_error(Errc::kState, "no TUN device");
        }
        return tun->ifindex();
    });
}

void UserspaceBackend::add_routes(const ike::InstallPolicy& p) {
    const esp::io::Tun* tun = dataplane_->tun();
    if (tun == nullptr || p.mode != ike::Mode::kTunnel) {
        return;
    }
    const auto src = local_address_in(p.local_ts);
    for (const auto& t : p.remote_ts) {
        if (t.matches(p.remote.address, 0, 0)) {
            log::warn(log::Subsystem::kKnl,
                      "remote selector {} covers the peer's address {}: not routed via {} "
                      "(ESP to the peer would loop into the tunnel)",
                      t.to_string(), p.remote.address, tun->name());
            continue;
        }
        for (const auto& [prefix, len] : range_to_prefixes(t.start, t.end)) {
            unsigned& users = routes_[RouteKey{prefix, len}];
            if (users++ > 0) {
                continue;
            }
            const IpAddress* pref = src && src->family() == prefix.family() ? &*src : nullptr;
            if (auto r = esp::io::add_route(tun->ifindex(), prefix, len, pref); !r) {
                log::warn(log::Subsystem::kKnl, "cannot route {}/{} via {}: {}", prefix, len,
                          tun->name(), r.error().to_string());
            }
        }
    }
}

void UserspaceBackend::remove_routes(const std::vector<ike::TrafficSelector>& remote) {
    const esp::io::Tun* tun = dataplane_->tun();
    if (tun == nullptr) {
        return;
    }
    for (const auto& t : remote) {
        for (const auto& [prefix, len] : range_to_prefixes(t.start, t.end)) {
            auto it = routes_.find(RouteKey{prefix, len});
            if (it == routes_.end() || --it->second > 0) {
                continue;
            }
            routes_.erase(it);
            (void)esp::io::del_route(tun->ifindex(), prefix, len);
        }
    }
}

std::optional<SaStats> UserspaceBackend::stats(Spi spi, bool inbound) const {
    const esp::SaPtr sa = dataplane_->find(spi, inbound);
    if (!sa) {
        return std::nullopt;
    }
    SaStats s;
    s.bytes = sa->bytes();
    s.packets = sa->packets();
    s.last_use_unix = sa->last_use();
    s.dropped_replay = sa->drops(esp::SaDrop::kReplay);
    s.dropped_integrity = sa->drops(esp::SaDrop::kIntegrity);
    s.dropped_other = sa->drops(esp::SaDrop::kOther);
    const ResourceId r = sa->config().resource;
    if (inbound) {
        s.worker = static_cast<std::int32_t>(dataplane_->owner(spi));
    } else if (!r.is_none()) {
        s.worker = static_cast<std::int32_t>(r.index() % dataplane_->workers());
    }
    return s;
}

std::vector<WorkerStats> UserspaceBackend::worker_stats() const {
    std::vector<WorkerStats> out;
    for (unsigned k = 0; k < dataplane_->workers(); ++k) {
        out.push_back(dataplane_->stats(k));
    }
    return out;
}

void UserspaceBackend::poll_events() {
    for (const esp::Event& e : dataplane_->events().drain()) {
        if (const auto* a = std::get_if<esp::AcquireEvent>(&e)) {
            ike::Acquire acq;
            acq.reqid = a->reqid;
            acq.resource = a->resource;
            const std::size_t n = a->flow.family == 4 ? 4 : 16;
            auto src = IpAddress::from_bytes(ByteView(a->flow.src.data(), n));
            auto dst = IpAddress::from_bytes(ByteView(a->flow.dst.data(), n));
            if (src && dst) {
                // RFC 7296 §2.9: the triggering packet's selectors (all ports where the
                // protocol has none).
                const auto host = [&](const IpAddress& addr, std::uint16_t port) {
                    return port == 0
                                   ? ike::TrafficSelector{addr, addr, a->flow.protocol, 0, 65535}
                                   : ike::TrafficSelector{addr, addr, a->flow.protocol, port, port};
                };
                acq.src = host(*src, a->flow.src_port);
                acq.dst = host(*dst, a->flow.dst_port);
            }
            report(acq);
        } else if (const auto* x = std::get_if<esp::ExpireEvent>(&e)) {
            report(ike::Expire{x->spi, x->inbound, x->hard});
        }
    }
}

}  // namespace ikeplex::kernel
