// The XFRM backend's selectors (src/kernel/xfrm/backend.cc): IKEv2 traffic selectors as the
// kernel's (exact prefixes and port blocks, ICMP type and code where the kernel wants them),
// policy priorities by specificity, and the other way for acquires.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "ike/traffic_selector.h"
#include "kernel/xfrm/codec/codec.h"
#include "util/result.h"

namespace ikeplex::kernel {

/// The kernel policies for one selector pair: the prefixes and port blocks that exactly cover
/// each traffic selector (a selector that needs more than `limit` kernel selectors is refused,
/// never widened).
struct SelectorPair {
    xfrm::Selector out;  ///< local -> remote
    xfrm::Selector in;   ///< remote -> local
};
Result<std::vector<SelectorPair>> kernel_selectors(const ike::TrafficSelector& local,
                                                   const ike::TrafficSelector& remote,
                                                   std::size_t limit = 64);
/// Policy priority from specificity (lower = tried first): longer prefixes, a protocol and
/// exact ports make a policy more specific.
std::uint32_t policy_priority(const xfrm::Selector& s) noexcept;
/// The selector of a transport-mode SA: the two hosts.
xfrm::Selector host_selector(const IpAddress& src, const IpAddress& dst);
/// One side of an acquire's triggering packet as an IKEv2 selector (RFC 7296 §2.9).
std::optional<ike::TrafficSelector> packet_ts(const IpAddress& a, const xfrm::Selector& sel,
                                              std::uint16_t port, std::uint16_t mask);

}  // namespace ikeplex::kernel
