// CREATE_CHILD_SA flows: more Child SAs (with and without PFS, several at once with a window
// above 1), Child and IKE SA rekeying from either side, both simultaneous-rekey collisions,
// and lifetimes that rekey by themselves.
#include "flow_fixture.h"
#include "ike/proposal.h"

namespace ikeplex::test {
namespace {

using ike::EventKind;

class Rekey : public FlowTest {
protected:
    void SetUp() override {
        load_psk();
        initiate();
        ASSERT_TRUE(up());
        first_child_ = installed(ini()).front();
    }

    /// Each side holds exactly one IKE SA with exactly one installed Child SA, consistently.
    void expect_single_pair() {
        for (Node* n : {&h.a(), &h.b()}) {
            EXPECT_EQ(n->manager.sas().size(), 1U) << n->name;
            EXPECT_EQ(installed(*n).size(), 1U) << n->name;
            EXPECT_EQ(n->backend.sas.size(), 2U) << n->name;
        }
        expect_consistent();
    }

    /// Loads `cfg` again and replaces the IKE SA by one made with it.
    void reconnect() {
        load_psk();
        h.act(ini(),
              [&](ike::Step& s) { ASSERT_TRUE(ini().manager.terminate_ike(ike_of(ini()), s)); });
        settle();
        initiate();
        ASSERT_TRUE(up());
    }

    std::uint32_t child_of(Node& n) { return installed(n).front(); }
    std::uint32_t ike_of(Node& n) { return only_sa(n).id(); }

    std::uint32_t first_child_{0};
};

TEST_P(Rekey, ChildSaRekeyedByTheInitiator) {
    const Spi old_spi = only_sa(ini()).children().front()->spi_in;
    h.act(ini(), [&](ike::Step& s) { ASSERT_TRUE(ini().manager.rekey_child(first_child_, s)); });
    settle();
    expect_single_pair();
    EXPECT_NE(child_of(ini()), first_child_);
    EXPECT_NE(only_sa(ini()).children().front()->spi_in, old_spi);
    EXPECT_EQ(ini().count(EventKind::kChildRekeyed), 1U);
    EXPECT_EQ(res().count(EventKind::kChildRekeyed), 1U);
    EXPECT_EQ(ini().count(EventKind::kChildDown), 0U);  // a rekey is not a down/up
    EXPECT_EQ(res().count(EventKind::kChildDown), 0U);
}

TEST_P(Rekey, RekeyResponderSendsOnTheNewSaOnlyOnceTheOldOneGoes) {
    // The responder of a Child SA rekey installs the new inbound SA at once but holds the new
    // outbound one back until the initiator (which installs both on the response) deletes the
    // old SA: nothing is sent that the peer cannot receive yet, and it never lacks an
    // outbound SA.
    const ike::ChildSa& old = *only_sa(res()).children().front();
    const Spi old_out = old.spi_out;
    h.act(ini(), [&](ike::Step& s) { ASSERT_TRUE(ini().manager.rekey_child(first_child_, s)); });
    const auto new_child = [&]() -> const ike::ChildSa* {
        for (const auto& c : only_sa(res()).children()) {
            if (c->spi_out != old_out && c->state == ike::ChildState::kInstalled) {
                return c.get();
            }
        }
        return nullptr;
    };
    ASSERT_TRUE(h.run_until([&] { return new_child() != nullptr; }, kSettle));
    const ike::ChildSa& fresh = *new_child();
    EXPECT_TRUE(res().backend.sas.contains({fresh.spi_in, true}));
    EXPECT_FALSE(res().backend.sas.contains({fresh.spi_out, false}))
            << "the responder sends on the new SA before the initiator has it";
    EXPECT_TRUE(res().backend.sas.contains({old_out, false}));
    const Spi fresh_out = fresh.spi_out;
    // Once the old SA is gone, the new outbound SA is in, and only it.
    ASSERT_TRUE(h.run_until(
            [&] {
                return !res().backend.sas.contains({old_out, false});
            },
            kSettle));
    EXPECT_TRUE(res().backend.sas.contains({fresh_out, false}));
    settle();
    expect_single_pair();
}

TEST_P(Rekey, ChildSaRekeyedByTheResponder) {
    h.act(res(), [&](ike::Step& s) { ASSERT_TRUE(res().manager.rekey_child(child_of(res()), s)); });
    settle();
    expect_single_pair();
    EXPECT_EQ(res().count(EventKind::kChildRekeyed), 1U);
}

TEST_P(Rekey, ChildSaRekeyWithPfs) {
    for (auto* p : {&cfg.a, &cfg.b}) {
        p->children[0].esp_proposals =
                *ike::parse_proposals("aes128gcm16-x25519", wire::ProtocolId::kEsp);
    }
    reconnect();
    h.act(ini(), [&](ike::Step& s) { ASSERT_TRUE(ini().manager.rekey_child(child_of(ini()), s)); });
    settle();
    expect_single_pair();
    // The rekey carried a KE payload: N(REKEY_SA) SA No KE TSi TSr.
    EXPECT_TRUE(LogCapture::contains(ini_name(), "N(REKEY_SA) SA No KE TSi TSr"));
    EXPECT_TRUE(LogCapture::contains(res_name(), "SA No KE TSi TSr"));
}

TEST_P(Rekey, IkeSaRekeyedKeepsTheChildSas) {
    const std::uint32_t old_ike = ike_of(ini());
    const IkeSpi old_spi = only_sa(ini()).spi_i();
    h.act(ini(), [&](ike::Step& s) { ASSERT_TRUE(ini().manager.rekey_ike(old_ike, s)); });
    settle();
    expect_single_pair();
    EXPECT_NE(ike_of(ini()), old_ike);
    EXPECT_NE(only_sa(ini()).spi_i(), old_spi);
    EXPECT_TRUE(only_sa(ini()).is_original_initiator());  // the rekey's initiator
    EXPECT_FALSE(only_sa(res()).is_original_initiator());
    EXPECT_EQ(child_of(ini()), first_child_);  // moved, not recreated
    for (Node* n : {&ini(), &res()}) {
        EXPECT_EQ(n->count(EventKind::kIkeRekeyed), 1U) << n->name;
        EXPECT_EQ(n->count(EventKind::kIkeDown), 0U) << n->name;
        EXPECT_EQ(n->count(EventKind::kChildDown), 0U) << n->name;
    }
    // The new IKE SA works: rekey the child over it.
    h.act(ini(), [&](ike::Step& s) { ASSERT_TRUE(ini().manager.rekey_child(first_child_, s)); });
    settle();
    expect_single_pair();
}

TEST_P(Rekey, IkeSaRekeyedByTheResponderSwapsRoles) {
    h.act(res(), [&](ike::Step& s) { ASSERT_TRUE(res().manager.rekey_ike(ike_of(res()), s)); });
    settle();
    expect_single_pair();
    // RFC 7296 §2.18: whoever started the rekey is the new SA's original initiator.
    EXPECT_TRUE(only_sa(res()).is_original_initiator());
    EXPECT_FALSE(only_sa(ini()).is_original_initiator());
    h.act(ini(), [&](ike::Step& s) { ASSERT_TRUE(ini().manager.rekey_ike(ike_of(ini()), s)); });
    settle();
    expect_single_pair();
}

TEST_P(Rekey, MoreChildSasWithPfs) {
    for (auto* p : {&cfg.a, &cfg.b}) {
        ike::ChildConfig second = p->children[0];
        second.name = "pfs";
        second.esp_proposals = *ike::parse_proposals("aes256gcm16-ecp256", wire::ProtocolId::kEsp);
        second.local_ts = {
                *ike::TrafficSelector::parse(p == &cfg.a ? "10.99.3.0/24" : "10.99.4.0/24")};
        second.remote_ts = {
                *ike::TrafficSelector::parse(p == &cfg.a ? "10.99.4.0/24" : "10.99.3.0/24")};
        p->children.push_back(second);
    }
    reconnect();
    h.act(ini(), [&](ike::Step& s) { ASSERT_TRUE(ini().manager.initiate("conn", "pfs", s)); });
    ASSERT_TRUE(up(2));
    settle();
    expect_consistent();
    EXPECT_EQ(installed(ini()).size(), 2U);
    EXPECT_TRUE(LogCapture::contains(ini_name(), "CHILD_SA pfs"));
}

TEST_P(Rekey, SimultaneousChildRekeyKeepsOnePair) {
    // The nonces decide which pair survives; different seeds give both outcomes.
    std::size_t ours_redundant = 0;
    for (std::uint64_t seed = 1; seed <= 12; ++seed) {
        Harness hh(seed);
        PairConfig c = psk_pair();
        load(hh, c, psk_credentials(), psk_credentials());
        Node& i = GetParam() ? hh.a() : hh.b();
        Node& r = hh.peer(i);
        hh.act(i, [&](ike::Step& s) { ASSERT_TRUE(i.manager.initiate("conn", "net", s)); });
        ASSERT_TRUE(hh.run_until(
                [&] { return installed(hh.a()).size() == 1 && installed(hh.b()).size() == 1; },
                std::chrono::seconds(30)));
        const auto ci = installed(i).front();
        const auto cr = installed(r).front();
        hh.act(i, [&](ike::Step& s) { ASSERT_TRUE(i.manager.rekey_child(ci, s)); });
        hh.act(r, [&](ike::Step& s) { ASSERT_TRUE(r.manager.rekey_child(cr, s)); });
        hh.run_for(kSettle);
        for (Node* n : {&hh.a(), &hh.b()}) {
            EXPECT_EQ(installed(*n).size(), 1U) << "seed " << seed << " " << n->name;
            EXPECT_EQ(n->backend.sas.size(), 2U) << "seed " << seed << " " << n->name;
        }
        const auto problems = check_consistent(hh);
        EXPECT_TRUE(problems.empty()) << "seed " << seed << "\n" << join(problems);
        ours_redundant += LogCapture::contains(i.name, "deleting our redundant") ? 1U : 0U;
    }
    EXPECT_GT(ours_redundant, 0U);
    EXPECT_LT(ours_redundant, 12U);
}

TEST_P(Rekey, SimultaneousIkeRekeyKeepsOneIkeSa) {
    std::size_t ours_redundant = 0;
    for (std::uint64_t seed = 1; seed <= 12; ++seed) {
        Harness hh(seed);
        PairConfig c = psk_pair();
        load(hh, c, psk_credentials(), psk_credentials());
        Node& i = GetParam() ? hh.a() : hh.b();
        Node& r = hh.peer(i);
        hh.act(i, [&](ike::Step& s) { ASSERT_TRUE(i.manager.initiate("conn", "net", s)); });
        ASSERT_TRUE(hh.run_until(
                [&] { return installed(hh.a()).size() == 1 && installed(hh.b()).size() == 1; },
                std::chrono::seconds(30)));
        const auto child = installed(i).front();
        hh.act(i, [&](ike::Step& s) {
            ASSERT_TRUE(i.manager.rekey_ike(i.established().front()->id(), s));
        });
        hh.act(r, [&](ike::Step& s) {
            ASSERT_TRUE(r.manager.rekey_ike(r.established().front()->id(), s));
        });
        hh.run_for(kSettle);
        for (Node* n : {&hh.a(), &hh.b()}) {
            EXPECT_EQ(n->manager.sas().size(), 1U) << "seed " << seed << " " << n->name;
            EXPECT_EQ(installed(*n).size(), 1U) << "seed " << seed << " " << n->name;
            EXPECT_EQ(n->count(EventKind::kIkeDown), 0U) << "seed " << seed << " " << n->name;
        }
        EXPECT_EQ(installed(i).front(), child);
        const auto problems = check_consistent(hh);
        EXPECT_TRUE(problems.empty()) << "seed " << seed << "\n" << join(problems);
        ours_redundant +=
                LogCapture::contains(i.name, "ours") && LogCapture::contains(i.name, "is redundant")
                        ? 1U
                        : 0U;
        // The surviving IKE SA is alive: a Child rekey over it works.
        hh.act(i, [&](ike::Step& s) { ASSERT_TRUE(i.manager.rekey_child(child, s)); });
        hh.run_for(kSettle);
        EXPECT_TRUE(check_consistent(hh).empty()) << "seed " << seed;
    }
    EXPECT_GT(ours_redundant, 0U);
    EXPECT_LT(ours_redundant, 12U);
}

TEST_P(Rekey, WindowAboveOneRunsExchangesConcurrently) {
    for (auto* p : {&cfg.a, &cfg.b}) {
        p->window_size = 4;
    }
    reconnect();  // the window is announced in IKE_AUTH
    EXPECT_EQ(only_sa(ini()).peer_window, 4U);
    EXPECT_EQ(only_sa(res()).peer_window, 4U);
    const std::uint32_t child = child_of(ini());
    const std::uint32_t ike = ike_of(ini());
    h.act(ini(), [&](ike::Step& s) {
        ASSERT_TRUE(ini().manager.rekey_child(child, s));
        ASSERT_TRUE(ini().manager.initiate("conn", "net", s));
        ASSERT_TRUE(ini().manager.initiate("conn", "net", s));
    });
    EXPECT_EQ(ini().manager.sa(ike)->outstanding(), 3U);
    settle();
    EXPECT_EQ(installed(ini()).size(), 3U);
    EXPECT_EQ(installed(res()).size(), 3U);
    expect_consistent();
}

TEST_P(Rekey, LifetimesRekeyByThemselves) {
    for (auto* p : {&cfg.a, &cfg.b}) {
        p->rekey_time = std::chrono::minutes(10);
        p->rand_time = std::chrono::minutes(1);
        p->over_time = std::chrono::minutes(2);
        p->children[0].lifetimes.rekey_time = std::chrono::minutes(3);
        p->children[0].lifetimes.life_time = std::chrono::minutes(4);
        p->children[0].lifetimes.rand_time = std::chrono::seconds(30);
    }
    reconnect();
    h.run_for(std::chrono::minutes(45));
    settle();
    expect_single_pair();
    const std::size_t child_rekeys = ini().count(EventKind::kChildRekeyed);
    const std::size_t ike_rekeys = ini().count(EventKind::kIkeRekeyed);
    EXPECT_GE(child_rekeys, 10U);
    EXPECT_GE(ike_rekeys, 3U);
    EXPECT_EQ(ini().count(EventKind::kChildDown), 1U);  // only from the terminate above
}

TEST_P(Rekey, BackendExpiresRekeyOrDelete) {
    ike::IkeSa* sa = ini().manager.sa_of_child(first_child_);
    const Spi in = sa->children().front()->spi_in;
    h.act(ini(), [&](ike::Step& s) {
        ini().manager.on_backend_event(ike::Expire{in, true, false}, s);
    });
    settle();
    expect_single_pair();
    EXPECT_EQ(ini().count(EventKind::kChildRekeyed), 1U);
    const Spi now_in = ini().manager.sa_of_child(child_of(ini()))->children().front()->spi_in;
    h.act(ini(), [&](ike::Step& s) {
        ini().manager.on_backend_event(ike::Expire{now_in, true, true}, s);
    });
    settle();
    EXPECT_TRUE(installed(ini()).empty());
    EXPECT_TRUE(installed(res()).empty());
    expect_consistent();
}

INSTANTIATE_TEST_SUITE_P(Roles, Rekey, ::testing::Bool(), role_name);

}  // namespace
}  // namespace ikeplex::test
