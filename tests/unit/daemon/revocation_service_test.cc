// The revocation service (daemon/revocation_service.h) with the real fetcher against a loopback
// HTTP server, certificates and CRLs made at test time, and a fake engine (the answer callback):
// a query answered after the authority's CRL is fetched (revoked / good in the cache), a CRL not
// signed by the issuer refused and the next URI tried, a query without URIs or with a dead URI
// still answered, the prefetch of authorities' crl_uris (fetched, kept across a reload, dropped
// when the authority goes, retried after a failure), and the refresh schedule.
#include "daemon/revocation_service.h"

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <openssl/x509.h>

#include <gtest/gtest.h>

#include "cert_factory.h"
#include "tiny_http.h"

namespace ikeplex::daemon {
namespace {

using namespace std::chrono_literals;
using test::kPinnedNow;

std::string crl_der(const crypto::Crl& crl) {
    unsigned char* out = nullptr;
    const int n = i2d_X509_CRL(crl.raw(), &out);
    std::string s(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
    OPENSSL_free(out);
    return s;
}

class Revocation : public ::testing::Test {
protected:
    Revocation()
        : ca_key_(test::make_key(crypto::KeyType::kEcP256)),
          other_key_(test::make_key(crypto::KeyType::kEcP256)),
          ee_key_(test::make_key(crypto::KeyType::kEcP256)),
          ca_(test::issue({.cn = "Test CA", .ca = true}, ca_key_, nullptr, ca_key_)),
          other_ca_(test::issue({.cn = "Other CA", .ca = true}, other_key_, nullptr, other_key_)),
          ee_(test::issue({.cn = "peer.test"}, ee_key_, &ca_, ca_key_)),
          good_(test::issue({.cn = "good.test"}, ee_key_, &ca_, ca_key_)) {
        auto f = HttpFetcher::create(io_, {}, &fetches_);
        EXPECT_TRUE(f);
        fetcher_ = std::move(*f);
        http_.route("/ca.crl", crl_der(test::issue_crl(ca_, ca_key_, {&ee_})));
        http_.route("/forged.crl", crl_der(test::issue_crl(other_ca_, other_key_, {})));
    }
    void make(PrefetchTiming timing = {}) {
        service_ = std::make_unique<RevocationService>(
                io_, *fetcher_, cache_, [this]() -> const ike::Credentials& { return creds_; },
                [this](std::uint32_t id, std::uint32_t seq) { answers_.emplace_back(id, seq); },
                counters_, [] { return kPinnedNow; }, timing);
    }
    void authority(std::vector<std::string> crl_uris, std::vector<std::string> ocsp_uris = {}) {
        ike::Credentials::Authority a;
        a.name = "ca";
        a.cacert = ca_.clone();
        a.crl_uris = std::move(crl_uris);
        a.ocsp_uris = std::move(ocsp_uris);
        creds_.authorities.push_back(std::move(a));
    }
    ike::RevocationQuery query(const crypto::Certificate& cert, std::uint32_t id = 7) {
        ike::RevocationQuery q;
        q.ike_id = id;
        q.seq = 3;
        q.subjects.push_back({cert.der(), ca_.der()});
        return q;
    }
    template <typename Pred>
    bool run_until(Pred done, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
        return ikeplex::test::run_until(io_, done, limit);
    }
    crypto::CertStatus status(const crypto::Certificate& c) {
        return cache_.status(c, ca_, kPinnedNow);
    }

    crypto::PrivateKey ca_key_, other_key_, ee_key_;
    crypto::Certificate ca_, other_ca_, ee_, good_;
    asio::io_context io_;
    ikeplex::test::TinyHttp http_;
    FetchCounters fetches_;
    RevocationCounters counters_;
    std::unique_ptr<HttpFetcher> fetcher_;
    crypto::RevocationCache cache_;
    ike::Credentials creds_;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> answers_;
    std::unique_ptr<RevocationService> service_;
};

TEST_F(Revocation, AuthorityCrlAnswersTheQuery) {
    authority({http_.url("/ca.crl")});
    make();
    std::vector<ike::RevocationQuery> qs;
    qs.push_back(query(ee_));
    qs.push_back(query(good_, 8));
    service_->on_queries(std::move(qs));
    ASSERT_TRUE(run_until([&] { return answers_.size() == 2; }));
    EXPECT_EQ(answers_[0], std::make_pair(7U, 3U));
    EXPECT_EQ(status(ee_), crypto::CertStatus::kRevoked);
    EXPECT_EQ(status(good_), crypto::CertStatus::kGood);
    // The prefetch (on_queries starts it for the new authority) and the two queries shared one
    // transfer.
    EXPECT_EQ(http_.hits("/ca.crl"), 1);
    EXPECT_EQ(fetches_.shared, 2U);
    EXPECT_EQ(service_->prefetched(), 1U);
    EXPECT_EQ(counters_.queries, 2U);
    EXPECT_EQ(counters_.answers, 2U);
}

TEST_F(Revocation, ForgedCrlRefusedNextUriTried) {
    authority({http_.url("/forged.crl"), http_.url("/missing.crl"), http_.url("/ca.crl")});
    make();
    // The prefetch first (on_queries would start it too), done before the query.
    service_->refresh_authorities();
    ASSERT_TRUE(run_until([&] { return fetcher_->in_flight() == 0; }));
    counters_ = {};
    fetches_ = {};
    service_->on_queries({query(ee_)});
    ASSERT_TRUE(run_until([&] { return answers_.size() == 1; }));
    EXPECT_EQ(counters_.unusable, 1U);
    EXPECT_EQ(fetches_.failed, 1U);  // the 404
    EXPECT_EQ(counters_.crls, 1U);
    EXPECT_EQ(status(ee_), crypto::CertStatus::kRevoked);
}

TEST_F(Revocation, CertificateUrisOcspFirstThenCrl) {
    // No authority: the URIs come from the certificate (AIA OCSP, CDP). The "responder" answers
    // 404, so the CDP's CRL decides.
    const crypto::Certificate cdp = test::issue(
            {.cn = "cdp.test", .crl_uri = http_.url("/ca.crl"), .ocsp_uri = http_.url("/ocsp")},
            ee_key_, &ca_, ca_key_);
    http_.route("/ca.crl", crl_der(test::issue_crl(ca_, ca_key_, {&cdp})));
    make();
    service_->on_queries({query(cdp)});
    ASSERT_TRUE(run_until([&] { return answers_.size() == 1; }));
    EXPECT_EQ(http_.hits("/ocsp"), 1);
    EXPECT_EQ(http_.hits("/ca.crl"), 1);
    EXPECT_EQ(status(cdp), crypto::CertStatus::kRevoked);
}

TEST_F(Revocation, NothingToFetchOrDeadUriStillAnswers) {
    make();
    service_->on_queries({query(ee_)});
    EXPECT_TRUE(answers_.empty());  // posted, never from inside the engine's call
    ASSERT_TRUE(run_until([&] { return answers_.size() == 1; }));
    authority({http_.url("/missing.crl")}, {http_.url("/ocsp")});
    service_->on_queries({query(ee_, 9)});
    ASSERT_TRUE(run_until([&] { return answers_.size() == 2; }));
    EXPECT_EQ(answers_[1].first, 9U);
    EXPECT_EQ(status(ee_), crypto::CertStatus::kUnknown);
    // A subject that does not parse is skipped.
    ike::RevocationQuery bad;
    bad.ike_id = 10;
    bad.subjects.push_back({Bytes{0x30, 0x01}, ca_.der()});
    service_->on_queries({std::move(bad)});
    ASSERT_TRUE(run_until([&] { return answers_.size() == 3; }));
}

TEST_F(Revocation, PrefetchFollowsTheAuthorities) {
    authority({http_.url("/ca.crl"), "ldap://ldap.test/ca.crl"});
    make();
    service_->refresh_authorities();
    EXPECT_EQ(service_->prefetched(), 1U);  // http(s) only
    ASSERT_TRUE(run_until([&] { return counters_.crls == 1; }));
    EXPECT_EQ(status(ee_), crypto::CertStatus::kRevoked);
    service_->refresh_authorities();  // a reload: known URIs keep their schedule
    io_.restart();
    io_.poll();
    EXPECT_EQ(http_.hits("/ca.crl"), 1);
    creds_.authorities.clear();
    service_->refresh_authorities();
    EXPECT_EQ(service_->prefetched(), 0U);
}

TEST_F(Revocation, PrefetchRetriesAfterAFailure) {
    authority({http_.url("/later.crl")});
    PrefetchTiming t;
    t.retry_min = 1s;
    make(t);
    service_->refresh_authorities();
    ASSERT_TRUE(run_until([&] { return http_.hits("/later.crl") == 1; }));
    http_.route("/later.crl", crl_der(test::issue_crl(ca_, ca_key_, {})));
    ASSERT_TRUE(run_until([&] { return counters_.crls == 1; }, 4s));
    EXPECT_EQ(http_.hits("/later.crl"), 2);
    EXPECT_EQ(counters_.prefetches, 2U);
    EXPECT_EQ(status(ee_), crypto::CertStatus::kGood);
}

TEST(CrlRefresh, AheadOfNextUpdate) {
    const PrefetchTiming t;
    const std::int64_t now = 1000000;
    // 90 % of a 7-day window.
    EXPECT_EQ(crl_refresh_at(now, now + 7 * 86400, now, t), now + 7 * 86400 * 9 / 10);
    // A short window: at least 60 s before nextUpdate ...
    EXPECT_EQ(crl_refresh_at(now, now + 1000, now, t), now + 900);
    EXPECT_EQ(crl_refresh_at(now, now + 400, now, t), now + 340);
    // ... but never sooner than retry_min from now.
    EXPECT_EQ(crl_refresh_at(now - 990, now + 10, now, t), now + 30);
    // No nextUpdate: daily.
    EXPECT_EQ(crl_refresh_at(now, 0, now, t), now + 86400);
}

}  // namespace
}  // namespace ikeplex::daemon
