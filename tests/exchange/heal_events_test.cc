// Heal events (issue 19): each heal of manager_heal.cc tells operators what it did (event
// kHeal, VICI ike-heal): restart, retry (with the attempt and the wait), trap, give-up; and an
// IKE SA rekey the peer refuses ends in kIkeRekeyFailed (a waiting `ikeplex rekey` fails).
#include "flow_fixture.h"

namespace ikeplex::test {
namespace {

using ike::EventKind;

class HealEvents : public FlowTest {
protected:
    HealEvents() : FlowTest(quick_heal_settings()) {}

    /// The kHeal events of `n`, in order.
    static std::vector<ike::Event> heals(Node& n) {
        std::vector<ike::Event> out;
        for (const ike::Event& e : n.events) {
            if (e.kind == EventKind::kHeal) {
                out.push_back(e);
            }
        }
        return out;
    }
};

TEST_P(HealEvents, RetriesThenGiveUp) {
    ini_cfg().keyingtries = 3;
    load_psk();
    h.drop = [](const Datagram&) { return true; };
    initiate();
    h.run_for(std::chrono::minutes(5));
    const auto ev = heals(ini());
    ASSERT_EQ(ev.size(), 3U);
    for (std::size_t k = 0; k < 2; ++k) {
        EXPECT_EQ(ev[k].reason, "retry");
        EXPECT_EQ(ev[k].conn, "conn");
        EXPECT_EQ(ev[k].attempt, k + 1);
        const Duration base = std::chrono::seconds(1 << k);
        EXPECT_GE(ev[k].next_in, base);
        EXPECT_LE(ev[k].next_in, base + base / 2);
    }
    EXPECT_EQ(ev[2].reason, "give-up");
    EXPECT_EQ(ev[2].attempt, 3U);
    // Each failure (ike-failed) comes before the heal it causes, in the same step.
    std::size_t failed = 0;
    for (const ike::Event& e : ini().events) {
        failed += e.kind == EventKind::kIkeFailed ? 1 : 0;
        if (e.kind == EventKind::kHeal) {
            EXPECT_EQ(failed, e.attempt);
        }
    }
}

TEST_P(HealEvents, DpdRestartAndTrap) {
    ini_cfg().dpd_delay = std::chrono::seconds(10);
    ini_cfg().keyingtries = 1;
    ini_cfg().children.front().dpd_action = ike::DpdAction::kRestart;
    load_psk();
    initiate();
    ASSERT_TRUE(up());
    h.drop = [](const Datagram&) { return true; };
    ASSERT_TRUE(h.run_until([&] { return !heals(ini()).empty(); }, std::chrono::minutes(2)));
    auto ev = heals(ini());
    EXPECT_EQ(ev[0].reason, "restart");
    EXPECT_EQ(ev[0].attempt, 1U);
    EXPECT_NE(ev[0].ike_id, 0U);  // the new attempt's IKE SA
    EXPECT_NE(ini().manager.sa(ev[0].ike_id), nullptr);
    h.run_for(std::chrono::minutes(1));
    ev = heals(ini());
    ASSERT_EQ(ev.size(), 2U);
    EXPECT_EQ(ev[1].reason, "give-up");  // keyingtries = 1
    EXPECT_EQ(res().manager.counters().restarts, 0U);
    EXPECT_TRUE(heals(res()).empty());
}

TEST_P(HealEvents, CloseActionTrapOnAChildSa) {
    ini_cfg().children.front().close_action = ike::CloseAction::kTrap;
    load_psk();
    initiate();
    ASSERT_TRUE(up());
    h.act(res(), [&](ike::Step& s) {
        ASSERT_TRUE(res().manager.terminate_child(installed(res()).front(), s));
    });
    settle();
    const auto ev = heals(ini());
    ASSERT_EQ(ev.size(), 1U);
    EXPECT_EQ(ev[0].reason, "trap");
    EXPECT_EQ(ev[0].conn, "conn");
    EXPECT_EQ(ev[0].name, "net");
}

TEST_P(HealEvents, RefusedIkeRekeyIsReported) {
    load_psk();
    initiate();
    ASSERT_TRUE(up());
    // The responder answers the IKE rekey with NO_PROPOSAL_CHOSEN: its IKE SA now holds a
    // configuration without a proposal in common.
    res_cfg().ike_proposals =
            *ike::parse_proposals("aes256-sha512-modp4096", wire::ProtocolId::kIke);
    res().manager.load({res_cfg()});
    res().manager.find(only_sa(res()).id())->set_config(res().manager.configs().find("conn"));
    const std::uint32_t id = only_sa(ini()).id();
    h.act(ini(), [&](ike::Step& s) { ASSERT_TRUE(ini().manager.rekey_ike(id, s)); });
    settle();
    EXPECT_EQ(ini().count(EventKind::kIkeRekeyFailed), 1U);
    EXPECT_EQ(ini().count(EventKind::kIkeRekeyed), 0U);
    EXPECT_NE(ini().manager.sa(id), nullptr);  // the IKE SA stays
}

INSTANTIATE_TEST_SUITE_P(Roles, HealEvents, ::testing::Bool(), role_name);

}  // namespace
}  // namespace ikeplex::test
