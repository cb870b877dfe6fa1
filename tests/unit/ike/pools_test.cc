// Address pools (ike/pools.h) as strongSwan's mem_pool and vici pools behave: the addresses a
// subnet or range hands out, leases per identity (reuse, sharing, offline, reassignment when
// full), attribute encodings, and reloads that keep leases.
#include "ike/pools.h"

#include <gtest/gtest.h>

namespace ikeplex::ike {
namespace {

IpAddress ip(const char* s) {
    return *IpAddress::parse(s);
}
Identity id(const char* s) {
    return *Identity::parse(s);
}
const Endpoint kPeer{ip("10.99.122.2"), 4500};
const Endpoint kOtherPeer{ip("10.99.122.3"), 4500};

PoolConfig parse(const char* addrs) {
    auto p = PoolConfig::parse("p", addrs);
    EXPECT_TRUE(p) << addrs;
    return p ? *p : PoolConfig{};
}

TEST(PoolConfig, SubnetSkipsNetworkAndBroadcast) {
    const PoolConfig p = parse("10.3.0.0/24");
    EXPECT_EQ(p.base, ip("10.3.0.0"));
    EXPECT_EQ(p.size, 254U);
    EXPECT_EQ(p.address(0), ip("10.3.0.1"));
    EXPECT_EQ(p.address(253), ip("10.3.0.254"));
    EXPECT_FALSE(p.index_of(ip("10.3.0.0")));
    EXPECT_FALSE(p.index_of(ip("10.3.0.255")));
    EXPECT_EQ(p.index_of(ip("10.3.0.7")), 6U);
}

TEST(PoolConfig, SubnetFromInsideStartsThere) {
    const PoolConfig p = parse("10.3.0.5/24");
    EXPECT_EQ(p.size, 250U);  // .5 .. .254
    EXPECT_EQ(p.address(0), ip("10.3.0.5"));
    EXPECT_EQ(p.address(249), ip("10.3.0.254"));
}

TEST(PoolConfig, SmallSubnetsAndSingleAddresses) {
    EXPECT_EQ(parse("10.3.0.1/32").size, 1U);
    EXPECT_EQ(parse("10.3.0.1").size, 1U);
    EXPECT_EQ(parse("10.3.0.0/31").size, 2U);
    EXPECT_EQ(parse("10.3.0.1/31").size, 1U);
    EXPECT_EQ(parse("10.3.0.0/30").size, 2U);  // .1 and .2
}

TEST(PoolConfig, RangesIncludeBothEnds) {
    const PoolConfig p = parse("10.3.0.1-10.3.0.4");
    EXPECT_EQ(p.size, 4U);
    EXPECT_EQ(p.address(3), ip("10.3.0.4"));
    const PoolConfig v6 = parse("fd99:126::10-fd99:126::1f");
    EXPECT_EQ(v6.size, 16U);
    EXPECT_FALSE(PoolConfig::parse("p", "10.3.0.4-10.3.0.1"));
    EXPECT_FALSE(PoolConfig::parse("p", "10.3.0.1-fd99::1"));
    EXPECT_FALSE(PoolConfig::parse("p", "fd99::1-fd98::1"));
    EXPECT_FALSE(PoolConfig::parse("p", "fd99::1-fd99:0:0:0:1::1"));  // beyond one /96
}

TEST(PoolConfig, Ipv6SubnetAndLimit) {
    const PoolConfig p = parse("fd99:126::/64");
    EXPECT_EQ(p.size, (1U << 31U) - 2U);  // strongSwan limits pools to 2^31 addresses
    EXPECT_EQ(p.address(0), ip("fd99:126::1"));
}

TEST(PoolConfig, BadInput) {
    for (const char* bad : {"", "10.3.0.0/33", "10.3.0.0/x", "nonsense", "10.3.0.1-", "/24"}) {
        EXPECT_FALSE(PoolConfig::parse("p", bad)) << bad;
    }
}

TEST(PoolConfig, Attributes) {
    PoolConfig p = parse("10.3.0.0/24");
    ASSERT_TRUE(p.add_attribute("dns", "10.3.0.53"));
    ASSERT_TRUE(p.add_attribute("dns", "fd99::53"));
    ASSERT_TRUE(p.add_attribute("subnet", "10.1.0.0/16"));
    ASSERT_TRUE(p.add_attribute("subnet", "fd99::/48"));
    ASSERT_TRUE(p.add_attribute("7", "hello"));
    ASSERT_TRUE(p.add_attribute("28675", "10.3.0.9"));
    EXPECT_FALSE(p.add_attribute("dns", "not-an-address"));
    EXPECT_FALSE(p.add_attribute("frobnicate", "10.3.0.1"));
    EXPECT_FALSE(p.add_attribute("0", "10.3.0.1"));
    ASSERT_EQ(p.attributes.size(), 6U);
    EXPECT_EQ(p.attributes[0].type, cfg_attr::kIp4Dns);
    EXPECT_EQ(p.attributes[1].type, cfg_attr::kIp6Dns);
    EXPECT_EQ(p.attributes[1].value.size(), 16U);
    EXPECT_EQ(p.attributes[2].value, (Bytes{10, 1, 0, 0, 255, 255, 0, 0}));
    EXPECT_EQ(p.attributes[3].type, cfg_attr::kIp6Subnet);
    EXPECT_EQ(p.attributes[3].value.size(), 17U);
    EXPECT_EQ(p.attributes[3].value[16], 48);
    EXPECT_EQ(p.attributes[4].type, 7);
    EXPECT_EQ(p.attributes[4].value, (Bytes{'h', 'e', 'l', 'l', 'o'}));
    EXPECT_EQ(p.attributes[5].value, (Bytes{10, 3, 0, 9}));
}

std::optional<IpAddress> acquire(AddressPools& pools, const char* who, const Endpoint& peer,
                                 const char* requested = "0.0.0.0") {
    const std::vector<std::string> names{"p"};
    return pools.acquire(names, id(who), ip(requested), peer);
}

TEST(AddressPools, LeasesPerIdentity) {
    AddressPools pools;
    ASSERT_TRUE(pools.load(parse("10.3.0.1-10.3.0.2")));
    const std::vector<std::string> names{"p"};
    EXPECT_EQ(acquire(pools, "alice", kPeer), ip("10.3.0.1"));
    EXPECT_EQ(acquire(pools, "bob", kPeer), ip("10.3.0.2"));
    // Full: a third identity gets nothing.
    EXPECT_FALSE(acquire(pools, "carol", kPeer));
    // A second IKE SA of alice from elsewhere gets nothing either (no free address): her
    // online lease is shared only with the same peer asking for it.
    EXPECT_FALSE(acquire(pools, "alice", kOtherPeer));
    EXPECT_EQ(acquire(pools, "alice", kPeer, "10.3.0.1"), ip("10.3.0.1"));
    EXPECT_EQ(pools.find("p")->online(), 3U);
    // alice's two IKE SAs end: offline only after the second.
    EXPECT_TRUE(pools.release(names, ip("10.3.0.1"), id("alice")));
    EXPECT_EQ(pools.find("p")->offline(), 0U);
    EXPECT_TRUE(pools.release(names, ip("10.3.0.1"), id("alice")));
    EXPECT_EQ(pools.find("p")->offline(), 1U);
    EXPECT_FALSE(pools.release(names, ip("10.3.0.1"), id("alice")));
    // alice comes back: her offline lease.
    EXPECT_EQ(acquire(pools, "alice", kOtherPeer), ip("10.3.0.1"));
    // Full again; once alice's lease is offline, carol takes it over.
    EXPECT_TRUE(pools.release(names, ip("10.3.0.1"), id("alice")));
    EXPECT_EQ(acquire(pools, "carol", kPeer), ip("10.3.0.1"));
    const auto leases = pools.find("p")->leases();
    ASSERT_EQ(leases.size(), 2U);
    EXPECT_TRUE(leases[0].online && leases[1].online);
}

TEST(AddressPools, FirstPoolWithAnAddressAndAttributesOfItsPool) {
    AddressPools pools;
    PoolConfig a = parse("10.3.0.1");
    a.name = "a";
    ASSERT_TRUE(a.add_attribute("dns", "10.3.0.53"));
    PoolConfig b = parse("10.4.0.1-10.4.0.9");
    b.name = "b";
    ASSERT_TRUE(b.add_attribute("dns", "10.4.0.53"));
    ASSERT_TRUE(pools.load(a));
    ASSERT_TRUE(pools.load(b));
    const std::vector<std::string> names{"missing", "a", "b"};
    EXPECT_EQ(pools.acquire(names, id("x"), ip("0.0.0.0"), kPeer), ip("10.3.0.1"));
    EXPECT_EQ(pools.acquire(names, id("y"), ip("0.0.0.0"), kPeer), ip("10.4.0.1"));
    EXPECT_FALSE(pools.acquire(names, id("z"), ip("::"), kPeer));  // no IPv6 pool
    const std::vector<IpAddress> vips{ip("10.4.0.1")};
    const auto attrs = pools.attributes(names, vips);
    ASSERT_EQ(attrs.size(), 1U);
    EXPECT_EQ(attrs[0].value, (Bytes{10, 4, 0, 53}));
}

TEST(AddressPools, ReloadKeepsLeasesAndRefusesToDropOnlineOnes) {
    AddressPools pools;
    ASSERT_TRUE(pools.load(parse("10.3.0.0/24")));
    ASSERT_TRUE(acquire(pools, "alice", kPeer));
    // Same addresses, new attributes: the lease stays.
    PoolConfig again = parse("10.3.0.0/24");
    ASSERT_TRUE(again.add_attribute("dns", "10.3.0.53"));
    ASSERT_TRUE(pools.load(again));
    EXPECT_EQ(pools.find("p")->online(), 1U);
    EXPECT_EQ(pools.find("p")->config().attributes.size(), 1U);
    // Other addresses while a lease is online: refused, as is unloading it.
    EXPECT_FALSE(pools.load(parse("10.5.0.0/24")));
    EXPECT_FALSE(pools.unload("p"));
    EXPECT_EQ(pools.sync({}), std::vector<std::string>{});
    EXPECT_NE(pools.find("p"), nullptr);  // kept by sync() too while online
    EXPECT_TRUE(pools.release(std::vector<std::string>{"p"}, ip("10.3.0.1"), id("alice")));
    EXPECT_TRUE(pools.load(parse("10.5.0.0/24")));
    EXPECT_EQ(pools.find("p")->config().base, ip("10.5.0.0"));
    pools.sync({});
    EXPECT_EQ(pools.find("p"), nullptr);
    EXPECT_FALSE(pools.unload("p"));
}

}  // namespace
}  // namespace ikeplex::ike
