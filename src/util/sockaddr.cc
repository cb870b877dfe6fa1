#include "util/sockaddr.h"

#include <cstring>

#include <netinet/in.h>

namespace ikeplex {

socklen_t to_sockaddr(const Endpoint& e, sockaddr_storage& ss) noexcept {
    ss = sockaddr_storage{};
    if (e.address.is_v4()) {
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        sin.sin_port = htons(e.port);
        std::memcpy(&sin.sin_addr, e.address.bytes().data(), 4);
        std::memcpy(&ss, &sin, sizeof sin);
        return sizeof sin;
    }
    if (e.address.family() == 6) {
        sockaddr_in6 sin6{};
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons(e.port);
        std::memcpy(&sin6.sin6_addr, e.address.bytes().data(), 16);
        std::memcpy(&ss, &sin6, sizeof sin6);
        return sizeof sin6;
    }
    return 0;
}

Endpoint from_sockaddr(const sockaddr_storage& ss) noexcept {
    Endpoint e;
    if (ss.ss_family == AF_INET) {
        sockaddr_in sin{};
        std::memcpy(&sin, &ss, sizeof sin);
        e.address = IpAddress::from_bytes(
                            ByteView(reinterpret_cast<const std::uint8_t*>(&sin.sin_addr), 4))
                            .value_or(IpAddress());
        e.port = ntohs(sin.sin_port);
    } else if (ss.ss_family == AF_INET6) {
        sockaddr_in6 sin6{};
        std::memcpy(&sin6, &ss, sizeof sin6);
        e.address = IpAddress::from_bytes(
                            ByteView(reinterpret_cast<const std::uint8_t*>(&sin6.sin6_addr), 16))
                            .value_or(IpAddress());
        e.port = ntohs(sin6.sin6_port);
    }
    return e;
}

std::optional<IpAddress> address_of(const sockaddr* sa) noexcept {
    if (sa == nullptr) {
        return std::nullopt;
    }
    sockaddr_storage ss{};
    if (sa->sa_family == AF_INET) {
        std::memcpy(&ss, sa, sizeof(sockaddr_in));
    } else if (sa->sa_family == AF_INET6) {
        std::memcpy(&ss, sa, sizeof(sockaddr_in6));
    } else {
        return std::nullopt;
    }
    return from_sockaddr(ss).address;
}

}  // namespace ikeplex
