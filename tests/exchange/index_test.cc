// The engine's lookup indexes (issue 17): with several IKE SAs and their Child SAs between two
// nodes, every lookup (Child SA by id, expiries by SPI, operator commands) finds the right SA
// through IKE and Child SA rekeys, deletes and INITIAL_CONTACT; nothing is left in an index
// once every SA is gone; and the work of one input does not grow with the number of IKE SAs
// (counted in IKE SAs the engine looks at, never timed).
#include <algorithm>
#include <functional>

#include <fmt/format.h>

#include "flow_fixture.h"

namespace ikeplex::test {
namespace {

using ike::EventKind;

struct Connections {
    std::vector<ike::PeerConfig> a;
    std::vector<ike::PeerConfig> b;
};

/// `n` connections "c0".."c<n-1>" between a and b, each with identities ("<k>.a.test",
/// "<k>.b.test") and subnets of its own: an IKE SA each, none replacing another.
Connections connections(int n) {
    Connections out;
    for (int k = 0; k < n; ++k) {
        PairConfig p = psk_pair();
        const auto a_id = *ike::Identity::parse(fmt::format("{}.a.test", k));
        const auto b_id = *ike::Identity::parse(fmt::format("{}.b.test", k));
        const auto a_net = *ike::TrafficSelector::parse(fmt::format("10.{}.1.0/24", k + 1));
        const auto b_net = *ike::TrafficSelector::parse(fmt::format("10.{}.2.0/24", k + 1));
        p.a.name = p.b.name = fmt::format("c{}", k);
        p.a.local.id = p.b.remote.id = a_id;
        p.a.remote.id = p.b.local.id = b_id;
        p.a.children.front().local_ts = p.b.children.front().remote_ts = {a_net};
        p.a.children.front().remote_ts = p.b.children.front().local_ts = {b_net};
        out.a.push_back(std::move(p.a));
        out.b.push_back(std::move(p.b));
    }
    return out;
}

/// Loads `n` connections on both nodes and brings each up (a initiates) with one Child SA.
bool establish(Harness& h, int n) {
    Connections c = connections(n);
    h.a().manager.load(c.a);
    h.b().manager.load(c.b);
    h.a().manager.set_credentials(psk_credentials());
    h.b().manager.set_credentials(psk_credentials());
    h.act(h.a(), [&](ike::Step& s) {
        for (int k = 0; k < n; ++k) {
            ASSERT_TRUE(h.a().manager.initiate(fmt::format("c{}", k), "net", s));
        }
    });
    const auto ready = [n](Node& node) {
        std::size_t installed = 0;
        for (const ike::IkeSa* sa : node.established()) {
            for (const auto& c : sa->children()) {
                installed += c->state == ike::ChildState::kInstalled ? 1U : 0U;
            }
        }
        return node.established().size() == static_cast<std::size_t>(n) &&
               installed == static_cast<std::size_t>(n);
    };
    return h.run_until([&] { return ready(h.a()) && ready(h.b()); }, std::chrono::seconds(60));
}

/// A node's established IKE SA of connection `conn`.
const ike::IkeSa* sa_of(Node& n, const std::string& conn) {
    for (const ike::IkeSa* sa : n.established()) {
        if (sa->config() != nullptr && sa->config()->name == conn) {
            return sa;
        }
    }
    return nullptr;
}

/// Its first installed Child SA.
const ike::ChildSa* installed_child(const ike::IkeSa& sa) {
    for (const auto& c : sa.children()) {
        if (c->state == ike::ChildState::kInstalled) {
            return c.get();
        }
    }
    return nullptr;
}

/// Every Child SA is found under its own IKE SA, and the indexes hold one entry per SA.
std::vector<std::string> check_lookups(Node& n) {
    std::vector<std::string> problems;
    const auto sas = n.manager.sas();
    std::size_t children = 0;
    for (const ike::IkeSa* sa : sas) {
        for (const auto& c : sa->children()) {
            ++children;
            if (n.manager.sa_of_child(c->id) != sa) {
                problems.push_back(fmt::format("{}: Child SA {} not found under IKE SA {}", n.name,
                                               c->id, sa->id()));
            }
        }
    }
    const auto sizes = n.manager.index_sizes();
    const auto expect = [&](const char* index, std::size_t want) {
        if (sizes.at(index) != want) {
            problems.push_back(fmt::format("{}: index {} has {} entries, not {}", n.name, index,
                                           sizes.at(index), want));
        }
    };
    expect("ike-keys", sas.size());
    expect("ike-spis", sas.size());
    expect("ike-ids", sas.size());  // none is connecting
    expect("children", children);
    expect("child-spi-in", children);
    expect("child-spi-out", children);
    expect("destroyed", 0);
    return problems;
}

bool has_event(const Node& n, EventKind kind, std::uint32_t ike, std::uint32_t child) {
    return std::any_of(n.events.begin(), n.events.end(), [&](const ike::Event& e) {
        return e.kind == kind && e.ike_id == ike && e.child_id == child;
    });
}

class Indexes : public ::testing::Test {
protected:
    void expect_lookups() {
        auto problems = check_lookups(h.a());
        const auto more = check_lookups(h.b());
        problems.insert(problems.end(), more.begin(), more.end());
        EXPECT_TRUE(problems.empty()) << join(problems);
    }

    Harness h{11};
};

TEST_F(Indexes, LookupsFollowRekeysDeletesAndInitialContact) {
    ASSERT_TRUE(establish(h, 3));
    expect_lookups();

    // An IKE rekey moves c1's Child SA to the new IKE SA on both sides.
    const std::uint32_t old_ike = sa_of(h.a(), "c1")->id();
    const std::uint32_t moved = installed_child(*sa_of(h.a(), "c1"))->id;
    h.act(h.a(), [&](ike::Step& s) { ASSERT_TRUE(h.a().manager.rekey_ike(old_ike, s)); });
    h.run_for(std::chrono::seconds(30));
    const ike::IkeSa* fresh = sa_of(h.a(), "c1");
    ASSERT_NE(fresh, nullptr);
    ASSERT_NE(fresh->id(), old_ike);
    EXPECT_EQ(h.a().manager.sa_of_child(moved), fresh);
    expect_lookups();

    // A soft expiry by inbound SPI finds the moved Child SA under its new IKE SA: it rekeys.
    const Spi moved_in = fresh->child(moved)->spi_in;
    h.act(h.a(), [&](ike::Step& s) {
        h.a().manager.on_backend_event(ike::Expire{moved_in, true, false}, s);
    });
    h.run_for(std::chrono::seconds(30));
    EXPECT_TRUE(has_event(h.a(), EventKind::kChildRekeyed, fresh->id(), moved));
    EXPECT_EQ(h.a().manager.sa_of_child(moved), nullptr);  // deleted after the rekey
    expect_lookups();

    // The responder rekeys c2's Child SA by command, then a hard expiry by outbound SPI
    // deletes the new one.
    const ike::IkeSa* c2 = sa_of(h.b(), "c2");
    const std::uint32_t c2_child = installed_child(*c2)->id;
    h.act(h.b(), [&](ike::Step& s) { ASSERT_TRUE(h.b().manager.rekey_child(c2_child, s)); });
    h.run_for(std::chrono::seconds(30));
    EXPECT_TRUE(has_event(h.b(), EventKind::kChildRekeyed, c2->id(), c2_child));
    const ike::ChildSa* next = installed_child(*c2);
    ASSERT_NE(next, nullptr);
    const std::uint32_t next_id = next->id;
    h.act(h.b(), [&](ike::Step& s) {
        h.b().manager.on_backend_event(ike::Expire{next->spi_out, false, true}, s);
    });
    h.run_for(std::chrono::seconds(30));
    EXPECT_TRUE(has_event(h.b(), EventKind::kChildDown, c2->id(), next_id));
    EXPECT_TRUE(c2->children().empty());
    expect_lookups();

    // terminate_child finds c0's Child SA; terminate_ike ends c2.
    const std::uint32_t c0_child = installed_child(*sa_of(h.a(), "c0"))->id;
    h.act(h.a(), [&](ike::Step& s) { ASSERT_TRUE(h.a().manager.terminate_child(c0_child, s)); });
    h.act(h.a(), [&](ike::Step& s) {
        ASSERT_TRUE(h.a().manager.terminate_ike(sa_of(h.a(), "c2")->id(), s));
    });
    h.run_for(std::chrono::seconds(30));
    EXPECT_EQ(h.a().manager.sa_of_child(c0_child), nullptr);
    EXPECT_EQ(sa_of(h.b(), "c2"), nullptr);
    EXPECT_EQ(h.b().manager.sas().size(), 2U);
    expect_lookups();

    // a reboots and brings c0 up again: INITIAL_CONTACT replaces b's c0 IKE SA (same
    // identities), not c1's.
    const std::uint32_t b_c0 = sa_of(h.b(), "c0")->id();
    const std::uint32_t b_c1 = sa_of(h.b(), "c1")->id();
    Node& fresh_a = h.restart(h.a(), 99);
    Connections c = connections(3);
    fresh_a.manager.load(c.a);
    fresh_a.manager.set_credentials(psk_credentials());
    h.act(fresh_a, [&](ike::Step& s) { ASSERT_TRUE(fresh_a.manager.initiate("c0", "net", s)); });
    h.run_for(std::chrono::seconds(30));
    ASSERT_NE(sa_of(h.b(), "c0"), nullptr);
    EXPECT_NE(sa_of(h.b(), "c0")->id(), b_c0);
    EXPECT_EQ(h.b().manager.sa(b_c0), nullptr);
    ASSERT_NE(sa_of(h.b(), "c1"), nullptr);
    EXPECT_EQ(sa_of(h.b(), "c1")->id(), b_c1);
    expect_lookups();

    // Everything deleted (b's c1 has no peer any more and is given up): nothing left.
    std::vector<std::uint32_t> ids;
    for (const ike::IkeSa* sa : h.b().manager.sas()) {
        ids.push_back(sa->id());
    }
    h.act(h.b(), [&](ike::Step& s) {
        for (std::uint32_t id : ids) {
            ASSERT_TRUE(h.b().manager.terminate_ike(id, s));
        }
    });
    h.run_for(kSettle);
    auto problems = check_empty(h.a());
    const auto more = check_empty(h.b());
    problems.insert(problems.end(), more.begin(), more.end());
    EXPECT_TRUE(problems.empty()) << join(problems);
}

/// The IKE SAs b's engine looks at for the same inputs with `n` IKE SAs up.
struct Work {
    std::uint64_t timer{0};      ///< a timer tick with nothing due
    std::uint64_t expire{0};     ///< a soft expiry by SPI and the Child SA rekey it starts
    std::uint64_t terminate{0};  ///< an IKE SA deleted, to the end of its exchange
};

Work work_with(int n) {
    Harness h(3);
    Work w;
    EXPECT_TRUE(establish(h, n));
    Node& b = h.b();
    const auto measure = [&](const std::function<void(ike::Step&)>& input) {
        const std::uint64_t before = b.manager.sa_visits();
        h.act(b, input);
        h.run_for(std::chrono::seconds(2));
        return b.manager.sa_visits() - before;
    };
    w.timer = measure([&](ike::Step& s) { b.manager.on_timer(s); });
    const ike::IkeSa* last = sa_of(b, fmt::format("c{}", n - 1));
    const Spi spi = installed_child(*last)->spi_in;
    w.expire = measure([&](ike::Step& s) {
        b.manager.on_backend_event(ike::Expire{spi, true, false}, s);
    });
    const std::uint32_t id = last->id();
    w.terminate = measure([&](ike::Step& s) { EXPECT_TRUE(b.manager.terminate_ike(id, s)); });
    EXPECT_EQ(b.manager.sas().size(), static_cast<std::size_t>(n - 1));
    return w;
}

TEST(IndexWork, OneInputLooksAtAsManyIkeSasWithFewOrMany) {
    const Work few = work_with(2);
    const Work many = work_with(24);
    EXPECT_GT(few.expire, 0U);
    EXPECT_GT(few.terminate, 0U);
    EXPECT_EQ(many.timer, few.timer);
    EXPECT_EQ(many.expire, few.expire);
    EXPECT_EQ(many.terminate, few.terminate);
}

}  // namespace
}  // namespace ikeplex::test
