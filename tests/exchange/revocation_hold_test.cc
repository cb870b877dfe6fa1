// IKE_AUTH holds while a certificate's revocation status is fetched (ike_auth_revocation.h,
// docs/revocation.md), in both roles: the checking side ("checker", the responder or the
// initiator) gets a RevocationQuery once the peer's AUTH verified, and the test host answers it
// as the daemon's fetcher would — RevocationCache::put_ocsp / put_crl, then
// on_revocation_answer — or never (revocation_timeout: the status stays unknown and the mode
// decides). A responder holds its IKE_AUTH response (the initiator's retransmits are dropped);
// an initiator holds the processing of the response (no retransmit of its request). Every flow
// runs with a and with b as the initiator (FlowTest).
#include "cert_factory.h"
#include "flow_fixture.h"

namespace ikeplex::test {
namespace {

using crypto::CertStatus;
using ike::EventKind;
using Mode = crypto::RevocationMode;
using wire::ExchangeType;

constexpr const char* kUri = "http://10.99.0.9/ca.crl";

struct HoldCase {
    Mode mode{Mode::kStrict};
    bool checker_is_initiator{false};
    bool cdp{true};             ///< the checked certificate names a CRL distribution point
    bool authority_uri{false};  ///< the checker's `authorities` entry for the CA has crl_uris
    bool held_revoked{false};   ///< the checker holds a CRL listing the checked certificate
    bool trusted{true};         ///< the checker trusts the CA that issued the checked one
};

class RevocationHold : public FlowTest {
protected:
    RevocationHold() = default;
    explicit RevocationHold(ike::Settings s) : FlowTest(s) {}

    Node& checker() { return s_.checker_is_initiator ? ini() : res(); }
    Node& checked() { return h.peer(checker()); }

    /// Certificates on both sides from one CA (the checked side's with the CDP when asked), the
    /// checker's `revocation` mode; starts the connection and runs until the checker asks (or
    /// 3 s pass).
    void start(const HoldCase& s) {
        s_ = s;
        ca_key_ = make_key(crypto::KeyType::kEcP256);
        ca_ = issue(CertSpec{.cn = "Hold CA", .ca = true}, ca_key_, nullptr, ca_key_);
        const auto other_key = make_key(crypto::KeyType::kEcP256);
        const auto other_ca =
                issue(CertSpec{.cn = "Other CA", .ca = true}, other_key, nullptr, other_key);
        const bool a_checks = GetParam() == s.checker_is_initiator;
        const char* checked_dns = a_checks ? "b.test" : "a.test";
        const char* checker_dns = a_checks ? "a.test" : "b.test";
        auto checked_key = make_key(crypto::KeyType::kEcP256);
        checked_cert_ = issue(
                CertSpec{.cn = checked_dns, .dns = {checked_dns}, .crl_uri = s.cdp ? kUri : ""},
                checked_key, &ca_, ca_key_);
        auto checker_key = make_key(crypto::KeyType::kEcP256);
        auto checker_cert = issue(CertSpec{.cn = checker_dns, .dns = {checker_dns}}, checker_key,
                                  &ca_, ca_key_);
        ike::Credentials checker_creds;
        checker_creds.certs.push_back(
                ike::Credentials::Own{std::move(checker_cert), std::move(checker_key)});
        EXPECT_TRUE(checker_creds.add_ca(s.trusted ? ca_.clone() : other_ca.clone()));
        if (s.held_revoked) {
            checker_creds.crls.push_back(issue_crl(ca_, ca_key_, {&checked_cert_}));
        }
        if (s.authority_uri) {
            checker_creds.authorities.push_back(
                    ike::Credentials::Authority{"hold-ca", ca_.clone(), {kUri}, {}, {}});
        }
        ike::Credentials checked_creds;
        checked_creds.certs.push_back(
                ike::Credentials::Own{checked_cert_.clone(), std::move(checked_key)});
        EXPECT_TRUE(checked_creds.add_ca(ca_.clone()));
        use_pubkey(cfg);
        (a_checks ? cfg.a : cfg.b).remote.revocation = s.mode;
        load(h, cfg, a_checks ? std::move(checker_creds) : std::move(checked_creds),
             a_checks ? std::move(checked_creds) : std::move(checker_creds));
        initiate();
        h.run_until([&] { return !checker().revocation_queries.empty(); }, std::chrono::seconds(3));
    }

    /// The query the checker made (exactly one), taken.
    std::optional<ike::RevocationQuery> take_query() {
        auto& qs = checker().revocation_queries;
        EXPECT_EQ(qs.size(), 1U);
        if (qs.empty()) {
            return std::nullopt;
        }
        auto q = std::move(qs.front());
        qs.erase(qs.begin());
        return q;
    }

    void answer(const ike::RevocationQuery& q) {
        h.act(checker(),
              [&](ike::Step& st) { checker().manager.on_revocation_answer(q.ike_id, q.seq, st); });
    }
    void answer_ocsp(CertStatus status) {
        auto q = take_query();
        ASSERT_TRUE(q);
        ASSERT_EQ(q->subjects.size(), 1U);
        EXPECT_EQ(q->subjects.front().cert, checked_cert_.der());
        EXPECT_EQ(q->subjects.front().issuer, ca_.der());
        checker().manager.revocation().put_ocsp(
                checked_cert_, ca_,
                crypto::OcspStatus{status, kPinnedNow - 60, kPinnedNow + 86400,
                                   status == CertStatus::kRevoked ? kPinnedNow - 120 : 0});
        answer(*q);
    }
    void answer_crl(bool revoked) {
        auto q = take_query();
        ASSERT_TRUE(q);
        std::vector<const crypto::Certificate*> listed;
        if (revoked) {
            listed.push_back(&checked_cert_);
        }
        checker().manager.revocation().put_crl(kUri, issue_crl(ca_, ca_key_, listed), kPinnedNow);
        answer(*q);
    }

    [[nodiscard]] const ike::ManagerCounters& counters() { return checker().manager.counters(); }

    void expect_accepted() {
        settle();
        EXPECT_EQ(ini().count(EventKind::kIkeUp), 1U);
        EXPECT_EQ(res().count(EventKind::kIkeUp), 1U);
        EXPECT_EQ(checker().manager.revocation_holds(), 0U);
    }

    /// The checker refused the peer: a responder with AUTHENTICATION_FAILED in its IKE_AUTH
    /// response, an initiator with an INFORMATIONAL carrying it; no IKE SA stays.
    void expect_refused() {
        settle();
        if (s_.checker_is_initiator) {
            EXPECT_EQ(ini().count({.sent = true,
                                   .exchange = ExchangeType::kInformational,
                                   .response = false,
                                   .notify = wire::NotifyType::kAuthenticationFailed}),
                      1U);
            EXPECT_EQ(ini().count(EventKind::kIkeUp), 0U);
        } else {
            EXPECT_EQ(res().count({.sent = true,
                                   .exchange = ExchangeType::kIkeAuth,
                                   .response = true,
                                   .payloads = "N(AUTH_FAILED)"}),
                      1U);
            EXPECT_EQ(res().count(EventKind::kIkeUp), 0U);
            EXPECT_EQ(ini().count(EventKind::kIkeFailed), 1U);
        }
        EXPECT_TRUE(h.a().manager.sas().empty());
        EXPECT_TRUE(h.b().manager.sas().empty());
        EXPECT_EQ(checker().manager.revocation_holds(), 0U);
    }

    /// No answer: the status stays unknown after revocation_timeout (12 s) and the mode
    /// decides; the initiator's retransmits meanwhile are dropped, nothing is answered before.
    void run_unreachable() {
        const auto started = h.now();
        h.run_for(std::chrono::seconds(11));
        EXPECT_EQ(res().count({.sent = true, .exchange = ExchangeType::kIkeAuth, .response = true}),
                  0U);
        // The request's retransmit 4 s later (retransmit_timeout) met the hold: dropped.
        EXPECT_GE(ini().manager.counters().retransmits, 1U);
        EXPECT_GE(counters().revocation_retransmits_dropped, 1U);
        h.run_until([&] { return counters().revocation_timeout == 1; }, std::chrono::seconds(5));
        EXPECT_EQ(counters().revocation_timeout, 1U);
        EXPECT_GE(h.now() - started, std::chrono::seconds(11));
    }

    HoldCase s_;
    crypto::PrivateKey ca_key_ = make_key(crypto::KeyType::kEcP256);
    crypto::Certificate ca_ = issue(CertSpec{.cn = "unused"}, ca_key_, nullptr, ca_key_);
    crypto::Certificate checked_cert_ = ca_.clone();
};

// --- the responder checks the initiator's certificate ---

TEST_P(RevocationHold, ResponderOcspGoodAccepts) {
    start({.mode = Mode::kStrict});
    EXPECT_EQ(counters().revocation_held, 1U);
    EXPECT_EQ(checker().manager.revocation_holds(), 1U);
    answer_ocsp(CertStatus::kGood);
    expect_accepted();
}

TEST_P(RevocationHold, ResponderOcspRevokedRefusesUnderRelaxed) {
    start({.mode = Mode::kRelaxed});
    answer_ocsp(CertStatus::kRevoked);
    expect_refused();
    EXPECT_EQ(counters().revoked, 1U);
}

TEST_P(RevocationHold, ResponderOcspUnknownRefusesUnderIfUri) {
    start({.mode = Mode::kIfUri});
    answer_ocsp(CertStatus::kUnknown);
    expect_refused();
    EXPECT_EQ(counters().revocation_unknown, 1U);
}

TEST_P(RevocationHold, ResponderFetchedCrlGoodAccepts) {
    start({.mode = Mode::kStrict});
    answer_crl(false);
    expect_accepted();
}

TEST_P(RevocationHold, ResponderFetchedCrlRevokedRefuses) {
    start({.mode = Mode::kIfUri});
    answer_crl(true);
    expect_refused();
    EXPECT_EQ(counters().revoked, 1U);
}

TEST_P(RevocationHold, ResponderHeldCrlRevokedRefusesWithoutQuery) {
    start({.mode = Mode::kRelaxed, .held_revoked = true});
    EXPECT_TRUE(checker().revocation_queries.empty());
    expect_refused();
    EXPECT_EQ(counters().revocation_held, 0U);
}

TEST_P(RevocationHold, ResponderAuthorityUriAlsoAsks) {
    start({.mode = Mode::kIfUri, .cdp = false, .authority_uri = true});
    answer_ocsp(CertStatus::kGood);
    expect_accepted();
}

TEST_P(RevocationHold, ResponderNoUriNoQuery) {
    start({.mode = Mode::kStrict, .cdp = false});
    EXPECT_TRUE(checker().revocation_queries.empty());
    expect_refused();
    EXPECT_EQ(counters().revocation_unknown, 1U);
}

TEST_P(RevocationHold, UntrustedPeerCausesNoQuery) {
    // A stranger's certificate (not chaining to a trusted CA) never makes the host fetch.
    start({.mode = Mode::kRelaxed, .trusted = false});
    EXPECT_TRUE(checker().revocation_queries.empty());
    expect_refused();
    EXPECT_EQ(counters().revocation_held, 0U);
}

TEST_P(RevocationHold, ResponderUnreachableStrictRefuses) {
    start({.mode = Mode::kStrict});
    run_unreachable();
    expect_refused();
}

TEST_P(RevocationHold, ResponderUnreachableIfUriRefuses) {
    start({.mode = Mode::kIfUri});
    run_unreachable();
    expect_refused();
}

TEST_P(RevocationHold, ResponderUnreachableRelaxedAccepts) {
    start({.mode = Mode::kRelaxed});
    run_unreachable();
    expect_accepted();
    // One IKE_AUTH response for all the retransmits of the request.
    EXPECT_EQ(res().count({.sent = true, .exchange = ExchangeType::kIkeAuth, .response = true}),
              1U);
}

TEST_P(RevocationHold, ResponderSaGoneDuringHoldIgnoresTheAnswer) {
    start({.mode = Mode::kStrict});
    auto q = take_query();
    ASSERT_TRUE(q);
    h.act(res(), [&](ike::Step& st) { (void)res().manager.terminate_ike(q->ike_id, st); });
    h.run_for(std::chrono::seconds(1));
    EXPECT_EQ(res().manager.sa(q->ike_id), nullptr);
    EXPECT_EQ(checker().manager.revocation_holds(), 0U);
    answer(*q);  // late: ignored
    h.run_for(std::chrono::seconds(20));
    EXPECT_EQ(res().count(EventKind::kIkeUp), 0U);
    EXPECT_EQ(counters().revocation_timeout, 0U);
}

TEST_P(RevocationHold, StaleAnswerIsIgnored) {
    start({.mode = Mode::kStrict});
    auto q = take_query();
    ASSERT_TRUE(q);
    h.act(res(), [&](ike::Step& st) {
        res().manager.on_revocation_answer(q->ike_id, q->seq + 1, st);  // not the query's
    });
    EXPECT_EQ(checker().manager.revocation_holds(), 1U);
    answer(*q);
    expect_refused();  // nothing learnt: unknown under strict
}

// --- the initiator checks the responder's certificate ---

TEST_P(RevocationHold, InitiatorHeldCrlRevokedRefuses) {
    start({.mode = Mode::kRelaxed, .checker_is_initiator = true, .held_revoked = true});
    EXPECT_TRUE(checker().revocation_queries.empty());
    expect_refused();
    EXPECT_EQ(counters().revoked, 1U);
}

TEST_P(RevocationHold, InitiatorOcspGoodAccepts) {
    start({.mode = Mode::kStrict, .checker_is_initiator = true});
    answer_ocsp(CertStatus::kGood);
    expect_accepted();
}

TEST_P(RevocationHold, InitiatorOcspRevokedRefuses) {
    start({.mode = Mode::kRelaxed, .checker_is_initiator = true});
    answer_ocsp(CertStatus::kRevoked);
    expect_refused();
    EXPECT_EQ(counters().revoked, 1U);
}

TEST_P(RevocationHold, InitiatorOcspUnknownRefusesUnderStrict) {
    start({.mode = Mode::kStrict, .checker_is_initiator = true});
    answer_ocsp(CertStatus::kUnknown);
    expect_refused();
    EXPECT_EQ(counters().revocation_unknown, 1U);
}

TEST_P(RevocationHold, InitiatorFetchedCrlGoodAccepts) {
    start({.mode = Mode::kIfUri, .checker_is_initiator = true});
    answer_crl(false);
    expect_accepted();
}

TEST_P(RevocationHold, InitiatorHoldsWithoutRetransmitting) {
    start({.mode = Mode::kStrict, .checker_is_initiator = true});
    h.run_for(std::chrono::seconds(11));
    // The response came; our request is not sent again while we wait, nor processed twice.
    EXPECT_EQ(ini().count({.sent = true, .exchange = ExchangeType::kIkeAuth, .response = false}),
              1U);
    EXPECT_EQ(ini().manager.counters().retransmits, 0U);
    EXPECT_EQ(ini().count(EventKind::kIkeUp), 0U);
    h.run_until([&] { return counters().revocation_timeout == 1; }, std::chrono::seconds(5));
    EXPECT_EQ(counters().revocation_timeout, 1U);
    expect_refused();
}

TEST_P(RevocationHold, InitiatorUnreachableRelaxedAccepts) {
    start({.mode = Mode::kRelaxed, .checker_is_initiator = true});
    h.run_for(std::chrono::seconds(13));
    EXPECT_EQ(counters().revocation_timeout, 1U);
    expect_accepted();
}

TEST_P(RevocationHold, InitiatorSaGoneDuringHoldIgnoresTheAnswer) {
    start({.mode = Mode::kStrict, .checker_is_initiator = true});
    auto q = take_query();
    ASSERT_TRUE(q);
    h.act(ini(), [&](ike::Step& st) { (void)ini().manager.terminate_ike(q->ike_id, st); });
    h.run_for(std::chrono::seconds(1));
    answer(*q);
    settle();
    EXPECT_EQ(ini().count(EventKind::kIkeUp), 0U);
    EXPECT_EQ(checker().manager.revocation_holds(), 0U);
    EXPECT_EQ(counters().revocation_timeout, 0U);
}

INSTANTIATE_TEST_SUITE_P(Roles, RevocationHold, ::testing::Bool(), role_name);

// --- max_revocation_holds ---

ike::Settings no_holds() {
    ike::Settings s;
    s.max_revocation_holds = 0;
    return s;
}

class RevocationHoldCap : public RevocationHold {
protected:
    RevocationHoldCap() : RevocationHold(no_holds()) {}
};

TEST_P(RevocationHoldCap, BeyondTheCapDecidesAsUnknown) {
    start({.mode = Mode::kStrict});
    EXPECT_TRUE(checker().revocation_queries.empty());
    expect_refused();
    EXPECT_EQ(counters().revocation_hold_refused, 1U);
    EXPECT_EQ(counters().revocation_unknown, 1U);
}

TEST_P(RevocationHoldCap, BeyondTheCapRelaxedAccepts) {
    start({.mode = Mode::kRelaxed, .checker_is_initiator = true});
    EXPECT_TRUE(checker().revocation_queries.empty());
    expect_accepted();
    EXPECT_EQ(counters().revocation_hold_refused, 1U);
}

INSTANTIATE_TEST_SUITE_P(Roles, RevocationHoldCap, ::testing::Bool(), role_name);

}  // namespace
}  // namespace ikeplex::test
