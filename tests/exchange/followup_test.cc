// RFC 9370 §2.2.4 in CREATE_CHILD_SA: additional key exchanges in IKE_FOLLOWUP_KE exchanges for
// a new Child SA, a Child SA rekey and an IKE SA rekey, from either side, with one to three
// additional methods (DH groups: the KE interface is the same for a KEM), with a lost
// IKE_FOLLOWUP_KE, a rekey collision, and a responder whose initiator stops half-way.
#include <functional>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "crypto/keymat.h"
#include "crypto/prf.h"
#include "flow_fixture.h"
#include "ike/followup_ke.h"
#include "ike/proposal.h"

namespace ikeplex::test {
namespace {

using ike::EventKind;
using wire::ExchangeType;
using wire::NotifyType;

/// "x25519" plus `n` additional methods: ECP-256, X448, MODP-2048.
std::string with_additional(std::size_t n) {
    static const char* const kMore[] = {"-ke1_ecp256", "-ke2_x448", "-ke3_modp2048"};
    std::string s = "aes128gcm16-x25519";
    for (std::size_t i = 0; i < n; ++i) {
        s += kMore[i];
    }
    return s;
}

using RekeyBoth = std::function<void(Node&, ike::Step&)>;
using CheckBoth = std::function<void(Node& i, Node& r, std::uint32_t child, const std::string&)>;

class Followup : public FlowTest {
protected:
    static std::size_t collide(bool a_initiates, const std::string& ike, const std::string& esp,
                               const RekeyBoth& rekey, const CheckBoth& check);

    /// Both sides' Child SA proposals with `n` additional key exchanges (and IKE proposals
    /// with `ike_n`), then the IKE SA and its first Child SA (IKE_AUTH: no KE there).
    void start(std::size_t n, std::size_t ike_n = 0) {
        for (auto* p : {&cfg.a, &cfg.b}) {
            p->children[0].esp_proposals =
                    *ike::parse_proposals(with_additional(n), wire::ProtocolId::kEsp);
            if (ike_n > 0) {
                p->ike_proposals = *ike::parse_proposals(
                        "aes128gcm16-prfsha256-" + with_additional(ike_n).substr(12),
                        wire::ProtocolId::kIke);
            }
        }
        load_psk();
        initiate();
        ASSERT_TRUE(up());
    }

    std::uint32_t child_of(Node& n) { return installed(n).front(); }

    /// The initiator rekeys the Child SA with `n` additional key exchanges.
    void rekey_child_with(std::size_t n) {
        start(n);
        const std::uint32_t old = child_of(ini());
        const std::size_t since_i = ini().messages.size();
        const std::size_t since_r = res().messages.size();
        h.act(ini(), [&](ike::Step& s) { ASSERT_TRUE(ini().manager.rekey_child(old, s)); });
        settle();
        expect_single_pair();
        EXPECT_NE(child_of(ini()), old);
        expect_rounds(ini(), n, since_i, since_r);
        for (Node* nd : {&ini(), &res()}) {
            EXPECT_EQ(nd->count(EventKind::kChildRekeyed), 1U) << nd->name;
            EXPECT_EQ(nd->count(EventKind::kChildDown), 0U) << nd->name;
            const auto& c = *only_sa(*nd).children().front();
            EXPECT_EQ(c.algorithms.ke, 31) << nd->name;
            EXPECT_EQ(ike::additional_methods(c.proposal).size(), n) << nd->name;
        }
    }

    /// The IKE_FOLLOWUP_KE exchanges `from` started (requests it sent, not retransmits) and
    /// their shape: KE then the link; the answers KE, with the next link but for the last.
    void expect_rounds(Node& from, std::size_t n, std::size_t since_from = 0,
                       std::size_t since_to = 0) {
        Node& to = h.peer(from);
        const auto requests = from.find({.sent = true,
                                         .exchange = ExchangeType::kIkeFollowupKe,
                                         .response = false,
                                         .since = since_from});
        const auto answers = to.find({.sent = true,
                                      .exchange = ExchangeType::kIkeFollowupKe,
                                      .response = true,
                                      .since = since_to});
        ASSERT_EQ(requests.size(), n);
        ASSERT_EQ(answers.size(), n);
        const std::uint16_t methods[] = {19, 32, 14};
        for (std::size_t i = 0; i < n; ++i) {
            EXPECT_EQ(payload_summary(*requests[i]), "KE N(ADD_KE)") << i;
            EXPECT_EQ(ke_group_of(*requests[i]), methods[i]) << i;
            EXPECT_EQ(payload_summary(*answers[i]), i + 1 < n ? "KE N(ADD_KE)" : "KE") << i;
            EXPECT_EQ(ke_group_of(*answers[i]), methods[i]) << i;
        }
        // The link each request carries is the one the previous answer gave.
        const auto first = to.find({.sent = true,
                                    .exchange = ExchangeType::kCreateChildSa,
                                    .response = true,
                                    .since = since_to});
        ASSERT_FALSE(first.empty());
        const auto* link = notify_in(*first.back(), NotifyType::kAdditionalKeyExchange);
        ASSERT_NE(link, nullptr);
        for (std::size_t i = 0; i < n; ++i) {
            const auto* sent = notify_in(*requests[i], NotifyType::kAdditionalKeyExchange);
            ASSERT_NE(sent, nullptr);
            EXPECT_EQ(sent->data, link->data) << i;
            link = notify_in(*answers[i], NotifyType::kAdditionalKeyExchange);
        }
    }
};

TEST_P(Followup, ChildSaRekeyWithOneAdditionalKeyExchange) {
    rekey_child_with(1);
}

TEST_P(Followup, ChildSaRekeyWithTwoAdditionalKeyExchanges) {
    rekey_child_with(2);
}

TEST_P(Followup, ChildSaRekeyWithThreeAdditionalKeyExchanges) {
    rekey_child_with(3);
}

TEST_P(Followup, ChildSaRekeyedByTheResponder) {
    start(2);
    const std::uint32_t old = child_of(res());
    const std::size_t since_i = ini().messages.size();
    const std::size_t since_r = res().messages.size();
    h.act(res(), [&](ike::Step& s) { ASSERT_TRUE(res().manager.rekey_child(old, s)); });
    settle();
    expect_single_pair();
    expect_rounds(res(), 2, since_r, since_i);
    EXPECT_EQ(res().count(EventKind::kChildRekeyed), 1U);
    EXPECT_EQ(ini().count(EventKind::kChildRekeyed), 1U);
}

TEST_P(Followup, NewChildSaWithAdditionalKeyExchanges) {
    for (auto* p : {&cfg.a, &cfg.b}) {
        ike::ChildConfig second = p->children[0];
        second.name = "pq";
        second.esp_proposals = *ike::parse_proposals(with_additional(3), wire::ProtocolId::kEsp);
        second.local_ts = {
                *ike::TrafficSelector::parse(p == &cfg.a ? "10.99.3.0/24" : "10.99.4.0/24")};
        second.remote_ts = {
                *ike::TrafficSelector::parse(p == &cfg.a ? "10.99.4.0/24" : "10.99.3.0/24")};
        p->children.push_back(second);
    }
    start(0);
    h.act(ini(), [&](ike::Step& s) { ASSERT_TRUE(ini().manager.initiate("conn", "pq", s)); });
    ASSERT_TRUE(up(2));
    settle();
    expect_consistent();
    EXPECT_EQ(installed(ini()).size(), 2U);
    EXPECT_EQ(installed(res()).size(), 2U);
    expect_rounds(ini(), 3);
    const auto create =
            ini().find({.sent = true, .exchange = ExchangeType::kCreateChildSa, .response = false});
    ASSERT_EQ(create.size(), 1U);
    EXPECT_EQ(payload_summary(*create[0]), "SA No KE TSi TSr");
    const auto answer =
            res().find({.sent = true, .exchange = ExchangeType::kCreateChildSa, .response = true});
    ASSERT_EQ(answer.size(), 1U);
    EXPECT_EQ(payload_summary(*answer[0]), "SA No KE TSi TSr N(ADD_KE)");
    for (Node* n : {&ini(), &res()}) {
        EXPECT_EQ(n->events.back().kind, EventKind::kChildUp) << n->name;
        EXPECT_EQ(n->events.back().name, "pq") << n->name;
    }
}

TEST_P(Followup, IkeSaRekeyWithALostFollowupRequest) {
    start(0, 2);
    const std::uint32_t old_ike = only_sa(ini()).id();
    const std::uint32_t child = child_of(ini());
    // The first IKE_FOLLOWUP_KE request is lost once: the window retransmits it.
    bool dropped = false;
    h.drop = [&](const Datagram& d) {
        auto m = wire::parse_message(d.data);
        if (!dropped && m && m->header.exchange == ExchangeType::kIkeFollowupKe &&
            !m->header.is_response()) {
            dropped = true;
            return true;
        }
        return false;
    };
    const std::size_t since_i = ini().messages.size();
    const std::size_t since_r = res().messages.size();
    h.act(ini(), [&](ike::Step& s) { ASSERT_TRUE(ini().manager.rekey_ike(old_ike, s)); });
    settle();
    EXPECT_TRUE(dropped);
    expect_single_pair();
    EXPECT_NE(only_sa(ini()).id(), old_ike);
    EXPECT_TRUE(only_sa(ini()).is_original_initiator());
    EXPECT_EQ(child_of(ini()), child);  // moved, not recreated
    expect_rounds(ini(), 2, since_i, since_r);
    EXPECT_EQ(h.sent_by(ini(), ExchangeType::kIkeFollowupKe, false).size(), 3U);  // 2 + 1 again
    for (Node* n : {&ini(), &res()}) {
        EXPECT_EQ(n->count(EventKind::kIkeRekeyed), 1U) << n->name;
        EXPECT_EQ(n->count(EventKind::kIkeDown), 0U) << n->name;
    }
    // The new IKE SA works (its keys agree): rekey the Child SA over it.
    h.act(ini(), [&](ike::Step& s) { ASSERT_TRUE(ini().manager.rekey_child(child, s)); });
    settle();
    expect_single_pair();
}

TEST_P(Followup, IkeSaRekeyedByTheResponder) {
    start(1, 1);
    h.act(res(),
          [&](ike::Step& s) { ASSERT_TRUE(res().manager.rekey_ike(only_sa(res()).id(), s)); });
    settle();
    expect_single_pair();
    EXPECT_TRUE(only_sa(res()).is_original_initiator());
    expect_rounds(res(), 1);
    // And a Child SA rekey with its own round over the new IKE SA.
    h.act(ini(), [&](ike::Step& s) { ASSERT_TRUE(ini().manager.rekey_child(child_of(ini()), s)); });
    settle();
    expect_single_pair();
}

TEST_P(Followup, StaleLinkAfterTheResponderGaveUpIsStateNotFound) {
    start(1);
    // The IKE_FOLLOWUP_KE request is lost until the responder has given up waiting
    // (kFollowupTimeout); the next retransmit then names a link it no longer knows:
    // STATE_NOT_FOUND, the rekey fails, the old Child SA stays, nothing is left over.
    const TimePoint until = h.now() + ike::kFollowupTimeout + std::chrono::seconds(5);
    h.drop = [&](const Datagram& d) {
        auto m = wire::parse_message(d.data);
        return h.now() < until && m && m->header.exchange == ExchangeType::kIkeFollowupKe;
    };
    const std::uint32_t old = child_of(ini());
    h.act(ini(), [&](ike::Step& s) { ASSERT_TRUE(ini().manager.rekey_child(old, s)); });
    h.run_for(std::chrono::seconds(3));
    // Meanwhile the responder holds the new Child SA as CREATING, not installed.
    EXPECT_EQ(only_sa(res()).children().size(), 2U);
    EXPECT_EQ(installed(res()).size(), 1U);
    h.run_for(ike::kFollowupTimeout);
    EXPECT_EQ(only_sa(res()).children().size(), 1U);
    EXPECT_EQ(res().manager.counters().followup_refused, 1U);
    settle();
    const auto refused = res().find({.sent = true,
                                     .exchange = ExchangeType::kIkeFollowupKe,
                                     .response = true,
                                     .notify = NotifyType::kStateNotFound});
    EXPECT_EQ(refused.size(), 1U);
    EXPECT_EQ(res().manager.counters().followup_refused, 2U);
    expect_single_pair();
    EXPECT_EQ(child_of(ini()), old);
    EXPECT_EQ(ini().count(EventKind::kChildFailed), 1U);
}

/// Simultaneous rekeys with additional key exchanges on seeds 1..8: a pair with `c` (node i
/// initiates it when `a_initiates`), then both sides `rekey` at once. One pair remains, keyed
/// alike, and only one side went on with IKE_FOLLOWUP_KE; `check` looks at the rest. Returns
/// on how many seeds i's side lost (sent no IKE_FOLLOWUP_KE): the nonces decide, so both
/// outcomes must occur.
std::size_t Followup::collide(bool a_initiates, const std::string& ike, const std::string& esp,
                              const RekeyBoth& rekey, const CheckBoth& check) {
    std::size_t ours_lost = 0;
    for (std::uint64_t seed = 1; seed <= 8; ++seed) {
        const std::string what = fmt::format("seed {}", seed);
        Harness hh(seed);
        PairConfig c = psk_pair(ike, esp);
        load(hh, c, psk_credentials(), psk_credentials());
        Node& i = a_initiates ? hh.a() : hh.b();
        Node& r = hh.peer(i);
        hh.act(i, [&](ike::Step& s) { ASSERT_TRUE(i.manager.initiate("conn", "net", s)); });
        EXPECT_TRUE(hh.run_until(
                [&] { return installed(hh.a()).size() == 1 && installed(hh.b()).size() == 1; },
                std::chrono::seconds(30)));
        const std::uint32_t child = installed(i).front();
        hh.act(i, [&](ike::Step& s) { rekey(i, s); });
        hh.act(r, [&](ike::Step& s) { rekey(r, s); });
        hh.run_for(kSettle);
        for (Node* n : {&hh.a(), &hh.b()}) {
            EXPECT_EQ(n->manager.sas().size(), 1U) << what << " " << n->name;
            EXPECT_EQ(installed(*n).size(), 1U) << what << " " << n->name;
            EXPECT_EQ(n->backend.sas.size(), 2U) << what << " " << n->name;
        }
        const auto problems = check_consistent(hh);
        EXPECT_TRUE(problems.empty()) << what << "\n" << join(problems);
        const std::size_t by_i = hh.sent_by(i, ExchangeType::kIkeFollowupKe, false).size();
        const std::size_t by_r = hh.sent_by(r, ExchangeType::kIkeFollowupKe, false).size();
        EXPECT_EQ(by_i + by_r, 1U) << what;
        ours_lost += by_i == 0 ? 1U : 0U;
        check(i, r, child, what);
    }
    return ours_lost;
}

TEST_P(Followup, SimultaneousChildRekeyOnlyTheWinnerGoesOn) {
    // RFC 9370 §2.2.4 with RFC 7296 §2.8.1: the nonces of the two CREATE_CHILD_SA decide; with
    // additional key exchanges no SA exists yet, so the initiator of the redundant one does not
    // go on with IKE_FOLLOWUP_KE (its responder drops the pending SA after a while), and the
    // winner's initiator deletes the old SA.
    const std::size_t lost = collide(
            GetParam(), "aes128gcm16-prfsha256-x25519", with_additional(1),
            [](Node& n, ike::Step& s) {
                const auto& sa = *n.established().front();
                ASSERT_TRUE(n.manager.rekey_child(sa.children().front()->id, s));
            },
            [](Node& i, Node& r, std::uint32_t /*child*/, const std::string& what) {
                for (Node* n : {&i, &r}) {
                    EXPECT_EQ(n->established().front()->children().size(), 1U) << what;
                    // The loser too reports its old Child SA rekeyed (by the winner's SA).
                    EXPECT_EQ(n->count(EventKind::kChildRekeyed), 1U) << what << " " << n->name;
                }
            });
    EXPECT_GT(lost, 0U);
    EXPECT_LT(lost, 8U);
}

TEST_P(Followup, SimultaneousIkeRekeyKeepsOneIkeSa) {
    // The same for two IKE SA rekeys: the loser stops after CREATE_CHILD_SA, the IKE SA the
    // winner's rounds made takes the Child SA on both sides.
    const std::size_t lost = collide(
            GetParam(), "aes128gcm16-prfsha256-x25519-ke1_ecp256", "aes128gcm16",
            [](Node& n, ike::Step& s) {
                ASSERT_TRUE(n.manager.rekey_ike(n.established().front()->id(), s));
            },
            [](Node& i, Node& r, std::uint32_t child, const std::string& what) {
                EXPECT_EQ(i.established().front()->children().front()->id, child) << what;
                for (Node* n : {&i, &r}) {
                    EXPECT_EQ(n->count(EventKind::kIkeDown), 0U) << what;
                }
            });
    EXPECT_GT(lost, 0U);
    EXPECT_LT(lost, 8U);
}

INSTANTIATE_TEST_SUITE_P(Roles, Followup, ::testing::Bool(), role_name);

TEST(FollowupKeys, KeymatTakesSk0NiNrThenTheAdditionalSecrets) {
    // RFC 9370 §2.2.4: KEYMAT = prf+(SK_d, SK(0) | Ni | Nr | SK(1) | ... | SK(n)); the engine
    // passes Nr | SK(1) | ... | SK(n) where RFC 7296 has Nr.
    const crypto::Registry& reg = test_registry();
    const crypto::Prf prf(reg, *reg.prf(crypto::prf::kHmacSha2_256));
    const Bytes sk_d(32, 0xd0);
    const Bytes sk0(32, 0x00);
    const Bytes ni(32, 0x11);
    const Bytes nr(32, 0x22);
    SecretBytes more[] = {SecretBytes::copy_of(Bytes(32, 0xa1)),
                          SecretBytes::copy_of(Bytes(56, 0xa2))};
    const SecretBytes tail = ike::nonce_and_secrets(nr, more);
    auto keys = crypto::derive_child_keys(prf, sk_d, sk0, ni, tail.view(), 16, 0);
    ASSERT_TRUE(keys);
    Bytes seed = sk0;
    for (const Bytes* part : {&ni, &nr}) {
        seed.insert(seed.end(), part->begin(), part->end());
    }
    for (const SecretBytes& m : more) {
        seed.insert(seed.end(), m.view().begin(), m.view().end());
    }
    auto expected = prf.plus(sk_d, {seed}, 32);
    ASSERT_TRUE(expected);
    EXPECT_TRUE(keys->encr_i.equals(expected->view().first(16)));
    EXPECT_TRUE(keys->encr_r.equals(expected->view().subspan(16, 16)));
}

TEST(FollowupKeys, AdditionalMethodsInTransformTypeOrderWithoutNone) {
    auto p = ike::parse_proposals("aes128gcm16-x25519-ke3_x448-ke1_ecp256-ke2_none",
                                  wire::ProtocolId::kEsp);
    ASSERT_TRUE(p) << p.error().detail;
    EXPECT_EQ(ike::additional_methods(p->front()), (std::vector<std::uint16_t>{19, 32}));
}

}  // namespace
}  // namespace ikeplex::test
