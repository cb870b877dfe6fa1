// Endpoints and socket addresses: the one place that converts between ikeplex's Endpoint /
// IpAddress and the kernel's sockaddr_in / sockaddr_in6 (daemon sockets, data-plane sockets,
// interface lists).
#pragma once

#include <optional>

#include <sys/socket.h>

#include "util/ip_address.h"

namespace ikeplex {

/// Fills `ss` for `e` and returns the length to pass to the kernel (0 for an unset address).
socklen_t to_sockaddr(const Endpoint& e, sockaddr_storage& ss) noexcept;
/// The endpoint in `ss` (an unset Endpoint for families other than AF_INET / AF_INET6).
Endpoint from_sockaddr(const sockaddr_storage& ss) noexcept;
/// The address in `sa` (e.g. an ifaddrs entry), if it is IPv4 or IPv6.
std::optional<IpAddress> address_of(const sockaddr* sa) noexcept;

}  // namespace ikeplex
