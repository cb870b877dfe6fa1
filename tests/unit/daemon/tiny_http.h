// A tiny HTTP/1.1 server on 127.0.0.1 for the fetcher's tests (one thread per connection):
// fixed answers by path (route()), and /ok, /post (echo), /slow (never answers until destroyed),
// /gate (answers after open_gate()), /big (5 MiB with Content-Length), /big-stream (5 MiB
// without), /to-file (a redirect to file://), 404 for anything else.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <netinet/in.h>
#include <sys/socket.h>

#include <asio/io_context.hpp>
#include <gtest/gtest.h>
#include <unistd.h>

namespace ikeplex::test {

/// Runs `io` until `done()` or `limit` passed; whether `done()`.
template <typename Pred>
bool run_until(asio::io_context& io, Pred done, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
        io.restart();
        io.run_one_for(std::chrono::milliseconds(20));
    }
    return done();
}

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
    /// Serves `body` at `path` from now on (200).
    void route(const std::string& path, std::string body) {
        const std::lock_guard<std::mutex> l(m_);
        routes_[path] = std::move(body);
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
        std::string fixed;
        bool have = false;
        {
            const std::lock_guard<std::mutex> l(m_);
            if (auto it = routes_.find(path); it != routes_.end()) {
                fixed = it->second;
                have = true;
            }
        }
        if (have) {
            answer("200 OK", fixed);
        } else if (path == "/ok") {
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
    std::map<std::string, std::string> routes_;
};

}  // namespace ikeplex::test
