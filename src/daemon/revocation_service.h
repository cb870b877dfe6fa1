// The daemon's side of revocation (docs/revocation.md, ike/revocation_query.h): answers the
// engine's RevocationQuery entries with what the HttpFetcher finds, and keeps the authorities'
// CRLs fresh ahead of their nextUpdate. Everything runs on the control thread.
//
// - A query: for each subject (a peer's certificate and its issuer) the URIs are the
//   certificate's own (AIA OCSP, CRL distribution points) and those of the authority whose
//   cacert is the issuer (`ocsp_uris`, `crl_uris`). OCSP first (a request with 16 random bytes
//   of nonce, the answer checked by crypto::verify_ocsp_response and put into the cache); CRLs
//   when there is no OCSP URI, when OCSP fails or says unknown (Crl::from_any, issued_by the
//   issuer, current; then RevocationCache::put_crl). When every subject is done or failed, the
//   engine hears on_revocation_answer (always posted, never from inside the engine's call).
// - Prefetch: each authority's http(s) `crl_uris` at start and after each reload, fetched again
//   at thisUpdate + 90 % of the window (at least 60 s before nextUpdate; daily without one),
//   and after a failure with a backoff doubling from `retry_min` to `retry_max`.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "crypto/revocation_cache.h"
#include "daemon/http_fetcher.h"
#include "daemon/revocation_counters.h"
#include "ike/config.h"
#include "ike/revocation_query.h"
#include "util/random.h"

namespace ikeplex::daemon {

struct PrefetchTiming {
    std::chrono::seconds retry_min{30};
    std::chrono::seconds retry_max{3600};
    std::chrono::seconds no_next_update{86400};  ///< refresh of a CRL without nextUpdate
    std::chrono::seconds before_next_update{60};
};

/// When to fetch a CRL again: thisUpdate + 90 % of its window, at least `timing.before_next_update`
/// before nextUpdate, never earlier than `now` + retry_min (unix seconds).
[[nodiscard]] std::int64_t crl_refresh_at(std::int64_t this_update, std::int64_t next_update,
                                          std::int64_t now, const PrefetchTiming& timing);

class RevocationService {
public:
    /// The engine's answer: IkeSaManager::on_revocation_answer(ike_id, seq) through the host.
    using Answer = std::function<void(std::uint32_t ike_id, std::uint32_t seq)>;
    /// The credentials now (the engine's; replaced by reloads).
    using CredentialsView = std::function<const ike::Credentials&()>;
    using UnixClock = std::function<std::int64_t()>;

    RevocationService(asio::io_context& io, HttpFetcher& fetcher, crypto::RevocationCache& cache,
                      CredentialsView creds, Answer answer, RevocationCounters& counters,
                      UnixClock clock, PrefetchTiming timing = {});
    ~RevocationService();
    RevocationService(const RevocationService&) = delete;
    RevocationService& operator=(const RevocationService&) = delete;
    RevocationService(RevocationService&&) = delete;
    RevocationService& operator=(RevocationService&&) = delete;

    /// Output::revocation_queries.
    void on_queries(const std::vector<ike::RevocationQuery>& queries);
    /// (Re)starts the prefetch of the authorities' CRLs as the credentials name them now: new
    /// URIs are fetched at once, known ones keep their schedule, gone ones stop. The daemon
    /// calls it after start and each reload; on_queries() too (VICI load-authority).
    void refresh_authorities();
    /// URIs the prefetch schedule holds (for tests and listings).
    [[nodiscard]] std::size_t prefetched() const noexcept { return prefetch_.size(); }

private:
    struct Query;
    struct Subject;
    struct Prefetch;

    void next(const std::shared_ptr<Subject>& s);
    void try_ocsp(const std::shared_ptr<Subject>& s, const std::string& uri);
    void try_crl(const std::shared_ptr<Subject>& s, const std::string& uri);
    void done(const std::shared_ptr<Query>& q);
    /// A fetched CRL: parsed, signed by `issuer`, current, then cached; false if unusable.
    bool take_crl(const std::string& uri, const FetchResult& r, const crypto::Certificate& issuer,
                  std::int64_t* next_update = nullptr, std::int64_t* this_update = nullptr);
    void prefetch(const std::string& key);
    void schedule(Prefetch& p, std::chrono::seconds after);

    asio::io_context& io_;
    HttpFetcher& fetcher_;
    crypto::RevocationCache& cache_;
    CredentialsView creds_;
    Answer answer_;
    RevocationCounters& counters_;
    UnixClock clock_;
    PrefetchTiming timing_;
    OsRandom random_;
    std::map<std::string, std::unique_ptr<Prefetch>> prefetch_;  ///< by URI + issuer
    std::shared_ptr<int> life_ = std::make_shared<int>(0);       ///< callbacks hold a weak_ptr
};

}  // namespace ikeplex::daemon
