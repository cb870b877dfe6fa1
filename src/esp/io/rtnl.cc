#include "esp/io/rtnl.h"

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>

#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include "netlink/socket.h"
#include "util/sys_error.h"

namespace ikeplex::esp::io {

namespace {

/// Sends `r` on a fresh NETLINK_ROUTE socket of the caller's namespace and waits for the
/// kernel's answer: its data messages, or the refusal as Errc::kSystem with the kernel's errno.
Result<netlink::Socket::Reply> exchange(netlink::Request& r) {
    if (!r.ok()) {
        return make_error(Errc::kInternal, "rtnetlink: request too long");
    }
    auto sock = IKEPLEX_TRY(netlink::Socket::open(NETLINK_ROUTE));
    auto reply = IKEPLEX_TRY(sock.request(r));
    if (reply.error != 0) {
        return sys_error("rtnetlink: request refused", -reply.error);
    }
    return reply;
}

/// Sends `r` and waits for its acknowledgement.
Status run(netlink::Request& r) {
    IKEPLEX_TRY(exchange(r));
    return ok();
}

unsigned char family_of(const IpAddress& a) noexcept {
    return a.is_v4() ? AF_INET : AF_INET6;
}

Status check_prefix(const IpAddress& prefix, unsigned prefix_len) {
    if (!prefix.is_set() || prefix_len > prefix.size() * 8) {
        return make_error(Errc::kInvalidArgument, "rtnetlink: bad prefix or prefix length");
    }
    return ok();
}

/// The prefix with its host bits cleared (the kernel refuses IPv4 routes with them set).
std::array<std::uint8_t, 16> masked(const IpAddress& prefix, unsigned prefix_len) noexcept {
    std::array<std::uint8_t, 16> b{};
    const ByteView src = prefix.bytes();
    for (std::size_t i = 0; i < src.size(); ++i) {
        const std::size_t bit = i * 8;
        if (bit + 8 <= prefix_len) {
            b[i] = src[i];
        } else if (bit < prefix_len) {
            b[i] = static_cast<std::uint8_t>(src[i] & (0xFFU << (8 - (prefix_len - bit))));
        }
    }
    return b;
}

Status link_request(unsigned ifindex, bool up, unsigned mtu) {
    netlink::Request r(RTM_NEWLINK, 0);
    ifinfomsg ifi{};
    ifi.ifi_family = AF_UNSPEC;
    ifi.ifi_index = static_cast<int>(ifindex);
    if (up) {
        ifi.ifi_flags = IFF_UP;
        ifi.ifi_change = IFF_UP;
    }
    r.header(ifi);
    if (mtu != 0) {
        r.attr_u32(IFLA_MTU, mtu);
    }
    return run(r);
}

Status check_family(const std::optional<IpAddress>& a, const IpAddress& prefix,
                    const char* detail) {
    if (a && (!a->is_set() || a->family() != prefix.family())) {
        return make_error(Errc::kInvalidArgument, detail);
    }
    return ok();
}

Status route_request(bool add, const RouteSpec& spec) {
    IKEPLEX_TRY(check_prefix(spec.prefix, spec.prefix_len));
    IKEPLEX_TRY(
            check_family(spec.src, spec.prefix, "rtnetlink: source and prefix families differ"));
    IKEPLEX_TRY(check_family(spec.gateway, spec.prefix,
                             "rtnetlink: gateway and prefix families differ"));
    netlink::Request r(add ? RTM_NEWROUTE : RTM_DELROUTE,
                       static_cast<std::uint16_t>(add ? NLM_F_CREATE | NLM_F_REPLACE : 0));
    rtmsg rt{};
    rt.rtm_family = family_of(spec.prefix);
    rt.rtm_dst_len = static_cast<unsigned char>(spec.prefix_len);
    rt.rtm_table = static_cast<unsigned char>(spec.table <= 255 ? spec.table : RT_TABLE_UNSPEC);
    rt.rtm_protocol = add ? RTPROT_STATIC : RTPROT_UNSPEC;
    if (!add) {
        rt.rtm_scope = RT_SCOPE_NOWHERE;
    } else if (spec.gateway || !spec.prefix.is_v4()) {
        rt.rtm_scope = RT_SCOPE_UNIVERSE;
    } else {
        rt.rtm_scope = RT_SCOPE_LINK;
    }
    rt.rtm_type = RTN_UNICAST;
    r.header(rt);
    const auto dst = masked(spec.prefix, spec.prefix_len);
    r.attr(RTA_DST, dst.data(), spec.prefix.size());
    if (spec.table > 255) {
        r.attr_u32(RTA_TABLE, spec.table);
    }
    if (spec.oif != 0) {
        r.attr_u32(RTA_OIF, spec.oif);
    }
    if (spec.gateway) {
        r.attr(RTA_GATEWAY, spec.gateway->bytes().data(), spec.gateway->size());
    }
    if (spec.src) {
        r.attr(RTA_PREFSRC, spec.src->bytes().data(), spec.src->size());
    }
    return run(r);
}

/// An address attribute of a reply (4 or 16 bytes), or nothing if it is malformed.
std::optional<IpAddress> address_attr(ByteView v) {
    auto a = IpAddress::from_bytes(v);
    if (!a) {
        return std::nullopt;
    }
    return *a;
}

/// The rtmsg and attributes of an RTM_NEWROUTE reply; every length is checked.
Result<RouteTo> parse_route(ByteView body) {
    if (body.size() < sizeof(rtmsg)) {
        return make_error(Errc::kNetlink, "rtnetlink: short route message");
    }
    RouteTo out;
    const auto attrs = IKEPLEX_TRY(netlink::parse_attrs(body, sizeof(rtmsg)));
    for (const netlink::Attr& a : attrs) {
        switch (a.type) {
            case RTA_OIF:
                if (a.data.size() == sizeof(std::uint32_t)) {
                    std::uint32_t oif = 0;
                    std::memcpy(&oif, a.data.data(), sizeof oif);
                    out.oif = oif;
                }
                break;
            case RTA_GATEWAY:
                out.gateway = address_attr(a.data);
                break;
            case RTA_PREFSRC:
                out.prefsrc = address_attr(a.data);
                break;
            default:
                break;
        }
    }
    return out;
}

Status check_rule_args(int family, unsigned table) {
    if (family != AF_INET && family != AF_INET6) {
        return make_error(Errc::kInvalidArgument, "rtnetlink: rule family not AF_INET(6)");
    }
    if (table == RT_TABLE_UNSPEC) {
        return make_error(Errc::kInvalidArgument, "rtnetlink: rule for table 0");
    }
    return ok();
}

Status rule_request(bool add, int family, unsigned table, unsigned priority) {
    IKEPLEX_TRY(check_rule_args(family, table));
    netlink::Request r(add ? RTM_NEWRULE : RTM_DELRULE,
                       static_cast<std::uint16_t>(add ? NLM_F_CREATE | NLM_F_EXCL : 0));
    fib_rule_hdr frh{};
    frh.family = static_cast<std::uint8_t>(family);
    frh.table = static_cast<std::uint8_t>(table <= 255 ? table : RT_TABLE_UNSPEC);
    frh.action = FR_ACT_TO_TBL;
    r.header(frh);
    if (table > 255) {
        r.attr_u32(FRA_TABLE, table);
    }
    r.attr_u32(FRA_PRIORITY, priority);
    return run(r);
}

}  // namespace

Status link_up(unsigned ifindex, unsigned mtu) {
    return link_request(ifindex, true, mtu);
}

Status set_mtu(unsigned ifindex, unsigned mtu) {
    if (mtu == 0) {
        return make_error(Errc::kInvalidArgument, "rtnetlink: MTU 0");
    }
    return link_request(ifindex, false, mtu);
}

Status add_address(unsigned ifindex, const IpAddress& addr, unsigned prefix_len) {
    IKEPLEX_TRY(check_prefix(addr, prefix_len));
    netlink::Request r(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
    ifaddrmsg ifa{};
    ifa.ifa_family = family_of(addr);
    ifa.ifa_prefixlen = static_cast<unsigned char>(prefix_len);
    ifa.ifa_flags = IFA_F_NODAD;
    ifa.ifa_scope = RT_SCOPE_UNIVERSE;
    ifa.ifa_index = ifindex;
    r.header(ifa);
    if (addr.is_v4()) {
        r.attr(IFA_LOCAL, addr.bytes().data(), addr.size());
    }
    r.attr(IFA_ADDRESS, addr.bytes().data(), addr.size());
    return run(r);
}

Status del_address(unsigned ifindex, const IpAddress& addr, unsigned prefix_len) {
    IKEPLEX_TRY(check_prefix(addr, prefix_len));
    netlink::Request r(RTM_DELADDR, 0);
    ifaddrmsg ifa{};
    ifa.ifa_family = family_of(addr);
    ifa.ifa_prefixlen = static_cast<unsigned char>(prefix_len);
    ifa.ifa_scope = RT_SCOPE_UNIVERSE;
    ifa.ifa_index = ifindex;
    r.header(ifa);
    if (addr.is_v4()) {
        r.attr(IFA_LOCAL, addr.bytes().data(), addr.size());
    }
    r.attr(IFA_ADDRESS, addr.bytes().data(), addr.size());
    return run(r);
}

Status add_route(unsigned ifindex, const IpAddress& prefix, unsigned prefix_len,
                 const IpAddress* src) {
    RouteSpec spec{prefix, prefix_len, RT_TABLE_MAIN, ifindex, std::nullopt, std::nullopt};
    if (src != nullptr) {
        spec.src = *src;
    }
    return add_route(spec);
}

Status del_route(unsigned ifindex, const IpAddress& prefix, unsigned prefix_len) {
    return del_route(
            RouteSpec{prefix, prefix_len, RT_TABLE_MAIN, ifindex, std::nullopt, std::nullopt});
}

Status add_route(const RouteSpec& r) {
    return route_request(true, r);
}

Status del_route(const RouteSpec& r) {
    return route_request(false, r);
}

Result<RouteTo> route_to(const IpAddress& dst) {
    if (!dst.is_set()) {
        return make_error(Errc::kInvalidArgument, "rtnetlink: route lookup without address");
    }
    netlink::Request r(RTM_GETROUTE, 0);
    rtmsg rt{};
    rt.rtm_family = family_of(dst);
    rt.rtm_dst_len = static_cast<unsigned char>(dst.size() * 8);
    r.header(rt);
    r.attr(RTA_DST, dst.bytes().data(), dst.size());
    const auto reply = IKEPLEX_TRY(exchange(r));
    for (const auto& m : reply.messages) {
        const auto msgs = IKEPLEX_TRY(netlink::split_messages(m));
        if (!msgs.empty() && msgs.front().type == RTM_NEWROUTE) {
            return parse_route(msgs.front().payload);
        }
    }
    return make_error(Errc::kNetlink, "rtnetlink: acknowledged without a route");
}

Status add_rule(int family, unsigned table, unsigned priority) {
    auto r = rule_request(true, family, table, priority);
    if (!r && r.error().code == Errc::kSystem && r.error().sys_errno == EEXIST) {
        return ok();
    }
    return r;
}

Status del_rule(int family, unsigned table, unsigned priority) {
    return rule_request(false, family, table, priority);
}

}  // namespace ikeplex::esp::io
