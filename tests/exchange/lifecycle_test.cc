// Deleting (either side, Child and IKE SAs), liveness checks, the loss of every single
// message of a whole life cycle, INITIAL_CONTACT after a reboot, and half-open limits.
#include "flow_fixture.h"
#include "wire/message.h"

namespace ikeplex::test {
namespace {

using ike::EventKind;

class Lifecycle : public FlowTest {
protected:
    void establish() {
        load_psk();
        initiate();
        ASSERT_TRUE(up());
    }

    /// RFC 7296 §2.1 as configured by default: a request and 5 retransmits of it (the same
    /// message ID), 4 s after the first and each wait 1.8 times the one before; the IKE SA is
    /// given up the last wait after the last one (`gone`: when the node's event said so).
    static void expect_given_up(const std::vector<Datagram>& sent, TimePoint gone) {
        ASSERT_EQ(sent.size(), 6U);
        const auto mid = wire::peek_header(sent.front().data)->message_id;
        double wait = 4000;
        for (std::size_t k = 1; k < sent.size(); ++k) {
            EXPECT_EQ(wire::peek_header(sent[k].data)->message_id, mid) << "retransmit " << k;
            EXPECT_EQ((sent[k].at - sent[k - 1].at).count(), static_cast<std::int64_t>(wait))
                    << "retransmit " << k;
            wait *= 1.8;
        }
        EXPECT_EQ((gone - sent.back().at).count(), static_cast<std::int64_t>(wait));
    }
};

TEST_P(Lifecycle, ChildSaDeletedByEitherSide) {
    establish();
    for (bool by_initiator : {true, false}) {
        Node& n = by_initiator ? ini() : res();
        if (installed(n).empty()) {
            h.act(ini(),
                  [&](ike::Step& s) { ASSERT_TRUE(ini().manager.initiate("conn", "net", s)); });
            settle();
        }
        ASSERT_EQ(installed(n).size(), 1U);
        h.act(n, [&](ike::Step& s) {
            ASSERT_TRUE(n.manager.terminate_child(installed(n).front(), s));
        });
        settle();
        EXPECT_TRUE(installed(ini()).empty());
        EXPECT_TRUE(installed(res()).empty());
        EXPECT_TRUE(ini().backend.sas.empty());
        EXPECT_TRUE(res().backend.sas.empty());
        EXPECT_TRUE(ini().backend.policies.empty());
        EXPECT_EQ(only_sa(ini()).state(), ike::IkeState::kEstablished);
        expect_consistent();
    }
    EXPECT_EQ(ini().count(EventKind::kChildDown), 2U);
    EXPECT_EQ(res().count(EventKind::kChildDown), 2U);
}

TEST_P(Lifecycle, StartActionsRunAgainWithoutDuplicates) {
    // A reload (SIGHUP, swanctl --load-all) runs the start actions again: a child that is up
    // stays one Child SA, while an operator's explicit initiate may add another.
    ini_cfg().children.front().start_action = ike::StartAction::kStart;
    load_psk();
    for (int round = 0; round < 3; ++round) {
        h.act(ini(), [&](ike::Step& s) { ini().manager.start_actions(s); });
        settle();
        ASSERT_TRUE(up());
        EXPECT_EQ(installed(ini()).size(), 1U) << "round " << round;
        EXPECT_EQ(installed(res()).size(), 1U) << "round " << round;
    }
    h.act(ini(), [&](ike::Step& s) { ASSERT_TRUE(ini().manager.initiate("conn", "net", s)); });
    settle();
    EXPECT_EQ(installed(ini()).size(), 2U);
    expect_consistent();
}

TEST_P(Lifecycle, NoKeyForOurIdentityFailsTheIkeSaAtOnce) {
    // IKE_AUTH cannot be built without our shared key: the IKE SA fails right after
    // IKE_SA_INIT (an operator's initiate gets its answer) instead of hanging half-open.
    load(h, cfg, GetParam() ? ike::Credentials{} : psk_credentials(),
         GetParam() ? psk_credentials() : ike::Credentials{});
    initiate();
    h.run_for(std::chrono::milliseconds(500));  // one round trip, no retransmission
    EXPECT_EQ(ini().count(EventKind::kIkeFailed), 1U);
    EXPECT_TRUE(check_empty(ini()).empty()) << join(check_empty(ini()));
    h.run_for(std::chrono::seconds(60));  // the responder's half-open SA times out
    expect_empty();
}

TEST_P(Lifecycle, IkeSaDeletedByEitherSide) {
    for (bool by_initiator : {true, false}) {
        establish();
        Node& n = by_initiator ? ini() : res();
        h.act(n, [&](ike::Step& s) { ASSERT_TRUE(n.manager.terminate_ike(only_sa(n).id(), s)); });
        settle();
        expect_empty();
        EXPECT_EQ(ini().count(EventKind::kIkeDown), ini().count(EventKind::kIkeUp));
        EXPECT_EQ(res().count(EventKind::kIkeDown), res().count(EventKind::kIkeUp));
    }
}

TEST_P(Lifecycle, StoppingTakesNoNewIkeSa) {
    // SIGTERM: the daemon stops accepting before it deletes what it has. A peer's IKE_SA_INIT
    // then gets no answer (an SA made now would outlive the daemon without a Delete), and
    // nothing new starts here.
    load_psk();
    h.act(res(), [&](ike::Step&) { res().manager.stop_accepting(); });
    initiate();
    settle();
    EXPECT_TRUE(res().manager.sas().empty());
    EXPECT_TRUE(ini().established().empty());
    EXPECT_EQ(h.count_sent(wire::ExchangeType::kIkeSaInit, true), 0U);
    EXPECT_GE(res().manager.counters().refused_stopping, 1U);
    h.act(res(), [&](ike::Step& s) {
        auto r = res().manager.initiate("conn", "net", s);
        EXPECT_FALSE(r.has_value());
    });
}

TEST_P(Lifecycle, SimultaneousChildDeletes) {
    establish();
    const auto ci = installed(ini()).front();
    const auto cr = installed(res()).front();
    h.act(ini(), [&](ike::Step& s) { ASSERT_TRUE(ini().manager.terminate_child(ci, s)); });
    h.act(res(), [&](ike::Step& s) { ASSERT_TRUE(res().manager.terminate_child(cr, s)); });
    settle();
    EXPECT_TRUE(ini().backend.sas.empty());
    EXPECT_TRUE(res().backend.sas.empty());
    expect_consistent();
}

TEST_P(Lifecycle, SimultaneousIkeDeletes) {
    establish();
    h.act(ini(),
          [&](ike::Step& s) { ASSERT_TRUE(ini().manager.terminate_ike(only_sa(ini()).id(), s)); });
    h.act(res(),
          [&](ike::Step& s) { ASSERT_TRUE(res().manager.terminate_ike(only_sa(res()).id(), s)); });
    settle();
    expect_empty();
}

TEST_P(Lifecycle, DpdDetectsADeadPeer) {
    for (auto* p : {&cfg.a, &cfg.b}) {
        p->dpd_delay = std::chrono::seconds(30);
    }
    establish();
    h.drop = [](const Datagram&) { return true; };  // the peer vanishes
    ASSERT_TRUE(h.run_until([&] { return ini().count(EventKind::kIkeDown) == 1; },
                            std::chrono::minutes(10)));
    const TimePoint gone = h.now();
    h.run_for(std::chrono::minutes(10));
    // Both sides notice on their own (each runs DPD) and clean up completely.
    expect_empty();
    EXPECT_EQ(ini().count(EventKind::kIkeDown), 1U);
    EXPECT_EQ(res().count(EventKind::kIkeDown), 1U);
    // The initiator's DPD (an empty INFORMATIONAL request, RFC 7296 §1.4) went out with its 5
    // retransmits, and the IKE SA was given up after the last one timed out.
    const auto dpd = ini().find(
            {.sent = true, .exchange = wire::ExchangeType::kInformational, .response = false});
    ASSERT_EQ(dpd.size(), 1U);
    EXPECT_EQ(payload_summary(*dpd[0]), "");
    expect_given_up(h.sent_by(ini(), wire::ExchangeType::kInformational, false), gone);
}

TEST_P(Lifecycle, DpdKeepsALivePeer) {
    for (auto* p : {&cfg.a, &cfg.b}) {
        p->dpd_delay = std::chrono::seconds(30);
    }
    establish();
    h.run_for(std::chrono::minutes(10));
    EXPECT_EQ(ini().count(EventKind::kIkeDown), 0U);
    EXPECT_GE(h.count_sent(wire::ExchangeType::kInformational, false), 10U);
    expect_consistent();
}

TEST_P(Lifecycle, UnansweredRequestsGiveUpWithBackOff) {
    load_psk();
    h.drop = [](const Datagram&) { return true; };
    initiate();
    ASSERT_TRUE(h.run_until([&] { return ini().count(EventKind::kIkeFailed) == 1; },
                            std::chrono::minutes(5)));
    const TimePoint gone = h.now();
    h.run_for(std::chrono::minutes(5));
    // 1 + 5 retransmits, 4 s apart growing by 1.8 each time; then the SA is gone.
    EXPECT_EQ(h.count_sent(wire::ExchangeType::kIkeSaInit, false), 6U);
    expect_given_up(h.sent_by(ini(), wire::ExchangeType::kIkeSaInit, false), gone);
    EXPECT_EQ(ini().count(EventKind::kIkeFailed), 1U);
    expect_empty();
}

TEST_P(Lifecycle, InitialContactAfterARebootReplacesTheOldSa) {
    establish();
    const std::uint32_t old_id = only_sa(res()).id();
    // The initiator reboots, forgetting everything, and connects again.
    Node& fresh = h.restart(ini(), 99);
    fresh.manager.load({GetParam() ? cfg.a : cfg.b});
    fresh.manager.set_credentials(psk_credentials());
    initiate();
    ASSERT_TRUE(up());
    settle();
    EXPECT_EQ(res().manager.sas().size(), 1U);
    EXPECT_NE(only_sa(res()).id(), old_id);
    // RFC 7296 §2.4: the rebooted initiator said INITIAL_CONTACT in its IKE_AUTH request, and
    // the responder dropped the old IKE SA (with its Child SA) for it, without a Delete.
    EXPECT_EQ(fresh.count({.sent = true,
                           .exchange = wire::ExchangeType::kIkeAuth,
                           .response = false,
                           .notify = wire::NotifyType::kInitialContact}),
              1U);
    EXPECT_EQ(res().count({.sent = false,
                           .exchange = wire::ExchangeType::kIkeAuth,
                           .notify = wire::NotifyType::kInitialContact}),
              2U);  // the first IKE SA's and the new one's
    EXPECT_EQ(res().count(EventKind::kIkeDown), 1U);
    EXPECT_EQ(res().count({.sent = true, .exchange = wire::ExchangeType::kInformational}), 0U);
    EXPECT_EQ(res().backend.sas.size(), 2U);
    expect_consistent();
}

/// Runs a whole life (set-up, Child rekey, IKE rekey, new Child SA, Child delete, IKE delete)
/// with datagram `lose` dropped (none if negative). Returns the number of datagrams sent.
std::size_t life_with_one_loss(bool a_initiates, int lose, std::vector<std::string>& problems) {
    Harness h(5);
    PairConfig cfg = psk_pair();
    load(h, cfg, psk_credentials(), psk_credentials());
    h.drop = [lose](const Datagram& d) { return static_cast<int>(d.index) == lose; };
    Node& i = a_initiates ? h.a() : h.b();
    Node& r = h.peer(i);
    const auto check = [&](const char* phase) {
        h.run_for(kSettle);
        for (const std::string& p : check_consistent(h)) {
            problems.push_back(fmt::format("lost #{} after {}: {}", lose, phase, p));
        }
    };
    const auto child_of = [](Node& n) -> std::uint32_t {
        for (const ike::IkeSa* sa : n.established()) {
            for (const auto& c : sa->children()) {
                if (c->state == ike::ChildState::kInstalled) {
                    return c->id;
                }
            }
        }
        return 0;
    };
    h.act(i, [&](ike::Step& s) { (void)i.manager.initiate("conn", "net", s); });
    check("set-up");
    if (i.established().empty()) {
        // A lost IKE_SA_INIT/IKE_AUTH is retransmitted; the SA must still come up.
        problems.push_back(fmt::format("lost #{}: no IKE SA", lose));
        return h.sent.size();
    }
    h.act(i, [&](ike::Step& s) { (void)i.manager.rekey_child(child_of(i), s); });
    check("Child rekey");
    h.act(r, [&](ike::Step& s) { (void)r.manager.rekey_ike(r.established().front()->id(), s); });
    check("IKE rekey");
    h.act(r, [&](ike::Step& s) { (void)r.manager.initiate("conn", "net", s); });
    check("second Child SA");
    h.act(r, [&](ike::Step& s) { (void)r.manager.terminate_child(child_of(r), s); });
    check("Child delete");
    h.act(i,
          [&](ike::Step& s) { (void)i.manager.terminate_ike(i.established().front()->id(), s); });
    h.run_for(kSettle);
    for (Node* n : {&h.a(), &h.b()}) {
        for (const std::string& p : check_empty(*n)) {
            problems.push_back(fmt::format("lost #{} at the end: {}", lose, p));
        }
    }
    return h.sent.size();
}

TEST_P(Lifecycle, SurvivesTheLossOfEachMessage) {
    std::vector<std::string> problems;
    const std::size_t total = life_with_one_loss(GetParam(), -1, problems);
    ASSERT_TRUE(problems.empty()) << join(problems);
    // 2 each: IKE_SA_INIT, IKE_AUTH, Child rekey + delete, IKE rekey + delete, new Child
    // SA, its delete, the IKE delete.
    ASSERT_EQ(total, 18U);
    for (int k = 0; k < static_cast<int>(total); ++k) {
        life_with_one_loss(GetParam(), k, problems);
    }
    EXPECT_TRUE(problems.empty()) << join(problems);
}

TEST_P(Lifecycle, HalfOpenLimitDropsAndTimesOut) {
    ike::Settings s;
    s.cookie_threshold = 1000;
    s.cookie_threshold_ip = ike::Settings::kNoLimit;  // the global limit alone (dos_test.cc)
    s.block_threshold = ike::Settings::kNoLimit;
    s.init_limit_half_open = 3;
    Harness hh(3, s);
    PairConfig c = psk_pair();
    load(hh, c, psk_credentials(), psk_credentials());
    Node& i = GetParam() ? hh.a() : hh.b();
    Node& r = hh.peer(i);
    hh.drop = [](const Datagram&) { return true; };  // capture the initiator's request only
    hh.act(i, [&](ike::Step& st) { (void)i.manager.initiate("conn", "net", st); });
    ASSERT_FALSE(hh.sent.empty());
    Datagram req = hh.sent.front();
    // Replay it with ten different initiator SPIs straight into the responder.
    for (std::uint8_t k = 1; k <= 10; ++k) {
        Bytes d = req.data;
        d[7] = static_cast<std::uint8_t>(d[7] ^ k);
        hh.act(r, [&](ike::Step& st) { r.manager.on_datagram(d, req.dst, req.src, st); });
    }
    EXPECT_EQ(r.manager.half_open(), 3U);
    EXPECT_EQ(r.manager.counters().half_open_dropped, 7U);
    hh.run_for(std::chrono::seconds(31));
    EXPECT_EQ(r.manager.half_open(), 0U);
    EXPECT_TRUE(r.manager.sas().empty());
}

TEST_P(Lifecycle, CookiesAboveTheThreshold) {
    ike::Settings s;
    s.cookie_threshold = 2;
    Harness hh(4, s);
    PairConfig c = psk_pair();
    load(hh, c, psk_credentials(), psk_credentials());
    Node& i = GetParam() ? hh.a() : hh.b();
    Node& r = hh.peer(i);
    hh.drop = [](const Datagram&) { return true; };
    hh.act(i, [&](ike::Step& st) { (void)i.manager.initiate("conn", "net", st); });
    Datagram req = hh.sent.front();
    for (std::uint8_t k = 1; k <= 6; ++k) {
        Bytes d = req.data;
        d[7] = static_cast<std::uint8_t>(d[7] ^ k);
        hh.act(r, [&](ike::Step& st) { r.manager.on_datagram(d, req.dst, req.src, st); });
    }
    EXPECT_EQ(r.manager.half_open(), 2U);
    EXPECT_EQ(r.manager.counters().cookies_sent, 4U);
    // The real initiator, answered with a COOKIE, comes back with it and gets through.
    hh.drop = nullptr;
    hh.run_for(std::chrono::seconds(40));  // the fake half-open SAs time out meanwhile
    EXPECT_TRUE(hh.run_until([&] { return !i.established().empty(); }, std::chrono::seconds(60)));
}

INSTANTIATE_TEST_SUITE_P(Roles, Lifecycle, ::testing::Bool(), role_name);

}  // namespace
}  // namespace ikeplex::test
