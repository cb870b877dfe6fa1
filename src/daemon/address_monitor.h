// The host's addresses for MOBIKE (RFC 4555 §3.5): an rtnetlink socket subscribed to address and
// route changes of both families; after a quiet period (a timer re-armed by every change, so a
// burst — an address removed, another added with its route — becomes one update) it dumps the
// usable addresses and hands the set to the engine (IkeSaManager::on_local_addresses), which
// moves the IKE SAs whose path changed. The engine's source lookup (daemon.cc,
// source_address) asks the kernel's routing table each time, so it answers from the current
// routes without help from here.
//
// Usable: not loopback (host scope, 127/8, ::1), not link-local (link scope, 169.254/16,
// fe80::/10), not tentative, deprecated or DAD-failed (IPv6), not excluded by the daemon (its
// virtual IPs and the data plane's TUN device).
//
// Kernel facts used (include/uapi/linux/rtnetlink.h, if_addr.h): RTMGRP_IPV4_IFADDR 0x10,
// RTMGRP_IPV4_ROUTE 0x40, RTMGRP_IPV6_IFADDR 0x100, RTMGRP_IPV6_ROUTE 0x400; RTM_NEWADDR 20,
// RTM_DELADDR 21, RTM_GETADDR 22, RTM_NEWROUTE 24, RTM_DELROUTE 25; struct ifaddrmsg {u8 family,
// prefixlen, flags, scope; u32 index} (8 bytes); IFA_ADDRESS 1, IFA_LOCAL 2 (IPv4's own address
// when it differs from IFA_ADDRESS, the peer of a point-to-point link), IFA_FLAGS 8 (u32, all
// flags); IFA_F_DADFAILED 0x08, IFA_F_DEPRECATED 0x20, IFA_F_TENTATIVE 0x40; RT_SCOPE_LINK 253,
// RT_SCOPE_HOST 254; struct rtmsg is 12 bytes.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>

#include "daemon/vici_command.h"
#include "netlink/socket.h"
#include "util/ip_address.h"
#include "util/log.h"
#include "util/result.h"

namespace ikeplex::daemon {

/// One address of the host as an RTM_NEWADDR message describes it.
struct HostAddress {
    IpAddress address;
    unsigned ifindex{0};
    bool usable{false};  ///< by the rules above (exclusions by the daemon aside)
};

/// The payload (after nlmsghdr) of RTM_NEWADDR / RTM_DELADDR, every length checked.
Result<HostAddress> parse_address(ByteView payload);
/// True for the message types that may change the set or the paths (addresses, routes).
bool address_or_route_change(std::uint16_t type) noexcept;
/// The payload of a route message (RTM_NEWROUTE / RTM_DELROUTE): checked only for its length.
Status check_route(ByteView payload);

class AddressMonitor {
    struct Token {
        explicit Token() = default;
    };

public:
    using Sink = std::function<void(std::vector<IpAddress>)>;
    /// True for an address the daemon owns for other reasons (a virtual IP, the TUN device).
    using Exclude = std::function<bool(const HostAddress&)>;

    /// Opens the sockets in the caller's namespace and hands the current set to `sink` at once.
    static Result<std::unique_ptr<AddressMonitor>> start(asio::io_context& io, Sink sink,
                                                         Exclude exclude,
                                                         std::chrono::milliseconds quiet,
                                                         AddressMonitorCounters& counters);
    AddressMonitor(Token, asio::io_context& io, netlink::Socket events, netlink::Socket dumps,
                   Sink sink, Exclude exclude, std::chrono::milliseconds quiet,
                   AddressMonitorCounters& counters);
    AddressMonitor(const AddressMonitor&) = delete;
    AddressMonitor& operator=(const AddressMonitor&) = delete;
    AddressMonitor(AddressMonitor&&) = delete;
    AddressMonitor& operator=(AddressMonitor&&) = delete;
    ~AddressMonitor();

    /// The usable addresses now (a dump), sorted, without duplicates.
    Result<std::vector<IpAddress>> current();
    [[nodiscard]] const AddressMonitorCounters& counters() const noexcept { return counters_; }
    void stop();

private:
    void arm();
    void on_readable();
    void publish();
    void malformed(const char* what);

    netlink::Socket events_;
    netlink::Socket dumps_;
    asio::posix::stream_descriptor fd_;
    asio::steady_timer timer_;
    Sink sink_;
    Exclude exclude_;
    std::chrono::milliseconds quiet_;
    AddressMonitorCounters& counters_;
    log::RateLimiter log_limit_{5, 60'000};
    std::chrono::steady_clock::time_point epoch_{std::chrono::steady_clock::now()};
    bool stopped_{false};
};

}  // namespace ikeplex::daemon
