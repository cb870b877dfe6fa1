// Every combination of start_action, dpd_action and close_action (issue 19) against each way a
// tunnel can end without an operator: the peer dies (and comes back later), deletes the IKE
// SA, deletes the Child SA, or reboots and comes back with INITIAL_CONTACT. The side under
// test ("us") has the actions, dpd_delay and keyingtries = 0; the peer has none of them (so
// only our side acts). What must hold afterwards is derived from strongSwan's meaning of the
// keys (docs/config.md, "Tunnels that heal themselves").
#include <tuple>

#include "flow_fixture.h"

namespace ikeplex::test {
namespace {

using ike::CloseAction;
using ike::DpdAction;
using ike::StartAction;

enum class Fault : std::uint8_t { kDies, kDeletesIke, kDeletesChild, kReboots };

using Combination = std::tuple<StartAction, DpdAction, CloseAction, Fault>;

std::string name_of(const ::testing::TestParamInfo<Combination>& info) {
    static constexpr const char* kStart[] = {"none", "trap", "start", "trapstart"};
    static constexpr const char* kDpd[] = {"clear", "trap", "restart"};
    static constexpr const char* kClose[] = {"none", "trap", "start"};
    static constexpr const char* kFault[] = {"dies", "deletes_ike", "deletes_child", "reboots"};
    const auto [s, d, c, f] = info.param;
    return fmt::format("start_{}_dpd_{}_close_{}_peer_{}", kStart[static_cast<int>(s)],
                       kDpd[static_cast<int>(d)], kClose[static_cast<int>(c)],
                       kFault[static_cast<int>(f)]);
}

class HealMatrix : public ::testing::TestWithParam<Combination> {
protected:
    HealMatrix() : h_(11, quick_heal_settings(), quick_heal_settings()) {}

    Node& us() { return h_.a(); }
    Node& peer() { return h_.b(); }

    [[nodiscard]] std::size_t installed(Node& n) const {
        std::size_t k = 0;
        for (const ike::IkeSa* sa : n.established()) {
            for (const auto& c : sa->children()) {
                k += c->state == ike::ChildState::kInstalled ? 1U : 0U;
            }
        }
        return k;
    }

    static bool has_trap(Node& n) {
        return std::any_of(n.backend.policies.begin(), n.backend.policies.end(),
                           [](const auto& p) { return p.second.trap; });
    }

    Harness h_;
    PairConfig cfg_ = psk_pair();
};

TEST_P(HealMatrix, OutcomeFollowsTheActions) {
    const auto [start, dpd, close, fault] = GetParam();
    ike::ChildConfig& child = cfg_.a.children.front();
    child.start_action = start;
    child.dpd_action = dpd;
    child.close_action = close;
    cfg_.a.dpd_delay = std::chrono::seconds(10);
    cfg_.a.keyingtries = 0;
    load(h_, cfg_, psk_credentials(), psk_credentials());
    h_.act(us(), [&](ike::Step& s) { us().manager.start_actions(s); });
    if (!ike::starts(start)) {
        h_.act(us(), [&](ike::Step& s) { ASSERT_TRUE(us().manager.initiate("conn", "net", s)); });
    }
    ASSERT_TRUE(h_.run_until([&] { return installed(us()) == 1 && installed(peer()) == 1; },
                             std::chrono::seconds(30)));
    const std::uint32_t first = us().established().front()->id();

    switch (fault) {
        case Fault::kDies:  // gone for 2 minutes (DPD gives up after 17 s), then back
            h_.drop = [](const Datagram&) { return true; };
            h_.run_for(std::chrono::minutes(2));
            h_.drop = nullptr;
            break;
        case Fault::kDeletesIke:
            h_.act(peer(), [&](ike::Step& s) {
                ASSERT_TRUE(peer().manager.terminate_ike(peer().established().front()->id(), s));
            });
            break;
        case Fault::kDeletesChild:
            h_.act(peer(), [&](ike::Step& s) {
                const auto& c = peer().established().front()->children().front();
                ASSERT_TRUE(peer().manager.terminate_child(c->id, s));
            });
            break;
        case Fault::kReboots: {
            Node& fresh = h_.restart(peer(), 99);
            fresh.manager.load({cfg_.b});
            fresh.manager.set_credentials(psk_credentials());
            h_.act(fresh,
                   [&](ike::Step& s) { ASSERT_TRUE(fresh.manager.initiate("conn", "net", s)); });
            break;
        }
    }
    h_.run_for(std::chrono::minutes(2));

    // What each key says (the peer's own side is not under test, except that no duplicate is
    // left where both hold the tunnel).
    bool tunnel = false;     // our IKE SA with its Child SA
    bool ike_only = false;   // our IKE SA without a Child SA
    bool trap = false;       // a trap policy (the first packet brings the tunnel back)
    bool restarted = false;  // counted as a restart
    switch (fault) {
        case Fault::kDies:
            tunnel = restarted = dpd == DpdAction::kRestart;
            trap = dpd == DpdAction::kTrap;
            break;
        case Fault::kDeletesIke:
            tunnel = restarted = close == CloseAction::kStart;
            trap = close == CloseAction::kTrap;
            break;
        case Fault::kDeletesChild:
            tunnel = restarted = close == CloseAction::kStart;
            ike_only = !tunnel;
            trap = close == CloseAction::kTrap;
            break;
        case Fault::kReboots:
            tunnel = true;  // the peer's new IKE SA replaced ours (INITIAL_CONTACT)
            break;
    }
    trap = trap || ike::traps(start);  // start_action's trap policy outlives every SA

    const auto sas = us().established();
    if (tunnel) {
        ASSERT_EQ(sas.size(), 1U);
        EXPECT_EQ(us().manager.sas().size(), 1U);
        EXPECT_EQ(installed(us()), 1U);
        EXPECT_EQ(installed(peer()), 1U);
        EXPECT_EQ(peer().established().size(), 1U);  // no duplicate
        if (fault != Fault::kDeletesChild) {
            EXPECT_NE(sas.front()->id(), first);  // a new IKE SA
        } else {
            EXPECT_EQ(sas.front()->id(), first);  // the Child SA again, on the same IKE SA
        }
        const auto problems = check_consistent(h_);
        EXPECT_TRUE(problems.empty()) << join(problems);
    } else if (ike_only) {
        ASSERT_EQ(sas.size(), 1U);
        EXPECT_EQ(installed(us()), 0U);
    } else {
        EXPECT_TRUE(us().manager.sas().empty());
        EXPECT_TRUE(us().backend.sas.empty());
    }
    if (installed(us()) == 0) {
        EXPECT_EQ(has_trap(us()), trap);
    }
    EXPECT_EQ(us().manager.counters().restarts, restarted ? 1U : 0U);
    EXPECT_TRUE(us().manager.pending_restarts().empty());
    EXPECT_TRUE(us().backend.errors.empty()) << join(us().backend.errors);
}

INSTANTIATE_TEST_SUITE_P(
        Actions, HealMatrix,
        ::testing::Combine(
                ::testing::Values(StartAction::kNone, StartAction::kTrap, StartAction::kStart,
                                  StartAction::kTrapStart),
                ::testing::Values(DpdAction::kClear, DpdAction::kTrap, DpdAction::kRestart),
                ::testing::Values(CloseAction::kNone, CloseAction::kTrap, CloseAction::kStart),
                ::testing::Values(Fault::kDies, Fault::kDeletesIke, Fault::kDeletesChild,
                                  Fault::kReboots)),
        name_of);

}  // namespace
}  // namespace ikeplex::test
