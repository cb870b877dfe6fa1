// Configuration payloads in IKE_AUTH (RFC 7296 §2.19, §3.15): see config_payload.h.
#include "ike/config_payload.h"

#include <algorithm>
#include <utility>

#include "ike/ike_sa.h"
#include "ike/payload_access.h"
#include "ike/pools.h"
#include "util/log.h"

namespace ikeplex::ike {
namespace {

using wire::ConfigAttribute;
using wire::NotifyType;
using wire::Payload;
using wire::PayloadType;

constexpr std::uint8_t kIp6PrefixLength = 64;  // strongSwan's INTERNAL_IP6_ADDRESS prefix

bool is_any(const IpAddress& a) {
    return a == IpAddress::any(a.family());
}

/// strongSwan's notation of a requested address: %any / %any6 for none in particular.
std::string requested_text(const IpAddress& a) {
    if (is_any(a)) {
        return a.is_v4() ? "%any" : "%any6";
    }
    return a.to_string();
}

ConfigAttribute address_attribute(const IpAddress& a) {
    ConfigAttribute attr;
    attr.type = a.is_v4() ? cfg_attr::kIp4Address : cfg_attr::kIp6Address;
    if (!is_any(a)) {
        attr.value.assign(a.bytes().begin(), a.bytes().end());
        if (!a.is_v4()) {
            attr.value.push_back(kIp6PrefixLength);
        }
    }
    return attr;
}

/// The address in an INTERNAL_IP4/6_ADDRESS or _DNS value (IPv6 addresses may carry a prefix
/// length byte); an empty value is the family's any address; nothing if malformed.
std::optional<IpAddress> attribute_address(const ConfigAttribute& attr, int family) {
    const std::size_t n = family == 4 ? 4 : 16;
    if (attr.value.empty()) {
        return IpAddress::any(family);
    }
    if (attr.value.size() != n && !(family == 6 && attr.value.size() == n + 1)) {
        return std::nullopt;
    }
    auto a = IpAddress::from_bytes(ByteView(attr.value.data(), n));
    return a ? std::optional<IpAddress>(*a) : std::nullopt;
}

/// DNS servers of each family a client takes from a CFG_REPLY (glibc's resolver reads the
/// first three "nameserver" lines, MAXNS [R]).
constexpr std::size_t kMaxDnsPerFamily = 3;
/// Other attributes a client keeps from a CFG_REPLY (listed, never acted on).
constexpr std::size_t kMaxKeptAttributes = 32;

/// An address a peer may assign us or name as a DNS server: none of unspecified ("this
/// network", 0/8), loopback, multicast, 240/4 (with the limited broadcast), IPv6 link-local.
bool assignable(const IpAddress& a) {
    const ByteView b = a.bytes();
    if (a.is_v4()) {
        return b[0] != 0 && b[0] != 127 && b[0] < 224;
    }
    const bool unspecified_or_loopback =
            std::all_of(b.begin(), b.end() - 1, [](std::uint8_t x) { return x == 0; }) &&
            b[15] <= 1;
    const bool link_local = b[0] == 0xfe && (b[1] & 0xc0U) == 0x80;
    return !unspecified_or_loopback && b[0] != 0xff && !link_local;
}

/// An exact INTERNAL_IP4/6_DNS value (4 or 16 bytes), if it is one.
std::optional<IpAddress> dns_address(const ConfigAttribute& attr) {
    const std::size_t n = attr.type == cfg_attr::kIp4Dns ? 4 : 16;
    if (attr.value.size() != n) {
        return std::nullopt;
    }
    auto a = IpAddress::from_bytes(ByteView(attr.value.data(), n));
    return a ? std::optional<IpAddress>(*a) : std::nullopt;
}

const wire::CpPayload* find_cp(std::span<const Payload> ps, wire::CfgType type) {
    const auto* cp = find_payload<wire::CpPayload>(ps, PayloadType::kCp);
    return cp != nullptr && cp->cfg_type == type ? cp : nullptr;
}

/// `configured` with each dynamic selector given `host` (0.0.0.0 or ::: the whole family).
void resolve_for(std::span<const TrafficSelector> configured, const IpAddress& host,
                 std::vector<TrafficSelector>& out) {
    const auto add = [&](TrafficSelector ts) {
        if (std::find(out.begin(), out.end(), ts) == out.end()) {
            out.push_back(ts);
        }
    };
    const auto with_host = [&](TrafficSelector ts) {
        ts.dynamic = false;
        ts.start = host;
        ts.end = is_any(host) ? IpAddress::all_ones(host.family()) : host;
        return ts;
    };
    if (configured.empty()) {
        add(with_host(TrafficSelector{host, host, 0, 0, 65535}));
        return;
    }
    for (const TrafficSelector& ts : configured) {
        add(ts.dynamic ? with_host(ts) : ts);
    }
}

void emit_change(IkeSa& sa, const VirtualIps& v, bool up, Step& step) {
    VirtualIpChange c;
    c.up = up;
    c.ike_id = sa.id();
    c.conn = sa.config() != nullptr ? sa.config()->name : std::string();
    c.addresses = v.local;
    c.dns = v.dns;
    c.peer = sa.remote().address;
    step.out.vips.push_back(std::move(c));
}

/// The AAA server's address for a request of `r`'s family, once, if `pools` name `radius`
/// (strongSwan's eap-radius provider: that pool name, then the same family).
std::optional<IpAddress> take_framed_ip(const PeerConfig& cfg, VirtualIps& v, const IpAddress& r) {
    if (!v.framed || v.framed->is_v4() != r.is_v4() ||
        std::find(cfg.pools.begin(), cfg.pools.end(), kRadiusPool) == cfg.pools.end()) {
        return std::nullopt;
    }
    return std::exchange(v.framed, std::nullopt);
}

}  // namespace

Identity lease_identity(const IkeSa& sa) {
    // strongSwan leases by the peer's EAP identity when EAP authenticated it, else its IKE
    // identity (the "other EAP identity" of its IKE SA).
    if (!sa.remote_eap_id().empty()) {
        if (auto eap = Identity::parse(sa.remote_eap_id())) {
            return *eap;
        }
    }
    return sa.remote_id();
}

void append_cp_request(IkeSa& sa, std::vector<Payload>& out) {
    const PeerConfig* cfg = sa.config();
    if (cfg == nullptr || cfg->vips.empty()) {
        return;
    }
    auto& v = sa.states().get<VirtualIps>();
    // An IKE SA that has addresses already asks for them again (strongSwan reuses them).
    const std::vector<IpAddress>& wanted = v.local.empty() ? cfg->vips : v.local;
    wire::CpPayload cp{wire::CfgType::kRequest, {}};
    bool v4 = false;
    bool v6 = false;
    for (const IpAddress& a : wanted) {
        cp.attributes.push_back(address_attribute(a));
        (a.is_v4() ? v4 : v6) = true;
    }
    if (v4) {
        cp.attributes.push_back(ConfigAttribute{cfg_attr::kIp4Dns, {}});
    }
    if (v6) {
        cp.attributes.push_back(ConfigAttribute{cfg_attr::kIp6Dns, {}});
    }
    v.asked = true;
    v.asked4 = v4;
    v.asked6 = v6;
    out.push_back(wire::make_payload(std::move(cp)));
}

namespace {

/// What a client takes from one attribute of a CFG_REPLY; the reason it refuses it, if it does.
const char* take_reply_attribute(VirtualIps& v, const ConfigAttribute& attr) {
    const bool addr4 = attr.type == cfg_attr::kIp4Address;
    if (addr4 || attr.type == cfg_attr::kIp6Address) {
        const int family = addr4 ? 4 : 6;
        if (!(addr4 ? v.asked4 : v.asked6)) {
            return "an address of a family we did not ask for";
        }
        const auto a = attr.value.empty() ? std::nullopt : attribute_address(attr, family);
        if (!a || (family == 6 && attr.value.size() == 17 && attr.value[16] > 128)) {
            return "malformed";
        }
        if (!assignable(*a)) {
            return "not an address to assign";
        }
        if (std::any_of(v.local.begin(), v.local.end(),
                        [&](const IpAddress& l) { return l.family() == family; })) {
            return "one address per family";
        }
        v.local.push_back(*a);
        return nullptr;
    }
    if (attr.type == cfg_attr::kIp4Dns || attr.type == cfg_attr::kIp6Dns) {
        const auto a = dns_address(attr);
        if (!a) {
            return "malformed";
        }
        if (!assignable(*a)) {
            return "not a DNS server address";
        }
        if (std::count_if(v.dns.begin(), v.dns.end(), [&](const IpAddress& d) {
                return d.family() == a->family();
            }) >= static_cast<std::ptrdiff_t>(kMaxDnsPerFamily)) {
            return "more DNS servers than we take";
        }
        v.dns.push_back(*a);
        return nullptr;
    }
    if (v.attributes.size() >= kMaxKeptAttributes) {
        return "more attributes than we keep";
    }
    v.attributes.push_back(attr);
    return nullptr;
}

}  // namespace

void process_cp_reply(IkeSa& sa, std::span<const Payload> response, Step& step) {
    auto* v = sa.states().find<VirtualIps>();
    if (v == nullptr || !v->asked) {
        return;
    }
    const wire::CpPayload* cp = find_cp(response, wire::CfgType::kReply);
    if (cp == nullptr) {
        IKE_LOG(info, sa, "peer did not assign a virtual IP");
        return;
    }
    v->local.clear();
    v->dns.clear();
    v->attributes.clear();
    for (const ConfigAttribute& attr : cp->attributes) {
        if (const char* why = take_reply_attribute(*v, attr); why != nullptr) {
            sa.registry().note_cp_refused(sa, attr.type, why, step.now);
        }
    }
    for (const IpAddress& a : v->local) {
        IKE_LOG(info, sa, "installing new virtual IP {}", a);
    }
    if (!v->local.empty()) {
        emit_change(sa, *v, true, step);
    }
}

void note_cp_request(IkeSa& sa, std::span<const Payload> request, const Step& step) {
    const wire::CpPayload* cp = find_cp(request, wire::CfgType::kRequest);
    if (cp == nullptr) {
        return;
    }
    auto& v = sa.states().get<VirtualIps>();
    v.request_seen = true;
    v.requested.clear();
    for (const ConfigAttribute& attr : cp->attributes) {
        if (attr.type != cfg_attr::kIp4Address && attr.type != cfg_attr::kIp6Address) {
            continue;
        }
        const int family = attr.type == cfg_attr::kIp4Address ? 4 : 6;
        const auto a = attribute_address(attr, family);
        const char* why = nullptr;
        if (!a) {
            why = "malformed";
        } else if (std::any_of(v.requested.begin(), v.requested.end(),
                               [&](const IpAddress& r) { return r.family() == family; })) {
            // strongSwan leases one address per attribute; one client could drain a pool so.
            why = "one address per family";
        } else {
            v.requested.push_back(*a);
        }
        if (why != nullptr) {
            sa.registry().note_cp_refused(sa, attr.type, why, step.now);
        }
    }
}

CpAnswer answer_cp_request(IkeSa& sa, Step& /*step*/) {
    CpAnswer answer;
    const PeerConfig& cfg = *sa.config();
    auto* v = sa.states().find<VirtualIps>();
    if (v != nullptr && !v->requested.empty()) {
        const std::vector<IpAddress>& requested = v->requested;
        const Identity id = lease_identity(sa);
        v->lease_id = id;
        for (const IpAddress& r : requested) {
            IKE_LOG(info, sa, "peer requested virtual IP {}", requested_text(r));
            std::optional<IpAddress> got = take_framed_ip(cfg, *v, r);
            if (AddressPools* pools = sa.services().pools; !got && pools != nullptr) {
                got = pools->acquire(cfg.pools, id, r, sa.remote());
            }
            if (got) {
                IKE_LOG(info, sa, "assigning virtual IP {} to peer '{}'", *got, id.to_string());
                v->remote.push_back(*got);
            } else {
                IKE_LOG(info, sa, "no virtual IP found for {} requested by '{}'", requested_text(r),
                        id.to_string());
            }
        }
        if (v->remote.empty()) {
            IKE_LOG(info, sa, "no virtual IP found, sending INTERNAL_ADDRESS_FAILURE");
            answer.payloads.push_back(wire::make_notify(NotifyType::kInternalAddressFailure));
            answer.child = false;
            return answer;
        }
    } else if (!cfg.pools.empty()) {
        IKE_LOG(info, sa, "expected a virtual IP request, sending FAILED_CP_REQUIRED");
        answer.payloads.push_back(wire::make_notify(NotifyType::kFailedCpRequired));
        answer.child = false;
        return answer;
    }
    if (v == nullptr || !v->request_seen) {
        return answer;  // RFC 7296 §2.19: no CFG_REPLY without a CFG_REQUEST
    }
    wire::CpPayload cp{wire::CfgType::kReply, {}};
    for (const IpAddress& a : v->remote) {
        cp.attributes.push_back(address_attribute(a));
    }
    if (const AddressPools* pools = sa.services().pools; pools != nullptr) {
        auto attrs = pools->attributes(cfg.pools, v->remote);
        cp.attributes.insert(cp.attributes.end(), std::make_move_iterator(attrs.begin()),
                             std::make_move_iterator(attrs.end()));
    }
    if (!cp.attributes.empty()) {
        answer.payloads.push_back(wire::make_payload(std::move(cp)));
    }
    return answer;
}

void move_virtual_ips(IkeSa& from, IkeSa& to) {
    auto* v = from.states().find<VirtualIps>();
    if (v == nullptr) {
        return;
    }
    to.states().get<VirtualIps>() = std::move(*v);
    from.states().drop<VirtualIps>();
}

void reuse_virtual_ips(const IkeSa& from, IkeSa& to) {
    const auto* v = from.states().find<VirtualIps>();
    if (v != nullptr && !v->local.empty()) {
        to.states().get<VirtualIps>().local = v->local;
    }
}

void release_virtual_ips(IkeSa& sa, Step& step) {
    auto* v = sa.states().find<VirtualIps>();
    if (v == nullptr) {
        return;
    }
    AddressPools* pools = sa.services().pools;
    if (pools != nullptr && sa.config() != nullptr) {
        for (const IpAddress& a : v->remote) {
            pools->release(sa.config()->pools, a, v->lease_id);
        }
    }
    if (!v->local.empty()) {
        IKE_LOG(info, sa, "removing virtual IP {}", v->local.front());
        emit_change(sa, *v, false, step);
    }
    sa.states().drop<VirtualIps>();
}

const VirtualIps* virtual_ips(const IkeSa& sa) {
    return sa.states().find<VirtualIps>();
}

std::optional<std::vector<TrafficSelector>> vip_ts(const IkeSa& sa,
                                                   std::span<const TrafficSelector> configured,
                                                   bool local) {
    const VirtualIps* v = virtual_ips(sa);
    std::vector<IpAddress> hosts;
    if (local) {
        if (v != nullptr && !v->local.empty()) {
            hosts = v->local;
        } else if (sa.is_original_initiator() && sa.config() != nullptr &&
                   !sa.config()->vips.empty() && (v == nullptr || v->asked) &&
                   sa.before_authentication()) {
            for (const IpAddress& a : sa.config()->vips) {
                hosts.push_back(IpAddress::any(a.family()));  // 0.0.0.0/0, ::/0
            }
        }
    } else if (v != nullptr) {
        hosts = v->remote;
    }
    if (hosts.empty()) {
        return std::nullopt;
    }
    std::vector<TrafficSelector> out;
    for (const IpAddress& h : hosts) {
        resolve_for(configured, h, out);
    }
    return out;
}

}  // namespace ikeplex::ike
