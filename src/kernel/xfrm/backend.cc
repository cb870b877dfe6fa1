#include "kernel/xfrm/backend.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <linux/netlink.h>
#include <linux/xfrm.h>
#include <sys/socket.h>

#include "esp/io/rtnl.h"
#include "kernel/ranges.h"
#include "kernel/xfrm/codec/uapi.h"
#include "kernel/xfrm/selectors.h"
#include "util/log.h"
#include "util/overload.h"
#include "util/random.h"

namespace ikeplex::kernel {
namespace {

using log::Subsystem;

}  // namespace

XfrmBackend::XfrmBackend(Token /*unused*/, XfrmOptions options, netlink::Socket requests,
                         netlink::Socket events) noexcept
    : options_(options), requests_(std::move(requests)), events_(std::move(events)) {}

XfrmBackend::~XfrmBackend() {
    flush();
}

Result<std::unique_ptr<XfrmBackend>> XfrmBackend::create(XfrmOptions options) {
    auto requests = netlink::Socket::open(NETLINK_XFRM);
    if (!requests) {
        return requests.error();
    }
    const std::uint32_t groups = (1U << (XFRMNLGRP_ACQUIRE - 1)) | (1U << (XFRMNLGRP_EXPIRE - 1)) |
                                 (1U << (XFRMNLGRP_MAPPING - 1));
    auto events = netlink::Socket::open(NETLINK_XFRM, groups);
    if (!events) {
        return events.error();
    }
    auto b = std::make_unique<XfrmBackend>(Token{}, options, std::move(*requests),
                                           std::move(*events));
    if (options.probe) {
        b->run_probe();
    }
    return b;
}

Result<netlink::Socket::Reply> XfrmBackend::send(netlink::Request req) const {
    return requests_.request(req);
}

Result<netlink::Socket::Reply> XfrmBackend::request(netlink::Request req, const char* what) {
    auto r = requests_.request(req);
    if (!r) {
        ++counters_.netlink_errors;
        log::error(Subsystem::kKnl, "xfrm: {}: {}", what, r.error().to_string());
        return r.error();
    }
    if (r->error != 0) {
        ++counters_.netlink_errors;
    }
    return r;
}

Spi XfrmBackend::allocate(const ike::SpiRequest& r) {
    // The SA will run remote -> local. Bound to the member's CPU where the kernel allows it
    // (lets the kernel match the larval state of a per-CPU acquire).
    std::optional<std::uint32_t> pcpu;
    if (!r.resource.is_none() && probe_.per_cpu) {
        pcpu = r.resource.index();
    }
    if (r.local.is_set() && r.remote.is_set() && r.local.family() == r.remote.family()) {
        // With XFRMA_SA_DIR in use, the larval state must be inbound like its update.
        const auto dir =
                probe_.per_cpu ? std::optional<std::uint8_t>(xfrm::kXfrmSaDirIn) : std::nullopt;
        auto reply = request(
                xfrm::build_alloc_spi(r.remote, r.local, kSpiMin, kSpiMax, 0, pcpu, kEsp, dir),
                "ALLOCSPI");
        if (reply && reply->error == 0 && !reply->messages.empty()) {
            auto msgs = netlink::split_messages(reply->messages.front());
            if (msgs && !msgs->empty()) {
                if (auto sa = xfrm::parse_sa(msgs->front().payload); sa && sa->spi.value() > 255) {
                    larval_[sa->spi] = r.local;
                    return sa->spi;
                }
            }
        }
        if (reply && reply->error != 0) {
            log::warn(Subsystem::kKnl, "xfrm: ALLOCSPI {} -> {} refused: {}", r.remote, r.local,
                      netlink::kernel_says(*reply));
        }
    }
    // No larval state: the SA will be added with NEWSA under an SPI of our own choosing.
    ++counters_.spi_fallbacks;
    OsRandom random;
    for (int i = 0; i < 64; ++i) {
        const Spi spi(random.u32());
        if (spi.value() > 255 && sas_.count({spi, r.local}) == 0 && larval_.count(spi) == 0) {
            return spi;
        }
    }
    return Spi(0x100 + static_cast<std::uint32_t>(sas_.size()));
}

void XfrmBackend::release(Spi spi) {
    auto it = larval_.find(spi);
    if (it == larval_.end()) {
        return;
    }
    (void)request(xfrm::build_del_sa(it->second, spi), "DELSA (larval)");
    larval_.erase(it);
}

void XfrmBackend::apply(std::vector<ike::BackendCommand>& commands) {
    // A Child SA whose first direction failed is not half-installed: its other direction in
    // the same batch is skipped (one failure report per Child SA).
    std::vector<std::uint32_t> failed;
    for (auto& cmd : commands) {
        std::visit(Overload{
                           [&](ike::InstallSa& c) {
                               if (std::find(failed.begin(), failed.end(), c.child_id) !=
                                   failed.end()) {
                                   return;
                               }
                               if (!install_sa(c)) {
                                   failed.push_back(c.child_id);
                               }
                           },
                           [&](ike::DeleteSa& c) { delete_sa(c); },
                           [&](ike::InstallPolicy& c) { install_policy(c); },
                           [&](ike::DeletePolicy& c) { delete_policy(c); },
                           [&](ike::UpdateSaAddresses& c) { move_sa(c); },
                   },
                   cmd);
    }
}

xfrm::SaSpec XfrmBackend::sa_spec(ike::InstallSa& c, const xfrm::KernelAlg& enc,
                                  const std::optional<xfrm::KernelAlg>& integ) const {
    xfrm::SaSpec s;
    s.src = c.src.address;
    s.dst = c.dst.address;
    s.spi = c.spi;
    s.proto = kEsp;
    s.mode = c.mode == ike::Mode::kTunnel ? xfrm::XfrmMode::kTunnel : xfrm::XfrmMode::kTransport;
    s.reqid = c.reqid.value();
    // Both directions: the kernel refuses an ESN SA with window 0 unless XFRMA_SA_DIR says
    // it is outbound (xfrm_init_replay), and the window costs nothing on an outbound SA.
    s.replay_window = c.replay_window;
    s.esn = c.esn;
    if (s.mode == xfrm::XfrmMode::kTransport) {
        s.selector = host_selector(s.src, s.dst);
    } else {
        // Tunnel mode: no selector, and family 0 so that inner packets of either family find
        // the SA (xfrm_state_look_at compares a set selector family with the policy's).
        s.flags = XFRM_STATE_AF_UNSPEC;
    }
    if (enc.aead) {
        s.aead = xfrm::Algorithm{enc.name, enc.icv_bits, std::move(c.encr_key)};
    } else {
        s.encryption = xfrm::Algorithm{enc.name, 0, std::move(c.encr_key)};
        if (integ) {
            s.integrity = xfrm::Algorithm{integ->name, integ->icv_bits, std::move(c.integ_key)};
        }
    }
    if (c.udp_encap) {
        s.encap = xfrm::Encap{c.src.port, c.dst.port, {}};
    }
    s.lifetime.soft_bytes = c.soft_bytes;
    s.lifetime.hard_bytes = c.hard_bytes;
    s.lifetime.soft_packets = c.soft_packets;
    s.lifetime.hard_packets = c.hard_packets;
    if (!c.inbound && !c.resource.is_none() && probe_.per_cpu) {
        // A per-CPU member's outbound SA gets no soft limit: once soft-expired ("dying") the
        // kernel prefers the fallback (not dying) and, the policy asking for per-CPU SAs,
        // raises an acquire and drops that CPU's packets until the rekeyed SA is in
        // (xfrm_state_look_at). The inbound SA's soft limit starts the rekey instead; the
        // hard limits stay on both.
        s.lifetime.soft_bytes = 0;
        s.lifetime.soft_packets = 0;
    }
    if (probe_.per_cpu) {
        // Kernels with per-CPU SAs (6.13+) know XFRMA_SA_DIR (6.10+) and refuse XFRMA_SA_PCPU
        // without it ("SA_PCPU only supported with SA_DIR"); an outbound SA then has no
        // replay window (the codec leaves it out).
        s.direction = c.inbound ? xfrm::kXfrmSaDirIn : xfrm::kXfrmSaDirOut;
    }
    if (!c.resource.is_none()) {
        if (!probe_.per_cpu) {
            log::warn(Subsystem::kKnl,
                      "xfrm: SA {} belongs to CPU {} but the kernel has no per-CPU SAs: "
                      "installed unbound",
                      c.spi, c.resource.index());
        } else {
            s.pcpu = c.resource.index();
        }
    }
    return s;
}

bool XfrmBackend::install_sa(ike::InstallSa& c) {
    const auto enc = xfrm::encryption_alg(c.encr_id);
    const auto integ = c.integ_id != 0 ? xfrm::integrity_alg(c.integ_id) : std::nullopt;
    if (!enc || (c.integ_id != 0 && !integ) || (!enc->aead && c.integ_id == 0 && c.encr_id != 11)) {
        ++counters_.sa_install_failed;
        report(ike::InstallFailed{c.child_id, c.spi,
                                  fmt::format("the kernel has no ESP algorithm for transform "
                                              "ENCR {} / INTEG {}",
                                              c.encr_id, c.integ_id)});
        return false;
    }
    xfrm::SaSpec s = sa_spec(c, *enc, integ);
    // An inbound SPI the kernel reserved (ALLOCSPI) is installed over its larval state.
    const bool larval = c.inbound && larval_.count(c.spi) != 0;
    auto reply = request(xfrm::build_new_sa(s, larval), larval ? "UPDSA" : "NEWSA");
    if (reply && larval && (reply->error == -ENOENT || reply->error == -ESRCH)) {
        // The larval state expired (net.core.xfrm_acq_expires): add it afresh (EEXIST if it
        // was there after all, which is then the failure reported).
        reply = request(xfrm::build_new_sa(s, false), "NEWSA");
    }
    if (!reply || reply->error != 0) {
        if (larval) {
            // Nothing may stay reserved under an SPI the engine gives up.
            (void)send(xfrm::build_del_sa(s.dst, c.spi));
            larval_.erase(c.spi);
        }
        ++counters_.sa_install_failed;
        std::string why = reply ? netlink::kernel_says(*reply) : reply.error().to_string();
        if (reply && reply->error == -EPROTONOSUPPORT) {
            why += ": this kernel has no ESP";
        } else if (reply && reply->error == -ENOSYS && !probe_.esp) {
            // Without ESP the kernel's crypto API may not have loaded the algorithm either
            // (gcm comes with esp4): the missing ESP is the cause, as the probe found.
            why += ": this kernel has no ESP (the start-up probe: " + probe_.esp_detail + ")";
        } else if (reply && reply->error == -ENOSYS) {
            why += ": the kernel lacks the algorithm";
        }
        log::error(Subsystem::kKnl, "xfrm: installing {} SA {} {} -> {} failed: {}",
                   c.inbound ? "inbound" : "outbound", c.spi, c.src, c.dst, why);
        report(ike::InstallFailed{c.child_id, c.spi, "kernel refused the SA: " + why});
        return false;
    }
    larval_.erase(c.spi);
    const SaKey key{c.spi, s.dst};
    sas_[key] = InstalledSa{c.inbound, s.reqid, std::move(s)};
    return true;
}

const XfrmBackend::SaKey* XfrmBackend::find_sa(Spi spi, bool inbound) const {
    for (const auto& [key, rec] : sas_) {
        if (key.first == spi && rec.inbound == inbound) {
            return &key;
        }
    }
    return nullptr;
}

XfrmBackend::SaMap::iterator XfrmBackend::locate(Spi spi, const IpAddress& dst, bool inbound) {
    auto it = sas_.find(SaKey{spi, dst});
    if (it == sas_.end() || it->second.inbound != inbound) {
        const SaKey* k = find_sa(spi, inbound);
        it = k != nullptr ? sas_.find(*k) : sas_.end();
    }
    return it;
}

void XfrmBackend::delete_sa(const ike::DeleteSa& c) {
    auto it = locate(c.spi, c.dst.address, c.inbound);
    IpAddress dst;
    if (it != sas_.end()) {
        dst = it->first.second;
        sas_.erase(it);
    } else if (auto l = larval_.find(c.spi); c.inbound && l != larval_.end()) {
        dst = l->second;
        larval_.erase(l);
    } else {
        return;  // never installed (e.g. the install failed): nothing in the kernel
    }
    auto r = request(xfrm::build_del_sa(dst, c.spi), "DELSA");
    if (r && r->error != 0 && r->error != -ESRCH && r->error != -ENOENT) {
        log::warn(Subsystem::kKnl, "xfrm: deleting SA {}: {}", c.spi, netlink::kernel_says(*r));
    }
}

std::vector<std::pair<std::string, std::uint64_t>> XfrmBackend::counters() const {
    return {{"xfrm-netlink-errors", counters_.netlink_errors},
            {"xfrm-sa-install-failed", counters_.sa_install_failed},
            {"xfrm-acquires", counters_.acquires},
            {"xfrm-expires", counters_.expires},
            {"xfrm-mappings", counters_.mappings},
            {"xfrm-malformed-events", counters_.malformed_events + events_.malformed()},
            {"xfrm-event-overruns", events_.overruns()},
            {"xfrm-spi-fallbacks", counters_.spi_fallbacks}};
}

std::size_t XfrmBackend::installed_policies() const noexcept {
    std::size_t n = 0;
    for (const auto& [key, list] : policies_) {
        n += list.size();
    }
    return n;
}

void XfrmBackend::install_policy(const ike::InstallPolicy& p) {
    const PolicyKey key{p.reqid, p.local_ts, p.remote_ts};
    std::vector<KernelPolicy> installed;
    const auto mode =
            p.mode == ike::Mode::kTunnel ? xfrm::XfrmMode::kTunnel : xfrm::XfrmMode::kTransport;
    for (const auto& l : p.local_ts) {
        for (const auto& r : p.remote_ts) {
            auto pairs = kernel_selectors(l, r);
            if (!pairs) {
                log::error(Subsystem::kKnl, "xfrm: policy {} === {}: {}", l.to_string(),
                           r.to_string(), pairs.error().to_string());
                continue;
            }
            for (const SelectorPair& sp : *pairs) {
                for (xfrm::Dir dir : {xfrm::Dir::kOut, xfrm::Dir::kIn, xfrm::Dir::kFwd}) {
                    if (dir == xfrm::Dir::kFwd && mode != xfrm::XfrmMode::kTunnel) {
                        continue;
                    }
                    const bool out = dir == xfrm::Dir::kOut;
                    xfrm::PolicySpec k;
                    k.selector = out ? sp.out : sp.in;
                    k.dir = dir;
                    k.priority = policy_priority(k.selector);
                    if (out && p.per_cpu_acquire && probe_.per_cpu) {
                        k.flags = xfrm::kXfrmPolicyCpuAcquire;
                    }
                    xfrm::Template t;
                    if (mode == xfrm::XfrmMode::kTunnel) {
                        t.src = out ? p.local.address : p.remote.address;
                        t.dst = out ? p.remote.address : p.local.address;
                    }
                    t.proto = kEsp;
                    t.mode = mode;
                    t.reqid = p.reqid.value();
                    // Never an SPI: any SA of the reqid matches, which a per-CPU group needs
                    // and which lets a rekeyed SA take over without touching the policy.
                    k.templates.push_back(t);
                    auto reply = request(xfrm::build_new_policy(k, true), "UPDPOLICY");
                    if (reply && reply->error == 0) {
                        installed.push_back(KernelPolicy{k.selector, dir});
                    } else if (reply) {
                        log::error(Subsystem::kKnl, "xfrm: installing policy {} === {} {}: {}",
                                   l.to_string(), r.to_string(), out ? "out" : "in/fwd",
                                   netlink::kernel_says(*reply));
                    }
                }
            }
        }
    }
    if (p.mode == ike::Mode::kTunnel) {
        route_policy(key, p);
    }
    auto& slot = policies_[key];
    for (KernelPolicy& kp : installed) {
        const bool known = std::any_of(slot.begin(), slot.end(), [&](const KernelPolicy& o) {
            return o.selector == kp.selector && o.dir == kp.dir;
        });
        if (!known) {
            slot.push_back(kp);
        }
    }
}

void XfrmBackend::delete_policy(const ike::DeletePolicy& p) {
    auto it = policies_.find(PolicyKey{p.reqid, p.local_ts, p.remote_ts});
    if (it == policies_.end()) {
        return;
    }
    for (const KernelPolicy& kp : it->second) {
        auto r = request(xfrm::build_del_policy(kp.selector, kp.dir), "DELPOLICY");
        if (r && r->error != 0 && r->error != -ENOENT) {
            log::warn(Subsystem::kKnl, "xfrm: deleting a policy of reqid {}: {}", p.reqid.value(),
                      netlink::kernel_says(*r));
        }
    }
    const PolicyKey key = it->first;
    policies_.erase(it);
    route_ends_.erase(key);
    if (auto r = routed_.find(key); r != routed_.end()) {
        const bool routed = r->second;
        routed_.erase(r);
        if (routed) {
            remove_routes(p.remote_ts);
        }
    }
}

bool XfrmBackend::add_routes(const ike::InstallPolicy& p) {
    if (options_.route_table == 0) {
        return true;
    }
    if (!p.remote.address.is_set()) {
        return false;
    }
    auto via = esp::io::route_to(p.remote.address);
    if (!via) {
        log::warn(Subsystem::kKnl, "xfrm: no route to the peer {}: tunnel routes not installed",
                  p.remote.address);
        return false;
    }
    // The source of traffic the host itself sends into the tunnel: our IKE address when the
    // local selectors cover it, else one of our addresses inside them.
    std::optional<IpAddress> src;
    for (const auto& t : p.local_ts) {
        if (t.matches(p.local.address, 0, 0)) {
            src = p.local.address;
        }
    }
    if (!src) {
        src = local_address_in(p.local_ts);
    }
    for (const auto& t : p.remote_ts) {
        if (t.matches(p.remote.address, 0, 0)) {
            continue;  // the peer itself is reached without the tunnel (its ESP would loop)
        }
        const int family = t.family() == 6 ? AF_INET6 : AF_INET;
        if (!rules_[family]) {
            if (auto r = esp::io::add_rule(family, options_.route_table,
                                           options_.route_rule_priority);
                r) {
                rules_[family] = true;
            } else {
                log::warn(Subsystem::kKnl, "xfrm: routing rule for table {}: {}",
                          options_.route_table, r.error().to_string());
            }
        }
        for (const auto& [prefix, len] : range_to_prefixes(t.start, t.end)) {
            unsigned& users = routes_[Route{prefix, len}];
            if (users++ > 0) {
                continue;
            }
            esp::io::RouteSpec rs;
            rs.prefix = prefix;
            rs.prefix_len = len;
            rs.table = options_.route_table;
            rs.oif = via->oif;
            if (via->gateway && via->gateway->family() == prefix.family()) {
                rs.gateway = via->gateway;
            }
            if (src && src->family() == prefix.family()) {
                rs.src = src;
            }
            if (auto r = esp::io::add_route(rs); !r) {
                log::warn(Subsystem::kKnl, "xfrm: route {}/{} (table {}): {}", prefix, len,
                          options_.route_table, r.error().to_string());
            }
        }
    }
    return true;
}

void XfrmBackend::remove_routes(const std::vector<ike::TrafficSelector>& remote) {
    for (const auto& t : remote) {
        for (const auto& [prefix, len] : range_to_prefixes(t.start, t.end)) {
            auto it = routes_.find(Route{prefix, len});
            if (it == routes_.end() || --it->second > 0) {
                continue;
            }
            routes_.erase(it);
            esp::io::RouteSpec rs;
            rs.prefix = prefix;
            rs.prefix_len = len;
            rs.table = options_.route_table;
            (void)esp::io::del_route(rs);
        }
    }
}

std::optional<SaStats> XfrmBackend::stats(Spi spi, bool inbound) const {
    const SaKey* key = find_sa(spi, inbound);
    if (key == nullptr) {
        return std::nullopt;
    }
    const auto sa = current(*key);
    if (!sa) {
        return std::nullopt;
    }
    SaStats s;
    s.bytes = sa->counters.bytes;
    s.packets = sa->counters.packets;
    s.last_use_unix = static_cast<std::int64_t>(sa->counters.use_time);
    s.dropped_replay = sa->counters.replay;
    s.dropped_integrity = sa->counters.integrity_failed;
    s.worker = sa->pcpu ? static_cast<std::int32_t>(*sa->pcpu) : -1;
    return s;
}

Status XfrmBackend::virtual_ip(const IpAddress& address, bool add, const IpAddress& peer) {
    if (!add) {
        return vips_.remove(address);
    }
    return vips_.add(address, vip_interface(), [&address, &peer]() -> Result<unsigned> {
        if (!peer.is_set() || peer.family() != address.family()) {
            return make_error(Errc::kInvalidArgument,
                              "xfrm: virtual IP without a peer address of its family");
        }
        const auto via = IKEPLEX_TRY(esp::io::route_to(peer));
        if (via.oif == 0) {
            return make_error(Errc::kNotFound, "xfrm: the route to the peer names no interface");
        }
        return via.oif;
    });
}

void XfrmBackend::flush() {
    for (const auto& [key, rec] : sas_) {
        (void)send(xfrm::build_del_sa(key.second, key.first));
    }
    sas_.clear();
    for (const auto& [spi, dst] : larval_) {
        (void)send(xfrm::build_del_sa(dst, spi));
    }
    larval_.clear();
    for (const auto& [key, list] : policies_) {
        for (const KernelPolicy& kp : list) {
            (void)send(xfrm::build_del_policy(kp.selector, kp.dir));
        }
    }
    policies_.clear();
    for (const auto& [route, users] : routes_) {
        esp::io::RouteSpec rs;
        rs.prefix = route.prefix;
        rs.prefix_len = route.len;
        rs.table = options_.route_table;
        (void)esp::io::del_route(rs);
    }
    routes_.clear();
    routed_.clear();
    route_ends_.clear();
    for (const auto& [family, on] : rules_) {
        if (on) {
            (void)esp::io::del_rule(family, options_.route_table, options_.route_rule_priority);
        }
    }
    rules_.clear();
    vips_.clear();
}

}  // namespace ikeplex::kernel
