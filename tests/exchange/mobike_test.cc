// MOBIKE (RFC 4555) between two engines: negotiation in IKE_AUTH (§3.2) and the move to port
// 4500 (§3.3), the original initiator roaming with UPDATE_SA_ADDRESSES (§3.5) and both sides'
// Child SAs and policies following, a NAT appearing and going away on the new path (§3.8),
// additional addresses (§3.4, §3.6), and no move by the RFC 7296 §2.23 rule (§3.8).
#include "mobike_fixture.h"

namespace ikeplex::test {
namespace {

using ike::EventKind;
using wire::ExchangeType;
using wire::NotifyType;

TEST_F(MobikeTest, NegotiatedInIkeAuthAndBothSidesMoveTo4500) {
    start();
    const ike::IkeSa& a = sa(h.a());
    const ike::IkeSa& b = sa(h.b());
    EXPECT_TRUE(a.mobike().on);
    EXPECT_TRUE(b.mobike().on);
    EXPECT_TRUE(a.mobike().mover);
    EXPECT_FALSE(b.mobike().mover);
    // §3.3: port 4500 for IKE_AUTH although no NAT is in the way; ESP stays raw.
    EXPECT_EQ(a.local().port, 4500);
    EXPECT_EQ(a.remote().port, 4500);
    EXPECT_EQ(b.local().port, 4500);
    EXPECT_EQ(b.remote().port, 4500);
    EXPECT_FALSE(a.udp_encap());
    for (const auto& d : h.sent_by(h.a(), ExchangeType::kIkeAuth, false)) {
        EXPECT_EQ(d.src.port, 4500);
    }
    EXPECT_EQ(h.a().count({.sent = true,
                           .exchange = ExchangeType::kIkeAuth,
                           .response = false,
                           .notify = NotifyType::kMobikeSupported}),
              1U);
    EXPECT_EQ(h.b().count({.sent = true,
                           .exchange = ExchangeType::kIkeAuth,
                           .response = true,
                           .notify = NotifyType::kMobikeSupported}),
              1U);
    expect_settled();
}

class MobikeOff : public MobikeTest, public ::testing::WithParamInterface<bool> {};

TEST_P(MobikeOff, NotNegotiatedWhenEitherSideSaysNo) {
    (GetParam() ? cfg.a : cfg.b).mobike = false;
    start();
    EXPECT_FALSE(sa(h.a()).mobike().on);
    EXPECT_FALSE(sa(h.b()).mobike().on);
    // An initiator that offers MOBIKE floats before it knows the answer (§3.3); one that
    // does not stays on port 500 without a NAT.
    EXPECT_EQ(sa(h.a()).local().port, GetParam() ? 500 : 4500);
    // The responder with mobike = no does not answer MOBIKE_SUPPORTED; an initiator with
    // mobike = no does not send it.
    EXPECT_EQ(h.b().count({.sent = true, .notify = NotifyType::kMobikeSupported}), 0U);
    EXPECT_EQ(h.a().count({.sent = true, .notify = NotifyType::kMobikeSupported}),
              GetParam() ? 0U : 1U);
    // Without MOBIKE an address change moves nothing.
    roam("10.99.0.11");
    h.run_for(std::chrono::seconds(5));
    EXPECT_EQ(h.a().count({.sent = true, .notify = NotifyType::kUpdateSaAddresses}), 0U);
    EXPECT_TRUE(h.a().backend.updates.empty());
}

INSTANTIATE_TEST_SUITE_P(Sides, MobikeOff, ::testing::Bool(),
                         [](const auto& i) { return i.param ? "InitiatorNo" : "ResponderNo"; });

TEST_F(MobikeTest, InitiatorRoamsAndBothSidesMoveTheirChildSas) {
    start();
    const std::size_t since_a = h.a().messages.size();
    roam("10.99.0.11");
    h.run_for(std::chrono::seconds(5));
    const ike::IkeSa& a = sa(h.a());
    const ike::IkeSa& b = sa(h.b());
    EXPECT_EQ(a.local(), (Endpoint{ip("10.99.0.11"), 4500}));
    EXPECT_EQ(b.remote(), (Endpoint{ip("10.99.0.11"), 4500}));
    EXPECT_FALSE(a.mobike().pending);
    // The update as RFC 4555 §3.5 writes it, and its answer (§3.7 COOKIE2 echoed, §3.8 NAT-D).
    EXPECT_EQ(h.a().count({.sent = true,
                           .exchange = ExchangeType::kInformational,
                           .response = false,
                           .payloads = "N(UPD_SA_ADDR) N(NATD_S_IP) N(NATD_D_IP) N(COOKIE2) "
                                       "N(NO_ADD_ADDR)",
                           .since = since_a}),
              1U);
    EXPECT_EQ(h.a().count({.sent = false,
                           .exchange = ExchangeType::kInformational,
                           .response = true,
                           .payloads = "N(NATD_S_IP) N(NATD_D_IP) N(COOKIE2)",
                           .since = since_a}),
              1U);
    // One UpdateSaAddresses per direction on each side, from the old to the new path.
    for (Node* n : {&h.a(), &h.b()}) {
        ASSERT_EQ(n->backend.updates.size(), 2U) << n->name;
        for (const ike::UpdateSaAddresses& u : n->backend.updates) {
            const Endpoint& moved =
                    n == &h.a() ? (u.inbound ? u.dst : u.src) : (u.inbound ? u.src : u.dst);
            EXPECT_EQ(moved, (Endpoint{ip("10.99.0.11"), 4500})) << n->name;
            EXPECT_FALSE(u.udp_encap);
        }
    }
    EXPECT_EQ(h.b().manager.counters().mobike_updates, 1U);
    EXPECT_EQ(h.b().manager.counters().mobike_refused, 0U);
    expect_settled();
    // The moved SAs keep working: a Child SA rekey on the new path, installed there.
    const std::uint32_t child = a.children().front()->id;
    h.act(h.a(), [&](ike::Step& s) { ASSERT_TRUE(h.a().manager.rekey_child(child, s)); });
    h.run_for(std::chrono::seconds(5));
    EXPECT_EQ(h.a().count(EventKind::kChildRekeyed), 1U);
    expect_settled();
}

TEST_F(MobikeTest, NatAppearsOnTheNewPathAndGoesAgain) {
    start();
    h.nat_a(ip("10.99.100.1"));
    roam("10.99.0.12");
    h.run_for(std::chrono::seconds(5));
    EXPECT_TRUE(sa(h.a()).nat_here());
    EXPECT_TRUE(sa(h.b()).nat_there());
    EXPECT_TRUE(sa(h.a()).udp_encap());
    EXPECT_EQ(sa(h.b()).remote().address, ip("10.99.100.1"));  // the NAT's, from the IP header
    for (Node* n : {&h.a(), &h.b()}) {
        for (const auto& [key, in] : n->backend.sas) {
            EXPECT_TRUE(in.udp_encap) << n->name;
        }
    }
    expect_settled();
    h.no_nat_a();
    roam("10.99.0.13");
    h.run_for(std::chrono::seconds(5));
    EXPECT_FALSE(sa(h.a()).nat_here());
    EXPECT_FALSE(sa(h.b()).nat_there());
    EXPECT_EQ(sa(h.b()).remote(), (Endpoint{ip("10.99.0.13"), 4500}));
    for (Node* n : {&h.a(), &h.b()}) {
        for (const auto& [key, in] : n->backend.sas) {
            EXPECT_FALSE(in.udp_encap) << n->name;
        }
    }
    expect_settled();
}

TEST_F(MobikeTest, UpdateLostIsRetransmittedOnTheNewPath) {
    start();
    // The first update goes from 10.99.0.11; before its answer a moves on to 10.99.0.12: the
    // retransmission leaves from there (§3.5) and a fresh update follows for the newest path.
    int updates = 0;
    h.drop = [&](const Datagram& d) {
        const bool update = d.from_a && d.data.size() > 28 && d.data[18] == 37 &&
                            (d.data[19] & wire::kFlagResponse) == 0;
        return update && ++updates == 1;
    };
    roam("10.99.0.11");
    h.run_for(std::chrono::milliseconds(100));
    roam("10.99.0.12");
    h.run_for(std::chrono::seconds(30));
    const auto sent = h.sent_by(h.a(), ExchangeType::kInformational, false);
    ASSERT_GE(sent.size(), 3U);  // lost, its retransmission, the newer update
    EXPECT_EQ(sent[0].src.address, ip("10.99.0.11"));
    for (std::size_t i = 1; i < sent.size(); ++i) {
        EXPECT_EQ(sent[i].src.address, ip("10.99.0.12")) << i;
    }
    EXPECT_EQ(sa(h.b()).remote(), (Endpoint{ip("10.99.0.12"), 4500}));
    expect_settled();
}

TEST_F(MobikeTest, NoPathWaitsForALaterChange) {
    start();
    h.move(h.a(), ip("10.99.0.11"));
    h.a().route_source.reset();  // no route to the peer at all
    h.act(h.a(), [&](ike::Step& s) { h.a().manager.on_local_addresses({ip("10.99.0.11")}, s); });
    h.run_for(std::chrono::seconds(2));
    EXPECT_EQ(h.a().count({.sent = true, .notify = NotifyType::kUpdateSaAddresses}), 0U);
    h.a().route_source = ip("10.99.0.11");
    h.act(h.a(), [&](ike::Step& s) { h.a().manager.on_local_addresses({ip("10.99.0.11")}, s); });
    h.run_for(std::chrono::seconds(5));
    EXPECT_EQ(h.a().count({.sent = true, .notify = NotifyType::kUpdateSaAddresses}), 1U);
    expect_settled();
}

TEST_F(MobikeTest, AdditionalAddressesAreStoredAndUsedWhenThePeersHasNoRoute) {
    // b announces a second address in IKE_AUTH (§3.4); a announces its own in the update (§3.6).
    h.act(h.b(), [&](ike::Step& s) {
        h.b().manager.on_local_addresses({ip("10.99.0.2"), ip("10.99.0.22")}, s);
    });
    start();
    EXPECT_EQ(sa(h.a()).mobike().peer_addresses, std::vector<IpAddress>{ip("10.99.0.22")});
    roam("10.99.0.11", {ip("10.99.0.31")});
    h.run_for(std::chrono::seconds(5));
    EXPECT_EQ(h.a().count({.sent = true, .notify = NotifyType::kAdditionalIp4Address}), 1U);
    EXPECT_EQ(sa(h.b()).mobike().peer_addresses, std::vector<IpAddress>{ip("10.99.0.31")});
    expect_settled();
    // No route to b's current address, one to its additional address: the update goes there.
    h.a().manager.set_source_lookup([](const IpAddress& peer) -> std::optional<IpAddress> {
        return peer == ip("10.99.0.22") ? std::optional<IpAddress>(ip("10.99.0.11")) : std::nullopt;
    });
    h.act(h.a(), [&](ike::Step& s) { h.a().manager.on_local_addresses({ip("10.99.0.11")}, s); });
    EXPECT_EQ(sa(h.a()).remote(), (Endpoint{ip("10.99.0.22"), 4500}));
    ASSERT_FALSE(h.sent.empty());
    EXPECT_EQ(h.sent.back().dst, (Endpoint{ip("10.99.0.22"), 4500}));
}

/// RFC 4555 §3.8: the host not behind a NAT does not follow the peer's IKE messages from a
/// new address (the RFC 7296 §2.23 rule); without MOBIKE it does.
class MobikeFollow : public MobikeTest, public ::testing::WithParamInterface<bool> {};

TEST_P(MobikeFollow, OldNatFollowDoesNotMoveAMobikeSa) {
    const bool mobike = GetParam();
    cfg.a.mobike = mobike;
    cfg.b.mobike = mobike;
    h.nat_a(ip("10.99.100.1"));
    start();
    const Endpoint before = sa(h.b()).remote();
    EXPECT_EQ(before.address, ip("10.99.100.1"));
    // The NAT restarts with another public address; a's next request arrives from there.
    h.no_nat_a();
    h.nat_a(ip("10.99.100.2"));
    const std::uint32_t child = sa(h.a()).children().front()->id;
    h.act(h.a(), [&](ike::Step& s) { ASSERT_TRUE(h.a().manager.rekey_child(child, s)); });
    h.run_for(std::chrono::milliseconds(50));
    EXPECT_EQ(sa(h.b()).remote().address, mobike ? ip("10.99.100.1") : ip("10.99.100.2"));
}

INSTANTIATE_TEST_SUITE_P(WithAndWithout, MobikeFollow, ::testing::Bool(),
                         [](const auto& i) { return i.param ? "Mobike" : "NoMobike"; });

TEST_F(MobikeTest, ResponderRefusesAnAddressOutsideRemoteAddrs) {
    cfg.b.remote_addrs = {ip("10.99.0.1")};
    start();
    roam("10.99.0.11");
    h.run_for(std::chrono::seconds(5));
    // UNACCEPTABLE_ADDRESSES, sent back the way the request came; nobody moves a Child SA.
    EXPECT_EQ(h.b().count({.sent = true, .notify = NotifyType::kUnacceptableAddresses}), 1U);
    EXPECT_EQ(h.a().count({.sent = false, .notify = NotifyType::kUnacceptableAddresses}), 1U);
    EXPECT_EQ(h.b().manager.counters().mobike_refused, 1U);
    EXPECT_EQ(sa(h.b()).remote().address, ip("10.99.0.1"));
    EXPECT_TRUE(h.b().backend.updates.empty());
    EXPECT_TRUE(h.a().backend.updates.empty());
}

}  // namespace
}  // namespace ikeplex::test
