#include "ike/traffic_selector.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>

#include <netinet/in.h>

#include <fmt/format.h>
#include <netdb.h>

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

struct Named {
    std::string_view name;
    std::uint16_t number;
};

// Protocol names (as /etc/protocols spells them) and the services a VPN's selectors commonly
// name (as /etc/services does), so that neither depends on those files being installed; other
// service names are looked up with getservbyname_r.
constexpr Named kProtocols[] = {{"icmp", 1},   {"igmp", 2},     {"ipencap", 4},    {"tcp", 6},
                                {"udp", 17},   {"ipv6", 41},    {"gre", 47},       {"esp", 50},
                                {"ah", 51},    {"icmp6", 58},   {"ipv6-icmp", 58}, {"ospf", 89},
                                {"sctp", 132}, {"udplite", 136}};
constexpr Named kServices[] = {
        {"ftp-data", 20},      {"ftp", 21},      {"ssh", 22},           {"telnet", 23},
        {"smtp", 25},          {"domain", 53},   {"bootps", 67},        {"bootpc", 68},
        {"tftp", 69},          {"http", 80},     {"www", 80},           {"kerberos", 88},
        {"pop3", 110},         {"ntp", 123},     {"imap", 143},         {"snmp", 161},
        {"snmp-trap", 162},    {"bgp", 179},     {"ldap", 389},         {"https", 443},
        {"isakmp", 500},       {"syslog", 514},  {"submission", 587},   {"ldaps", 636},
        {"imaps", 993},        {"pop3s", 995},   {"openvpn", 1194},     {"l2tp", 1701},
        {"pptp", 1723},        {"radius", 1812}, {"radius-acct", 1813}, {"nfs", 2049},
        {"ipsec-nat-t", 4500}, {"sip", 5060},    {"sips", 5061},        {"wireguard", 51820},
};

template <std::size_t N>
std::optional<std::uint16_t> find_named(const Named (&table)[N], std::string_view name) {
    for (const Named& n : table) {
        if (n.name == name) {
            return n.number;
        }
    }
    return std::nullopt;
}

/// A service name: the built-in table, else the system's services database.
std::optional<std::uint16_t> service_port(std::string_view name) {
    if (auto p = find_named(kServices, name)) {
        return p;
    }
    const std::string n(name);
    servent entry{};
    servent* found = nullptr;
    std::array<char, 4096> buf{};
    if (getservbyname_r(n.c_str(), nullptr, &entry, buf.data(), buf.size(), &found) == 0 &&
        found != nullptr) {
        return ntohs(static_cast<std::uint16_t>(found->s_port));
    }
    return std::nullopt;
}

/// A selector error: the static `detail` for the Error, and in `why` (if asked for) the
/// message that names what is wrong.
Error bad(std::string* why, const char* detail, std::string text) {
    if (why != nullptr) {
        *why = std::move(text);
    }
    return make_error(Errc::kInvalidArgument, detail);
}

/// A port: a number up to 65535 or a service name ("https", "l2tp").
Result<std::uint16_t> parse_port(std::string_view s, std::string* why) {
    unsigned v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (!s.empty() && ec == std::errc() && p == s.data() + s.size()) {
        if (v > 65535) {
            return bad(why, "traffic selector: bad port",
                       fmt::format("port {} is out of range (0-65535)", s));
        }
        return static_cast<std::uint16_t>(v);
    }
    if (auto named = service_port(s)) {
        return *named;
    }
    return bad(why, "traffic selector: bad port", fmt::format("unknown port or service '{}'", s));
}

Result<std::uint8_t> parse_protocol(std::string_view proto, std::string* why) {
    if (auto named = find_named(kProtocols, proto)) {
        return static_cast<std::uint8_t>(*named);
    }
    unsigned v = 0;
    const auto [p, ec] = std::from_chars(proto.data(), proto.data() + proto.size(), v);
    if (ec != std::errc() || p != proto.data() + proto.size() || v > 255) {
        return bad(why, "traffic selector: unknown protocol",
                   fmt::format("unknown protocol '{}'", proto));
    }
    return static_cast<std::uint8_t>(v);
}

/// strongSwan's "[proto/port]": "tcp", "udp/%any", "/53", "tcp/https", "6/1024-2048".
Status parse_proto_port(std::string_view spec, TrafficSelector& ts, std::string* why) {
    const auto slash = spec.find('/');
    const std::string_view proto = spec.substr(0, slash);
    if (!proto.empty() && proto != "%any") {
        ts.protocol = IKEPLEX_TRY(parse_protocol(proto, why));
    }
    if (slash == std::string_view::npos) {
        return ok();
    }
    const std::string_view port = spec.substr(slash + 1);
    if (port.empty() || port == "%any") {
        return ok();
    }
    if (auto named = service_port(port)) {  // a whole name first: "ftp-data" is no range
        ts.start_port = *named;
        ts.end_port = *named;
        return ok();
    }
    const auto dash = port.find('-');
    if (dash == std::string_view::npos) {
        ts.start_port = IKEPLEX_TRY(parse_port(port, why));
        ts.end_port = ts.start_port;
        return ok();
    }
    // A name with a dash that is no service ("no-such-service") is named whole.
    const bool digits = port.find_first_not_of("0123456789-") == std::string_view::npos;
    const auto unknown = [&] {
        return bad(why, "traffic selector: bad port",
                   fmt::format("unknown port or service '{}'", port));
    };
    auto first = parse_port(port.substr(0, dash), why);
    if (!first) {
        return digits ? first.error() : unknown();
    }
    auto last = parse_port(port.substr(dash + 1), why);
    if (!last) {
        return digits ? last.error() : unknown();
    }
    ts.start_port = *first;
    ts.end_port = *last;
    if (ts.end_port < ts.start_port) {
        return bad(why, "traffic selector: port range is reversed",
                   fmt::format("port range {} is reversed", port));
    }
    return ok();
}

Result<IpAddress> parse_address(std::string_view text, std::string* why) {
    auto a = IpAddress::parse(text);
    if (!a) {
        return bad(why, "IP address: not an IPv4 or IPv6 address",
                   fmt::format("'{}' is not an IPv4 or IPv6 address, nor 'dynamic'", text));
    }
    return a;
}

/// The address part: a subnet, a range or one address.
Status parse_addresses(std::string_view addr, TrafficSelector& ts, std::string* why) {
    if (addr.empty()) {
        return bad(why, "traffic selector: no address",
                   "no address (an address, a subnet, a range or 'dynamic')");
    }
    if (const auto dash = addr.find('-');
        dash != std::string_view::npos && addr.find(':') == std::string_view::npos) {
        ts.start = IKEPLEX_TRY(parse_address(addr.substr(0, dash), why));
        ts.end = IKEPLEX_TRY(parse_address(addr.substr(dash + 1), why));
    } else if (const auto slash = addr.find('/'); slash != std::string_view::npos) {
        const IpAddress base = IKEPLEX_TRY(parse_address(addr.substr(0, slash), why));
        unsigned prefix = 0;
        const std::string_view p = addr.substr(slash + 1);
        const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
        if (ec != std::errc() || end != p.data() + p.size() || prefix > 8 * base.size()) {
            return bad(why, "traffic selector: bad prefix length",
                       fmt::format("prefix length '{}' is not 0 to {}", p, 8 * base.size()));
        }
        ts.start = IKEPLEX_TRY(apply_prefix(base, static_cast<int>(prefix), false));
        ts.end = IKEPLEX_TRY(apply_prefix(base, static_cast<int>(prefix), true));
    } else {
        ts.start = IKEPLEX_TRY(parse_address(addr, why));
        ts.end = ts.start;
    }
    if (ts.start.family() != ts.end.family()) {
        return bad(why, "traffic selector: bad address range", "the range mixes IPv4 and IPv6");
    }
    if (ts.end < ts.start) {
        return bad(why, "traffic selector: bad address range", "the address range is reversed");
    }
    return ok();
}

}  // namespace

TrafficSelector TrafficSelector::any(int family) {
    return {IpAddress::any(family), IpAddress::all_ones(family), 0, 0, 65535};
}

Result<TrafficSelector> TrafficSelector::parse(std::string_view text, std::string* why) {
    TrafficSelector ts;
    std::string_view addr = text;
    if (const auto br = text.find('['); br != std::string_view::npos) {
        if (text.back() != ']') {
            return bad(why, "traffic selector: unterminated [proto/port]",
                       "'[' without a closing ']' at the end");
        }
        IKEPLEX_TRY(parse_proto_port(text.substr(br + 1, text.size() - br - 2), ts, why));
        addr = text.substr(0, br);
    }
    if (addr == "dynamic") {
        ts.dynamic = true;  // the addresses come with the IKE SA (resolve_dynamic)
        return ts;
    }
    if (addr == "%any" || addr == "0.0.0.0/0") {
        TrafficSelector all = any(4);
        all.protocol = ts.protocol;
        all.start_port = ts.start_port;
        all.end_port = ts.end_port;
        return all;
    }
    IKEPLEX_TRY(parse_addresses(addr, ts, why));
    return ts;
}

std::vector<TrafficSelector> resolve_dynamic(std::span<const TrafficSelector> configured,
                                             const IpAddress& address) {
    std::vector<TrafficSelector> out;
    for (TrafficSelector ts : configured) {
        if (ts.dynamic) {
            if (!address.is_set()) {
                continue;
            }
            ts.dynamic = false;
            ts.start = address;
            ts.end = address;
        }
        out.push_back(ts);
    }
    return out;
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
    const int prefix = dynamic ? -1 : prefix_of(start, end);
    if (dynamic) {
        s = "dynamic";
    } else if (prefix >= 0) {
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
