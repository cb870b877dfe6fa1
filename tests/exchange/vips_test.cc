// Virtual IPs and configuration payloads in IKE_AUTH (RFC 7296 §2.19, §3.15) between two
// engines: node a is the client (`vips`), node b the gateway (`pools`). CFG_REQUEST/REPLY on
// the wire, selectors narrowed to the leased address on both sides, a lost message, leases
// reused per identity and released on delete, exhaustion, IPv6 and attributes.
#include "vips_fixture.h"

namespace ikeplex::test {
namespace {

using ike::EventKind;
using wire::ExchangeType;
using wire::NotifyType;

TEST_F(Vips, AddressAssignedAndSelectorsNarrowedOnBothSides) {
    ASSERT_TRUE(h.b().manager.pools().load(pool("p", "10.99.126.0/24", {{"dns", "10.99.126.53"}})));
    load(1);
    const std::uint32_t id = start(1);
    ASSERT_TRUE(up(1));
    // On the wire: CP before SA, as strongSwan sends and answers it.
    EXPECT_EQ(h.a().count({.sent = true,
                           .exchange = ExchangeType::kIkeAuth,
                           .response = false,
                           .payloads = "IDi IDr AUTH N(INIT_CONTACT) CPRQ(ADDR DNS) SA TSi TSr"}),
              1U);
    EXPECT_EQ(h.b().count({.sent = true,
                           .exchange = ExchangeType::kIkeAuth,
                           .response = true,
                           .payloads = "IDr AUTH CPRP(ADDR DNS) SA TSi TSr"}),
              1U);
    // The client offered 0.0.0.0/0 for itself; the gateway narrowed it to the lease (the
    // first address after the network address).
    const auto req = h.a().find({.sent = true, .exchange = ExchangeType::kIkeAuth});
    const auto* tsi =
            ike::find_payload<wire::TsPayload>(req.front()->payloads, wire::PayloadType::kTsi);
    ASSERT_NE(tsi, nullptr);
    EXPECT_EQ(ike::to_string(ike::from_wire(*tsi)), "0.0.0.0/0");
    const ike::IkeSa* c = client_sa(id);
    const ike::IkeSa* g = gateway_sa(1);
    ASSERT_NE(c, nullptr);
    ASSERT_NE(g, nullptr);
    EXPECT_EQ(local_vips(c), std::vector<IpAddress>{ip("10.99.126.1")});
    EXPECT_EQ(remote_vips(g), std::vector<IpAddress>{ip("10.99.126.1")});
    EXPECT_EQ(ike::virtual_ips(*c)->dns, std::vector<IpAddress>{ip("10.99.126.53")});
    ASSERT_EQ(c->children().size(), 1U);
    ASSERT_EQ(g->children().size(), 1U);
    EXPECT_EQ(ike::to_string(c->children().front()->local_ts), "10.99.126.1/32");
    EXPECT_EQ(ike::to_string(g->children().front()->remote_ts), "10.99.126.1/32");
    // The host is told to install the address and the DNS server.
    ASSERT_EQ(h.a().vips.size(), 1U);
    EXPECT_TRUE(h.a().vips[0].up);
    EXPECT_EQ(h.a().vips[0].addresses, std::vector<IpAddress>{ip("10.99.126.1")});
    EXPECT_EQ(h.a().vips[0].dns, std::vector<IpAddress>{ip("10.99.126.53")});
    // With the gateway's IKE address (the xfrm backend's route lookup for the interface).
    EXPECT_EQ(h.a().vips[0].peer, c->remote().address);
    EXPECT_TRUE(h.a().vips[0].peer.is_set());
    EXPECT_TRUE(h.b().vips.empty());
    EXPECT_EQ(the_pool().online(), 1U);
    const auto problems = check_consistent(h);
    EXPECT_TRUE(problems.empty()) << join(problems);
}

TEST_F(Vips, LostResponseLeasesOnce) {
    ASSERT_TRUE(h.b().manager.pools().load(pool("p", "10.99.126.1-10.99.126.4")));
    load(1);
    bool dropped = false;
    h.drop = [&](const Datagram& d) {
        // The gateway's first IKE_AUTH response is lost: the client retransmits, the gateway
        // answers from its cache (no second lease).
        if (!d.from_a && !dropped && d.data.size() > 28 && d.data[18] == 35 &&
            (d.data[19] & wire::kFlagResponse) != 0) {
            dropped = true;
            return true;
        }
        return false;
    };
    const std::uint32_t id = start(1);
    ASSERT_TRUE(up(1));
    EXPECT_TRUE(dropped);
    EXPECT_EQ(h.count_sent(ExchangeType::kIkeAuth, false), 2U);
    EXPECT_EQ(local_vips(client_sa(id)), std::vector<IpAddress>{ip("10.99.126.1")});
    EXPECT_EQ(the_pool().online(), 1U);
    EXPECT_EQ(the_pool().leases().size(), 1U);
    EXPECT_EQ(h.a().vips.size(), 1U);
}

TEST_F(Vips, LeaseOfflineOnDeleteAndTheSameIdentityGetsItBack) {
    ASSERT_TRUE(h.b().manager.pools().load(pool("p", "10.99.126.1-10.99.126.4")));
    load(2);
    const std::uint32_t one = start(1);
    ASSERT_TRUE(up(1));
    const std::uint32_t two = start(2);
    ASSERT_TRUE(up(2));
    EXPECT_EQ(local_vips(client_sa(one)), std::vector<IpAddress>{ip("10.99.126.1")});
    EXPECT_EQ(local_vips(client_sa(two)), std::vector<IpAddress>{ip("10.99.126.2")});
    terminate(one);
    // The lease of client1 went offline (kept for it); the client removed its address.
    EXPECT_EQ(the_pool().online(), 1U);
    EXPECT_EQ(the_pool().offline(), 1U);
    ASSERT_EQ(h.a().vips.size(), 3U);
    EXPECT_FALSE(h.a().vips[2].up);
    EXPECT_EQ(h.a().vips[2].addresses, std::vector<IpAddress>{ip("10.99.126.1")});
    // client1 comes back and gets its old address, not the next free one.
    const std::uint32_t again = start(1);
    ASSERT_TRUE(up(2));
    EXPECT_EQ(local_vips(client_sa(again)), std::vector<IpAddress>{ip("10.99.126.1")});
    EXPECT_EQ(the_pool().online(), 2U);
    EXPECT_EQ(the_pool().offline(), 0U);
    // The gateway ending it releases it too.
    h.act(h.b(),
          [&](ike::Step& s) { ASSERT_TRUE(h.b().manager.terminate_ike(gateway_sa(2)->id(), s)); });
    ASSERT_TRUE(up(1));
    EXPECT_TRUE(h.run_until([&] { return the_pool().online() == 1; }, std::chrono::seconds(30)));
    EXPECT_EQ(the_pool().offline(), 1U);
}

TEST_F(Vips, ExhaustedPoolAnswersInternalAddressFailureAndKeepsTheIkeSa) {
    ASSERT_TRUE(h.b().manager.pools().load(pool("p", "10.99.126.1-10.99.126.2")));
    load(3);
    start(1);
    ASSERT_TRUE(up(1));
    start(2);
    ASSERT_TRUE(up(2));
    const std::uint32_t third = start(3);
    ASSERT_TRUE(up(3));
    // strongSwan's answer: no CP, N(INTERNAL_ADDRESS_FAILURE), no Child SA; the IKE SA stays.
    EXPECT_EQ(h.b().count({.sent = true,
                           .exchange = ExchangeType::kIkeAuth,
                           .response = true,
                           .payloads = "IDr AUTH N(INT_ADDR_FAIL)"}),
              1U);
    EXPECT_TRUE(local_vips(client_sa(third)).empty());
    EXPECT_TRUE(client_sa(third)->children().empty());
    EXPECT_TRUE(gateway_sa(3)->children().empty());
    EXPECT_EQ(h.a().count(EventKind::kChildFailed), 1U);
    EXPECT_EQ(the_pool().online(), 2U);
    // A lease that went offline is reassigned to another identity once the pool is full.
    terminate(client_sa(third)->id());
    const std::uint32_t first = h.a().established().front()->id();
    terminate(first);
    EXPECT_EQ(the_pool().offline(), 1U);
    const std::uint32_t retry = start(3);
    ASSERT_TRUE(up(2));
    EXPECT_EQ(local_vips(client_sa(retry)).size(), 1U);
    EXPECT_EQ(the_pool().online(), 2U);
    EXPECT_EQ(the_pool().offline(), 0U);
}

TEST_F(Vips, Ipv6AndBothFamilies) {
    ASSERT_TRUE(
            h.b().manager.pools().load(pool("p4", "10.99.126.0/24", {{"dns", "10.99.126.53"}})));
    ASSERT_TRUE(h.b().manager.pools().load(pool("p6", "fd99:126::/64", {{"dns", "fd99:126::53"}})));
    gateway_.pools = {"p4", "p6"};
    load(1, {ip("0.0.0.0"), ip("::")});
    const std::uint32_t id = start(1);
    ASSERT_TRUE(up(1));
    EXPECT_EQ(h.a().count({.sent = true,
                           .exchange = ExchangeType::kIkeAuth,
                           .response = false,
                           .payloads = "IDi IDr AUTH N(INIT_CONTACT) CPRQ(ADDR ADDR6 DNS DNS6) SA "
                                       "TSi TSr"}),
              1U);
    EXPECT_EQ(h.b().count({.sent = true,
                           .exchange = ExchangeType::kIkeAuth,
                           .response = true,
                           .payloads = "IDr AUTH CPRP(ADDR ADDR6 DNS DNS6) SA TSi TSr"}),
              1U);
    const std::vector<IpAddress> both{ip("10.99.126.1"), ip("fd99:126::1")};
    EXPECT_EQ(local_vips(client_sa(id)), both);
    EXPECT_EQ(remote_vips(gateway_sa(1)), both);
    EXPECT_EQ(ike::virtual_ips(*client_sa(id))->dns,
              (std::vector<IpAddress>{ip("10.99.126.53"), ip("fd99:126::53")}));
    // INTERNAL_IP6_ADDRESS is the address and a prefix length of 64.
    const auto resp = h.a().find({.sent = false, .exchange = ExchangeType::kIkeAuth});
    const auto* cp =
            ike::find_payload<wire::CpPayload>(resp.front()->payloads, wire::PayloadType::kCp);
    ASSERT_NE(cp, nullptr);
    ASSERT_EQ(cp->attributes[1].value.size(), 17U);
    EXPECT_EQ(cp->attributes[1].value[16], 64);
    // The gateway's remote selectors: both leases (as strongSwan narrows 0.0.0.0/0 ::/0).
    EXPECT_EQ(ike::to_string(gateway_sa(1)->children().front()->remote_ts),
              "10.99.126.1/32 fd99:126::1/128");
}

TEST_F(Vips, Ipv6Only) {
    ASSERT_TRUE(h.b().manager.pools().load(pool("p", "fd99:126::/64")));
    gateway_.children.front().local_ts = {sel("fd99:2::/64")};
    client_.children.front().remote_ts = {sel("fd99:2::/64")};
    load(1, {ip("::")});
    const std::uint32_t id = start(1);
    ASSERT_TRUE(up(1));
    const ike::IkeSa* c = client_sa(id);
    EXPECT_EQ(local_vips(c), std::vector<IpAddress>{ip("fd99:126::1")});
    ASSERT_EQ(c->children().size(), 1U);
    EXPECT_EQ(ike::to_string(c->children().front()->local_ts), "fd99:126::1/128");
    EXPECT_EQ(ike::to_string(gateway_sa(1)->children().front()->remote_ts), "fd99:126::1/128");
}

TEST_F(Vips, PoolAttributesGoInTheReply) {
    ASSERT_TRUE(h.b().manager.pools().load(pool("p", "10.99.126.0/28",
                                                {{"dns", "10.99.126.53"},
                                                 {"dns", "10.99.126.54"},
                                                 {"nbns", "10.99.126.55"},
                                                 {"subnet", "10.99.2.0/24"},
                                                 {"split_include", "10.99.2.0/24"},
                                                 {"25", "vpn.example"}})));
    load(1);
    start(1);
    ASSERT_TRUE(up(1));
    const auto resp = h.a().find({.sent = false, .exchange = ExchangeType::kIkeAuth});
    const auto* cp =
            ike::find_payload<wire::CpPayload>(resp.front()->payloads, wire::PayloadType::kCp);
    ASSERT_NE(cp, nullptr);
    ASSERT_EQ(cp->attributes.size(), 7U);
    EXPECT_EQ(cp->attributes[0].type, ike::cfg_attr::kIp4Address);
    EXPECT_EQ(cp->attributes[1].value, (Bytes{10, 99, 126, 53}));
    EXPECT_EQ(cp->attributes[2].value, (Bytes{10, 99, 126, 54}));
    EXPECT_EQ(cp->attributes[3].type, ike::cfg_attr::kIp4Nbns);
    EXPECT_EQ(cp->attributes[4].type, ike::cfg_attr::kIp4Subnet);
    EXPECT_EQ(cp->attributes[4].value, (Bytes{10, 99, 2, 0, 255, 255, 255, 0}));
    EXPECT_EQ(cp->attributes[5].type, ike::cfg_attr::kUnitySplitInclude);
    EXPECT_EQ(cp->attributes[6].type, 25);
    EXPECT_EQ(cp->attributes[6].value,
              (Bytes{'v', 'p', 'n', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e'}));
    // The client keeps what it does not act on.
    EXPECT_EQ(ike::virtual_ips(*h.a().established().front())->attributes.size(), 4U);
}

TEST_F(Vips, NoPoolsAnswersInternalAddressFailureAndPoolsWithoutRequestFailedCpRequired) {
    gateway_.pools.clear();
    load(1);
    start(1);
    ASSERT_TRUE(up(1));
    EXPECT_EQ(h.b().count({.sent = true,
                           .exchange = ExchangeType::kIkeAuth,
                           .response = true,
                           .payloads = "IDr AUTH N(INT_ADDR_FAIL)"}),
              1U);
    EXPECT_TRUE(h.a().established().front()->children().empty());
}

TEST_F(Vips, PoolsWithoutARequestAnswerFailedCpRequired) {
    ASSERT_TRUE(h.b().manager.pools().load(pool("p", "10.99.126.0/24")));
    client_.vips.clear();
    client_.children.front().local_ts = {sel("10.99.1.0/24")};
    load(1);
    start(1);
    ASSERT_TRUE(up(1));
    EXPECT_EQ(h.b().count({.sent = true,
                           .exchange = ExchangeType::kIkeAuth,
                           .response = true,
                           .payloads = "IDr AUTH N(FAIL_CP_REQ)"}),
              1U);
    EXPECT_TRUE(h.a().established().front()->children().empty());
    EXPECT_EQ(the_pool().online(), 0U);
}

TEST_F(Vips, IkeRekeyCarriesTheVirtualIpsOver) {
    ASSERT_TRUE(h.b().manager.pools().load(pool("p", "10.99.126.0/24")));
    load(1);
    const std::uint32_t id = start(1);
    ASSERT_TRUE(up(1));
    h.act(h.a(), [&](ike::Step& s) { ASSERT_TRUE(h.a().manager.rekey_ike(id, s)); });
    ASSERT_TRUE(
            h.run_until([&] { return h.a().manager.sa(id) == nullptr; }, std::chrono::seconds(30)));
    h.run_for(std::chrono::seconds(10));
    ASSERT_TRUE(up(1));
    const ike::IkeSa* c = h.a().established().front();
    EXPECT_NE(c->id(), id);
    EXPECT_EQ(local_vips(c), std::vector<IpAddress>{ip("10.99.126.1")});
    EXPECT_EQ(remote_vips(h.b().established().front()), std::vector<IpAddress>{ip("10.99.126.1")});
    EXPECT_EQ(the_pool().online(), 1U);
    EXPECT_EQ(h.a().vips.size(), 1U);  // the address stays installed
}

TEST_F(Vips, ReauthenticationKeepsTheAddress) {
    // Make-before-break: the new IKE SA asks for the address the old one has, and the gateway
    // shares the online lease (same identity, same peer endpoint) until the old one goes.
    ASSERT_TRUE(h.b().manager.pools().load(pool("p", "10.99.126.0/24")));
    client_.reauth_time = std::chrono::minutes(10);
    client_.rekey_time = Duration(0);
    client_.rand_time = std::chrono::minutes(1);
    client_.over_time = std::chrono::minutes(5);
    load(1);
    const std::uint32_t id = start(1);
    ASSERT_TRUE(up(1));
    h.run_for(std::chrono::minutes(11));
    ASSERT_TRUE(
            h.run_until([&] { return h.a().manager.sa(id) == nullptr; }, std::chrono::seconds(60)));
    h.run_for(std::chrono::seconds(10));
    ASSERT_TRUE(up(1));
    EXPECT_EQ(h.a().manager.counters().reauths, 1U);
    EXPECT_EQ(h.a().count({.sent = true,
                           .exchange = ExchangeType::kIkeAuth,
                           .response = false,
                           .payloads = "IDi IDr AUTH CPRQ(ADDR DNS) SA TSi TSr"}),
              1U);
    const ike::IkeSa* c = h.a().established().front();
    EXPECT_NE(c->id(), id);
    EXPECT_EQ(local_vips(c), std::vector<IpAddress>{ip("10.99.126.1")});
    EXPECT_EQ(remote_vips(h.b().established().front()), std::vector<IpAddress>{ip("10.99.126.1")});
    EXPECT_EQ(the_pool().online(), 1U);
    EXPECT_EQ(the_pool().offline(), 0U);
    // The host was told: up (old), up (new), down (old); it keeps the address (counted).
    ASSERT_EQ(h.a().vips.size(), 3U);
    EXPECT_TRUE(h.a().vips[1].up);
    EXPECT_FALSE(h.a().vips[2].up);
}

}  // namespace
}  // namespace ikeplex::test
