#include "kernel/xfrm/selectors.h"

#include <sys/socket.h>

#include "kernel/ranges.h"

namespace ikeplex::kernel {
namespace {

constexpr std::uint8_t kIcmp = 1;
constexpr std::uint8_t kIcmpV6 = 58;

std::uint16_t af(int family) noexcept {
    return family == 6 ? AF_INET6 : AF_INET;
}

/// One traffic selector as kernel selector halves: address prefixes and port blocks.
struct Half {
    IpAddress addr;
    std::uint8_t len{0};
    std::uint16_t port{0};
    std::uint16_t mask{0};
};

/// One traffic selector as kernel selector halves: address prefixes and port blocks. An ICMP
/// selector (RFC 7296 §3.13.1: type in the high byte of the "port", code in the low) becomes
/// the kernel's form, type in sport and code in dport whatever the direction; it must be one
/// type (with one code or all), or every type, else it is refused (never widened).
Result<std::vector<Half>> halves(const ike::TrafficSelector& ts, bool* icmp_code,
                                 std::uint16_t* code, std::uint16_t* code_mask) {
    std::vector<std::pair<std::uint16_t, std::uint16_t>> ports;
    *icmp_code = false;
    if (ts.protocol == kIcmp || ts.protocol == kIcmpV6) {
        const unsigned type = ts.start_port >> 8U;
        if (ts.start_port == 0 && ts.end_port == 65535) {
            ports.emplace_back(0, 0);
        } else if ((ts.end_port >> 8U) == type) {
            ports.emplace_back(static_cast<std::uint16_t>(type), 0xffff);
            const unsigned lo = ts.start_port & 0xffU;
            const unsigned hi = ts.end_port & 0xffU;
            if (lo == hi) {
                *icmp_code = true;
                *code = static_cast<std::uint16_t>(lo);
                *code_mask = 0xffff;
            } else if (lo != 0 || hi != 0xff) {
                return make_error(Errc::kUnsupported,
                                  "ICMP selector with a range of codes the kernel cannot match");
            }
        } else {
            return make_error(Errc::kUnsupported,
                              "ICMP selector over several types: the kernel matches one type");
        }
    } else {
        ports = port_blocks(ts.start_port, ts.end_port);
    }
    std::vector<Half> out;
    for (const auto& [prefix, len] : range_to_prefixes(ts.start, ts.end)) {
        for (const auto& [port, mask] : ports) {
            out.push_back(Half{prefix, static_cast<std::uint8_t>(len), port, mask});
        }
    }
    return out;
}

xfrm::Selector make_selector(const Half& src, const Half& dst, std::uint8_t proto) {
    xfrm::Selector s;
    s.src = src.addr;
    s.src_len = src.len;
    s.dst = dst.addr;
    s.dst_len = dst.len;
    s.proto = proto;
    s.sport = src.port;
    s.sport_mask = src.mask;
    s.dport = dst.port;
    s.dport_mask = dst.mask;
    s.family = af(src.addr.family());
    return s;
}

}  // namespace

/// The selector of a transport-mode SA: the hosts, as strongSwan installs it.
xfrm::Selector host_selector(const IpAddress& src, const IpAddress& dst) {
    xfrm::Selector s;
    s.src = src;
    s.dst = dst;
    s.src_len = static_cast<std::uint8_t>(src.size() * 8);
    s.dst_len = static_cast<std::uint8_t>(dst.size() * 8);
    s.family = af(src.family());
    return s;
}

/// The triggering packet of an acquire as an IKEv2 selector (RFC 7296 §2.9).
/// The triggering packet of an acquire as an IKEv2 selector (RFC 7296 §2.9): its port for
/// protocols with ports, type and code for ICMP (RFC 7296 §3.13.1), all "ports" otherwise.
std::optional<ike::TrafficSelector> packet_ts(const IpAddress& a, const xfrm::Selector& sel,
                                              std::uint16_t port, std::uint16_t mask) {
    if (!a.is_set()) {
        return std::nullopt;
    }
    const std::uint8_t proto = sel.proto;
    if (proto == kIcmp || proto == kIcmpV6) {
        const auto v = static_cast<std::uint16_t>((static_cast<unsigned>(sel.sport) << 8U) |
                                                  (sel.dport & 0xffU));
        return ike::TrafficSelector{a, a, proto, v, v};
    }
    const bool ports = proto == 6 || proto == 17 || proto == 33 || proto == 132 || proto == 136;
    if (mask == 0 || !ports) {
        return ike::TrafficSelector{a, a, proto, 0, 65535};
    }
    return ike::TrafficSelector{a, a, proto, port, port};
}

std::uint32_t policy_priority(const xfrm::Selector& s) noexcept {
    // strongSwan's idea (more specific first), our own weights: prefix bits dominate, then a
    // protocol, then exact ports. 1000..~3000 away from the base, so admin policies at lower
    // numbers still win.
    constexpr std::uint32_t kBase = 200000;
    std::uint32_t specific = (static_cast<std::uint32_t>(s.src_len) + s.dst_len) * 8;
    specific += s.proto != 0 ? 4 : 0;
    specific += s.sport_mask != 0 ? 1 : 0;
    specific += s.dport_mask != 0 ? 1 : 0;
    return kBase - specific;
}

Result<std::vector<SelectorPair>> kernel_selectors(const ike::TrafficSelector& local,
                                                   const ike::TrafficSelector& remote,
                                                   std::size_t limit) {
    if (local.family() != remote.family()) {
        return std::vector<SelectorPair>{};
    }
    std::uint8_t proto = local.protocol != 0 ? local.protocol : remote.protocol;
    if (local.protocol != 0 && remote.protocol != 0 && local.protocol != remote.protocol) {
        return std::vector<SelectorPair>{};  // no packet matches both
    }
    bool lcode = false;
    bool rcode = false;
    std::uint16_t code = 0;
    std::uint16_t code_mask = 0;
    auto l = halves(local, &lcode, &code, &code_mask);
    if (!l) {
        return l.error();
    }
    auto r = halves(remote, &rcode, &code, &code_mask);
    if (!r) {
        return r.error();
    }
    const bool icmp = proto == kIcmp || proto == kIcmpV6;
    if (icmp && !l->empty() && !r->empty() && l->front().mask != 0 && r->front().mask != 0 &&
        l->front().port != r->front().port) {
        return std::vector<SelectorPair>{};  // two different ICMP types: no packet matches
    }
    if (l->size() * r->size() > limit) {
        return make_error(Errc::kUnsupported,
                          "traffic selectors need too many kernel policies (ranges that are "
                          "not prefixes or port blocks)");
    }
    std::vector<SelectorPair> out;
    for (const Half& a : *l) {
        for (const Half& b : *r) {
            SelectorPair sp{make_selector(a, b, proto), make_selector(b, a, proto)};
            if (icmp) {
                // The kernel: type in sport, code in dport, in both directions.
                for (xfrm::Selector* x : {&sp.out, &sp.in}) {
                    const Half& typed = a.mask != 0 ? a : b;
                    x->sport = typed.port;
                    x->sport_mask = typed.mask;
                    x->dport = (lcode || rcode) ? code : 0;
                    x->dport_mask = (lcode || rcode) ? code_mask : 0;
                }
            }
            out.push_back(sp);
        }
    }
    return out;
}

}  // namespace ikeplex::kernel
