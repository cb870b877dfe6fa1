// CREATE_CHILD_SA flows: more Child SAs (with and without PFS, several at once with a window
// above 1), Child and IKE SA rekeying from either side, both simultaneous-rekey collisions,
// and lifetimes that rekey by themselves.
#include <algorithm>
#include <iterator>

#include <fmt/format.h>

#include "flow_fixture.h"
#include "ike/proposal.h"

namespace ikeplex::test {
namespace {

using ike::EventKind;

/// The two exchanges of a simultaneous rekey (RFC 7296 §2.8) as node i traced them and
/// node r, and whether i's exchange produced the lowest of the four nonces.
struct Collision {
    const ike::MessageTrace* ours_request{nullptr};     ///< i's request (sent by i)
    const ike::MessageTrace* ours_response{nullptr};    ///< r's answer to it (sent by r)
    const ike::MessageTrace* theirs_request{nullptr};   ///< r's request (sent by r)
    const ike::MessageTrace* theirs_response{nullptr};  ///< i's answer to it (sent by i)
    bool ours_lowest{false};
};

Collision collision(const Node& i, const Node& r) {
    const MessageQuery request{
            .sent = true, .exchange = wire::ExchangeType::kCreateChildSa, .response = false};
    const MessageQuery response{
            .sent = true, .exchange = wire::ExchangeType::kCreateChildSa, .response = true};
    Collision col;
    const auto take = [](const std::vector<const ike::MessageTrace*>& found) {
        EXPECT_EQ(found.size(), 1U);
        return found.empty() ? nullptr : found.front();
    };
    col.ours_request = take(i.find(request));
    col.ours_response = take(r.find(response));
    col.theirs_request = take(r.find(request));
    col.theirs_response = take(i.find(response));
    if (col.ours_request == nullptr || col.ours_response == nullptr ||
        col.theirs_request == nullptr || col.theirs_response == nullptr) {
        return col;
    }
    // "Lowest" compares octet by octet; a nonce that ends first is the lower (RFC 7296 §2.8.1).
    const Bytes nonces[] = {nonce_of(*col.ours_request), nonce_of(*col.ours_response),
                            nonce_of(*col.theirs_request), nonce_of(*col.theirs_response)};
    const auto low = std::min_element(
            std::begin(nonces), std::end(nonces), [](const Bytes& a, const Bytes& b) {
                return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
            });
    col.ours_lowest = low - std::begin(nonces) < 2;
    return col;
}

class Rekey : public FlowTest {
protected:
    void SetUp() override {
        load_psk();
        initiate();
        ASSERT_TRUE(up());
        first_child_ = installed(ini()).front();
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

// The operator's rekey (VICI `rekey`) of a Child SA that the peer's rekey has just replaced:
// nothing left to do, said at once (a request that waited for an event would never be
// answered); of one whose rekey is under way: the same rekey, no second exchange.
TEST_P(Rekey, RekeyOfAChildAlreadyBeingOrJustReplacedStartsNoExchange) {
    const std::uint32_t old_res = child_of(res());
    const MessageQuery requests{
            .sent = true, .exchange = wire::ExchangeType::kCreateChildSa, .response = false};
    h.act(ini(), [&](ike::Step& s) {
        auto first = ini().manager.rekey_child(first_child_, s);
        ASSERT_TRUE(first);
        EXPECT_TRUE(*first);
        auto again = ini().manager.rekey_child(first_child_, s);
        ASSERT_TRUE(again);
        EXPECT_TRUE(*again) << "a rekey under way settles this request too";
    });
    ASSERT_TRUE(h.run_until(
            [&] {
                const ike::ChildSa* c = only_sa(res()).child(old_res);
                return c != nullptr && c->state == ike::ChildState::kRekeyed;
            },
            kSettle));
    h.act(res(), [&](ike::Step& s) {
        auto r = res().manager.rekey_child(old_res, s);
        ASSERT_TRUE(r);
        EXPECT_FALSE(*r) << "already replaced by the peer's rekey";
        EXPECT_FALSE(res().manager.rekey_child(987654, s)) << "no such Child SA";
    });
    settle();
    expect_single_pair();
    EXPECT_EQ(ini().count(requests), 1U);
    EXPECT_EQ(res().count(requests), 0U);
    EXPECT_EQ(res().count(EventKind::kChildRekeyed), 1U);
}

TEST_P(Rekey, ChildSaRekeyWithPfs) {
    for (auto* p : {&cfg.a, &cfg.b}) {
        p->children[0].esp_proposals =
                *ike::parse_proposals("aes128gcm16-x25519", wire::ProtocolId::kEsp);
    }
    reconnect();
    const Spi old_in = only_sa(ini()).children().front()->spi_in;
    h.act(ini(), [&](ike::Step& s) { ASSERT_TRUE(ini().manager.rekey_child(child_of(ini()), s)); });
    settle();
    expect_single_pair();
    // RFC 7296 §1.3.3: the rekey carried a KE payload of the proposal's group and named the
    // old SA by the SPI its initiator receives on; the answer carried a KE of the same group.
    const auto rekey = ini().find(
            {.sent = true, .exchange = wire::ExchangeType::kCreateChildSa, .response = false});
    ASSERT_EQ(rekey.size(), 1U);
    EXPECT_EQ(payload_summary(*rekey[0]), "N(REKEY_SA) SA No KE TSi TSr");
    EXPECT_EQ(ke_group_of(*rekey[0]), 31);
    const wire::NotifyPayload* rekey_sa = notify_in(*rekey[0], wire::NotifyType::kRekeySa);
    EXPECT_EQ(rekey_sa->protocol, wire::ProtocolId::kEsp);
    EXPECT_EQ(spi_from(rekey_sa->spi), old_in);
    const auto answer = res().find(
            {.sent = true, .exchange = wire::ExchangeType::kCreateChildSa, .response = true});
    ASSERT_EQ(answer.size(), 1U);
    EXPECT_EQ(payload_summary(*answer[0]), "SA No KE TSi TSr");
    EXPECT_EQ(ke_group_of(*answer[0]), 31);
    EXPECT_EQ(only_sa(ini()).children().front()->algorithms.ke, 31);
    EXPECT_EQ(only_sa(res()).children().front()->algorithms.ke, 31);
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
        // A rekeyed IKE SA authenticates nothing: it keeps no SK_pi/SK_pr.
        EXPECT_FALSE(only_sa(*n).holds_handshake()) << n->name;
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
    // The second Child SA came with its own CREATE_CHILD_SA (no REKEY_SA) and a KE of its
    // proposal's group (ECP-256), and is up on both sides under its name.
    const auto create = ini().find(
            {.sent = true, .exchange = wire::ExchangeType::kCreateChildSa, .response = false});
    ASSERT_EQ(create.size(), 1U);
    EXPECT_EQ(payload_summary(*create[0]), "SA No KE TSi TSr");
    EXPECT_EQ(ke_group_of(*create[0]), 19);
    const auto answer = res().find(
            {.sent = true, .exchange = wire::ExchangeType::kCreateChildSa, .response = true});
    ASSERT_EQ(answer.size(), 1U);
    EXPECT_EQ(payload_summary(*answer[0]), "SA No KE TSi TSr");
    EXPECT_EQ(ke_group_of(*answer[0]), 19);
    for (Node* n : {&ini(), &res()}) {
        const auto& children = only_sa(*n).children();
        const auto pfs = std::find_if(children.begin(), children.end(),
                                      [](const auto& c) { return c->name() == "pfs"; });
        ASSERT_NE(pfs, children.end()) << n->name;
        EXPECT_EQ((*pfs)->state, ike::ChildState::kInstalled) << n->name;
        EXPECT_EQ((*pfs)->algorithms.ke, 19) << n->name;
        EXPECT_EQ(n->events.back().kind, EventKind::kChildUp) << n->name;
        EXPECT_EQ(n->events.back().name, "pfs") << n->name;
    }
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
        const Spi old_i = i.established().front()->children().front()->spi_in;
        const Spi old_r = r.established().front()->children().front()->spi_in;
        hh.act(i, [&](ike::Step& s) { ASSERT_TRUE(i.manager.rekey_child(ci, s)); });
        hh.act(r, [&](ike::Step& s) { ASSERT_TRUE(r.manager.rekey_child(cr, s)); });
        hh.run_for(kSettle);
        for (Node* n : {&hh.a(), &hh.b()}) {
            EXPECT_EQ(installed(*n).size(), 1U) << "seed " << seed << " " << n->name;
            EXPECT_EQ(n->backend.sas.size(), 2U) << "seed " << seed << " " << n->name;
            // Whichever pair survives, each side reports its old Child SA rekeyed once (what
            // a waiting VICI rekey command settles on).
            const std::uint32_t old_id = n == &i ? ci : cr;
            EXPECT_EQ(n->count(EventKind::kChildRekeyed, old_id), 1U)
                    << "seed " << seed << " " << n->name;
        }
        const auto problems = check_consistent(hh);
        EXPECT_TRUE(problems.empty()) << "seed " << seed << "\n" << join(problems);
        // RFC 7296 §2.8.1, on the wire: the exchange with the lowest of the four nonces made
        // the redundant SA, which its initiator deletes; the other one deletes the old SA.
        const Collision col = collision(i, r);
        const Spi ours = *proposed_spi(*col.ours_request);        // i's SPI in its exchange
        const Spi theirs = *proposed_spi(*col.theirs_response);   // i's SPI in r's exchange
        const Spi theirs_r = *proposed_spi(*col.theirs_request);  // r's SPI in r's exchange
        const Spi ours_r = *proposed_spi(*col.ours_response);     // r's SPI in i's exchange
        const std::string what = fmt::format("seed {}", seed);
        if (col.ours_lowest) {
            EXPECT_EQ(deleted_child_spis(i), std::vector<Spi>{ours}) << what;
            EXPECT_EQ(deleted_child_spis(r), std::vector<Spi>{old_r}) << what;
            EXPECT_EQ(i.established().front()->children().front()->spi_in, theirs) << what;
            EXPECT_EQ(r.established().front()->children().front()->spi_in, theirs_r) << what;
        } else {
            EXPECT_EQ(deleted_child_spis(i), std::vector<Spi>{old_i}) << what;
            EXPECT_EQ(deleted_child_spis(r), std::vector<Spi>{theirs_r}) << what;
            EXPECT_EQ(i.established().front()->children().front()->spi_in, ours) << what;
            EXPECT_EQ(r.established().front()->children().front()->spi_in, ours_r) << what;
        }
        ours_redundant += col.ours_lowest ? 1U : 0U;
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
        const IkeSpis old{i.established().front()->spi_i(), i.established().front()->spi_r()};
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
        // RFC 7296 §2.8.2, on the wire: the exchange with the lowest of the four nonces made
        // the redundant IKE SA, which its initiator deletes; the other one deletes the old
        // one. A new IKE SA's SPIs are its rekey initiator's (SPIi) and responder's (SPIr).
        const Collision col = collision(i, r);
        const IkeSpis ours{*proposed_ike_spi(*col.ours_request),
                           *proposed_ike_spi(*col.ours_response)};
        const IkeSpis theirs{*proposed_ike_spi(*col.theirs_request),
                             *proposed_ike_spi(*col.theirs_response)};
        const ike::IkeSa& survivor = *i.established().front();
        const IkeSpis kept{survivor.spi_i(), survivor.spi_r()};
        const std::string what = fmt::format("seed {}", seed);
        EXPECT_EQ(deleted_ike_sas(i), std::vector<IkeSpis>{col.ours_lowest ? ours : old}) << what;
        EXPECT_EQ(deleted_ike_sas(r), std::vector<IkeSpis>{col.ours_lowest ? old : theirs}) << what;
        EXPECT_EQ(kept, col.ours_lowest ? theirs : ours) << what;
        EXPECT_EQ(survivor.is_original_initiator(), !col.ours_lowest) << what;
        ours_redundant += col.ours_lowest ? 1U : 0U;
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
    EXPECT_EQ(only_sa(ini()).peer_window(), 4U);
    EXPECT_EQ(only_sa(res()).peer_window(), 4U);
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
