// What a hostile peer can make either side take from configuration payloads (RFC 7296 §3.15):
// - the gateway leases at most one address per family for an IKE SA, however many
//   INTERNAL_IP4/6_ADDRESS attributes one CFG_REQUEST carries (strongSwan leases one per
//   attribute; ikeplex does not follow it there: one client could drain a pool);
// - the client installs at most one address per family it asked for, at most
//   kMaxDnsPerFamily DNS servers per family, and no nonsense (0.0.0.0, loopback, multicast,
//   limited broadcast, link-local, wrong lengths); each refused attribute is counted
//   (ManagerCounters::cp_attributes_refused) and logged rate-limited.
// The hostile gateway is an engine whose pool carries raw attributes ("1" = a second
// INTERNAL_IP4_ADDRESS, "3" = INTERNAL_IP4_DNS, ...), which the pool sends as configured.
#include "vips_fixture.h"

namespace ikeplex::test {
namespace {

using wire::ExchangeType;

TEST_F(Vips, ManyAddressRequestsLeaseOneAddressPerFamily) {
    ASSERT_TRUE(h.b().manager.pools().load(pool("p4", "10.99.126.0/24")));
    ASSERT_TRUE(h.b().manager.pools().load(pool("p6", "fd99:126::/120")));
    gateway_.pools = {"p4", "p6"};
    // One client asks for eight addresses in one CFG_REQUEST: five IPv4, three IPv6.
    load(1, {ip("0.0.0.0"), ip("0.0.0.0"), ip("10.99.126.9"), ip("0.0.0.0"), ip("0.0.0.0"),
             ip("::"), ip("::"), ip("::")});
    const std::uint32_t id = start(1);
    ASSERT_TRUE(up(1));
    EXPECT_EQ(h.a().count({.sent = true,
                           .exchange = ExchangeType::kIkeAuth,
                           .response = false,
                           .payloads = "IDi IDr AUTH N(INIT_CONTACT) CPRQ(ADDR ADDR ADDR ADDR ADDR "
                                       "ADDR6 ADDR6 ADDR6 DNS DNS6) SA TSi TSr"}),
              1U);
    // One lease per family, from the first request of each; the reply names those two.
    EXPECT_EQ(h.b().count({.sent = true,
                           .exchange = ExchangeType::kIkeAuth,
                           .response = true,
                           .payloads = "IDr AUTH CPRP(ADDR ADDR6) SA TSi TSr"}),
              1U);
    const std::vector<IpAddress> both{ip("10.99.126.1"), ip("fd99:126::1")};
    EXPECT_EQ(remote_vips(gateway_sa(1)), both);
    EXPECT_EQ(local_vips(client_sa(id)), both);
    EXPECT_EQ(h.b().manager.pools().find("p4")->online(), 1U);
    EXPECT_EQ(h.b().manager.pools().find("p6")->online(), 1U);
    EXPECT_EQ(h.b().manager.counters().cp_attributes_refused, 6U);
    EXPECT_EQ(h.a().manager.counters().cp_attributes_refused, 0U);
}

TEST_F(Vips, ClientTakesOneAddressPerAskedFamilyAndBoundedSaneDns) {
    ASSERT_TRUE(h.b().manager.pools().load(pool("p", "10.99.126.0/24",
                                                {{"1", "10.99.126.77"},  // a second address
                                                 {"1", "224.0.0.1"},     // multicast
                                                 {"1", "abc"},           // 3 bytes
                                                 {"8", "fd99::77/64"},   // a family not asked
                                                 {"3", "0.0.0.0"},
                                                 {"3", "127.0.0.1"},
                                                 {"3", "255.255.255.255"},
                                                 {"3", "abcde"},
                                                 {"10", "fd99::53/64"},  // 17 bytes
                                                 {"10", "ff02::1"},
                                                 {"dns", "10.99.126.51"},
                                                 {"dns", "10.99.126.52"},
                                                 {"dns", "10.99.126.53"},
                                                 {"dns", "10.99.126.54"},
                                                 {"dns", "10.99.126.55"},
                                                 {"dns", "fd99::53"}})));
    load(1);
    const std::uint32_t id = start(1);
    ASSERT_TRUE(up(1));
    const ike::IkeSa* c = client_sa(id);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(local_vips(c), std::vector<IpAddress>{ip("10.99.126.1")});
    EXPECT_EQ(ike::virtual_ips(*c)->dns,
              (std::vector<IpAddress>{ip("10.99.126.51"), ip("10.99.126.52"), ip("10.99.126.53"),
                                      ip("fd99::53")}));
    EXPECT_EQ(h.a().manager.counters().cp_attributes_refused, 12U);
    // The host is told to install one address and the four DNS servers, nothing else.
    ASSERT_EQ(h.a().vips.size(), 1U);
    EXPECT_EQ(h.a().vips[0].addresses, std::vector<IpAddress>{ip("10.99.126.1")});
    EXPECT_EQ(h.a().vips[0].dns.size(), 4U);
    ASSERT_EQ(c->children().size(), 1U);
    EXPECT_EQ(ike::to_string(c->children().front()->local_ts), "10.99.126.1/32");
}

TEST_F(Vips, ClientRefusesANonsenseAddress) {
    // A gateway whose pool hands out loopback addresses: the client installs nothing.
    ASSERT_TRUE(h.b().manager.pools().load(pool("p", "127.0.0.0/24")));
    load(1);
    const std::uint32_t id = start(1);
    ASSERT_TRUE(up(1));
    EXPECT_TRUE(local_vips(client_sa(id)).empty());
    EXPECT_TRUE(h.a().vips.empty());
    EXPECT_EQ(h.a().manager.counters().cp_attributes_refused, 1U);
}

}  // namespace
}  // namespace ikeplex::test
