#include "util/ip_address.h"

#include <algorithm>

#include <arpa/inet.h>

namespace ikeplex {

IpAddress IpAddress::v4(std::uint32_t host_order) noexcept {
    IpAddress a;
    a.family_ = 4;
    for (int i = 0; i < 4; ++i) {
        a.bytes_[static_cast<std::size_t>(i)] =
                static_cast<std::uint8_t>(host_order >> static_cast<unsigned>(24 - 8 * i));
    }
    return a;
}

Result<IpAddress> IpAddress::from_bytes(ByteView b) {
    if (b.size() != 4 && b.size() != 16) {
        return make_error(Errc::kInvalidArgument, "IP address: not 4 or 16 bytes");
    }
    IpAddress a;
    a.family_ = b.size() == 4 ? 4 : 6;
    std::copy(b.begin(), b.end(), a.bytes_.begin());
    return a;
}

Result<IpAddress> IpAddress::parse(std::string_view text) {
    const std::string s(text);
    IpAddress a;
    if (inet_pton(AF_INET, s.c_str(), a.bytes_.data()) == 1) {
        a.family_ = 4;
        return a;
    }
    if (inet_pton(AF_INET6, s.c_str(), a.bytes_.data()) == 1) {
        a.family_ = 6;
        return a;
    }
    return make_error(Errc::kInvalidArgument, "IP address: not an IPv4 or IPv6 address");
}

IpAddress IpAddress::any(int family) noexcept {
    IpAddress a;
    a.family_ = static_cast<std::uint8_t>(family);
    return a;
}

IpAddress IpAddress::all_ones(int family) noexcept {
    IpAddress a = any(family);
    std::fill_n(a.bytes_.begin(), a.size(), 0xff);
    return a;
}

std::string IpAddress::to_string() const {
    char buf[INET6_ADDRSTRLEN] = {};
    if (family_ == 4) {
        inet_ntop(AF_INET, bytes_.data(), buf, sizeof(buf));
    } else if (family_ == 6) {
        inet_ntop(AF_INET6, bytes_.data(), buf, sizeof(buf));
    } else {
        return "%any";
    }
    return buf;
}

std::string Endpoint::to_string() const {
    return fmt::format("{}[{}]", address.to_string(), port);
}

}  // namespace ikeplex
