// rtnetlink (NETLINK_ROUTE) for the TUN device: link up and MTU, addresses, routes to remote
// prefixes via the device. No shelling out to `ip`. Each call opens a netlink socket in the
// caller's network namespace, sends one request with NLM_F_ACK and waits (at most 2 s) for the
// kernel's NLMSG_ERROR answer (error 0 = done; otherwise Errc::kSystem with that errno).
//
// Kernel facts used (include/uapi/linux/rtnetlink.h, if_link.h, if_addr.h):
// - RTM_NEWLINK + ifinfomsg{ifi_index, ifi_flags = IFF_UP, ifi_change = IFF_UP}, IFLA_MTU (u32).
// - RTM_NEWADDR + ifaddrmsg{family, prefixlen, IFA_F_NODAD, scope universe, index}, IFA_LOCAL and
//   IFA_ADDRESS (IPv4), IFA_ADDRESS (IPv6; NODAD so it is usable at once).
// - RTM_NEWROUTE (NLM_F_CREATE | NLM_F_REPLACE) / RTM_DELROUTE + rtmsg{family, dst_len,
//   table RT_TABLE_MAIN, protocol RTPROT_STATIC, scope RT_SCOPE_LINK (IPv4) / UNIVERSE (IPv6),
//   type RTN_UNICAST}, RTA_DST (prefix bytes, host bits cleared), RTA_OIF (u32),
//   RTA_PREFSRC (optional). Deletion uses scope RT_SCOPE_NOWHERE, which matches any scope.
#pragma once

#include "util/ip_address.h"
#include "util/result.h"

namespace ikeplex::esp::io {

/// Sets the link up and, unless `mtu` is 0, its MTU.
Result<void> link_up(unsigned ifindex, unsigned mtu);
/// Sets the MTU only (the link stays as it is).
Result<void> set_mtu(unsigned ifindex, unsigned mtu);
/// Adds `addr`/`prefix_len` to the link (EEXIST if it is there).
Result<void> add_address(unsigned ifindex, const IpAddress& addr, unsigned prefix_len);
/// Adds (or replaces) the route to `prefix`/`prefix_len` via the link, with preferred source
/// `src` if not null.
Result<void> add_route(unsigned ifindex, const IpAddress& prefix, unsigned prefix_len,
                       const IpAddress* src);
/// Deletes that route (ESRCH if there is none).
Result<void> del_route(unsigned ifindex, const IpAddress& prefix, unsigned prefix_len);

}  // namespace ikeplex::esp::io
