// RFC 9242 IKE_INTERMEDIATE with RFC 9370 additional key exchanges in the exchange harness,
// each flow with either side as the initiator: one to three additional rounds (DH groups: any
// method may serve in any round), loss of a request and of a response, fragmentation of a
// large KE payload (RFC 7383), a peer that chooses a round we did not offer, a peer without
// IKE_INTERMEDIATE (optional rounds fall back, a required one is refused), a round with the
// wrong method (INVALID_SYNTAX), and IntAuth in AUTH (a changed IntAuth fails authentication).
#include <gtest/gtest.h>

#include "flow_fixture.h"
#include "ike/ike_intermediate.h"
#include "wire/message.h"

namespace ikeplex::test {
namespace {

using wire::ExchangeType;
using wire::NotifyType;

constexpr const char* kBase = "aes128gcm16-prfsha256-x25519";

std::string with_rounds(int n) {
    static const char* const kRounds[] = {"-ke1_ecp256", "-ke2_modp2048", "-ke3_x448"};
    std::string p = kBase;
    for (int i = 0; i < n; ++i) {
        p += kRounds[i];
    }
    return p;
}

bool is(const Datagram& d, ExchangeType type, bool response) {
    auto hd = wire::peek_header(d.data);
    return hd && hd->exchange == type && hd->is_response() == response;
}

/// Takes INTERMEDIATE_EXCHANGE_SUPPORTED out of a message (as from a peer without it).
void strip_intermediate_support(wire::Message& m) {
    std::erase_if(m.payloads, [](const wire::Payload& p) {
        const auto* n = p.as<wire::NotifyPayload>();
        return n != nullptr && n->type == NotifyType::kIntermediateExchangeSupported;
    });
}

class Intermediate : public FlowTest {
protected:
    explicit Intermediate(ike::Settings settings = {}) : FlowTest(settings) {}

    /// Loads `ini_proposals` on the initiator and `res_proposals` on the responder.
    void configure(const std::string& ini_proposals, const std::string& res_proposals) {
        PairConfig ini_side = psk_pair(ini_proposals);
        PairConfig res_side = psk_pair(res_proposals);
        ini_cfg().ike_proposals = (GetParam() ? ini_side.a : ini_side.b).ike_proposals;
        res_cfg().ike_proposals = (GetParam() ? res_side.b : res_side.a).ike_proposals;
        load_psk();
    }

    /// The IKE SA (half-open or not) of a node; null if it has none.
    static ike::IkeSa* sa_of(Node& n) {
        auto all = n.manager.sas();
        return all.empty() ? nullptr : n.manager.find(all.front()->id());
    }

    std::size_t intermediate_requests(Node& n) {
        return n.count(
                {.sent = true, .exchange = ExchangeType::kIkeIntermediate, .response = false});
    }

    /// The message id of the IKE_AUTH request the initiator sent.
    std::uint32_t auth_mid() {
        auto m = ini().find({.sent = true, .exchange = ExchangeType::kIkeAuth, .response = false});
        return m.empty() ? 0 : m.front()->header.message_id.value();
    }

    /// Redirects the initiator's next datagram of `type` through `change` (dropped, changed,
    /// delivered by the test to the responder); only the first one.
    void intercept(ExchangeType type, bool response, std::function<void(wire::Message&)> change) {
        h.drop = [this, type, response, change, done = false](const Datagram& d) mutable {
            if (done || !is(d, type, response)) {
                return false;
            }
            done = true;
            auto m = wire::parse_message(d.data);
            EXPECT_TRUE(m);
            change(*m);
            auto bytes = wire::write_message(*m);
            EXPECT_TRUE(bytes);
            pending_ = Datagram{d.src, d.dst, *bytes, d.from_a, d.index, d.at};
            return true;
        };
    }
    /// As the responder's IKE_SA_INIT response leaves, its round `index` becomes `method`.
    void change_responder_round(std::size_t index, std::uint16_t method) {
        h.drop = [this, index, method, done = false](const Datagram& d) mutable {
            if (!done && is(d, ExchangeType::kIkeSaInit, true)) {
                done = true;
                ike::IkeSa* sa = sa_of(res());
                EXPECT_NE(sa, nullptr);
                if (sa != nullptr) {
                    sa->states().get<ike::Intermediate>().rounds.at(index) = method;
                }
            }
            return false;
        };
    }
    /// Initiates with INTERMEDIATE_EXCHANGE_SUPPORTED taken out of the IKE_SA_INIT request on
    /// the way (the responder then looks like a peer without it), and runs 5 s.
    void start_without_intermediate_support() {
        intercept(ExchangeType::kIkeSaInit, false, strip_intermediate_support);
        initiate();
        deliver_changed();
        h.drop = nullptr;
        h.run_for(std::chrono::seconds(5));
    }
    /// The responder refused a round with INVALID_SYNTAX (counted) and both sides dropped the
    /// IKE SA.
    void expect_round_refused() {
        EXPECT_EQ(res().count({.sent = true,
                               .exchange = ExchangeType::kIkeIntermediate,
                               .response = true,
                               .notify = NotifyType::kInvalidSyntax}),
                  1U);
        EXPECT_EQ(res().manager.counters().intermediate_failed, 1U);
        EXPECT_TRUE(res().manager.sas().empty());
        EXPECT_TRUE(ini().manager.sas().empty());
    }
    /// Delivers the datagram intercept() changed to whom it was for.
    void deliver_changed() {
        ASSERT_TRUE(pending_);
        Node& to = pending_->from_a ? h.b() : h.a();
        const Datagram d = *pending_;
        pending_.reset();
        h.act(to, [&](ike::Step& s) { to.manager.on_datagram(d.data, d.dst, d.src, s); });
    }

    /// `n` additional rounds configured on both sides: establishes and checks the exchanges.
    void check_rounds(int n) {
        configure(with_rounds(n), with_rounds(n));
        initiate();
        ASSERT_TRUE(up());
        // IKE_SA_INIT announces IKE_INTERMEDIATE both ways, then one exchange per round with
        // message ids 1..n, KEi(n) / KEr(n); IKE_AUTH follows with id n + 1.
        EXPECT_EQ(ini().count({.sent = true,
                               .exchange = ExchangeType::kIkeSaInit,
                               .notify = NotifyType::kIntermediateExchangeSupported}),
                  1U);
        EXPECT_EQ(res().count({.sent = true,
                               .exchange = ExchangeType::kIkeSaInit,
                               .notify = NotifyType::kIntermediateExchangeSupported}),
                  1U);
        const auto reqs = ini().find(
                {.sent = true, .exchange = ExchangeType::kIkeIntermediate, .response = false});
        ASSERT_EQ(reqs.size(), static_cast<std::size_t>(n));
        for (std::size_t i = 0; i < reqs.size(); ++i) {
            EXPECT_EQ(reqs[i]->header.message_id.value(), i + 1);
            EXPECT_EQ(payload_summary(*reqs[i]), "KE");
        }
        EXPECT_EQ(res().count({.sent = true,
                               .exchange = ExchangeType::kIkeIntermediate,
                               .response = true,
                               .payloads = "KE"}),
                  static_cast<std::size_t>(n));
        EXPECT_EQ(auth_mid(), static_cast<std::uint32_t>(n + 1));
        // Both sides hold the same final keys (and the Child SA keys from them agree).
        const ike::IkeSa& i_sa = only_sa(ini());
        const ike::IkeSa& r_sa = only_sa(res());
        EXPECT_TRUE(i_sa.crypto()->sk_d.equals(r_sa.crypto()->sk_d.view()));
        EXPECT_NE(i_sa.crypto()->algorithms.additional_ke.at(static_cast<std::size_t>(n - 1)), 0);
        expect_consistent();
        EXPECT_EQ(ini().manager.counters().intermediate_failed, 0U);
        EXPECT_EQ(res().manager.counters().intermediate_failed, 0U);
    }

    std::optional<Datagram> pending_;
};

TEST_P(Intermediate, OneAdditionalKeyExchange) {
    check_rounds(1);
}

TEST_P(Intermediate, TwoAdditionalKeyExchanges) {
    check_rounds(2);
}

TEST_P(Intermediate, ThreeAdditionalKeyExchanges) {
    check_rounds(3);
}

TEST_P(Intermediate, TheRoundsEnterTheKeys) {
    // The same seeds without the rounds end with other keys.
    configure(with_rounds(2), with_rounds(2));
    initiate();
    ASSERT_TRUE(up());
    Harness other(7);
    PairConfig plain = psk_pair(kBase);
    load(other, plain, psk_credentials(), psk_credentials());
    Node& other_ini = GetParam() ? other.a() : other.b();
    other.act(other_ini,
              [&](ike::Step& s) { ASSERT_TRUE(other_ini.manager.initiate("conn", "net", s)); });
    ASSERT_TRUE(both_up(other, 1));
    EXPECT_EQ(other_ini.count({.exchange = ExchangeType::kIkeIntermediate}), 0U);
    EXPECT_FALSE(only_sa(ini()).crypto()->sk_d.equals(
            other_ini.established().front()->crypto()->sk_d.view()));
}

TEST_P(Intermediate, LostRequestAndResponseAreRetransmittedWithoutASecondKeyUpdate) {
    configure(with_rounds(2), with_rounds(2));
    int requests = 0;
    int responses = 0;
    h.drop = [&](const Datagram& d) {
        // The first request of round 1 and the first response of round 2 are lost.
        if (is(d, ExchangeType::kIkeIntermediate, false) && requests++ == 0) {
            return true;
        }
        return is(d, ExchangeType::kIkeIntermediate, true) && responses++ == 1;
    };
    initiate();
    ASSERT_TRUE(up());
    // 2 rounds: 2 requests + 2 retransmits; the responder answered the retransmitted request of
    // round 2 from its cache (3 responses, 2 rounds computed).
    EXPECT_EQ(requests, 4);
    EXPECT_EQ(responses, 3);
    EXPECT_EQ(intermediate_requests(ini()), 2U);
    EXPECT_EQ(res().count(
                      {.sent = true, .exchange = ExchangeType::kIkeIntermediate, .response = true}),
              2U);
    const auto resp = h.sent_by(res(), ExchangeType::kIkeIntermediate, true);
    ASSERT_EQ(resp.size(), 3U);
    EXPECT_EQ(resp[1].data, resp[2].data);  // the cached response again
    EXPECT_EQ(auth_mid(), 3U);
    expect_consistent();
}

ike::Settings small_fragments() {
    ike::Settings s;
    s.fragment_size = 400;
    return s;
}

class IntermediateFragments : public Intermediate {
protected:
    IntermediateFragments() : Intermediate(small_fragments()) {}
};

TEST_P(IntermediateFragments, LargeKePayloadsAreFragmented) {
    configure(std::string(kBase) + "-ke1_modp4096-ke2_ecp256",
              std::string(kBase) + "-ke1_modp4096-ke2_ecp256");
    initiate();
    ASSERT_TRUE(up());
    // Round 1's 512-byte KE payloads go in SKF fragments (RFC 7383) both ways; IntAuth counts
    // each message as reassembled, so AUTH succeeds.
    const auto frag = [](const Datagram& d) { return d.data.size() > 16 && d.data[16] == 53; };
    std::size_t req_frags = 0;
    for (const Datagram& d : h.sent_by(ini(), ExchangeType::kIkeIntermediate, false)) {
        req_frags += frag(d) ? 1U : 0U;
    }
    std::size_t resp_frags = 0;
    for (const Datagram& d : h.sent_by(res(), ExchangeType::kIkeIntermediate, true)) {
        resp_frags += frag(d) ? 1U : 0U;
    }
    EXPECT_GE(req_frags, 2U);
    EXPECT_GE(resp_frags, 2U);
    EXPECT_EQ(intermediate_requests(ini()), 2U);
    expect_consistent();
}

TEST_P(Intermediate, PeerChoosingARoundWeDidNotOfferIsRefused) {
    configure(kBase, kBase);
    // The responder's IKE_SA_INIT response, changed on the way: it "chose" KE1_ECP_256.
    bool changed = false;
    h.drop = [&](const Datagram& d) {
        if (changed || !is(d, ExchangeType::kIkeSaInit, true)) {
            return false;
        }
        changed = true;
        auto m = wire::parse_message(d.data);
        EXPECT_TRUE(m);
        for (auto& p : m->payloads) {
            if (auto* sa = p.as<wire::SaPayload>()) {
                sa->proposals[0].transforms.push_back(
                        {wire::TransformType::kAddKe1, crypto::ke::kEcp256, {}});
            }
        }
        pending_ = Datagram{d.src, d.dst, *wire::write_message(*m), d.from_a, d.index, d.at};
        return true;
    };
    initiate();
    h.run_for(std::chrono::milliseconds(50));
    deliver_changed();
    h.run_for(std::chrono::seconds(5));
    EXPECT_EQ(intermediate_requests(ini()), 0U);
    EXPECT_EQ(ini().count({.sent = true, .exchange = ExchangeType::kIkeAuth}), 0U);
    EXPECT_TRUE(ini().established().empty());
    EXPECT_EQ(ini().manager.sas().size(), 0U);
}

TEST_P(Intermediate, OptionalRoundsFallBackToNone) {
    // The initiator makes round 1 optional; the responder has no additional key exchange
    // configured and chooses NONE (RFC 9370 §2.2.1): no IKE_INTERMEDIATE, IKE_AUTH is id 1.
    configure(with_rounds(1) + "-ke1_none", kBase);
    initiate();
    ASSERT_TRUE(up());
    EXPECT_EQ(intermediate_requests(ini()), 0U);
    EXPECT_EQ(auth_mid(), 1U);
    EXPECT_EQ(only_sa(ini()).crypto()->algorithms.additional_ke[0], 0);
    expect_consistent();
}

TEST_P(Intermediate, WithoutIntermediateSupportOptionalRoundsFallBack) {
    // As above, but the responder does not announce IKE_INTERMEDIATE support: its
    // announcement is taken out of the request on the way (as from a peer without it). The
    // responder chooses NONE and does not announce it; the initiator goes to IKE_AUTH (id 1)
    // without IKE_INTERMEDIATE. (AUTH then fails, as it must: the IKE_SA_INIT request was
    // changed in flight, RFC 7296 §2.15.)
    configure(with_rounds(1) + "-ke1_none", kBase);
    start_without_intermediate_support();
    EXPECT_EQ(res().count({.sent = true,
                           .exchange = ExchangeType::kIkeSaInit,
                           .notify = NotifyType::kIntermediateExchangeSupported}),
              0U);
    EXPECT_EQ(intermediate_requests(ini()), 0U);
    EXPECT_EQ(auth_mid(), 1U);
}

TEST_P(Intermediate, WithoutIntermediateSupportARequiredRoundIsRefused) {
    configure(with_rounds(1), with_rounds(1));
    start_without_intermediate_support();
    EXPECT_EQ(res().count({.sent = true,
                           .exchange = ExchangeType::kIkeSaInit,
                           .notify = NotifyType::kNoProposalChosen}),
              1U);
    EXPECT_TRUE(ini().established().empty());
    EXPECT_TRUE(res().manager.sas().empty());
}

TEST_P(Intermediate, ARoundWithTheWrongMethodIsInvalidSyntax) {
    configure(with_rounds(2), with_rounds(2));
    // When the responder's IKE_SA_INIT response leaves, its round 1 is made X448: the
    // initiator's ECP_256 is then the wrong method for it.
    change_responder_round(0, crypto::ke::kCurve448);
    initiate();
    h.run_for(std::chrono::seconds(5));
    expect_round_refused();
    EXPECT_EQ(ini().manager.counters().intermediate_failed, 1U);
}

/// The initiator's first IKE_INTERMEDIATE request is replaced, on the way, by one with the same
/// header and keys but these inner payloads (as a broken or hostile initiator would send).
class IntermediateForged : public Intermediate {
protected:
    void forge_first_request(std::vector<wire::Payload> inner) {
        h.drop = [this, inner, done = false](const Datagram& d) mutable {
            if (done || !is(d, ExchangeType::kIkeIntermediate, false)) {
                return false;
            }
            done = true;
            const ike::IkeSa* sa = sa_of(ini());
            auto m = wire::parse_message(d.data);
            EXPECT_TRUE(sa != nullptr && m);
            const ike::SkCipher& c = sa->crypto()->out;
            const Bytes plain = wire::write_payload_chain(inner).value();
            const auto first = inner.empty() ? wire::PayloadType::kNone : inner.front().type;
            auto sealed = c.seal(m->header, first, plain, Bytes(c.iv_size(), 7),
                                 c.default_padding(plain.size()));
            EXPECT_TRUE(sealed);
            pending_ = Datagram{d.src, d.dst, *sealed, d.from_a, d.index, d.at};
            return true;
        };
    }

    /// Delivers the forged request; the round must be refused.
    void expect_refused() {
        h.run_for(std::chrono::milliseconds(50));
        deliver_changed();
        h.run_for(std::chrono::seconds(5));
        expect_round_refused();
    }
};

TEST_P(IntermediateForged, ARoundWithoutKeIsInvalidSyntax) {
    configure(with_rounds(1), with_rounds(1));
    forge_first_request({});
    initiate();
    expect_refused();
}

TEST_P(IntermediateForged, AnInvalidKeValueIsInvalidSyntax) {
    // ECP_256 x | y of zeros is not a point on the curve (RFC 6989 checks in the KE layer).
    configure(with_rounds(1), with_rounds(1));
    forge_first_request({wire::make_payload(wire::KePayload{crypto::ke::kEcp256, Bytes(64, 0)})});
    initiate();
    expect_refused();
}

TEST_P(IntermediateForged, AKeValueOfTheWrongSizeIsInvalidSyntax) {
    configure(with_rounds(1), with_rounds(1));
    forge_first_request({wire::make_payload(wire::KePayload{crypto::ke::kEcp256, Bytes(63, 1)})});
    initiate();
    expect_refused();
}

TEST_P(Intermediate, IkeAuthBeforeTheLastRoundIsInvalidSyntax) {
    configure(with_rounds(1), with_rounds(1));
    // The responder expects a second round the initiator does not know of: its IKE_AUTH comes
    // too early.
    change_responder_round(1, crypto::ke::kEcp256);
    initiate();
    h.run_for(std::chrono::seconds(5));
    EXPECT_EQ(intermediate_requests(ini()), 1U);
    EXPECT_EQ(res().count({.sent = true,
                           .exchange = ExchangeType::kIkeAuth,
                           .response = true,
                           .notify = NotifyType::kInvalidSyntax}),
              1U);
    EXPECT_EQ(res().manager.counters().intermediate_failed, 1U);
    EXPECT_TRUE(res().manager.sas().empty());
    EXPECT_TRUE(ini().established().empty());
}

TEST_P(Intermediate, AChangedIntAuthFailsAuthentication) {
    configure(with_rounds(2), with_rounds(2));
    // As the initiator's IKE_AUTH request leaves, the responder's IntAuth_i2 is changed (as if
    // an IKE_INTERMEDIATE request had been altered): the initiator's AUTH no longer verifies.
    bool tampered = false;
    h.drop = [&, done = false](const Datagram& d) mutable {
        if (!done && is(d, ExchangeType::kIkeAuth, false)) {
            done = true;
            ike::IkeSa* sa = sa_of(res());
            EXPECT_NE(sa, nullptr);
            if (sa != nullptr && !sa->handshake().int_auth_i.empty()) {
                sa->handshake().int_auth_i[0] ^= 1U;
                tampered = true;
            }
        }
        return false;
    };
    initiate();
    h.run_for(std::chrono::seconds(5));
    EXPECT_TRUE(tampered);
    EXPECT_EQ(res().count({.sent = true,
                           .exchange = ExchangeType::kIkeAuth,
                           .response = true,
                           .notify = NotifyType::kAuthenticationFailed}),
              1U);
    EXPECT_TRUE(ini().established().empty());
    EXPECT_TRUE(res().established().empty());
}

INSTANTIATE_TEST_SUITE_P(Roles, Intermediate, ::testing::Bool(), role_name);
INSTANTIATE_TEST_SUITE_P(Roles, IntermediateFragments, ::testing::Bool(), role_name);
INSTANTIATE_TEST_SUITE_P(Roles, IntermediateForged, ::testing::Bool(), role_name);

}  // namespace
}  // namespace ikeplex::test
