#include "daemon/address_monitor.h"

#include <algorithm>
#include <cstring>

#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <unistd.h>

namespace ikeplex::daemon {
namespace {

using log::Subsystem;

constexpr std::size_t kIfaddrmsgLen = sizeof(ifaddrmsg);  // 8
constexpr std::size_t kRtmsgLen = sizeof(rtmsg);          // 12
constexpr std::uint32_t kGroups =
        RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE;

bool loopback(const IpAddress& a) {
    const ByteView b = a.bytes();
    if (a.is_v4()) {
        return b[0] == 127;
    }
    return std::all_of(b.begin(), b.end() - 1, [](std::uint8_t x) { return x == 0; }) && b[15] == 1;
}

bool link_local(const IpAddress& a) {
    const ByteView b = a.bytes();
    if (a.is_v4()) {
        return b[0] == 169 && b[1] == 254;
    }
    return b[0] == 0xfe && (b[1] & 0xc0) == 0x80;
}

}  // namespace

Result<HostAddress> parse_address(ByteView payload) {
    if (payload.size() < kIfaddrmsgLen) {
        return make_error(Errc::kTruncated, "rtnetlink: address message shorter than ifaddrmsg");
    }
    ifaddrmsg h{};
    std::memcpy(&h, payload.data(), kIfaddrmsgLen);
    if (h.ifa_family != AF_INET && h.ifa_family != AF_INET6) {
        return make_error(Errc::kUnsupported, "rtnetlink: address of another family");
    }
    const auto attrs = IKEPLEX_TRY(netlink::parse_attrs(payload, kIfaddrmsgLen));
    const std::size_t len = h.ifa_family == AF_INET ? 4 : 16;
    // IPv4: IFA_LOCAL is the interface's own address (IFA_ADDRESS the peer's on a
    // point-to-point link); IPv6 has only IFA_ADDRESS.
    auto raw = h.ifa_family == AF_INET ? netlink::find_attr(attrs, IFA_LOCAL) : std::nullopt;
    if (!raw) {
        raw = netlink::find_attr(attrs, IFA_ADDRESS);
    }
    if (!raw || raw->size() != len) {
        return make_error(Errc::kBadLength, "rtnetlink: address attribute missing or malformed");
    }
    HostAddress out;
    out.address = IKEPLEX_TRY(IpAddress::from_bytes(*raw));
    out.ifindex = h.ifa_index;
    std::uint32_t flags = h.ifa_flags;
    if (auto f = netlink::find_attr(attrs, IFA_FLAGS)) {
        if (f->size() != sizeof flags) {
            return make_error(Errc::kBadLength, "rtnetlink: IFA_FLAGS is not 4 bytes");
        }
        std::memcpy(&flags, f->data(), sizeof flags);
    }
    const bool scope_ok = h.ifa_scope != RT_SCOPE_HOST && h.ifa_scope != RT_SCOPE_LINK;
    const bool state_ok = (flags & (IFA_F_TENTATIVE | IFA_F_DEPRECATED | IFA_F_DADFAILED)) == 0;
    out.usable = scope_ok && state_ok && !loopback(out.address) && !link_local(out.address);
    return out;
}

bool address_or_route_change(std::uint16_t type) noexcept {
    return type == RTM_NEWADDR || type == RTM_DELADDR || type == RTM_NEWROUTE ||
           type == RTM_DELROUTE;
}

Status check_route(ByteView payload) {
    if (payload.size() < kRtmsgLen) {
        return make_error(Errc::kTruncated, "rtnetlink: route message shorter than rtmsg");
    }
    IKEPLEX_TRY(netlink::parse_attrs(payload, kRtmsgLen));
    return ok();
}

Result<std::unique_ptr<AddressMonitor>> AddressMonitor::start(asio::io_context& io, Sink sink,
                                                              Exclude exclude,
                                                              std::chrono::milliseconds quiet,
                                                              AddressMonitorCounters& counters) {
    auto events = IKEPLEX_TRY(netlink::Socket::open(NETLINK_ROUTE, kGroups));
    auto dumps = IKEPLEX_TRY(netlink::Socket::open(NETLINK_ROUTE));
    auto m = std::make_unique<AddressMonitor>(Token{}, io, std::move(events), std::move(dumps),
                                              std::move(sink), std::move(exclude), quiet, counters);
    if (!m->fd_.is_open()) {
        return make_error(Errc::kSystem, "cannot watch the rtnetlink socket");
    }
    m->publish();
    m->arm();
    return m;
}

AddressMonitor::AddressMonitor(Token /*start()*/, asio::io_context& io, netlink::Socket events,
                               netlink::Socket dumps, Sink sink, Exclude exclude,
                               std::chrono::milliseconds quiet, AddressMonitorCounters& counters)
    : events_(std::move(events)),
      dumps_(std::move(dumps)),
      fd_(io),
      timer_(io),
      sink_(std::move(sink)),
      exclude_(std::move(exclude)),
      quiet_(quiet),
      counters_(counters) {
    // Asio owns a duplicate: closing it leaves the socket to events_.
    if (const int fd = ::dup(events_.fd()); fd >= 0) {
        asio::error_code ec;
        fd_.assign(fd, ec);
    }
}

// Members close the timer and the descriptor; their pending handlers then see
// operation_aborted and return before touching this object.
AddressMonitor::~AddressMonitor() = default;

void AddressMonitor::stop() {
    stopped_ = true;
    asio::error_code ec;
    timer_.cancel();
    fd_.close(ec);
}

void AddressMonitor::arm() {
    fd_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const asio::error_code& ec) {
        if (ec || stopped_) {
            return;
        }
        on_readable();
        arm();
    });
}

void AddressMonitor::malformed(const char* what) {
    ++counters_.malformed;
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - epoch_);
    if (log_limit_.allow(static_cast<std::uint64_t>(now.count()))) {
        log::warn(Subsystem::kNet, "address monitor: malformed rtnetlink message: {}{}", what,
                  log_limit_.suppressed() > 0
                          ? fmt::format(" ({} similar suppressed)", log_limit_.suppressed())
                          : std::string());
    }
}

void AddressMonitor::on_readable() {
    const std::uint64_t overruns = events_.overruns();
    auto datagrams = events_.take_events();
    if (!datagrams) {
        malformed(datagrams.error().detail);
        return;
    }
    bool changed = events_.overruns() != overruns;  // events lost: dump anyway
    counters_.overruns = events_.overruns();
    for (const auto& d : *datagrams) {
        auto msgs = netlink::split_messages(ByteView(d.data(), d.size()));
        if (!msgs) {
            malformed(msgs.error().detail);
            continue;
        }
        for (const netlink::Message& m : *msgs) {
            if (!address_or_route_change(m.type)) {
                continue;
            }
            ++counters_.events;
            const bool addr = m.type == RTM_NEWADDR || m.type == RTM_DELADDR;
            if (addr) {
                if (auto a = parse_address(m.payload); !a && a.error().code != Errc::kUnsupported) {
                    malformed(a.error().detail);
                    continue;
                }
            } else if (auto r = check_route(m.payload); !r) {
                malformed(r.error().detail);
                continue;
            }
            changed = true;
        }
    }
    if (!changed) {
        return;
    }
    // Every change restarts the quiet period: a burst becomes one update.
    timer_.expires_after(quiet_);
    timer_.async_wait([this](const asio::error_code& ec) {
        if (!ec && !stopped_) {
            publish();
        }
    });
}

Result<std::vector<IpAddress>> AddressMonitor::current() {
    netlink::Request req(RTM_GETADDR, 0);
    ifaddrmsg h{};
    h.ifa_family = AF_UNSPEC;
    req.header(h);
    const auto reply = IKEPLEX_TRY(dumps_.dump(req));
    if (reply.error != 0) {
        return make_error(Errc::kSystem, "rtnetlink: the address dump failed");
    }
    std::vector<IpAddress> out;
    for (const auto& d : reply.messages) {
        auto msgs = netlink::split_messages(ByteView(d.data(), d.size()));
        if (!msgs) {
            malformed(msgs.error().detail);
            continue;
        }
        for (const netlink::Message& m : *msgs) {
            if (m.type != RTM_NEWADDR) {
                continue;
            }
            auto a = parse_address(m.payload);
            if (!a) {
                if (a.error().code != Errc::kUnsupported) {
                    malformed(a.error().detail);
                }
                continue;
            }
            if (a->usable && !(exclude_ && exclude_(*a))) {
                out.push_back(a->address);
            }
        }
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

void AddressMonitor::publish() {
    auto set = current();
    if (!set) {
        log::warn(Subsystem::kNet, "address monitor: {}", set.error().to_string());
        return;
    }
    ++counters_.updates;
    std::string list;
    for (const IpAddress& a : *set) {
        list += (list.empty() ? "" : ", ") + a.to_string();
    }
    log::debug(Subsystem::kNet, "local addresses: {}", list.empty() ? "(none)" : list);
    sink_(std::move(*set));
}

}  // namespace ikeplex::daemon
