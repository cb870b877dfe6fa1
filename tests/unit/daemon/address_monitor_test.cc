// The daemon's address monitor (MOBIKE, RFC 4555): which rtnetlink addresses are usable, bad
// messages refused with an error, and, in a network namespace of its own, one debounced update
// per burst of changes with the current set.
#include "daemon/address_monitor.h"

#include <cstring>

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include "esp/io/rtnl.h"
#include "netns.h"

namespace ikeplex::daemon {
namespace {

struct Attr {
    std::uint16_t type;
    Bytes data;
};

Bytes ifaddr(std::uint8_t family, std::uint8_t flags, std::uint8_t scope,
             const std::vector<Attr>& attrs) {
    ifaddrmsg h{};
    h.ifa_family = family;
    h.ifa_prefixlen = 24;
    h.ifa_flags = flags;
    h.ifa_scope = scope;
    h.ifa_index = 3;
    Bytes out(sizeof h);
    std::memcpy(out.data(), &h, sizeof h);
    for (const Attr& a : attrs) {
        const auto len = static_cast<std::uint16_t>(4 + a.data.size());
        out.push_back(static_cast<std::uint8_t>(len & 0xff));  // host order (little endian)
        out.push_back(static_cast<std::uint8_t>(len >> 8));
        out.push_back(static_cast<std::uint8_t>(a.type & 0xff));
        out.push_back(static_cast<std::uint8_t>(a.type >> 8));
        out.insert(out.end(), a.data.begin(), a.data.end());
        while (out.size() % 4 != 0) {
            out.push_back(0);
        }
    }
    return out;
}

Bytes addr(const char* text) {
    const auto a = IpAddress::parse(text).value();
    return {a.bytes().begin(), a.bytes().end()};
}

Bytes u32(std::uint32_t v) {
    Bytes b(4);
    std::memcpy(b.data(), &v, 4);
    return b;
}

HostAddress parsed(const Bytes& b) {
    return parse_address(ByteView(b.data(), b.size())).value();
}

TEST(AddressMonitor, UsableAddressesFollowScopeFlagsAndRanges) {
    const auto v4 =
            parsed(ifaddr(AF_INET, 0, RT_SCOPE_UNIVERSE, {{IFA_ADDRESS, addr("10.99.151.1")}}));
    EXPECT_TRUE(v4.usable);
    EXPECT_EQ(v4.address.to_string(), "10.99.151.1");
    EXPECT_EQ(v4.ifindex, 3U);
    // Point-to-point: IFA_LOCAL is ours, IFA_ADDRESS the other end.
    const auto ptp =
            parsed(ifaddr(AF_INET, 0, RT_SCOPE_UNIVERSE,
                          {{IFA_ADDRESS, addr("10.99.151.9")}, {IFA_LOCAL, addr("10.99.151.2")}}));
    EXPECT_EQ(ptp.address.to_string(), "10.99.151.2");
    EXPECT_FALSE(
            parsed(ifaddr(AF_INET, 0, RT_SCOPE_HOST, {{IFA_LOCAL, addr("127.0.0.1")}})).usable);
    EXPECT_FALSE(
            parsed(ifaddr(AF_INET, 0, RT_SCOPE_UNIVERSE, {{IFA_LOCAL, addr("127.0.0.2")}})).usable);
    EXPECT_FALSE(
            parsed(ifaddr(AF_INET, 0, RT_SCOPE_LINK, {{IFA_LOCAL, addr("10.99.151.3")}})).usable);
    EXPECT_FALSE(parsed(ifaddr(AF_INET, 0, RT_SCOPE_UNIVERSE, {{IFA_LOCAL, addr("169.254.1.1")}}))
                         .usable);
    EXPECT_TRUE(parsed(ifaddr(AF_INET6, 0, RT_SCOPE_UNIVERSE, {{IFA_ADDRESS, addr("fd99::1")}}))
                        .usable);
    EXPECT_FALSE(
            parsed(ifaddr(AF_INET6, 0, RT_SCOPE_UNIVERSE, {{IFA_ADDRESS, addr("::1")}})).usable);
    EXPECT_FALSE(parsed(ifaddr(AF_INET6, 0, RT_SCOPE_UNIVERSE, {{IFA_ADDRESS, addr("fe80::1")}}))
                         .usable);
    EXPECT_FALSE(parsed(ifaddr(AF_INET6, IFA_F_TENTATIVE, RT_SCOPE_UNIVERSE,
                               {{IFA_ADDRESS, addr("fd99::2")}}))
                         .usable);
    EXPECT_FALSE(parsed(ifaddr(AF_INET6, IFA_F_DEPRECATED, RT_SCOPE_UNIVERSE,
                               {{IFA_ADDRESS, addr("fd99::3")}}))
                         .usable);
    // IFA_FLAGS (u32) carries every flag and wins over the u8 field.
    EXPECT_FALSE(parsed(ifaddr(AF_INET6, 0, RT_SCOPE_UNIVERSE,
                               {{IFA_ADDRESS, addr("fd99::4")}, {IFA_FLAGS, u32(IFA_F_DADFAILED)}}))
                         .usable);
}

TEST(AddressMonitor, MalformedMessagesAreErrors) {
    const auto err = [](const Bytes& b) {
        auto r = parse_address(ByteView(b.data(), b.size()));
        return r ? Errc::kInternal : r.error().code;
    };
    const Bytes good = ifaddr(AF_INET, 0, RT_SCOPE_UNIVERSE, {{IFA_LOCAL, addr("10.99.151.1")}});
    EXPECT_EQ(err(Bytes(good.begin(), good.begin() + 5)), Errc::kTruncated);
    EXPECT_EQ(err(Bytes(good.begin(), good.end() - 2)), Errc::kBadLength);
    // An IPv6-sized address in an IPv4 message, no address at all, a short IFA_FLAGS.
    EXPECT_EQ(err(ifaddr(AF_INET, 0, 0, {{IFA_LOCAL, addr("fd99::1")}})), Errc::kBadLength);
    EXPECT_EQ(err(ifaddr(AF_INET, 0, 0, {})), Errc::kBadLength);
    EXPECT_EQ(err(ifaddr(AF_INET6, 0, 0, {{IFA_ADDRESS, addr("fd99::1")}, {IFA_FLAGS, Bytes(2)}})),
              Errc::kBadLength);
    EXPECT_EQ(err(ifaddr(AF_PACKET, 0, 0, {})), Errc::kUnsupported);
    EXPECT_FALSE(check_route(ByteView(good.data(), 4)));
    EXPECT_TRUE(address_or_route_change(RTM_NEWROUTE));
    EXPECT_FALSE(address_or_route_change(RTM_NEWLINK));
}

/// Runs `io` until `done` or 3 s pass.
bool run_until(asio::io_context& io, const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
        io.restart();
        io.run_for(std::chrono::milliseconds(20));
    }
    return done();
}

TEST(AddressMonitor, ABurstOfChangesIsOneUpdateWithTheCurrentSet) {
    esp::io::testing::ScopedNetns ns;
    if (!ns.ok()) {
        GTEST_SKIP() << ns.why();
    }
    asio::io_context io;
    std::vector<std::vector<IpAddress>> updates;
    AddressMonitorCounters counters;
    const auto excluded = IpAddress::parse("10.99.151.99").value();
    auto m = AddressMonitor::start(
                     io, [&](std::vector<IpAddress> a) { updates.push_back(std::move(a)); },
                     [&](const HostAddress& h) { return h.address == excluded; },
                     std::chrono::milliseconds(150), counters)
                     .value();
    ASSERT_EQ(updates.size(), 1U);  // the set at start: only loopback, so nothing usable
    EXPECT_TRUE(updates[0].empty());
    const unsigned lo = 1;
    for (const char* a : {"10.99.151.1", "10.99.152.1", "10.99.151.99"}) {
        ASSERT_TRUE(esp::io::add_address(lo, IpAddress::parse(a).value(), 32));
    }
    ASSERT_TRUE(run_until(io, [&] { return updates.size() >= 2; }));
    const auto one = IpAddress::parse("10.99.151.1").value();
    const auto two = IpAddress::parse("10.99.152.1").value();
    EXPECT_EQ(updates[1], (std::vector<IpAddress>{one, two}));
    // Nothing more came for that burst (one update after the quiet period).
    io.restart();
    io.run_for(std::chrono::milliseconds(300));
    EXPECT_EQ(updates.size(), 2U);
    EXPECT_GE(counters.events, 3U);
    ASSERT_TRUE(esp::io::del_address(lo, one, 32));
    ASSERT_TRUE(run_until(io, [&] { return updates.size() >= 3; }));
    EXPECT_EQ(updates[2], (std::vector<IpAddress>{two}));
    EXPECT_EQ(counters.malformed, 0U);
    EXPECT_EQ(counters.updates, 3U);
}

}  // namespace
}  // namespace ikeplex::daemon
