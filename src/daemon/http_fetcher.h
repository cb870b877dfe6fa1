// The daemon's HTTP client for revocation (docs/revocation.md): CRLs by GET from distribution
// points and `crl_uris` (http, https, file), OCSP requests by POST (application/ocsp-request,
// RFC 6960 Appendix A). Debian's libcurl, driven by its multi interface on ONE worker thread that
// the fetcher owns; the control thread posts requests to it and gets each result back on its Asio
// loop (asio::post), so nothing here ever blocks the control thread.
//
// Bounds (FetchLimits): connect timeout, total timeout, a response size cap, only the schemes
// allowed (redirects only to http/https, at most a few). Requests for the same method, URI and
// body in flight at once share one transfer and its result. stop() (and the destructor) aborts
// every transfer and joins the thread at once; callbacks of aborted requests are not called.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <asio/io_context.hpp>

#include "daemon/revocation_counters.h"
#include "util/bytes.h"
#include "util/result.h"

namespace ikeplex::daemon {

struct FetchLimits {
    std::chrono::milliseconds connect_timeout{5000};
    std::chrono::milliseconds total_timeout{10000};
    std::size_t max_size{std::size_t{4} << 20U};  ///< 4 MiB
    int max_redirects{3};
};

enum class FetchOutcome : std::uint8_t {
    kOk,       ///< a 2xx answer (or a file read), `body` holds it
    kFailed,   ///< no connection, an HTTP error status, a scheme not allowed, ...
    kTimeout,  ///< the connect or total timeout passed
    kTooBig,   ///< the answer exceeded max_size
};

struct FetchResult {
    FetchOutcome outcome{FetchOutcome::kFailed};
    long http_status{0};  // NOLINT(google-runtime-int): libcurl's type; 0 for file://
    Bytes body;
    std::string error;  ///< what went wrong (libcurl's text or the status), for logs
};

[[nodiscard]] const char* to_string(FetchOutcome o) noexcept;

class HttpFetcher {
public:
    using Callback = std::function<void(const FetchResult&)>;

    /// Starts the worker thread; results are posted to `io` (the control thread's loop).
    /// `counters`: where transfers are counted (the daemon's stats); null: the fetcher's own.
    static Result<std::unique_ptr<HttpFetcher>> create(asio::io_context& io,
                                                       FetchLimits limits = {},
                                                       FetchCounters* counters = nullptr);
    ~HttpFetcher();
    HttpFetcher(const HttpFetcher&) = delete;
    HttpFetcher& operator=(const HttpFetcher&) = delete;
    HttpFetcher(HttpFetcher&&) = delete;
    HttpFetcher& operator=(HttpFetcher&&) = delete;

    /// GET `uri` (http, https or file). `done` runs on the control thread.
    void get(const std::string& uri, Callback done);
    /// POST `body` with `content_type` to `uri` (http or https).
    void post(const std::string& uri, const std::string& content_type, Bytes body, Callback done);
    /// Aborts every transfer and joins the worker; idempotent. Pending callbacks never run.
    void stop();

    [[nodiscard]] const FetchCounters& counters() const noexcept { return *counters_; }
    /// Transfers in flight (requested and not yet answered on the control thread).
    [[nodiscard]] std::size_t in_flight() const noexcept { return waiters_.size(); }

    struct Job {
        std::uint64_t id{0};
        std::string uri;
        std::string content_type;  ///< empty: GET
        Bytes body;
    };
    struct Token {
        explicit Token() = default;
    };
    HttpFetcher(Token /*create()*/, asio::io_context& io, FetchLimits limits,
                FetchCounters* counters);

private:
    void submit(Job job, Callback done);
    void run();                                            ///< the worker thread
    void deliver(std::uint64_t id, const FetchResult& r);  ///< on the control thread

    asio::io_context& io_;
    FetchLimits limits_;
    // Control thread only: the callbacks of each transfer, and transfers by key.
    std::map<std::uint64_t, std::vector<Callback>> waiters_;
    std::map<std::string, std::uint64_t> by_key_;
    std::map<std::uint64_t, std::string> key_of_;
    std::uint64_t next_id_{1};
    FetchCounters own_counters_;
    FetchCounters* counters_;
    // Shared with the worker.
    std::mutex mutex_;
    std::deque<Job> queue_;
    std::atomic<bool> stopping_{false};
    void* multi_{nullptr};  ///< CURLM*, the worker's; used here only for curl_multi_wakeup
    std::thread worker_;
    std::shared_ptr<int> life_ = std::make_shared<int>(0);  ///< posted results hold a weak_ptr
};

}  // namespace ikeplex::daemon
