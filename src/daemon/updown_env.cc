#include "daemon/updown_env.h"

#include <algorithm>
#include <cstring>

#include <netinet/in.h>

#include <fmt/format.h>
#include <ifaddrs.h>

namespace ikeplex::daemon {

namespace {

constexpr std::uint8_t kIcmp = 1;
constexpr std::uint8_t kIcmpV6 = 58;

/// Whether the selector is exactly the one address `host` (strongSwan's "-host" verbs).
bool is_host(const ike::TrafficSelector& ts, const IpAddress& host) {
    return ts.start == ts.end && ts.start == host;
}

/// PLUTO_MY_PORT / PLUTO_PEER_PORT: one port, the range "from:to", or 0 for all; for ICMP the
/// type (local) or the code (remote), which a selector carries in its start port.
std::string port_of(const ike::TrafficSelector& mine, const ike::TrafficSelector& theirs,
                    bool local) {
    const std::uint8_t proto = std::max(mine.protocol, theirs.protocol);
    if (proto == kIcmp || proto == kIcmpV6) {
        const std::uint16_t p = std::max(mine.start_port, theirs.start_port);
        return std::to_string(local ? p >> 8 : p & 0xff);
    }
    const ike::TrafficSelector& ts = local ? mine : theirs;
    if (ts.start_port == ts.end_port || (ts.start_port == 0 && ts.end_port == 65535)) {
        return std::to_string(ts.start_port);
    }
    return fmt::format("{}:{}", ts.start_port, ts.end_port);
}

}  // namespace

std::string subnet_of(const ike::TrafficSelector& ts) {
    const ByteView a = ts.start.bytes();
    const ByteView b = ts.end.bytes();
    std::size_t prefix = 0;
    while (prefix < a.size() * 8) {
        const std::size_t byte = prefix / 8;
        const auto bit = static_cast<std::uint8_t>(0x80U >> (prefix % 8));
        if ((a[byte] & bit) != (b[byte] & bit)) {
            break;
        }
        ++prefix;
    }
    Bytes net(a.begin(), a.end());
    for (std::size_t i = prefix; i < net.size() * 8; ++i) {
        net[i / 8] = static_cast<std::uint8_t>(net[i / 8] & ~(0x80U >> (i % 8)));
    }
    auto addr = IpAddress::from_bytes(net);
    return fmt::format("{}/{}", addr ? addr->to_string() : ts.start.to_string(), prefix);
}

UpdownSa capture_updown(const ike::IkeSa& sa, const ike::ChildSa& c, std::string interface) {
    UpdownSa u;
    if (c.config != nullptr) {
        u.command = c.config->updown;
        u.hostaccess = c.config->hostaccess;
    }
    u.child = c.name();
    u.ike_id = sa.id();
    u.child_id = c.id;
    u.reqid = c.reqid.value();
    u.me = sa.local();
    u.peer = sa.remote();
    u.my_id = sa.local_id().to_string();
    u.peer_id = sa.remote_id().to_string();
    u.udp_encap = sa.udp_encap();
    u.spi_in = c.spi_in.value();
    u.spi_out = c.spi_out.value();
    u.local_ts = c.local_ts;
    u.remote_ts = c.remote_ts;
    u.interface = std::move(interface);
    return u;
}

std::string interface_of(const IpAddress& address) {
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) {
        return "unknown";
    }
    std::string found = "unknown";
    for (const ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
        if (i->ifa_addr == nullptr || i->ifa_name == nullptr) {
            continue;
        }
        Result<IpAddress> a = make_error(Errc::kInvalidArgument, "not IP");
        if (i->ifa_addr->sa_family == AF_INET) {
            sockaddr_in sin{};
            std::memcpy(&sin, i->ifa_addr, sizeof(sin));
            a = IpAddress::from_bytes(ByteView(reinterpret_cast<const std::uint8_t*>(&sin.sin_addr),
                                               sizeof(sin.sin_addr)));
        } else if (i->ifa_addr->sa_family == AF_INET6) {
            sockaddr_in6 sin6{};
            std::memcpy(&sin6, i->ifa_addr, sizeof(sin6));
            a = IpAddress::from_bytes(
                    ByteView(reinterpret_cast<const std::uint8_t*>(&sin6.sin6_addr),
                             sizeof(sin6.sin6_addr)));
        }
        if (a && *a == address) {
            found = i->ifa_name;
            break;
        }
    }
    ::freeifaddrs(list);
    return found;
}

std::vector<std::vector<std::string>> updown_environments(const UpdownSa& sa, bool up,
                                                          const std::string& path) {
    std::vector<std::vector<std::string>> all;
    for (const ike::TrafficSelector& mine : sa.local_ts) {
        for (const ike::TrafficSelector& theirs : sa.remote_ts) {
            const bool host = is_host(mine, sa.me.address);
            const bool v6 = host ? !sa.me.address.is_v4() : !mine.start.is_v4();
            std::vector<std::string> env;
            const auto add = [&env](std::string_view name, const std::string& value) {
                env.push_back(fmt::format("{}={}", name, value));
            };
            add("PATH", path);
            add("PLUTO_VERSION", "1.1");
            add("PLUTO_VERB", fmt::format("{}{}{}", up ? "up" : "down", host ? "-host" : "-client",
                                          v6 ? "-v6" : ""));
            add("PLUTO_CONNECTION", sa.child);
            add("PLUTO_INTERFACE", sa.interface);
            add("PLUTO_REQID", std::to_string(sa.reqid));
            add("PLUTO_PROTO", "esp");
            add("PLUTO_UNIQUEID", std::to_string(sa.ike_id));
            add("PLUTO_ME", sa.me.address.to_string());
            add("PLUTO_MY_ID", sa.my_id);
            add("PLUTO_MY_CLIENT", subnet_of(mine));
            add("PLUTO_MY_PORT", port_of(mine, theirs, true));
            add("PLUTO_MY_PROTOCOL", std::to_string(mine.protocol));
            add("PLUTO_PEER", sa.peer.address.to_string());
            add("PLUTO_PEER_ID", sa.peer_id);
            add("PLUTO_PEER_CLIENT", subnet_of(theirs));
            add("PLUTO_PEER_PORT", port_of(mine, theirs, false));
            add("PLUTO_PEER_PROTOCOL", std::to_string(theirs.protocol));
            if (sa.udp_encap) {
                add("PLUTO_UDP_ENC", std::to_string(sa.peer.port));
            }
            if (sa.hostaccess) {
                add("PLUTO_HOST_ACCESS", "1");
            }
            // ikeplex: the Child SA's SPIs (strongSwan's plugin does not pass them).
            add("PLUTO_INBOUND_SPI", fmt::format("0x{:08x}", sa.spi_in));
            add("PLUTO_OUTBOUND_SPI", fmt::format("0x{:08x}", sa.spi_out));
            all.push_back(std::move(env));
        }
    }
    return all;
}

}  // namespace ikeplex::daemon
