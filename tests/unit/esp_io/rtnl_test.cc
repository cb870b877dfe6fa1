// rtnetlink on the real kernel (a namespace of the test's own): link up and MTU, addresses and
// routes via a TUN device, read back independently (SIOCGIF* ioctls, getifaddrs(),
// /proc/thread-self/net/{route,ipv6_route}, the source address the kernel picks); routes in
// other tables and the policy-routing rules that make the kernel use them, seen through the
// kernel's own route lookup (route_to).
#include "esp/io/rtnl.h"

#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <gtest/gtest.h>
#include <ifaddrs.h>

#include "esp/io/tun.h"
#include "netns.h"

namespace ikeplex::esp::io {
namespace {

IpAddress ip(const char* s) {
    return IpAddress::parse(s).value();
}

std::string slurp(const char* path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

/// /proc/net/route has one line per IPv4 route: "iface dest(hex, host order) gw flags ...
/// mask ...". True if `iface` has a route to dest/mask (hex as the file prints them).
bool has_v4_route(const std::string& iface, const std::string& dest, const std::string& mask) {
    std::istringstream in(slurp("/proc/thread-self/net/route"));
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream f(line);
        std::string name, d, gw, flags, refcnt, use, metric, m;
        f >> name >> d >> gw >> flags >> refcnt >> use >> metric >> m;
        if (name == iface && d == dest && m == mask) {
            return true;
        }
    }
    return false;
}

/// /proc/net/ipv6_route: "dest(32 hex) len(hex) src len nexthop metric refcnt use flags iface".
bool has_v6_route(const std::string& iface, const std::string& dest, const std::string& len) {
    std::istringstream in(slurp("/proc/thread-self/net/ipv6_route"));
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream f(line);
        std::string d, l, src, slen, nh, metric, refcnt, use, flags, name;
        f >> d >> l >> src >> slen >> nh >> metric >> refcnt >> use >> flags >> name;
        if (name == iface && d == dest && l == len) {
            return true;
        }
    }
    return false;
}

class Rtnl : public ::testing::Test {
protected:
    void SetUp() override {
        if (!ns_.ok()) {
            GTEST_SKIP() << ns_.why();
        }
        if (!testing::have_tun()) {
            GTEST_SKIP() << "no /dev/net/tun";
        }
        TunOptions o;
        o.name = "ikprtnl0";
        auto t = Tun::open(o);
        ASSERT_TRUE(t) << t.error().to_string();
        tun_ = std::make_unique<Tun>(std::move(*t));
    }
    testing::ScopedNetns ns_;
    std::unique_ptr<Tun> tun_;
};

TEST_F(Rtnl, LinkUpAndMtu) {
    UniqueFd s(::socket(AF_INET, SOCK_DGRAM, 0));
    ifreq ifr{};
    std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", tun_->name().c_str());
    ASSERT_EQ(::ioctl(s.get(), SIOCGIFMTU, &ifr), 0);
    EXPECT_EQ(ifr.ifr_mtu, 1400);  // TunOptions default, set by Tun::open
    ASSERT_EQ(::ioctl(s.get(), SIOCGIFFLAGS, &ifr), 0);
    EXPECT_EQ(ifr.ifr_flags & IFF_UP, 0);

    ASSERT_TRUE(link_up(tun_->ifindex(), 1280));
    ASSERT_EQ(::ioctl(s.get(), SIOCGIFFLAGS, &ifr), 0);
    EXPECT_NE(ifr.ifr_flags & IFF_UP, 0);
    ASSERT_EQ(::ioctl(s.get(), SIOCGIFMTU, &ifr), 0);
    EXPECT_EQ(ifr.ifr_mtu, 1280);

    ASSERT_TRUE(set_mtu(tun_->ifindex(), 1350));
    ASSERT_EQ(::ioctl(s.get(), SIOCGIFMTU, &ifr), 0);
    EXPECT_EQ(ifr.ifr_mtu, 1350);

    auto bad = link_up(999999, 0);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, Errc::kSystem);
    EXPECT_EQ(bad.error().sys_errno, ENODEV);
    EXPECT_FALSE(set_mtu(tun_->ifindex(), 10));  // below the minimum: EINVAL
}

TEST_F(Rtnl, AddressesAndRoutes) {
    ASSERT_TRUE(link_up(tun_->ifindex(), 0));
    ASSERT_TRUE(add_address(tun_->ifindex(), ip("10.99.0.1"), 24));
    ASSERT_TRUE(add_address(tun_->ifindex(), ip("10.99.0.2"), 24));
    auto again = add_address(tun_->ifindex(), ip("10.99.0.1"), 24);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().sys_errno, EEXIST);

    std::set<std::string> addrs;
    ifaddrs* list = nullptr;
    ASSERT_EQ(::getifaddrs(&list), 0);
    for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
        if (a->ifa_addr != nullptr && a->ifa_addr->sa_family == AF_INET &&
            tun_->name() == a->ifa_name) {
            char buf[INET_ADDRSTRLEN];
            const auto* sin = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
            addrs.insert(::inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf));
        }
    }
    ::freeifaddrs(list);
    EXPECT_EQ(addrs, (std::set<std::string>{"10.99.0.1", "10.99.0.2"}));

    // IPv4 route, host bits in the prefix cleared for the kernel.
    EXPECT_FALSE(has_v4_route(tun_->name(), "0005630A", "00FFFFFF"));
    ASSERT_TRUE(add_route(tun_->ifindex(), ip("10.99.5.77"), 24, nullptr));
    EXPECT_TRUE(has_v4_route(tun_->name(), "0005630A", "00FFFFFF"));
    ASSERT_TRUE(add_route(tun_->ifindex(), ip("10.99.5.0"), 24, nullptr));  // replace: fine
    ASSERT_TRUE(del_route(tun_->ifindex(), ip("10.99.5.0"), 24));
    EXPECT_FALSE(has_v4_route(tun_->name(), "0005630A", "00FFFFFF"));
    auto gone = del_route(tun_->ifindex(), ip("10.99.5.0"), 24);
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().sys_errno, ESRCH);

    // The preferred source decides the address a socket gets (10.99.0.1 would be the default).
    const IpAddress src = ip("10.99.0.2");
    ASSERT_TRUE(add_route(tun_->ifindex(), ip("10.99.6.0"), 24, &src));
    EXPECT_TRUE(has_v4_route(tun_->name(), "0006630A", "00FFFFFF"));
    UniqueFd u(::socket(AF_INET, SOCK_DGRAM, 0));
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(9);
    to.sin_addr.s_addr = htonl(0x0A630609);
    ASSERT_EQ(::connect(u.get(), reinterpret_cast<const sockaddr*>(&to), sizeof to), 0);
    sockaddr_in me{};
    socklen_t len = sizeof me;
    ASSERT_EQ(::getsockname(u.get(), reinterpret_cast<sockaddr*>(&me), &len), 0);
    EXPECT_EQ(ntohl(me.sin_addr.s_addr), 0x0A630002U);

    // IPv6: 64:ff9b::10.99.2.0/120 (10.99/16 in the NAT64 prefix, only inside this namespace).
    const std::string v6dest = "0064ff9b00000000000000000a630200";
    EXPECT_FALSE(has_v6_route(tun_->name(), v6dest, "78"));
    ASSERT_TRUE(add_route(tun_->ifindex(), ip("64:ff9b::a63:2ff"), 120, nullptr));
    EXPECT_TRUE(has_v6_route(tun_->name(), v6dest, "78"));
    ASSERT_TRUE(del_route(tun_->ifindex(), ip("64:ff9b::a63:200"), 120));
    EXPECT_FALSE(has_v6_route(tun_->name(), v6dest, "78"));

    EXPECT_FALSE(add_route(tun_->ifindex(), ip("10.99.7.0"), 33, nullptr));
    const IpAddress v6src = ip("::1");
    EXPECT_FALSE(add_route(tun_->ifindex(), ip("10.99.7.0"), 24, &v6src));
}

// strongSwan's tunnel-mode layout: a route in table 220 via a gateway on the link, used only once
// the rule "priority 220: lookup table 220" is there.
TEST_F(Rtnl, RouteToTableAndRuleV4) {
    const unsigned oif = tun_->ifindex();
    ASSERT_TRUE(link_up(oif, 0));
    ASSERT_TRUE(add_address(oif, ip("10.99.50.1"), 24));
    ASSERT_TRUE(add_address(oif, ip("10.99.50.3"), 24));

    auto on_link = route_to(ip("10.99.50.7"));
    ASSERT_TRUE(on_link) << on_link.error().to_string();
    EXPECT_EQ(on_link->oif, oif);
    EXPECT_FALSE(on_link->gateway);
    EXPECT_EQ(on_link->prefsrc, ip("10.99.50.1"));

    const RouteSpec spec{ip("10.99.60.0"), 24, 220, oif, ip("10.99.50.2"), ip("10.99.50.1")};
    ASSERT_TRUE(add_route(spec));
    ASSERT_TRUE(add_route(spec));                                      // replace: fine
    EXPECT_FALSE(has_v4_route(tun_->name(), "003C630A", "00FFFFFF"));  // not in the main table
    auto unused = route_to(ip("10.99.60.5"));  // no default route in a fresh namespace
    ASSERT_FALSE(unused);
    EXPECT_EQ(unused.error().sys_errno, ENETUNREACH);

    ASSERT_TRUE(add_rule(AF_INET, 220, 220));
    ASSERT_TRUE(add_rule(AF_INET, 220, 220));  // already there: ok
    auto via = route_to(ip("10.99.60.5"));
    ASSERT_TRUE(via) << via.error().to_string();
    EXPECT_EQ(via->oif, oif);
    EXPECT_EQ(via->gateway, ip("10.99.50.2"));
    EXPECT_EQ(via->prefsrc, ip("10.99.50.1"));

    // A table above 255 (RTA_TABLE / FRA_TABLE) with another preferred source, no gateway.
    const RouteSpec high{ip("10.99.61.0"), 24, 1000, oif, std::nullopt, ip("10.99.50.3")};
    ASSERT_TRUE(add_route(high));
    ASSERT_FALSE(route_to(ip("10.99.61.5")));
    ASSERT_TRUE(add_rule(AF_INET, 1000, 221));
    auto direct = route_to(ip("10.99.61.5"));
    ASSERT_TRUE(direct) << direct.error().to_string();
    EXPECT_EQ(direct->oif, oif);
    EXPECT_FALSE(direct->gateway);
    EXPECT_EQ(direct->prefsrc, ip("10.99.50.3"));
    ASSERT_TRUE(del_rule(AF_INET, 1000, 221));
    ASSERT_TRUE(del_route(high));

    ASSERT_TRUE(del_rule(AF_INET, 220, 220));
    auto no_rule = del_rule(AF_INET, 220, 220);
    ASSERT_FALSE(no_rule);
    EXPECT_EQ(no_rule.error().sys_errno, ENOENT);
    EXPECT_FALSE(route_to(ip("10.99.60.5")));

    ASSERT_TRUE(add_rule(AF_INET, 220, 220));
    ASSERT_TRUE(del_route(spec));
    auto gone = del_route(spec);
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().sys_errno, ESRCH);
    EXPECT_FALSE(route_to(ip("10.99.60.5")));  // the rule alone leads nowhere
    ASSERT_TRUE(del_rule(AF_INET, 220, 220));
}

TEST_F(Rtnl, RouteToTableAndRuleV6) {
    const unsigned oif = tun_->ifindex();
    ASSERT_TRUE(link_up(oif, 0));
    ASSERT_TRUE(add_address(oif, ip("fd00:99:50::1"), 64));

    auto on_link = route_to(ip("fd00:99:50::7"));
    ASSERT_TRUE(on_link) << on_link.error().to_string();
    EXPECT_EQ(on_link->oif, oif);
    EXPECT_FALSE(on_link->gateway);
    EXPECT_EQ(on_link->prefsrc, ip("fd00:99:50::1"));

    const RouteSpec spec{ip("fd00:99:60::"), 64, 220, oif, ip("fd00:99:50::2"),
                         ip("fd00:99:50::1")};
    ASSERT_TRUE(add_route(spec));
    // (/proc/net/ipv6_route lists every table, so only the lookup tells the tables apart.)
    EXPECT_TRUE(has_v6_route(tun_->name(), "fd000099006000000000000000000000", "40"));
    auto unused = route_to(ip("fd00:99:60::5"));
    ASSERT_FALSE(unused);
    EXPECT_EQ(unused.error().sys_errno, ENETUNREACH);

    ASSERT_TRUE(add_rule(AF_INET6, 220, 220));
    ASSERT_TRUE(add_rule(AF_INET6, 220, 220));
    auto via = route_to(ip("fd00:99:60::5"));
    ASSERT_TRUE(via) << via.error().to_string();
    EXPECT_EQ(via->oif, oif);
    EXPECT_EQ(via->gateway, ip("fd00:99:50::2"));
    EXPECT_EQ(via->prefsrc, ip("fd00:99:50::1"));

    ASSERT_TRUE(del_rule(AF_INET6, 220, 220));
    auto no_rule = del_rule(AF_INET6, 220, 220);
    ASSERT_FALSE(no_rule);
    EXPECT_EQ(no_rule.error().sys_errno, ENOENT);
    EXPECT_FALSE(route_to(ip("fd00:99:60::5")));
    ASSERT_TRUE(del_route(spec));
    auto gone = del_route(spec);
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().sys_errno, ESRCH);
}

TEST_F(Rtnl, RouteAndRuleArgumentsChecked) {
    const unsigned oif = tun_->ifindex();
    auto fam = add_rule(AF_UNIX, 220, 220);
    ASSERT_FALSE(fam);
    EXPECT_EQ(fam.error().code, Errc::kInvalidArgument);
    EXPECT_EQ(add_rule(AF_INET, 0, 220).error().code, Errc::kInvalidArgument);
    EXPECT_EQ(del_rule(AF_INET6, 0, 220).error().code, Errc::kInvalidArgument);
    EXPECT_EQ(add_route(RouteSpec{ip("10.99.60.0"), 24, 220, oif, ip("fd00:99:50::2"), {}})
                      .error()
                      .code,
              Errc::kInvalidArgument);
    EXPECT_EQ(add_route(RouteSpec{ip("10.99.60.0"), 24, 220, oif, {}, ip("fd00:99:50::1")})
                      .error()
                      .code,
              Errc::kInvalidArgument);
    EXPECT_EQ(add_route(RouteSpec{ip("fd00:99:60::"), 129, 220, oif, {}, {}}).error().code,
              Errc::kInvalidArgument);
    EXPECT_EQ(route_to(IpAddress{}).error().code, Errc::kInvalidArgument);
}

}  // namespace
}  // namespace ikeplex::esp::io
