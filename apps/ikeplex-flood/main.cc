// ikeplex-flood: hostile IKE load for tests and benchmarks (issue 18). Sends, for a bounded
// time and at a bounded rate, what an attacker or an unlucky peer sends a responder:
//
//   --mode init         IKE_SA_INIT requests, a new SPI each, never completed
//   --mode cookie-echo  the same from a real address, echoing every COOKIE the responder asks
//                       for (a host that costs the responder a half-open IKE SA per request)
//   --mode junk         datagrams for IKE SAs that do not exist
//
// With --spoof PREFIX the datagrams leave a raw socket with random IPv4 sources in PREFIX
// (port 500); replies then go to addresses nobody owns. Prints one `flood key=value` line.
//
//   ikeplex-flood --target 10.99.0.1 --mode cookie-echo --rate 1500 --duration 30
//   ikeplex-flood --target 10.99.0.1 --mode init --spoof 10.99.128.0/17 --duration 30
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include <netinet/in.h>
#include <sys/socket.h>

#include <CLI/CLI.hpp>
#include <poll.h>

#include "flood.h"
#include "util/sockaddr.h"
#include "util/sys_error.h"
#include "util/unique_fd.h"

namespace {

using namespace ikeplex;
using namespace ikeplex::flood;
using Clock = std::chrono::steady_clock;

struct Options {
    std::string target;
    std::uint16_t port{500};
    std::string mode{"init"};
    std::string source;
    std::string spoof;
    double rate{0};  ///< new requests per second, 0: as fast as possible
    double duration_s{10};
    std::uint64_t max{0};  ///< stop after this many new requests (0: no limit)
    std::string ike{"aes128gcm16-prfsha256-x25519"};
    std::uint64_t seed{0};
};

struct Counts {
    std::uint64_t sent{0};  ///< new requests (or junk datagrams)
    std::uint64_t echoed{0};
    std::uint64_t send_errors{0};
    std::uint64_t replies{0};
    std::uint64_t cookies{0};
    std::uint64_t half_open{0};
    std::uint64_t refused{0};
    std::uint64_t other{0};
};

struct Spoof {
    std::uint32_t base{0};  ///< host order
    std::uint32_t size{1};
};

class Flood {
public:
    Flood(const Options& o, UniqueFd fd, Endpoint target, std::optional<Spoof> spoof,
          std::optional<InitBuilder> init, FastRandom rng)
        : o_(o),
          fd_(std::move(fd)),
          target_(target),
          spoof_(spoof),
          init_(std::move(init)),
          rng_(rng) {}

    Counts run() {
        const auto start = Clock::now();
        const auto end = start + std::chrono::duration_cast<Clock::duration>(
                                         std::chrono::duration<double>(o_.duration_s));
        for (auto now = start; now < end; now = Clock::now()) {
            if (o_.max != 0 && c_.sent >= o_.max) {
                drain(end - now);
                break;
            }
            std::uint64_t due = 64;
            if (o_.rate > 0) {
                const double t = std::chrono::duration<double>(now - start).count();
                const auto target = static_cast<std::uint64_t>(t * o_.rate) + 1;
                due = target > c_.sent ? std::min<std::uint64_t>(target - c_.sent, 256) : 0;
            }
            for (std::uint64_t i = 0; i < due && (o_.max == 0 || c_.sent < o_.max); ++i) {
                send_new();
            }
            const auto wait = due == 0 ? std::chrono::milliseconds(1) : Clock::duration::zero();
            receive(wait);
        }
        elapsed_ = std::chrono::duration<double>(Clock::now() - start).count();
        return c_;
    }

    [[nodiscard]] double elapsed() const noexcept { return elapsed_; }

private:
    void send_new() {
        ++c_.sent;
        if (o_.mode == "junk") {
            send(junk_datagram(rng_));
            return;
        }
        auto req = init_->request(IkeSpi(rng_.next() | 1));
        if (req) {
            send(*req);
        }
    }

    void send(ByteView datagram) {
        ssize_t n = 0;
        if (spoof_) {
            const auto src = IpAddress::v4(spoof_->base +
                                           static_cast<std::uint32_t>(rng_.next() % spoof_->size));
            const Bytes pkt = ipv4_udp_packet(src, 500, target_.address, target_.port, datagram);
            sockaddr_storage ss{};
            const socklen_t len = to_sockaddr(target_, ss);
            n = ::sendto(fd_.get(), pkt.data(), pkt.size(), 0,
                         reinterpret_cast<const sockaddr*>(&ss), len);
        } else {
            n = ::send(fd_.get(), datagram.data(), datagram.size(), 0);
        }
        if (n < 0) {
            ++c_.send_errors;
            if (errno == EAGAIN || errno == ENOBUFS) {
                pollfd p{fd_.get(), POLLOUT, 0};
                ::poll(&p, 1, 1);
            }
        }
    }

    void receive(Clock::duration wait) {
        if (spoof_) {
            return;  // replies go to the spoofed sources
        }
        pollfd p{fd_.get(), POLLIN, 0};
        const int ms = static_cast<int>(
                std::chrono::duration_cast<std::chrono::milliseconds>(wait).count());
        if (::poll(&p, 1, ms) <= 0) {
            return;
        }
        std::uint8_t buf[65536];
        for (int i = 0; i < 256; ++i) {
            const ssize_t n = ::recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
            if (n <= 0) {
                return;
            }
            ++c_.replies;
            Reply r = classify_reply(ByteView(buf, static_cast<std::size_t>(n)));
            switch (r.kind) {
                case ReplyKind::kCookie:
                    ++c_.cookies;
                    if (o_.mode == "cookie-echo" && init_) {
                        if (auto req = init_->request(r.spi_i, &r.cookie)) {
                            ++c_.echoed;
                            send(*req);
                        }
                    }
                    break;
                case ReplyKind::kHalfOpen:
                    ++c_.half_open;
                    break;
                case ReplyKind::kRefused:
                    ++c_.refused;
                    break;
                case ReplyKind::kOther:
                    ++c_.other;
                    break;
            }
        }
    }

    void drain(Clock::duration left) {
        const auto until = Clock::now() + std::min<Clock::duration>(left, std::chrono::seconds(1));
        while (Clock::now() < until) {
            receive(std::chrono::milliseconds(10));
        }
    }

    const Options& o_;
    UniqueFd fd_;
    Endpoint target_;
    std::optional<Spoof> spoof_;
    std::optional<InitBuilder> init_;
    FastRandom rng_;
    Counts c_;
    double elapsed_{0};
};

int fail(const std::string& why) {
    std::fprintf(stderr, "ikeplex-flood: %s\n", why.c_str());
    return 2;
}

std::optional<Spoof> parse_spoof(const std::string& text) {
    const auto slash = text.find('/');
    if (slash == std::string::npos) {
        return std::nullopt;
    }
    auto addr = IpAddress::parse(text.substr(0, slash));
    const int bits = std::atoi(text.c_str() + slash + 1);
    if (!addr || !addr->is_v4() || bits < 8 || bits > 32) {
        return std::nullopt;
    }
    const auto b = addr->bytes();
    const std::uint32_t v = (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) |
                            (std::uint32_t{b[2]} << 8) | b[3];
    const std::uint32_t size = bits == 32 ? 1 : (std::uint32_t{1} << (32 - bits));
    const std::uint32_t mask = bits == 32 ? ~0U : ~(size - 1);
    return Spoof{v & mask, size};
}

Result<UniqueFd> open_socket(const Options& o, const Endpoint& target, bool spoof) {
    if (spoof) {
        UniqueFd fd(::socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK, IPPROTO_RAW));
        if (!fd) {
            return sys_error("raw socket (needs CAP_NET_RAW)");
        }
        return fd;
    }
    const int family = target.address.is_v4() ? AF_INET : AF_INET6;
    UniqueFd fd(::socket(family, SOCK_DGRAM | SOCK_NONBLOCK, 0));
    if (!fd) {
        return sys_error("socket");
    }
    sockaddr_storage ss{};
    if (!o.source.empty()) {
        auto src = IpAddress::parse(o.source);
        if (!src) {
            return src.error();
        }
        const socklen_t len = to_sockaddr(Endpoint{*src, 0}, ss);
        if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&ss), len) != 0) {
            return sys_error("bind to --source");
        }
    }
    const socklen_t len = to_sockaddr(target, ss);
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&ss), len) != 0) {
        return sys_error("connect to --target");
    }
    return fd;
}

}  // namespace

// CLI11 reports parse errors by exception (caught here); anything else ends the process.
int main(int argc, char** argv) {  // NOLINT(bugprone-exception-escape)
    Options o;
    CLI::App app{"ikeplex-flood: hostile IKE load, bounded in time and rate"};
    app.add_option("--target", o.target, "the responder's address")->required();
    app.add_option("--port", o.port, "the responder's IKE port");
    app.add_option("--mode", o.mode, "init | cookie-echo | junk")
            ->check(CLI::IsMember({"init", "cookie-echo", "junk"}));
    app.add_option("--source", o.source, "bind to this local address");
    app.add_option("--spoof", o.spoof, "random IPv4 sources in this prefix (raw socket)");
    app.add_option("--rate", o.rate, "new datagrams per second (0: as fast as possible)");
    app.add_option("--duration", o.duration_s, "seconds to run")->check(CLI::Range(0.0, 3600.0));
    app.add_option("--max", o.max, "stop after this many new datagrams");
    app.add_option("--ike", o.ike, "the IKE proposal of the requests");
    app.add_option("--seed", o.seed, "seed of SPIs and sources (0: from the clock)");
    CLI11_PARSE(app, argc, argv);

    auto addr = IpAddress::parse(o.target);
    if (!addr) {
        return fail("--target: not an address");
    }
    const Endpoint target{*addr, o.port};
    std::optional<Spoof> spoof;
    if (!o.spoof.empty()) {
        spoof = parse_spoof(o.spoof);
        if (!spoof || !addr->is_v4()) {
            return fail("--spoof: an IPv4 prefix such as 10.99.128.0/17, for an IPv4 target");
        }
        if (o.mode == "cookie-echo") {
            return fail("--spoof: a spoofed source cannot echo cookies");
        }
    }
    const std::uint64_t seed =
            o.seed != 0 ? o.seed
                        : static_cast<std::uint64_t>(Clock::now().time_since_epoch().count());
    FastRandom rng(seed);
    std::optional<InitBuilder> init;
    if (o.mode != "junk") {
        auto b = InitBuilder::create(o.ike, rng);
        if (!b) {
            return fail("--ike: " + b.error().to_string());
        }
        init = std::move(*b);
    }
    auto fd = open_socket(o, target, spoof.has_value());
    if (!fd) {
        return fail(fd.error().to_string());
    }
    Flood f(o, std::move(*fd), target, spoof, std::move(init), rng);
    const Counts c = f.run();
    std::printf(
            "flood mode=%s sent=%llu echoed=%llu send_errors=%llu replies=%llu cookies=%llu "
            "half_open=%llu refused=%llu other=%llu seconds=%.2f rate=%.0f\n",
            o.mode.c_str(), static_cast<unsigned long long>(c.sent),
            static_cast<unsigned long long>(c.echoed),
            static_cast<unsigned long long>(c.send_errors),
            static_cast<unsigned long long>(c.replies), static_cast<unsigned long long>(c.cookies),
            static_cast<unsigned long long>(c.half_open),
            static_cast<unsigned long long>(c.refused), static_cast<unsigned long long>(c.other),
            f.elapsed(), f.elapsed() > 0 ? static_cast<double>(c.sent) / f.elapsed() : 0.0);
    return 0;
}
