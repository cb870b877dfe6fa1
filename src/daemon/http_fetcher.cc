#include "daemon/http_fetcher.h"

#include <asio/post.hpp>
#include <curl/curl.h>

namespace ikeplex::daemon {
namespace {

/// One transfer on the worker: the easy handle and what it owns.
struct Transfer {
    struct EasyFree {
        void operator()(CURL* c) const noexcept { curl_easy_cleanup(c); }
    };
    struct ListFree {
        void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
    };
    std::uint64_t id{0};
    std::unique_ptr<CURL, EasyFree> easy;
    std::unique_ptr<curl_slist, ListFree> headers;
    Bytes request;  ///< the POST body (libcurl reads it in place)
    Bytes body;
    std::size_t max_size{0};
    bool too_big{false};
};

std::size_t on_data(char* data, std::size_t size, std::size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const std::size_t len = size * n;
    if (t->body.size() + len > t->max_size) {
        t->too_big = true;
        return 0;  // CURLE_WRITE_ERROR: the transfer stops here
    }
    const auto* p = reinterpret_cast<const std::uint8_t*>(data);  // NOLINT: libcurl's char*
    t->body.insert(t->body.end(), p, p + len);
    return len;
}

bool global_init() {
    static const bool done = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
    return done;
}

FetchResult finish(Transfer& t, CURLcode code) {
    FetchResult r;
    if (t.too_big || code == CURLE_FILESIZE_EXCEEDED) {
        r.outcome = FetchOutcome::kTooBig;
        r.error = "response exceeds the size limit";
        return r;
    }
    if (code == CURLE_OPERATION_TIMEDOUT) {
        r.outcome = FetchOutcome::kTimeout;
        r.error = curl_easy_strerror(code);
        return r;
    }
    if (code != CURLE_OK) {
        r.error = curl_easy_strerror(code);
        return r;
    }
    curl_easy_getinfo(t.easy.get(), CURLINFO_RESPONSE_CODE, &r.http_status);
    // file:// has no status (0); HTTP needs a 2xx.
    if (r.http_status != 0 && (r.http_status < 200 || r.http_status > 299)) {
        r.error = "HTTP status " + std::to_string(r.http_status);
        return r;
    }
    r.outcome = FetchOutcome::kOk;
    r.body = std::move(t.body);
    return r;
}

std::unique_ptr<Transfer> make_transfer(HttpFetcher::Job& job, const FetchLimits& limits) {
    auto t = std::make_unique<Transfer>();
    t->id = job.id;
    t->max_size = limits.max_size;
    t->easy.reset(curl_easy_init());
    CURL* e = t->easy.get();
    if (e == nullptr) {
        return nullptr;
    }
    const bool post = !job.content_type.empty();
    curl_easy_setopt(e, CURLOPT_URL, job.uri.c_str());
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(
            e, CURLOPT_CONNECTTIMEOUT_MS,
            static_cast<long>(limits.connect_timeout.count()));  // NOLINT(google-runtime-int)
    curl_easy_setopt(
            e, CURLOPT_TIMEOUT_MS,
            static_cast<long>(limits.total_timeout.count()));  // NOLINT(google-runtime-int)
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(limits.max_size));
    // file:// only for GETs (crl_uris); redirects never leave http(s).
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, post ? "http,https" : "http,https,file");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, limits.max_redirects > 0 ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, static_cast<long>(limits.max_redirects));  // NOLINT
    curl_easy_setopt(e, CURLOPT_USERAGENT, "ikeplexd");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &on_data);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
    if (post) {
        t->request = std::move(job.body);
        const std::string header = "Content-Type: " + job.content_type;
        t->headers.reset(curl_slist_append(nullptr, header.c_str()));
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers.get());
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                         static_cast<curl_off_t>(t->request.size()));
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->request.data());
    }
    return t;
}

}  // namespace

const char* to_string(FetchOutcome o) noexcept {
    switch (o) {
        case FetchOutcome::kOk:
            return "ok";
        case FetchOutcome::kFailed:
            return "failed";
        case FetchOutcome::kTimeout:
            return "timeout";
        case FetchOutcome::kTooBig:
            return "too big";
    }
    return "failed";
}

Result<std::unique_ptr<HttpFetcher>> HttpFetcher::create(asio::io_context& io, FetchLimits limits,
                                                         FetchCounters* counters) {
    if (!global_init()) {
        return make_error(Errc::kSystem, "HTTP fetcher: libcurl initialisation failed");
    }
    auto f = std::make_unique<HttpFetcher>(Token{}, io, limits, counters);
    if (f->multi_ == nullptr) {
        return make_error(Errc::kSystem, "HTTP fetcher: no libcurl multi handle");
    }
    f->worker_ = std::thread([p = f.get()] { p->run(); });
    return f;
}

HttpFetcher::HttpFetcher(Token /*create()*/, asio::io_context& io, FetchLimits limits,
                         FetchCounters* counters)
    : io_(io),
      limits_(limits),
      counters_(counters != nullptr ? counters : &own_counters_),
      multi_(curl_multi_init()) {}

HttpFetcher::~HttpFetcher() {
    stop();
    if (multi_ != nullptr) {
        curl_multi_cleanup(static_cast<CURLM*>(multi_));
    }
}

void HttpFetcher::stop() {
    stopping_ = true;
    if (multi_ != nullptr) {
        curl_multi_wakeup(static_cast<CURLM*>(multi_));
    }
    if (worker_.joinable()) {
        worker_.join();
    }
    life_.reset();
    waiters_.clear();
    by_key_.clear();
    key_of_.clear();
}

void HttpFetcher::get(const std::string& uri, Callback done) {
    Job job;
    job.uri = uri;
    submit(std::move(job), std::move(done));
}

void HttpFetcher::post(const std::string& uri, const std::string& content_type, Bytes body,
                       Callback done) {
    Job job;
    job.uri = uri;
    job.content_type = content_type.empty() ? "application/octet-stream" : content_type;
    job.body = std::move(body);
    submit(std::move(job), std::move(done));
}

void HttpFetcher::submit(Job job, Callback done) {
    if (stopping_) {
        return;
    }
    // The same request in flight: share its result.
    std::string key = job.content_type + ' ' + job.uri;
    key.append(job.body.begin(), job.body.end());
    if (auto it = by_key_.find(key); it != by_key_.end()) {
        waiters_[it->second].push_back(std::move(done));
        ++counters_->shared;
        return;
    }
    job.id = next_id_++;
    waiters_[job.id].push_back(std::move(done));
    by_key_[key] = job.id;
    key_of_[job.id] = std::move(key);
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        queue_.push_back(std::move(job));
    }
    curl_multi_wakeup(static_cast<CURLM*>(multi_));
}

void HttpFetcher::deliver(std::uint64_t id, const FetchResult& r) {
    auto it = waiters_.find(id);
    if (it == waiters_.end()) {
        return;
    }
    std::vector<Callback> callbacks = std::move(it->second);
    waiters_.erase(it);
    if (auto k = key_of_.find(id); k != key_of_.end()) {
        by_key_.erase(k->second);
        key_of_.erase(k);
    }
    switch (r.outcome) {
        case FetchOutcome::kOk:
            ++counters_->ok;
            break;
        case FetchOutcome::kTimeout:
            ++counters_->timeout;
            break;
        case FetchOutcome::kFailed:
        case FetchOutcome::kTooBig:
            ++counters_->failed;
            break;
    }
    for (const Callback& c : callbacks) {
        c(r);
    }
}

void HttpFetcher::run() {
    auto* multi = static_cast<CURLM*>(multi_);
    std::map<CURL*, std::unique_ptr<Transfer>> active;
    const std::weak_ptr<int> life = life_;
    const auto post_result = [&](std::uint64_t id, FetchResult r) {
        asio::post(io_, [this, life, id, r = std::move(r)] {
            if (!life.expired()) {
                deliver(id, r);
            }
        });
    };
    while (!stopping_) {
        std::deque<Job> jobs;
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            jobs.swap(queue_);
        }
        for (Job& job : jobs) {
            std::unique_ptr<Transfer> t = make_transfer(job, limits_);
            if (!t || curl_multi_add_handle(multi, t->easy.get()) != CURLM_OK) {
                FetchResult r;
                r.error = "could not start the transfer";
                post_result(job.id, std::move(r));
                continue;
            }
            CURL* e = t->easy.get();
            active.emplace(e, std::move(t));
        }
        int running = 0;
        curl_multi_perform(multi, &running);
        int left = 0;
        while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
            if (m->msg != CURLMSG_DONE) {
                continue;
            }
            auto it = active.find(m->easy_handle);
            if (it == active.end()) {
                continue;
            }
            const CURLcode code = m->data.result;  // read before the handle is removed
            curl_multi_remove_handle(multi, it->first);
            post_result(it->second->id, finish(*it->second, code));
            active.erase(it);
        }
        curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
    }
    for (auto& [easy, t] : active) {
        curl_multi_remove_handle(multi, easy);
    }
}

}  // namespace ikeplex::daemon
