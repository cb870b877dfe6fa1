#include "esp/selector.h"

#include <algorithm>
#include <cstring>

namespace ikeplex::esp {
namespace {

constexpr std::uint8_t kTcp = 6;
constexpr std::uint8_t kUdp = 17;
constexpr std::uint8_t kSctp = 132;

bool has_ports(std::uint8_t proto) noexcept {
    return proto == kTcp || proto == kUdp || proto == kSctp;
}

std::uint16_t be16(const std::uint8_t* p) noexcept {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

std::size_t addr_len(std::uint8_t family) noexcept {
    return family == 4 ? 4 : 16;
}

bool in_range(const Selector& s, const std::array<std::uint8_t, 16>& a,
              std::uint8_t family) noexcept {
    if (s.family != family) {
        return false;
    }
    const std::size_t n = addr_len(family);
    return std::memcmp(a.data(), s.start.data(), n) >= 0 &&
           std::memcmp(a.data(), s.end.data(), n) <= 0;
}

bool proto_port_ok(const Selector& s, std::uint8_t proto, std::uint16_t port) noexcept {
    if (s.protocol != 0 && s.protocol != proto) {
        return false;
    }
    if (s.start_port == 0 && s.end_port == 65535) {
        return true;
    }
    return port >= s.start_port && port <= s.end_port;
}

template <class Pred>
bool any_of(const std::vector<Selector>& list, Pred pred) noexcept {
    return std::any_of(list.begin(), list.end(), pred);
}

/// A rough specificity: fewer addresses first, then narrower protocol/ports.
std::uint64_t width(const Selector& s) noexcept {
    const std::size_t n = addr_len(s.family);
    std::size_t first_diff = n;
    for (std::size_t i = 0; i < n; ++i) {
        if (s.start[i] != s.end[i]) {
            first_diff = i;
            break;
        }
    }
    const auto host_bits = static_cast<std::uint64_t>((n - first_diff) * 8);
    const std::uint64_t ports = s.protocol == 0 ? 2 : (s.start_port == s.end_port ? 0 : 1);
    return host_bits * 4 + ports;
}

std::uint64_t width(const Policy& p) noexcept {
    std::uint64_t w = 0;
    for (const auto& s : p.local) {
        w = std::max(w, width(s));
    }
    for (const auto& s : p.remote) {
        w = std::max(w, width(s));
    }
    return w;
}

}  // namespace

std::optional<Flow> parse_flow(ByteView ip) noexcept {
    if (ip.empty()) {
        return std::nullopt;
    }
    Flow f;
    const std::uint8_t version = ip[0] >> 4;
    std::size_t l4 = 0;
    bool first_fragment = true;
    if (version == 4) {
        if (ip.size() < 20) {
            return std::nullopt;
        }
        const std::size_t ihl = static_cast<std::size_t>(ip[0] & 0x0f) * 4;
        if (ihl < 20 || ihl > ip.size()) {
            return std::nullopt;
        }
        f.family = 4;
        f.protocol = ip[9];
        std::memcpy(f.src.data(), &ip[12], 4);
        std::memcpy(f.dst.data(), &ip[16], 4);
        first_fragment = (be16(&ip[6]) & 0x1fff) == 0;
        l4 = ihl;
    } else if (version == 6) {
        if (ip.size() < 40) {
            return std::nullopt;
        }
        f.family = 6;
        f.protocol = ip[6];
        std::memcpy(f.src.data(), &ip[8], 16);
        std::memcpy(f.dst.data(), &ip[24], 16);
        l4 = 40;
    } else {
        return std::nullopt;
    }
    if (first_fragment && has_ports(f.protocol) && ip.size() >= l4 + 4) {
        f.src_port = be16(&ip[l4]);
        f.dst_port = be16(&ip[l4 + 2]);
    }
    return f;
}

Selector Selector::from(const IpAddress& start, const IpAddress& end, std::uint8_t protocol,
                        std::uint16_t start_port, std::uint16_t end_port) noexcept {
    Selector s;
    s.family = static_cast<std::uint8_t>(start.family() == 6 ? 6 : 4);
    s.protocol = protocol;
    std::memcpy(s.start.data(), start.bytes().data(), start.bytes().size());
    std::memcpy(s.end.data(), end.bytes().data(), end.bytes().size());
    s.start_port = start_port;
    s.end_port = end_port;
    return s;
}

bool Selector::matches_src(const Flow& f) const noexcept {
    return in_range(*this, f.src, f.family) && proto_port_ok(*this, f.protocol, f.src_port);
}

bool Selector::matches_dst(const Flow& f) const noexcept {
    return in_range(*this, f.dst, f.family) && proto_port_ok(*this, f.protocol, f.dst_port);
}

bool Policy::matches_out(const Flow& f) const noexcept {
    return any_of(local, [&](const Selector& s) { return s.matches_src(f); }) &&
           any_of(remote, [&](const Selector& s) { return s.matches_dst(f); });
}

bool Policy::matches_in(const Flow& f) const noexcept {
    return any_of(remote, [&](const Selector& s) { return s.matches_src(f); }) &&
           any_of(local, [&](const Selector& s) { return s.matches_dst(f); });
}

PolicyTable::PolicyTable(std::vector<Policy> policies) : policies_(std::move(policies)) {
    std::stable_sort(policies_.begin(), policies_.end(),
                     [](const Policy& a, const Policy& b) { return width(a) < width(b); });
}

const Policy* PolicyTable::lookup_out(const Flow& f) const noexcept {
    for (const auto& p : policies_) {
        if (p.matches_out(f)) {
            return &p;
        }
    }
    return nullptr;
}

}  // namespace ikeplex::esp
