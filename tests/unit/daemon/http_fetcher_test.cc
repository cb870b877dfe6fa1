// The revocation fetcher (daemon/http_fetcher.h) against a tiny HTTP/1.1 server on loopback in
// this process: an answer, a 404, a server that never answers (timeout), answers over the size
// cap (with and without Content-Length), a redirect to file:// refused, POST with its content
// type, file:// for GET only, requests for the same URI sharing one transfer, and stop() while a
// transfer waits on a silent server.
#include "daemon/http_fetcher.h"

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <netinet/in.h>
#include <sys/socket.h>

#include <gtest/gtest.h>
#include <unistd.h>

namespace ikeplex::daemon {
namespace {

using namespace std::chrono_literals;

/// One connection per thread; answers by path (see respond()).
class TinyHttp {
public:
    TinyHttp() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        EXPECT_EQ(::listen(fd_, 16), 0);
        socklen_t len = sizeof a;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        accepter_ = std::thread([this] { accept_loop(); });
    }
    ~TinyHttp() {
        {
            const std::lock_guard<std::mutex> l(m_);
            stop_ = true;
        }
        cv_.notify_all();
        ::shutdown(fd_, SHUT_RDWR);
        accepter_.join();
        ::close(fd_);
        for (std::thread& t : conns_) {
            t.join();
        }
    }
    TinyHttp(const TinyHttp&) = delete;
    TinyHttp& operator=(const TinyHttp&) = delete;

    [[nodiscard]] std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }
    /// Requests seen for `path`.
    int hits(const std::string& path) {
        const std::lock_guard<std::mutex> l(m_);
        return hits_[path];
    }
    /// Lets the held /gate answers go.
    void open_gate() {
        {
            const std::lock_guard<std::mutex> l(m_);
            gate_ = true;
        }
        cv_.notify_all();
    }
    std::string last_content_type;
    std::string last_body;

private:
    void accept_loop() {
        for (;;) {
            const int c = ::accept(fd_, nullptr, nullptr);
            if (c < 0) {
                return;  // shut down
            }
            const std::lock_guard<std::mutex> l(m_);
            conns_.emplace_back([this, c] {
                serve(c);
                ::close(c);
            });
        }
    }
    static void send_all(int c, const std::string& s) {
        std::size_t off = 0;
        while (off < s.size()) {
            const ssize_t n = ::send(c, s.data() + off, s.size() - off, MSG_NOSIGNAL);
            if (n <= 0) {
                return;
            }
            off += static_cast<std::size_t>(n);
        }
    }
    void serve(int c) {
        std::string req;
        char buf[4096];
        std::size_t header_end = std::string::npos;
        while (header_end == std::string::npos) {
            const ssize_t n = ::recv(c, buf, sizeof buf, 0);
            if (n <= 0) {
                return;
            }
            req.append(buf, static_cast<std::size_t>(n));
            header_end = req.find("\r\n\r\n");
        }
        const std::string head = req.substr(0, header_end);
        std::string body = req.substr(header_end + 4);
        std::size_t length = 0;
        std::string type;
        for (std::size_t p = head.find("\r\n"); p != std::string::npos;) {
            const std::size_t e = head.find("\r\n", p + 2);
            const std::string line = head.substr(p + 2, e == std::string::npos ? e : e - p - 2);
            if (line.rfind("Content-Length: ", 0) == 0) {
                length = std::stoul(line.substr(16));
            } else if (line.rfind("Content-Type: ", 0) == 0) {
                type = line.substr(14);
            }
            p = e;
        }
        while (body.size() < length) {
            const ssize_t n = ::recv(c, buf, sizeof buf, 0);
            if (n <= 0) {
                return;
            }
            body.append(buf, static_cast<std::size_t>(n));
        }
        const std::string path = head.substr(
                head.find(' ') + 1, head.find(' ', head.find(' ') + 1) - head.find(' ') - 1);
        {
            const std::lock_guard<std::mutex> l(m_);
            ++hits_[path];
            if (path == "/post") {
                last_content_type = type;
                last_body = body;
            }
        }
        respond(c, path, body);
    }
    void respond(int c, const std::string& path, const std::string& body) {
        const auto answer = [&](const std::string& status, const std::string& b) {
            send_all(c, "HTTP/1.1 " + status + "\r\nContent-Length: " + std::to_string(b.size()) +
                                "\r\nConnection: close\r\n\r\n" + b);
        };
        if (path == "/ok") {
            answer("200 OK", "a CRL");
        } else if (path == "/post") {
            answer("200 OK", "echo:" + body);
        } else if (path == "/slow" || path == "/gate") {
            std::unique_lock<std::mutex> l(m_);
            cv_.wait(l, [&] { return stop_ || (path == "/gate" && gate_); });
            if (!stop_) {
                l.unlock();
                answer("200 OK", "late");
            }
        } else if (path == "/big") {
            answer("200 OK", std::string((std::size_t{5} << 20U), 'x'));
        } else if (path == "/big-stream") {
            // No Content-Length: only the running count can stop it.
            send_all(c, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
            const std::string chunk(65536, 'y');
            for (int i = 0; i < 80; ++i) {
                send_all(c, chunk);
            }
        } else if (path == "/to-file") {
            send_all(c,
                     "HTTP/1.1 302 Found\r\nLocation: file:///etc/hostname\r\n"
                     "Content-Length: 0\r\nConnection: close\r\n\r\n");
        } else {
            answer("404 Not Found", "no");
        }
    }

    int fd_;
    std::uint16_t port_{0};
    std::thread accepter_;
    std::vector<std::thread> conns_;
    std::mutex m_;
    std::condition_variable cv_;
    bool stop_{false};
    bool gate_{false};
    std::map<std::string, int> hits_;
};

class Fetcher : public ::testing::Test {
protected:
    void make(FetchLimits limits = {}) {
        auto f = HttpFetcher::create(io_, limits);
        ASSERT_TRUE(f) << f.error().to_string();
        fetcher_ = std::move(*f);
    }
    /// Runs the loop until `done` or a deadline.
    template <typename Pred>
    bool run_until(Pred done, std::chrono::milliseconds limit = 5s) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (!done() && std::chrono::steady_clock::now() < deadline) {
            io_.restart();
            io_.run_one_for(20ms);
        }
        return done();
    }
    FetchResult get(const std::string& uri) {
        std::optional<FetchResult> r;
        fetcher_->get(uri, [&](const FetchResult& x) { r = x; });
        EXPECT_TRUE(run_until([&] { return r.has_value(); }, 8s)) << uri;
        return r.value_or(FetchResult{});
    }

    asio::io_context io_;
    std::unique_ptr<HttpFetcher> fetcher_;
    TinyHttp http_;
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
