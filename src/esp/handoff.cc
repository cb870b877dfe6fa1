#include "esp/handoff.h"

#include <cerrno>
#include <cstring>
#include <utility>

#include <sys/eventfd.h>

#include <unistd.h>

#include "util/sys_error.h"

namespace ikeplex::esp {

namespace {

constexpr std::size_t kAlign = 8;
constexpr std::size_t kLenBytes = 4;
constexpr std::uint32_t kWrap = 0xFFFFFFFFU;  ///< "continue at the start of the ring"
/// Largest datagram a record carries: what a PacketBuf takes with the default headroom.
constexpr std::size_t kMaxDatagram = PacketBuf::kCapacity - PacketBuf::kHeadroom;

constexpr std::size_t record_size(std::size_t len) noexcept {
    return (kLenBytes + len + kAlign - 1) / kAlign * kAlign;
}

}  // namespace

/// Positions are byte counts since the start (never wrapped); offset = position % kRingBytes.
/// Records are 8-aligned, so a length field never straddles the end.
// NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init): data, see there
struct Handoff::Ring {
    alignas(64) std::atomic<std::size_t> head{0};  ///< written by the producer
    alignas(64) std::atomic<std::size_t> tail{0};  ///< written by the consumer
    // Written before it is read (records between tail and head); made on the first hand-off
    // of a worker pair, on the packet path, so not zeroed.
    alignas(64) std::uint8_t data[kRingBytes];
};

Handoff::Handoff(Token /*create()*/, unsigned workers)
    : workers_(workers),
      owned_(std::size_t{workers} * workers),
      rings_(std::make_unique<std::atomic<Ring*>[]>(std::size_t{workers} * workers)) {}

Result<std::unique_ptr<Handoff>> Handoff::create(unsigned workers) {
    auto h = std::make_unique<Handoff>(Token{}, workers);
    for (unsigned k = 0; k < workers; ++k) {
        UniqueFd fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
        if (!fd) {
            return sys_error("eventfd (worker hand-off)");
        }
        h->fds_.push_back(std::move(fd));
    }
    return h;
}

Handoff::~Handoff() = default;

Handoff::Ring* Handoff::ring(unsigned from, unsigned to) {
    const std::size_t i = std::size_t{from} * workers_ + to;
    if (!owned_[i]) {  // only this producer touches slot i
        owned_[i] = std::make_unique<Ring>();
        rings_[i].store(owned_[i].get(), std::memory_order_release);
    }
    return owned_[i].get();
}

// NOLINTNEXTLINE(bugprone-exception-escape): a ring is allocated once per worker pair
bool Handoff::push(unsigned from, unsigned to, ByteView datagram) noexcept {
    if (from >= workers_ || to >= workers_ || from == to || datagram.empty() ||
        datagram.size() > kMaxDatagram) {
        return false;
    }
    Ring* r = ring(from, to);
    const std::size_t head = r->head.load(std::memory_order_relaxed);
    const std::size_t tail = r->tail.load(std::memory_order_acquire);
    const std::size_t off = head % kRingBytes;
    const std::size_t need = record_size(datagram.size());
    const std::size_t skip = off + need > kRingBytes ? kRingBytes - off : 0;
    if (kRingBytes - (head - tail) < skip + need) {
        return false;
    }
    std::size_t pos = head;
    if (skip != 0) {
        std::memcpy(r->data + off, &kWrap, kLenBytes);
        pos += skip;
    }
    std::uint8_t* p = r->data + pos % kRingBytes;
    const auto len = static_cast<std::uint32_t>(datagram.size());
    std::memcpy(p, &len, kLenBytes);
    std::memcpy(p + kLenBytes, datagram.data(), datagram.size());
    r->head.store(pos + need, std::memory_order_release);
    return true;
}

void Handoff::wake(unsigned to) const noexcept {
    if (to < fds_.size()) {
        const std::uint64_t one = 1;
        [[maybe_unused]] const ssize_t n = ::write(fds_[to].get(), &one, sizeof one);
    }
}

int Handoff::fd(unsigned to) const noexcept {
    return to < fds_.size() ? fds_[to].get() : -1;
}

void Handoff::clear(unsigned to) const noexcept {
    if (to < fds_.size()) {
        std::uint64_t v = 0;
        [[maybe_unused]] const ssize_t n = ::read(fds_[to].get(), &v, sizeof v);
    }
}

std::size_t Handoff::pop(unsigned to, std::span<PacketBuf> bufs) noexcept {
    std::size_t o = 0;
    for (unsigned from = 0; from < workers_ && o < bufs.size(); ++from) {
        if (from == to) {
            continue;
        }
        Ring* r = rings_[std::size_t{from} * workers_ + to].load(std::memory_order_acquire);
        if (r == nullptr) {
            continue;
        }
        std::size_t tail = r->tail.load(std::memory_order_relaxed);
        const std::size_t head = r->head.load(std::memory_order_acquire);
        while (tail < head && o < bufs.size()) {
            const std::size_t off = tail % kRingBytes;
            std::uint32_t len = 0;
            std::memcpy(&len, r->data + off, kLenBytes);
            if (len == kWrap) {
                tail += kRingBytes - off;
                continue;
            }
            bufs[o].assign(ByteView{r->data + off + kLenBytes, len});
            ++o;
            tail += record_size(len);
        }
        r->tail.store(tail, std::memory_order_release);
    }
    return o;
}

}  // namespace ikeplex::esp
