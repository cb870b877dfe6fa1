#include "esp/worker.h"

#include <ctime>

#include <sys/epoll.h>
#include <sys/socket.h>

#include <pthread.h>
#include <sched.h>

#include "crypto/aead.h"
#include "esp/handoff.h"
#include "esp/io/raw_esp.h"
#include "esp/io/steering.h"
#include "esp/io/tun.h"
#include "esp/io/udp_io.h"
#include "util/log.h"
#include "util/unique_fd.h"

namespace ikeplex::esp {
namespace {

constexpr std::size_t kBatch = 64;
/// Batches handled per ready descriptor before going back to epoll (fairness between the
/// TUN and the sockets, and a bound on command latency).
constexpr int kRoundsPerWake = 8;
/// epoll tag of the TUN queue and of the command eventfd; sockets are tagged by index.
constexpr std::uint64_t kTagTun = 1ULL << 32;
constexpr std::uint64_t kTagCommands = 2ULL << 32;
constexpr std::uint64_t kTagRaw = 3ULL << 32;
constexpr std::uint64_t kTagHandoff = 4ULL << 32;

/// Socket buffers for bursts: a TSO super-packet from the TUN becomes ~45 ESP datagrams at
/// once, and the kernel's default receive buffer (~200 KiB) overflows under a single TCP
/// stream (measured: 20 % of the datagrams lost). SO_*BUFFORCE as root, else the sysctl max.
void size_buffers(int fd) noexcept {
    const int bytes = 8 * 1024 * 1024;
    if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0) {
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
    }
    if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) != 0) {
        ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
    }
}

std::int64_t now_ms() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace

Worker::Worker(Token /*open()*/, unsigned index, const io::Tun& tun, WorkerIoOptions options,
               PacketCore& core, CommandQueue& queue)
    : index_(index),
      tun_(tun),
      options_(std::move(options)),
      core_(core),
      queue_(queue),
      rx_(kBatch),
      from_(kBatch) {
    out_.reserve(kBatch);
    inner_.reserve(kBatch);
    own_.reserve(kBatch);
    woken_.assign(options_.workers, false);
}

Result<std::unique_ptr<Worker>> Worker::open(unsigned index, const io::Tun& tun,
                                             const WorkerIoOptions& options, PacketCore& core,
                                             CommandQueue& queue) {
    auto w = std::make_unique<Worker>(Token{}, index, tun, options, core, queue);
    for (const Endpoint& b : options.udp_binds) {
        // UDP GRO merges datagrams of one 4-tuple before the reuseport program picks a socket,
        // so with several workers a merged batch can carry SPIs another worker owns: GRO only
        // with one worker or with the hand-off between workers (handoff.h).
        const bool gro = options.offloads && (options.workers == 1 || options.handoff != nullptr);
        auto s = io::UdpSocket::open(b, true, gro);
        if (!s) {
            log::error(log::Subsystem::kEsp, "worker {}: cannot open the ESP socket on {}: {}",
                       index, b, s.error().to_string());
            return s.error();
        }
        size_buffers(s->fd());
        w->udp_.push_back(std::move(*s));
    }
    if (options.raw_esp) {
        for (int family : {4, 6}) {
            auto s = io::RawEspSocket::open(family, index, options.workers);
            if (!s) {
                log::error(log::Subsystem::kEsp, "worker {}: cannot open a raw ESP socket: {}",
                           index, s.error().to_string());
                return s.error();
            }
            size_buffers(s->fd());
            w->raw_.push_back(std::move(*s));
        }
    }
    return w;
}

Status Worker::steer(const Worker& any, unsigned workers) {
    for (const auto& s : any.udp_) {
        if (auto r = io::attach_spi_steering(s.fd(), workers); !r) {
            return r.error();
        }
    }
    return {};
}

Worker::~Worker() {
    stop();
}

void Worker::start() {
    thread_ = std::thread([this] { run(); });
}

void Worker::stop() {
    stop_.store(true, std::memory_order_relaxed);
    queue_.wake();
    if (thread_.joinable()) {
        thread_.join();
    }
}

void Worker::run() {
    {
        char name[16];
        std::snprintf(name, sizeof name, "ikeplex-w%u", index_);
        ::pthread_setname_np(::pthread_self(), name);
    }
    if (options_.pin && index_ < static_cast<unsigned>(CPU_SETSIZE)) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(index_, &set);
        if (::sched_setaffinity(0, sizeof set, &set) != 0) {
            log::debug(log::Subsystem::kEsp, "worker {}: not pinned (no CPU {})", index_, index_);
        }
    }
    if (options_.ipsec_mb) {
        if (auto mb = crypto::IpsecMb::create(); mb) {
            mb_ = std::move(*mb);
            core_.set_ipsec_mb(mb_.get());
        }
    }
    UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
    if (!ep) {
        log::error(log::Subsystem::kEsp, "worker {}: epoll_create1 failed", index_);
        return;
    }
    const auto watch = [&](int fd, std::uint64_t tag) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = tag;
        ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd, &ev);
    };
    watch(tun_.queue_fd(index_), kTagTun);
    watch(queue_.fd(), kTagCommands);
    for (std::size_t i = 0; i < udp_.size(); ++i) {
        watch(udp_[i].fd(), i);
    }
    for (std::size_t i = 0; i < raw_.size(); ++i) {
        watch(raw_[i].fd(), kTagRaw | i);
    }
    if (options_.handoff != nullptr) {
        watch(options_.handoff->fd(index_), kTagHandoff);
    }
    std::array<epoll_event, 16> events{};
    while (!stop_.load(std::memory_order_relaxed)) {
        if (queue_.pending()) {
            queue_.drain(core_);
        }
        const int n = ::epoll_wait(ep.get(), events.data(), static_cast<int>(events.size()), 500);
        const std::int64_t now = now_ms();
        core_.expire_retired(now);
        for (int i = 0; i < n; ++i) {
            const std::uint64_t tag = events[static_cast<std::size_t>(i)].data.u64;
            if (tag == kTagTun) {
                from_tun(now);
            } else if (tag == kTagCommands) {
                queue_.drain(core_);
            } else if (tag == kTagHandoff) {
                from_handoff(now);
            } else if ((tag >> 32) == (kTagRaw >> 32)) {
                from_raw(tag & 0xffffffffU, now);
            } else {
                from_socket(tag, now);
            }
        }
    }
}

void Worker::from_tun(std::int64_t now) {
    for (int round = 0; round < kRoundsPerWake; ++round) {
        // Until the batch is full or the queue empty: plain packets come one per read, and a
        // batch cut short (it was 4 reads) costs an epoll_wait and a send per few packets.
        auto n = io::tun_read_batch(tun_, index_, rx_, static_cast<unsigned>(kBatch));
        if (!n || *n == 0) {
            return;
        }
        out_.clear();
        core_.outbound(std::span<PacketBuf>(rx_.data(), *n), out_, now);
        transmit(out_);
        if (*n < rx_.size()) {
            return;  // the reads found the queue empty
        }
    }
}

void Worker::transmit(std::vector<Outgoing>& out) {
    // Datagrams keep their order; each socket gets its run (one per family, UDP or raw).
    auto& lists = lists_;
    for (auto& l : lists) {
        l.clear();
    }
    for (const Outgoing& o : out) {
        const std::size_t fam = o.peer.address.is_v4() ? 0 : 1;
        lists[(o.udp ? 0 : 2) + fam].push_back(io::Datagram{o.buf, o.peer, o.local.address});
    }
    for (std::size_t l = 0; l < lists.size(); ++l) {
        if (lists[l].empty()) {
            continue;
        }
        const bool v4 = (l % 2) == 0;
        if (l < 2) {
            for (auto& s : udp_) {
                if (s.local().address.family() == (v4 ? 4 : 6)) {
                    auto sent = s.send_batch(lists[l], options_.offloads);
                    const std::size_t done = sent ? *sent : 0;
                    core_.count_drop(Drop::kIo, lists[l].size() - done);
                    break;
                }
            }
        } else {
            for (auto& s : raw_) {
                if (s.family() == (v4 ? 4 : 6)) {
                    auto sent = s.send_batch(lists[l]);
                    const std::size_t done = sent ? *sent : 0;
                    core_.count_drop(Drop::kIo, lists[l].size() - done);
                    break;
                }
            }
        }
    }
}

void Worker::from_socket(std::size_t socket, std::int64_t now) {
    for (int round = 0; round < kRoundsPerWake; ++round) {
        // An SA installed while this wake runs (a rekey's new inbound SA) is in before the
        // next batch, whose packets may already use it.
        if (queue_.pending()) {
            queue_.drain(core_);
        }
        auto n = udp_[socket].recv_batch(rx_, from_);
        if (!n || *n == 0) {
            return;
        }
        inner_.clear();
        if (options_.handoff != nullptr && udp_[socket].gro()) {
            sort_out(*n);
            core_.inbound(std::span<PacketBuf* const>(own_), inner_, now);
        } else {
            core_.inbound(std::span<PacketBuf>(rx_.data(), *n), inner_, now);
        }
        to_tun(inner_);
        if (*n < rx_.size() / 2 && !udp_[socket].pending()) {
            return;
        }
    }
}

void Worker::from_raw(std::size_t socket, std::int64_t now) {
    for (int round = 0; round < kRoundsPerWake; ++round) {
        auto n = raw_[socket].recv_batch(rx_, from_);
        if (!n || *n == 0) {
            return;
        }
        inner_.clear();
        core_.inbound(std::span<PacketBuf>(rx_.data(), *n), inner_, now);
        to_tun(inner_);
        if (*n < rx_.size() / 2) {
            return;
        }
    }
}

void Worker::sort_out(std::size_t n) {
    own_.clear();
    Handoff& h = *options_.handoff;
    for (std::size_t i = 0; i < n; ++i) {
        PacketBuf& p = rx_[i];
        const auto hdr = peek_header(p.bytes());
        const std::uint32_t spi = hdr ? hdr->spi.value() : 0;
        // Not ESP (shorter than an ESP header, or IKE behind the non-ESP marker) stays: the
        // worker drops it as the one the reuseport program chose.
        const unsigned to = spi == 0 ? index_ : io::spi_worker(spi, options_.workers);
        if (to == index_) {
            own_.push_back(&p);
        } else if (h.push(index_, to, p.bytes())) {
            woken_[to] = true;
            core_.count_handoff(1);
        } else {
            core_.count_drop(Drop::kIo);
        }
    }
    for (unsigned w = 0; w < woken_.size(); ++w) {
        if (woken_[w]) {
            woken_[w] = false;
            h.wake(w);
        }
    }
}

void Worker::from_handoff(std::int64_t now) {
    Handoff& h = *options_.handoff;
    h.clear(index_);
    for (int round = 0; round < kRoundsPerWake; ++round) {
        const std::size_t n = h.pop(index_, rx_);
        if (n == 0) {
            return;
        }
        inner_.clear();
        core_.inbound(std::span<PacketBuf>(rx_.data(), n), inner_, now);
        to_tun(inner_);
        if (n < rx_.size()) {
            return;
        }
    }
    h.wake(index_);  // more waiting: come back after the other descriptors had their turn
}

void Worker::to_tun(std::vector<PacketBuf*>& in) {
    if (in.empty()) {
        return;
    }
    auto written = io::tun_write_batch(tun_, index_, in);
    const std::size_t done = written ? *written : 0;
    core_.count_drop(Drop::kIo, in.size() - done);
}

}  // namespace ikeplex::esp
