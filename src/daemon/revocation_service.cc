#include "daemon/revocation_service.h"

#include <algorithm>

#include <asio/post.hpp>

#include "crypto/crl.h"
#include "crypto/ocsp.h"
#include "util/log.h"

namespace ikeplex::daemon {

using log::Subsystem;

struct RevocationService::Query {
    std::uint32_t ike_id{0};
    std::uint32_t seq{0};
    std::size_t open{0};  ///< subjects not done yet
};

struct RevocationService::Subject {
    std::shared_ptr<Query> query;
    crypto::Certificate cert;
    crypto::Certificate issuer;
    std::vector<std::string> ocsp;
    std::vector<std::string> crl;
    std::size_t next_ocsp{0};
    std::size_t next_crl{0};
};

struct RevocationService::Prefetch {
    Prefetch(std::string u, crypto::Certificate i, asio::io_context& io)
        : uri(std::move(u)), issuer(std::move(i)), timer(io) {}
    std::string uri;
    crypto::Certificate issuer;
    asio::steady_timer timer;
    int failures{0};
};

namespace {

void add_unique(std::vector<std::string>& to, const std::vector<std::string>& from,
                bool files_too) {
    for (const std::string& u : from) {
        const bool http = u.starts_with("http://") || u.starts_with("https://");
        if ((http || (files_too && u.starts_with("file://"))) &&
            std::find(to.begin(), to.end(), u) == to.end()) {
            to.push_back(u);
        }
    }
}

}  // namespace

std::int64_t crl_refresh_at(std::int64_t this_update, std::int64_t next_update, std::int64_t now,
                            const PrefetchTiming& timing) {
    const std::int64_t earliest = now + timing.retry_min.count();
    if (next_update == 0) {
        return std::max(earliest, now + timing.no_next_update.count());
    }
    const std::int64_t window = std::max<std::int64_t>(0, next_update - this_update);
    std::int64_t at = this_update + window * 9 / 10;
    at = std::min(at, next_update - timing.before_next_update.count());
    return std::max(at, earliest);
}

RevocationService::RevocationService(asio::io_context& io, HttpFetcher& fetcher,
                                     crypto::RevocationCache& cache, CredentialsView creds,
                                     Answer answer, RevocationCounters& counters, UnixClock clock,
                                     PrefetchTiming timing)
    : io_(io),
      fetcher_(fetcher),
      cache_(cache),
      creds_(std::move(creds)),
      answer_(std::move(answer)),
      counters_(counters),
      clock_(std::move(clock)),
      timing_(timing) {}

RevocationService::~RevocationService() = default;

void RevocationService::on_queries(const std::vector<ike::RevocationQuery>& queries) {
    refresh_authorities();  // catches authorities loaded over VICI since the last reload
    for (const ike::RevocationQuery& q : queries) {
        ++counters_.queries;
        auto query = std::make_shared<Query>();
        query->ike_id = q.ike_id;
        query->seq = q.seq;
        std::vector<std::shared_ptr<Subject>> subjects;
        for (const ike::RevocationQuery::Subject& sq : q.subjects) {
            auto cert = crypto::Certificate::from_der(sq.cert);
            auto issuer = crypto::Certificate::from_der(sq.issuer);
            if (!cert || !issuer) {
                continue;  // nothing to learn about it; the engine's mode decides
            }
            auto s = std::make_shared<Subject>(
                    Subject{query, std::move(*cert), std::move(*issuer), {}, {}, 0, 0});
            add_unique(s->ocsp, crypto::ocsp_uris(s->cert), false);
            add_unique(s->crl, crypto::crl_uris(s->cert), true);
            const Bytes issuer_der = s->issuer.der();
            for (const ike::Credentials::Authority& a : creds_().authorities) {
                if (a.cacert && a.cacert->der() == issuer_der) {
                    add_unique(s->ocsp, a.ocsp_uris, false);
                    add_unique(s->crl, a.crl_uris, true);
                }
            }
            subjects.push_back(std::move(s));
        }
        query->open = subjects.size() + 1;  // +1: held until every subject has started
        for (const auto& s : subjects) {
            next(s);
        }
        done(query);  // the guard: answers now if every subject finished (or there was none)
    }
}

void RevocationService::next(const std::shared_ptr<Subject>& s) {
    if (s->next_ocsp < s->ocsp.size()) {
        try_ocsp(s, s->ocsp[s->next_ocsp++]);
    } else if (s->next_crl < s->crl.size()) {
        try_crl(s, s->crl[s->next_crl++]);
    } else {
        done(s->query);
    }
}

void RevocationService::try_ocsp(const std::shared_ptr<Subject>& s, const std::string& uri) {
    Bytes nonce = random_.bytes(16);
    auto req = crypto::make_ocsp_request(s->cert, s->issuer, nonce);
    if (!req) {
        log::warn(Subsystem::kCfg, "OCSP request for {} not made: {}", s->cert.subject(),
                  req.error().to_string());
        next(s);
        return;
    }
    fetcher_.post(uri, "application/ocsp-request", std::move(req->der),
                  [this, life = std::weak_ptr<int>(life_), s, uri,
                   nonce = std::move(nonce)](const FetchResult& r) {
                      if (life.expired()) {
                          return;
                      }
                      if (r.outcome != FetchOutcome::kOk) {
                          log::info(Subsystem::kCfg, "OCSP {}: {}", uri, r.error);
                          next(s);
                          return;
                      }
                      auto status = crypto::verify_ocsp_response(r.body, s->cert, s->issuer, nonce,
                                                                 clock_());
                      if (!status) {
                          ++counters_.unusable;
                          log::warn(Subsystem::kCfg, "OCSP answer from {} refused: {}", uri,
                                    status.error().to_string());
                          next(s);
                          return;
                      }
                      ++counters_.ocsp;
                      cache_.put_ocsp(s->cert, s->issuer, *status);
                      log::info(Subsystem::kCfg, "OCSP {}: {} is {}", uri, s->cert.subject(),
                                status->status == crypto::CertStatus::kGood      ? "good"
                                : status->status == crypto::CertStatus::kRevoked ? "revoked"
                                                                                 : "unknown");
                      if (status->status == crypto::CertStatus::kUnknown) {
                          s->next_ocsp = s->ocsp.size();  // the CRLs may know more
                          next(s);
                          return;
                      }
                      done(s->query);
                  });
}

void RevocationService::try_crl(const std::shared_ptr<Subject>& s, const std::string& uri) {
    fetcher_.get(uri, [this, life = std::weak_ptr<int>(life_), s, uri](const FetchResult& r) {
        if (life.expired()) {
            return;
        }
        if (take_crl(uri, r, s->issuer)) {
            done(s->query);
        } else {
            next(s);
        }
    });
}

bool RevocationService::take_crl(const std::string& uri, const FetchResult& r,
                                 const crypto::Certificate& issuer, std::int64_t* next_update,
                                 std::int64_t* this_update) {
    if (r.outcome != FetchOutcome::kOk) {
        log::info(Subsystem::kCfg, "CRL {}: {}", uri, r.error);
        return false;
    }
    auto crl = crypto::Crl::from_any(r.body);
    const std::int64_t now = clock_();
    const char* why = nullptr;
    if (!crl) {
        why = "not a CRL";
    } else if (!crl->issued_by(issuer)) {
        why = "not signed by the issuer";
    } else if (!crl->current_at(now)) {
        why = "not current";
    }
    if (why != nullptr) {
        ++counters_.unusable;
        log::warn(Subsystem::kCfg, "CRL from {} refused: {}", uri, why);
        return false;
    }
    if (next_update != nullptr) {
        *next_update = crl->next_update();
    }
    if (this_update != nullptr) {
        *this_update = crl->this_update();
    }
    ++counters_.crls;
    log::info(Subsystem::kCfg, "CRL from {} cached (issuer {})", uri, issuer.subject());
    cache_.put_crl(uri, std::move(*crl), now);
    return true;
}

void RevocationService::done(const std::shared_ptr<Query>& q) {
    if (q->open == 0 || --q->open > 0) {
        return;
    }
    ++counters_.answers;
    // Posted: this may run inside the engine's own call (on_queries from EngineHost::execute).
    asio::post(io_, [this, life = std::weak_ptr<int>(life_), id = q->ike_id, seq = q->seq] {
        if (!life.expired()) {
            answer_(id, seq);
        }
    });
}

void RevocationService::refresh_authorities() {
    std::map<std::string, std::unique_ptr<Prefetch>> keep;
    std::vector<std::string> fresh;
    for (const ike::Credentials::Authority& a : creds_().authorities) {
        if (!a.cacert) {
            continue;
        }
        std::vector<std::string> uris;
        add_unique(uris, a.crl_uris, false);
        const Bytes der = a.cacert->der();
        for (const std::string& uri : uris) {
            std::string key = uri + '\n';
            key.append(der.begin(), der.end());
            if (keep.contains(key)) {
                continue;
            }
            if (auto it = prefetch_.find(key); it != prefetch_.end()) {
                keep.emplace(key, std::move(it->second));
                prefetch_.erase(it);
                continue;
            }
            auto issuer = crypto::Certificate::from_der(der);
            if (!issuer) {
                continue;
            }
            keep.emplace(key, std::make_unique<Prefetch>(uri, std::move(*issuer), io_));
            fresh.push_back(key);
        }
    }
    for (auto& [key, p] : prefetch_) {
        p->timer.cancel();  // gone from the configuration
    }
    prefetch_ = std::move(keep);
    for (const std::string& key : fresh) {
        prefetch(key);
    }
}

void RevocationService::prefetch(const std::string& key) {
    ++counters_.prefetches;
    const std::string uri = prefetch_.at(key)->uri;
    fetcher_.get(uri, [this, life = std::weak_ptr<int>(life_), key](const FetchResult& r) {
        if (life.expired()) {
            return;
        }
        auto it = prefetch_.find(key);
        if (it == prefetch_.end()) {
            return;  // the authority went away meanwhile
        }
        Prefetch& p = *it->second;
        std::int64_t next_update = 0;
        std::int64_t this_update = 0;
        if (take_crl(p.uri, r, p.issuer, &next_update, &this_update)) {
            p.failures = 0;
            const std::int64_t now = clock_();
            schedule(p, std::chrono::seconds(
                                crl_refresh_at(this_update, next_update, now, timing_) - now));
            return;
        }
        ++p.failures;
        auto wait = timing_.retry_min * (std::int64_t{1} << std::min(p.failures - 1, 16));
        schedule(p, std::min(wait, timing_.retry_max));
    });
}

void RevocationService::schedule(Prefetch& p, std::chrono::seconds after) {
    p.timer.expires_after(after);
    std::string key = p.uri + '\n';
    const Bytes der = p.issuer.der();
    key.append(der.begin(), der.end());
    p.timer.async_wait([this, life = std::weak_ptr<int>(life_), key](const asio::error_code& ec) {
        if (!ec && !life.expired() && prefetch_.contains(key)) {
            prefetch(key);
        }
    });
}

}  // namespace ikeplex::daemon
