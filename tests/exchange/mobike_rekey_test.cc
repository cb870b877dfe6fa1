// MOBIKE (RFC 4555) address updates colliding with rekeys, in both orders and both roles: a
// Child SA rekey or an IKE rekey under way when the initiator moves, one started while the
// update is under way, the responder's rekey crossing the update; and an IKE SA made by an IKE
// rekey keeps MOBIKE and moves again.
#include "mobike_fixture.h"

namespace ikeplex::test {
namespace {

using ike::EventKind;
using wire::ExchangeType;
using wire::NotifyType;

TEST_F(MobikeTest, ChildRekeyUnderWayWhenTheInitiatorMoves) {
    start();
    // a's rekey request is in flight from the old address; b's answer goes back there and is
    // lost; the retransmission leaves from the new address, then the update follows.
    const std::uint32_t child = sa(h.a()).children().front()->id;
    h.act(h.a(), [&](ike::Step& s) { ASSERT_TRUE(h.a().manager.rekey_child(child, s)); });
    roam("10.99.0.11");
    h.run_for(std::chrono::seconds(30));
    EXPECT_EQ(h.a().count(EventKind::kChildRekeyed), 1U);
    EXPECT_EQ(sa(h.b()).remote(), (Endpoint{ip("10.99.0.11"), 4500}));
    EXPECT_EQ(sa(h.a()).children().size(), 1U);
    expect_settled();
}

TEST_F(MobikeTest, ChildRekeyStartedWhileTheUpdateIsUnderWay) {
    start();
    roam("10.99.0.11");  // the update is sent
    const std::uint32_t child = sa(h.a()).children().front()->id;
    // Window 1: the rekey waits for the update's answer, then installs on the new path.
    h.act(h.a(), [&](ike::Step& s) { ASSERT_TRUE(h.a().manager.rekey_child(child, s)); });
    h.run_for(std::chrono::seconds(10));
    EXPECT_EQ(h.a().count(EventKind::kChildRekeyed), 1U);
    expect_settled();
}

TEST_F(MobikeTest, ResponderChildRekeyCrossesTheUpdate) {
    start();
    // b rekeys towards a's old address at the moment a moves: b's request is lost, its
    // retransmission goes to the address the update gave.
    const std::uint32_t child = sa(h.b()).children().front()->id;
    h.act(h.b(), [&](ike::Step& s) { ASSERT_TRUE(h.b().manager.rekey_child(child, s)); });
    roam("10.99.0.11");
    h.run_for(std::chrono::seconds(30));
    EXPECT_EQ(h.b().count(EventKind::kChildRekeyed), 1U);
    expect_settled();
}

TEST_F(MobikeTest, ResponderChildRekeyBeforeTheUpdateArrivesIsMovedToo) {
    start();
    // b's rekey completes on the old path; then a moves: the new Child SA (installed with the
    // old endpoints) moves with the update like the others.
    const std::uint32_t child = sa(h.b()).children().front()->id;
    h.act(h.b(), [&](ike::Step& s) { ASSERT_TRUE(h.b().manager.rekey_child(child, s)); });
    h.run_for(std::chrono::seconds(5));
    ASSERT_EQ(h.b().count(EventKind::kChildRekeyed), 1U);
    roam("10.99.0.11");
    h.run_for(std::chrono::seconds(5));
    EXPECT_EQ(h.a().backend.updates.size(), 2U);
    expect_settled();
}

TEST_F(MobikeTest, IkeRekeyUnderWayWhenTheInitiatorMoves) {
    start();
    const std::uint32_t old_id = sa(h.a()).id();
    h.act(h.a(), [&](ike::Step& s) { ASSERT_TRUE(h.a().manager.rekey_ike(old_id, s)); });
    roam("10.99.0.11");
    h.run_for(std::chrono::seconds(30));
    EXPECT_EQ(h.a().count(EventKind::kIkeRekeyed), 1U);
    const ike::IkeSa& a = sa(h.a());
    EXPECT_NE(a.id(), old_id);
    // The new IKE SA took the new path and MOBIKE; the update went on it.
    EXPECT_TRUE(a.mobike().on);
    EXPECT_TRUE(a.mobike().mover);
    EXPECT_FALSE(a.mobike().pending);
    EXPECT_EQ(a.local(), (Endpoint{ip("10.99.0.11"), 4500}));
    EXPECT_EQ(sa(h.b()).remote(), (Endpoint{ip("10.99.0.11"), 4500}));
    expect_settled();
}

TEST_F(MobikeTest, ResponderIkeRekeyCrossesTheUpdate) {
    start();
    // b rekeys the IKE SA (it becomes the new IKE SA's initiator) as a moves: a still moves
    // it, being the side that started the first one.
    const std::uint32_t id = sa(h.b()).id();
    h.act(h.b(), [&](ike::Step& s) { ASSERT_TRUE(h.b().manager.rekey_ike(id, s)); });
    roam("10.99.0.11");
    h.run_for(std::chrono::seconds(30));
    EXPECT_EQ(h.b().count(EventKind::kIkeRekeyed), 1U);
    EXPECT_TRUE(sa(h.a()).mobike().mover);
    EXPECT_FALSE(sa(h.b()).mobike().mover);
    EXPECT_EQ(sa(h.b()).remote().address, ip("10.99.0.11"));
    expect_settled();
}

TEST_F(MobikeTest, IkeRekeyAfterTheUpdateKeepsMobikeAndMovesAgain) {
    start();
    roam("10.99.0.11");
    h.run_for(std::chrono::seconds(5));
    const std::uint32_t id = sa(h.b()).id();
    h.act(h.b(), [&](ike::Step& s) { ASSERT_TRUE(h.b().manager.rekey_ike(id, s)); });
    h.run_for(std::chrono::seconds(5));
    ASSERT_EQ(h.b().count(EventKind::kIkeRekeyed), 1U);
    EXPECT_TRUE(sa(h.b()).mobike().on);
    EXPECT_EQ(sa(h.b()).remote(), (Endpoint{ip("10.99.0.11"), 4500}));
    roam("10.99.0.12");
    h.run_for(std::chrono::seconds(5));
    EXPECT_EQ(sa(h.b()).remote(), (Endpoint{ip("10.99.0.12"), 4500}));
    EXPECT_EQ(h.b().manager.counters().mobike_updates, 2U);
    expect_settled();
}

}  // namespace
}  // namespace ikeplex::test
