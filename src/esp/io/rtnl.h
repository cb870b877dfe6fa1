// rtnetlink (NETLINK_ROUTE): link up and MTU, addresses, routes (in any table, optionally via a
// gateway), route lookups and policy-routing rules. No shelling out to `ip`. Each call opens a
// netlink::Socket in the caller's network namespace, sends one request with NLM_F_ACK and waits
// (at most 2 s) for the kernel's answer: NLMSG_ERROR (error 0 = done; otherwise Errc::kSystem
// with that errno), for RTM_GETROUTE after the RTM_NEWROUTE reply with our sequence number.
//
// Kernel facts used (include/uapi/linux/rtnetlink.h, if_link.h, if_addr.h, fib_rules.h):
// - RTM_NEWLINK + ifinfomsg{ifi_index, ifi_flags = IFF_UP, ifi_change = IFF_UP}, IFLA_MTU (u32).
// - RTM_NEWADDR + ifaddrmsg{family, prefixlen, IFA_F_NODAD, scope universe, index}, IFA_LOCAL and
//   IFA_ADDRESS (IPv4), IFA_ADDRESS (IPv6; NODAD so it is usable at once).
// - RTM_NEWROUTE (NLM_F_CREATE | NLM_F_REPLACE) / RTM_DELROUTE + rtmsg{family, dst_len, table
//   (u8; tables > 255 as RT_TABLE_UNSPEC plus RTA_TABLE u32), protocol RTPROT_STATIC, scope
//   RT_SCOPE_UNIVERSE with a gateway, else RT_SCOPE_LINK (IPv4) / UNIVERSE (IPv6), type
//   RTN_UNICAST}, RTA_DST (prefix bytes, host bits cleared), RTA_OIF (u32, if not 0),
//   RTA_GATEWAY and RTA_PREFSRC (optional). Deletion uses scope RT_SCOPE_NOWHERE, which matches
//   any scope; the kernel answers ESRCH when no route matches.
// - RTM_GETROUTE + rtmsg{family, dst_len 32 / 128}, RTA_DST: the answer is an RTM_NEWROUTE
//   (rtmsg + attributes: RTA_OIF, RTA_GATEWAY if the route has one, RTA_PREFSRC = the source
//   the kernel would pick), then the ACK; no route is an NLMSG_ERROR (ENETUNREACH).
// - RTM_NEWRULE (NLM_F_CREATE | NLM_F_EXCL: EEXIST if an equal rule exists) / RTM_DELRULE +
//   fib_rule_hdr{family, table (u8; tables > 255 as RT_TABLE_UNSPEC plus FRA_TABLE u32),
//   action FR_ACT_TO_TBL}, FRA_PRIORITY (u32). Deleting a missing rule is ENOENT.
#pragma once

#include <optional>

#include "util/ip_address.h"
#include "util/result.h"

namespace ikeplex::esp::io {

/// Sets the link up and, unless `mtu` is 0, its MTU.
Status link_up(unsigned ifindex, unsigned mtu);
/// Sets the MTU only (the link stays as it is).
Status set_mtu(unsigned ifindex, unsigned mtu);
/// Adds `addr`/`prefix_len` to the link (EEXIST if it is there).
Status add_address(unsigned ifindex, const IpAddress& addr, unsigned prefix_len);
/// Removes `addr`/`prefix_len` from the link (RTM_DELADDR; EADDRNOTAVAIL if it is not there).
Status del_address(unsigned ifindex, const IpAddress& addr, unsigned prefix_len);
/// Adds (or replaces) the route to `prefix`/`prefix_len` via the link (main table), with
/// preferred source `src` if not null.
Status add_route(unsigned ifindex, const IpAddress& prefix, unsigned prefix_len,
                 const IpAddress* src);
/// Deletes that route (ESRCH if there is none).
Status del_route(unsigned ifindex, const IpAddress& prefix, unsigned prefix_len);

/// The kernel's route to `dst` (RTM_GETROUTE with RTA_DST; the reply's RTA_OIF, RTA_GATEWAY,
/// RTA_PREFSRC). No route: Errc::kSystem with ENETUNREACH (or whatever the kernel says).
struct RouteTo {
    unsigned oif{0};  ///< 0 if the reply names none (e.g. a multipath route)
    std::optional<IpAddress> gateway;
    std::optional<IpAddress> prefsrc;
};
Result<RouteTo> route_to(const IpAddress& dst);

/// A route in any table: prefix/len via oif (0: none given), optionally via gateway and with
/// preferred source.
struct RouteSpec {
    IpAddress prefix;
    unsigned prefix_len{0};
    unsigned table{254};  ///< RT_TABLE_MAIN
    unsigned oif{0};
    std::optional<IpAddress> gateway;
    std::optional<IpAddress> src;
};
/// Adds or replaces the route (NLM_F_CREATE | NLM_F_REPLACE).
Status add_route(const RouteSpec& r);
/// Deletes the route matching `r` (prefix, table and the given oif, gateway, source); ESRCH if
/// there is none.
Status del_route(const RouteSpec& r);

/// Policy-routing rule "priority `priority` lookup `table`" for `family` (AF_INET or AF_INET6).
/// Ok if the same rule is already there.
Status add_rule(int family, unsigned table, unsigned priority);
/// Deletes that rule (ENOENT if there is none).
Status del_rule(int family, unsigned table, unsigned priority);

}  // namespace ikeplex::esp::io
