// The revocation fetcher (daemon/http_fetcher.h) against a tiny HTTP/1.1 server on loopback in
// this process: an answer, a 404, a server that never answers (timeout), answers over the size
// cap (with and without Content-Length), a redirect to file:// refused, POST with its content
// type, file:// for GET only, requests for the same URI sharing one transfer, and stop() while a
// transfer waits on a silent server.
#include "daemon/http_fetcher.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "tiny_http.h"

namespace ikeplex::daemon {
namespace {

using namespace std::chrono_literals;

class Fetcher : public ::testing::Test {
protected:
    void make(FetchLimits limits = {}) {
        auto f = HttpFetcher::create(io_, limits);
        ASSERT_TRUE(f) << f.error().to_string();
        fetcher_ = std::move(*f);
    }
    template <typename Pred>
    bool run_until(Pred done, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
        return ikeplex::test::run_until(io_, done, limit);
    }
    FetchResult get(const std::string& uri) {
        std::optional<FetchResult> r;
        fetcher_->get(uri, [&](const FetchResult& x) { r = x; });
        EXPECT_TRUE(run_until([&] { return r.has_value(); }, 8s)) << uri;
        return r.value_or(FetchResult{});
    }

    asio::io_context io_;
    std::unique_ptr<HttpFetcher> fetcher_;
    ikeplex::test::TinyHttp http_;
};

std::string text(const Bytes& b) {
    return {b.begin(), b.end()};
}

TEST_F(Fetcher, GetAnswerAnd404) {
    make();
    FetchResult r = get(http_.url("/ok"));
    EXPECT_EQ(r.outcome, FetchOutcome::kOk) << r.error;
    EXPECT_EQ(r.http_status, 200);
    EXPECT_EQ(text(r.body), "a CRL");
    r = get(http_.url("/nothing-here"));
    EXPECT_EQ(r.outcome, FetchOutcome::kFailed);
    EXPECT_EQ(r.http_status, 404);
    EXPECT_TRUE(r.body.empty());
    EXPECT_EQ(fetcher_->counters().ok, 1U);
    EXPECT_EQ(fetcher_->counters().failed, 1U);
    EXPECT_EQ(fetcher_->in_flight(), 0U);
}

TEST_F(Fetcher, SilentServerTimesOut) {
    FetchLimits l;
    l.total_timeout = 300ms;
    make(l);
    const auto t0 = std::chrono::steady_clock::now();
    const FetchResult r = get(http_.url("/slow"));
    EXPECT_EQ(r.outcome, FetchOutcome::kTimeout) << r.error;
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
    EXPECT_EQ(fetcher_->counters().timeout, 1U);
}

TEST_F(Fetcher, AnswersOverTheCapFail) {
    FetchLimits l;
    l.max_size = 1U << 20U;
    make(l);
    FetchResult r = get(http_.url("/big"));
    EXPECT_EQ(r.outcome, FetchOutcome::kTooBig) << r.error;
    EXPECT_TRUE(r.body.empty());
    r = get(http_.url("/big-stream"));
    EXPECT_EQ(r.outcome, FetchOutcome::kTooBig) << r.error;
    EXPECT_EQ(fetcher_->counters().failed, 2U);
}

TEST_F(Fetcher, SchemesAndRedirects) {
    make();
    const auto path = std::filesystem::temp_directory_path() /
                      ("ikeplex-fetch-" + std::to_string(::getpid()) + ".crl");
    std::ofstream(path) << "file CRL";
    FetchResult r = get("file://" + path.string());
    EXPECT_EQ(r.outcome, FetchOutcome::kOk) << r.error;
    EXPECT_EQ(text(r.body), "file CRL");
    std::filesystem::remove(path);
    // A redirect may not leave http(s); other schemes are refused outright.
    r = get(http_.url("/to-file"));
    EXPECT_EQ(r.outcome, FetchOutcome::kFailed);
    EXPECT_TRUE(r.body.empty());
    r = get("ftp://127.0.0.1/x.crl");
    EXPECT_EQ(r.outcome, FetchOutcome::kFailed);
    std::optional<FetchResult> p;
    fetcher_->post("file:///etc/hostname", "application/ocsp-request", Bytes{1},
                   [&](const FetchResult& x) { p = x; });
    ASSERT_TRUE(run_until([&] { return p.has_value(); }));
    EXPECT_EQ(p->outcome, FetchOutcome::kFailed);
}

TEST_F(Fetcher, PostCarriesBodyAndType) {
    make();
    std::optional<FetchResult> r;
    fetcher_->post(http_.url("/post"), "application/ocsp-request", Bytes{'a', 'b', 'c'},
                   [&](const FetchResult& x) { r = x; });
    ASSERT_TRUE(run_until([&] { return r.has_value(); }));
    EXPECT_EQ(r->outcome, FetchOutcome::kOk) << r->error;
    EXPECT_EQ(text(r->body), "echo:abc");
    EXPECT_EQ(http_.last_content_type, "application/ocsp-request");
}

TEST_F(Fetcher, SameUriSharesOneTransfer) {
    make();
    std::vector<std::string> got;
    for (int i = 0; i < 3; ++i) {
        fetcher_->get(http_.url("/gate"),
                      [&](const FetchResult& x) { got.push_back(text(x.body)); });
    }
    EXPECT_EQ(fetcher_->in_flight(), 1U);
    ASSERT_TRUE(run_until([&] { return http_.hits("/gate") == 1; }));
    http_.open_gate();
    ASSERT_TRUE(run_until([&] { return got.size() == 3; }));
    EXPECT_EQ(got, std::vector<std::string>(3, "late"));
    EXPECT_EQ(http_.hits("/gate"), 1);
    EXPECT_EQ(fetcher_->counters().shared, 2U);
    EXPECT_EQ(fetcher_->counters().ok, 1U);
    // Once answered, the next request is a new transfer.
    EXPECT_EQ(get(http_.url("/gate")).outcome, FetchOutcome::kOk);
    EXPECT_EQ(http_.hits("/gate"), 2);
}

TEST_F(Fetcher, StopDuringATransferIsQuick) {
    make();
    bool called = false;
    fetcher_->get(http_.url("/slow"), [&](const FetchResult&) { called = true; });
    ASSERT_TRUE(run_until([&] { return http_.hits("/slow") == 1; }));
    const auto t0 = std::chrono::steady_clock::now();
    fetcher_->stop();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
    fetcher_->get(http_.url("/ok"), [&](const FetchResult&) { called = true; });
    io_.restart();
    io_.poll();
    EXPECT_FALSE(called);
    fetcher_.reset();  // stop() again: harmless
}

}  // namespace
}  // namespace ikeplex::daemon
