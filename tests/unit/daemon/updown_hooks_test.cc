// When updown scripts run (daemon/updown_hooks.h), fed with the engine's events call by call
// as the daemon feeds them (exchange harness, virtual time): one up and one down per Child SA,
// nothing for rekeys of the Child SA or its IKE SA (also simultaneous ones, both outcomes), and
// the down carries the SPIs and IKE SA id the SA has when it goes.
#include "daemon/updown_hooks.h"

#include <map>
#include <memory>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "exchange_harness.h"

namespace ikeplex::test {
namespace {

constexpr Duration kSettle = std::chrono::seconds(240);

struct ScriptRun {
    bool up{false};
    std::uint32_t ike{0};
    std::uint32_t child{0};
    std::uint32_t spi_in{0};
    std::uint32_t spi_out{0};
};

class UpdownHooksTest : public ::testing::Test {
protected:
    /// Loads the pair with an updown command on both sides and feeds each node's events to
    /// its hooks; then sets up the IKE SA with its Child SA from `initiator`.
    void start(Harness& h, Node& initiator) {
        cfg = psk_pair();
        cfg.a.children.front().updown = "/bin/true";
        cfg.b.children.front().updown = "/bin/true";
        load(h, cfg, psk_credentials(), psk_credentials());
        for (Node* n : {&h.a(), &h.b()}) {
            hooks[n] = std::make_unique<daemon::UpdownHooks>(n->manager, [this,
                                                                          n](const daemon::UpdownSa&
                                                                                     sa,
                                                                             bool up) {
                runs[n].push_back(ScriptRun{up, sa.ike_id, sa.child_id, sa.spi_in, sa.spi_out});
            });
        }
        h.on_events = [this](Node& n, const std::vector<ike::Event>& events) {
            for (const ike::Event& e : events) {
                hooks[&n]->on_event(e);
            }
        };
        h.act(initiator,
              [&](ike::Step& s) { ASSERT_TRUE(initiator.manager.initiate("conn", "net", s)); });
        ASSERT_TRUE(h.run_until([&] { return child(h.a()) != nullptr && child(h.b()) != nullptr; },
                                std::chrono::seconds(60)));
    }

    /// The installed Child SA of a node's only established IKE SA.
    static const ike::ChildSa* child(const Node& n) {
        const auto est = n.established();
        if (est.size() != 1) {
            return nullptr;
        }
        for (const auto& c : est.front()->children()) {
            if (c->state == ike::ChildState::kInstalled) {
                return c.get();
            }
        }
        return nullptr;
    }

    /// Terminates the IKE SA and checks each side ran exactly one up and then one down, the
    /// down with the SPIs and IKE SA id the Child SA had last.
    void terminate_and_check(Harness& h, const std::string& what) {
        std::map<Node*, ScriptRun> last;
        for (Node* n : {&h.a(), &h.b()}) {
            const ike::ChildSa* c = child(*n);
            ASSERT_NE(c, nullptr) << what;
            last[n] = ScriptRun{false, n->established().front()->id(), c->id, c->spi_in.value(),
                                c->spi_out.value()};
        }
        h.act(h.a(), [&](ike::Step& s) {
            ASSERT_TRUE(h.a().manager.terminate_ike(h.a().established().front()->id(), s));
        });
        h.run_for(kSettle);
        for (Node* n : {&h.a(), &h.b()}) {
            const auto& r = runs[n];
            ASSERT_EQ(r.size(), 2U) << what << " " << n->name;
            EXPECT_TRUE(r[0].up) << what << " " << n->name;
            EXPECT_FALSE(r[1].up) << what << " " << n->name;
            EXPECT_EQ(r[1].ike, last[n].ike) << what << " " << n->name;
            EXPECT_EQ(r[1].child, last[n].child) << what << " " << n->name;
            EXPECT_EQ(r[1].spi_in, last[n].spi_in) << what << " " << n->name;
            EXPECT_EQ(r[1].spi_out, last[n].spi_out) << what << " " << n->name;
            EXPECT_EQ(hooks[n]->up_count(), 0U) << what << " " << n->name;
        }
    }

    PairConfig cfg;
    std::map<Node*, std::unique_ptr<daemon::UpdownHooks>> hooks;
    std::map<Node*, std::vector<ScriptRun>> runs;
};

TEST_F(UpdownHooksTest, UpThenDownAndNothingForRekeysOfEitherKind) {
    Harness h;
    start(h, h.a());
    for (Node* n : {&h.a(), &h.b()}) {
        ASSERT_EQ(runs[n].size(), 1U) << n->name;
        EXPECT_TRUE(runs[n][0].up);
        EXPECT_EQ(runs[n][0].spi_in, child(*n)->spi_in.value());
    }
    // Child SA rekeys from either side, then an IKE SA rekey (the Child SA moves over).
    for (Node* n : {&h.a(), &h.b()}) {
        const std::uint32_t id = child(*n)->id;
        h.act(*n, [&](ike::Step& s) { ASSERT_TRUE(n->manager.rekey_child(id, s)); });
        h.run_for(kSettle);
    }
    const std::uint32_t ike = h.b().established().front()->id();
    h.act(h.b(), [&](ike::Step& s) { ASSERT_TRUE(h.b().manager.rekey_ike(ike, s)); });
    h.run_for(kSettle);
    ASSERT_NE(h.b().established().front()->id(), ike);
    for (Node* n : {&h.a(), &h.b()}) {
        EXPECT_EQ(runs[n].size(), 1U) << n->name << ": a rekey runs nothing";
    }
    terminate_and_check(h, "rekeys");
}

TEST_F(UpdownHooksTest, SimultaneousChildRekeysRunNothing) {
    for (std::uint64_t seed = 1; seed <= 12; ++seed) {
        hooks.clear();
        runs.clear();
        Harness h(seed);
        start(h, h.a());
        const std::uint32_t ca = child(h.a())->id;
        const std::uint32_t cb = child(h.b())->id;
        h.act(h.a(), [&](ike::Step& s) { ASSERT_TRUE(h.a().manager.rekey_child(ca, s)); });
        h.act(h.b(), [&](ike::Step& s) { ASSERT_TRUE(h.b().manager.rekey_child(cb, s)); });
        h.run_for(kSettle);
        terminate_and_check(h, fmt::format("seed {}", seed));
    }
}

}  // namespace
}  // namespace ikeplex::test
