#include "ike/traffic_selector.h"

#include <algorithm>
#include <charconv>

namespace ikeplex::ike {
namespace {

/// Prefix length if [start, end] is exactly a CIDR block, else -1.
int prefix_of(const IpAddress& start, const IpAddress& end) {
    const ByteView s = start.bytes();
    const ByteView e = end.bytes();
    int bits = 0;
    std::size_t i = 0;
    while (i < s.size() && s[i] == e[i]) {
        bits += 8;
        ++i;
    }
    if (i == s.size()) {
        return bits;
    }
    const auto diff = static_cast<std::uint8_t>(s[i] ^ e[i]);
    int host = 0;
    for (std::uint8_t d = diff; d != 0; d = static_cast<std::uint8_t>(d >> 1U)) {
        ++host;
    }
    const auto mask = static_cast<std::uint8_t>(0xffU >> static_cast<unsigned>(8 - host));
    if ((s[i] & mask) != 0 || (e[i] & mask) != mask || (diff | mask) != mask) {
        return -1;
    }
    bits += 8 - host;
    for (std::size_t j = i + 1; j < s.size(); ++j) {
        if (s[j] != 0 || e[j] != 0xff) {
            return -1;
        }
    }
    return bits;
}

Result<IpAddress> apply_prefix(const IpAddress& a, int prefix, bool ones) {
    Bytes b(a.bytes().begin(), a.bytes().end());
    for (std::size_t i = 0; i < b.size(); ++i) {
        const int keep = std::clamp(prefix - static_cast<int>(8 * i), 0, 8);
        const auto mask = static_cast<std::uint8_t>(0xff00U >> static_cast<unsigned>(keep));
        b[i] = ones ? static_cast<std::uint8_t>(b[i] | static_cast<std::uint8_t>(~mask))
                    : static_cast<std::uint8_t>(b[i] & mask);
    }
    return IpAddress::from_bytes(b);
}

Result<std::uint16_t> parse_port(std::string_view s) {
    unsigned v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v > 65535) {
        return make_error(Errc::kInvalidArgument, "traffic selector: bad port");
    }
    return static_cast<std::uint16_t>(v);
}

Status parse_proto_port(std::string_view spec, TrafficSelector& ts) {
    const auto slash = spec.find('/');
    const std::string_view proto = spec.substr(0, slash);
    if (proto == "tcp") {
        ts.protocol = 6;
    } else if (proto == "udp") {
        ts.protocol = 17;
    } else if (proto == "icmp") {
        ts.protocol = 1;
    } else if (proto == "icmp6" || proto == "ipv6-icmp") {
        ts.protocol = 58;
    } else if (!proto.empty() && proto != "%any") {
        unsigned v = 0;
        const auto [p, ec] = std::from_chars(proto.data(), proto.data() + proto.size(), v);
        if (ec != std::errc() || p != proto.data() + proto.size() || v > 255) {
            return make_error(Errc::kInvalidArgument, "traffic selector: unknown protocol");
        }
        ts.protocol = static_cast<std::uint8_t>(v);
    }
    if (slash == std::string_view::npos) {
        return ok();
    }
    const std::string_view port = spec.substr(slash + 1);
    if (port.empty() || port == "%any") {
        return ok();
    }
    const auto dash = port.find('-');
    ts.start_port = IKEPLEX_TRY(parse_port(port.substr(0, dash)));
    ts.end_port = dash == std::string_view::npos ? ts.start_port
                                                 : IKEPLEX_TRY(parse_port(port.substr(dash + 1)));
    if (ts.end_port < ts.start_port) {
        return make_error(Errc::kInvalidArgument, "traffic selector: port range is reversed");
    }
    return ok();
}

}  // namespace

TrafficSelector TrafficSelector::any(int family) {
    return {IpAddress::any(family), IpAddress::all_ones(family), 0, 0, 65535};
}

Result<TrafficSelector> TrafficSelector::parse(std::string_view text) {
    TrafficSelector ts;
    std::string_view addr = text;
    if (const auto br = text.find('['); br != std::string_view::npos) {
        if (text.back() != ']') {
            return make_error(Errc::kInvalidArgument,
                              "traffic selector: unterminated [proto/port]");
        }
        IKEPLEX_TRY(parse_proto_port(text.substr(br + 1, text.size() - br - 2), ts));
        addr = text.substr(0, br);
    }
    if (const auto dash = addr.find('-');
        dash != std::string_view::npos && addr.find(':') == std::string_view::npos) {
        ts.start = IKEPLEX_TRY(IpAddress::parse(addr.substr(0, dash)));
        ts.end = IKEPLEX_TRY(IpAddress::parse(addr.substr(dash + 1)));
    } else if (const auto slash = addr.find('/'); slash != std::string_view::npos) {
        const IpAddress base = IKEPLEX_TRY(IpAddress::parse(addr.substr(0, slash)));
        unsigned prefix = 0;
        const std::string_view p = addr.substr(slash + 1);
        const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
        if (ec != std::errc() || end != p.data() + p.size() || prefix > 8 * base.size()) {
            return make_error(Errc::kInvalidArgument, "traffic selector: bad prefix length");
        }
        ts.start = IKEPLEX_TRY(apply_prefix(base, static_cast<int>(prefix), false));
        ts.end = IKEPLEX_TRY(apply_prefix(base, static_cast<int>(prefix), true));
    } else if (addr == "0.0.0.0/0" || addr == "%any") {
        return any(4);
    } else {
        ts.start = IKEPLEX_TRY(IpAddress::parse(addr));
        ts.end = ts.start;
    }
    if (ts.start.family() != ts.end.family() || ts.end < ts.start) {
        return make_error(Errc::kInvalidArgument, "traffic selector: bad address range");
    }
    return ts;
}

Result<TrafficSelector> TrafficSelector::from_wire(const wire::TrafficSelector& w) {
    if (w.type != wire::TsType::kIpv4AddrRange && w.type != wire::TsType::kIpv6AddrRange) {
        return make_error(Errc::kUnsupported, "traffic selector: type not supported");
    }
    TrafficSelector ts;
    ts.start = IKEPLEX_TRY(IpAddress::from_bytes(w.start_address));
    ts.end = IKEPLEX_TRY(IpAddress::from_bytes(w.end_address));
    ts.protocol = w.ip_protocol;
    ts.start_port = w.start_port;
    ts.end_port = w.end_port;
    return ts;
}

wire::TrafficSelector TrafficSelector::to_wire() const {
    wire::TrafficSelector w;
    w.type = start.is_v4() ? wire::TsType::kIpv4AddrRange : wire::TsType::kIpv6AddrRange;
    w.ip_protocol = protocol;
    w.start_port = start_port;
    w.end_port = end_port;
    w.start_address.assign(start.bytes().begin(), start.bytes().end());
    w.end_address.assign(end.bytes().begin(), end.bytes().end());
    return w;
}

bool TrafficSelector::contains(const TrafficSelector& o) const noexcept {
    return family() == o.family() && start <= o.start && o.end <= end &&
           (protocol == 0 || protocol == o.protocol) && start_port <= o.start_port &&
           o.end_port <= end_port;
}

bool TrafficSelector::matches(const IpAddress& addr, std::uint8_t proto,
                              std::uint16_t port) const noexcept {
    return addr.family() == family() && start <= addr && addr <= end &&
           (protocol == 0 || protocol == proto) && start_port <= port && port <= end_port;
}

std::string TrafficSelector::to_string() const {
    std::string s;
    const int prefix = prefix_of(start, end);
    if (prefix >= 0) {
        s = fmt::format("{}/{}", start.to_string(), prefix);
    } else {
        s = fmt::format("{}..{}", start.to_string(), end.to_string());
    }
    if (protocol != 0 || start_port != 0 || end_port != 65535) {
        std::string proto = protocol == 6    ? "tcp"
                            : protocol == 17 ? "udp"
                            : protocol == 1  ? "icmp"
                            : protocol == 0  ? ""
                                             : std::to_string(protocol);
        std::string port;
        if (start_port != 0 || end_port != 65535) {
            port = start_port == end_port ? std::to_string(start_port)
                                          : fmt::format("{}-{}", start_port, end_port);
        }
        s += fmt::format("[{}{}{}]", proto, port.empty() ? "" : "/", port);
    }
    return s;
}

std::optional<TrafficSelector> intersect(const TrafficSelector& a, const TrafficSelector& b) {
    if (a.family() != b.family()) {
        return std::nullopt;
    }
    if (a.protocol != 0 && b.protocol != 0 && a.protocol != b.protocol) {
        return std::nullopt;
    }
    TrafficSelector r;
    r.start = std::max(a.start, b.start);
    r.end = std::min(a.end, b.end);
    r.start_port = std::max(a.start_port, b.start_port);
    r.end_port = std::min(a.end_port, b.end_port);
    r.protocol = a.protocol != 0 ? a.protocol : b.protocol;
    if (r.end < r.start || r.end_port < r.start_port) {
        return std::nullopt;
    }
    return r;
}

std::vector<TrafficSelector> narrow(std::span<const TrafficSelector> proposed,
                                    std::span<const TrafficSelector> configured) {
    std::vector<TrafficSelector> all;
    for (const TrafficSelector& p : proposed) {
        for (const TrafficSelector& c : configured) {
            if (auto i = intersect(p, c)) {
                all.push_back(*i);
            }
        }
    }
    // Keep a selector only if no other one of the result contains it (the first of equal
    // ones): the triggering packet's selector that a peer sends first (RFC 7296 §2.9) must not
    // stay beside the network that contains it, or the Child SAs of an RFC 9611 group, whose
    // later members are negotiated without that packet, would not have identical selectors.
    std::vector<TrafficSelector> out;
    for (std::size_t i = 0; i < all.size(); ++i) {
        bool covered = false;
        for (std::size_t j = 0; j < all.size() && !covered; ++j) {
            covered = j != i && all[j].contains(all[i]) && (!all[i].contains(all[j]) || j < i);
        }
        if (!covered) {
            out.push_back(all[i]);
        }
    }
    return out;
}

std::string to_string(std::span<const TrafficSelector> list) {
    std::string s;
    for (const TrafficSelector& t : list) {
        s += (s.empty() ? "" : " ") + t.to_string();
    }
    return s;
}

std::vector<TrafficSelector> from_wire(const wire::TsPayload& p) {
    std::vector<TrafficSelector> out;
    for (const auto& w : p.selectors) {
        if (auto ts = TrafficSelector::from_wire(w)) {
            out.push_back(*ts);  // other TS types (e.g. TS_SECLABEL) are ignored
        }
    }
    return out;
}

wire::TsPayload to_wire(std::span<const TrafficSelector> list) {
    wire::TsPayload p;
    for (const TrafficSelector& t : list) {
        p.selectors.push_back(t.to_wire());
    }
    return p;
}

}  // namespace ikeplex::ike
