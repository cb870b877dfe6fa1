#include "kernel/ranges.h"

#include <algorithm>
#include <array>

#include <ifaddrs.h>

#include "util/sockaddr.h"

namespace ikeplex::kernel {
namespace {

// NOLINTNEXTLINE(modernize-use-using): __extension__ needs typedef
__extension__ typedef unsigned __int128 U128;

U128 to_u128(const IpAddress& a) noexcept {
    U128 v = 0;
    for (std::uint8_t b : a.bytes()) {
        v = (v << 8) | b;
    }
    return v;
}

IpAddress from_u128(U128 v, int family) {
    std::array<std::uint8_t, 16> b{};
    const std::size_t n = family == 4 ? 4 : 16;
    for (std::size_t i = 0; i < n; ++i) {
        b[n - 1 - i] = static_cast<std::uint8_t>(v & 0xff);
        v >>= 8;
    }
    return IpAddress::from_bytes(ByteView(b.data(), n)).value();
}

/// Loopback and link-local addresses never make a tunnel's source (a 0.0.0.0/0 selector
/// covers them too).
bool unusable_source(const IpAddress& a) noexcept {
    const ByteView b = a.bytes();
    if (a.is_v4()) {
        return b[0] == 127 || (b[0] == 169 && b[1] == 254);
    }
    const bool loopback =
            std::all_of(b.begin(), b.end() - 1, [](std::uint8_t v) { return v == 0; }) &&
            b[15] == 1;
    return loopback || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80);
}

}  // namespace

std::vector<std::pair<IpAddress, unsigned>> range_to_prefixes(const IpAddress& start,
                                                              const IpAddress& end) {
    std::vector<std::pair<IpAddress, unsigned>> out;
    if (start.family() != end.family() || !start.is_set()) {
        return out;
    }
    const unsigned bits = start.family() == 4 ? 32 : 128;
    U128 lo = to_u128(start);
    const U128 hi = to_u128(end);
    while (lo <= hi && out.size() < 256) {
        unsigned size = 0;  // log2 of the block
        while (size < bits) {
            const unsigned next = size + 1;
            const U128 mask =
                    next >= 128 ? ~static_cast<U128>(0) : (static_cast<U128>(1) << next) - 1;
            if ((lo & mask) != 0 || hi - lo < mask) {
                break;
            }
            size = next;
        }
        out.emplace_back(from_u128(lo, start.family()), bits - size);
        if (size >= 128) {
            break;
        }
        const U128 last = lo + ((static_cast<U128>(1) << size) - 1);
        if (last >= hi) {
            break;
        }
        lo = last + 1;
    }
    return out;
}

std::vector<std::pair<std::uint16_t, std::uint16_t>> port_blocks(std::uint16_t start,
                                                                 std::uint16_t end) {
    std::vector<std::pair<std::uint16_t, std::uint16_t>> out;
    std::uint32_t lo = start;
    const std::uint32_t hi = end;
    while (lo <= hi) {
        std::uint32_t size = 0;  // log2 of the block
        while (size < 16) {
            const std::uint32_t mask = (1U << (size + 1)) - 1;
            if ((lo & mask) != 0 || hi - lo < mask) {
                break;
            }
            ++size;
        }
        const auto mask = static_cast<std::uint16_t>(0xffffU << size);
        out.emplace_back(static_cast<std::uint16_t>(lo), mask);
        lo += 1U << size;
    }
    return out;
}

/// One of our addresses inside `ts`, to use as the routes' preferred source (so traffic
/// the host itself sends into the tunnel carries an address the peer's selectors accept).
std::optional<IpAddress> local_address_in(const std::vector<ike::TrafficSelector>& ts) {
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) {
        return std::nullopt;
    }
    std::optional<IpAddress> found;
    for (ifaddrs* i = list; i != nullptr && !found; i = i->ifa_next) {
        const std::optional<IpAddress> a = address_of(i->ifa_addr);
        if (!a || unusable_source(*a)) {
            continue;
        }
        for (const auto& t : ts) {
            if (t.matches(*a, 0, 0)) {
                found = *a;
                break;
            }
        }
    }
    ::freeifaddrs(list);
    return found;
}

}  // namespace ikeplex::kernel
