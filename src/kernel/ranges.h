// Address and port ranges (IKEv2 traffic selectors) as the blocks that kernels and routing
// tables want: CIDR prefixes and port/mask pairs that cover a range exactly; and which local
// address lies inside a set of selectors.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "ike/traffic_selector.h"
#include "util/ip_address.h"

namespace ikeplex::kernel {

/// The CIDR prefixes that exactly cover [start, end] (at most 256; for routes and selectors).
std::vector<std::pair<IpAddress, unsigned>> range_to_prefixes(const IpAddress& start,
                                                              const IpAddress& end);
/// The (port, mask) blocks that exactly cover [start, end]; {0, 0} for every port.
std::vector<std::pair<std::uint16_t, std::uint16_t>> port_blocks(std::uint16_t start,
                                                                 std::uint16_t end);

/// One of this host's addresses inside `ts`, to use as the preferred source of routes into a
/// tunnel (so traffic the host itself sends carries an address the peer's selectors accept).
std::optional<IpAddress> local_address_in(const std::vector<ike::TrafficSelector>& ts);

}  // namespace ikeplex::kernel
