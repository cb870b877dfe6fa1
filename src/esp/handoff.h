// Hand-off of received ESP datagrams between workers (design.md §3). With UDP GRO the kernel
// merges datagrams of one flow (same addresses and ports) before the reuseport program picks a
// socket by the first datagram's SPI, and the Child SAs of an RFC 9611 group share their flow:
// a merged batch can hold datagrams whose SPI another worker owns, and only that worker has the
// SA's replay window. The receiving worker passes them on here: one single-producer
// single-consumer byte ring per (from, to) pair, allocated by its producer on first use, and an
// eventfd per worker that wakes it. No locks; a full ring drops the datagram (the caller counts
// it). Datagrams handed off arrive after the ones of the batch the owner read itself: within an
// SA that is reordering by at most a batch, which the replay window absorbs.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "esp/packet.h"
#include "util/bytes.h"
#include "util/result.h"
#include "util/unique_fd.h"

namespace ikeplex::esp {

class Handoff {
    /// The passkey of the constructor: only create() makes one (util/result.h).
    struct Token {
        explicit Token() = default;
    };

public:
    /// Bytes per ring: about 180 datagrams of 1400 bytes (a GRO batch holds up to 64).
    static constexpr std::size_t kRingBytes = std::size_t{256} * 1024;

    static Result<std::unique_ptr<Handoff>> create(unsigned workers);
    Handoff(Token, unsigned workers);
    Handoff(const Handoff&) = delete;
    Handoff& operator=(const Handoff&) = delete;
    Handoff(Handoff&&) = delete;
    Handoff& operator=(Handoff&&) = delete;
    ~Handoff();

    [[nodiscard]] unsigned workers() const noexcept { return workers_; }
    /// Worker `from`, on its own thread: copies `datagram` into the ring to worker `to`. False if
    /// the ring is full, the datagram is empty or too large, or from == to.
    bool push(unsigned from, unsigned to, ByteView datagram) noexcept;
    /// Wakes worker `to` (after pushes to it).
    void wake(unsigned to) const noexcept;
    /// Worker `to`, on its own thread: fills bufs[0..) with datagrams handed to it, oldest first
    /// per producer; returns how many. Call clear() before the first pop of a wake-up.
    std::size_t pop(unsigned to, std::span<PacketBuf> bufs) noexcept;
    /// Readable when something was handed to worker `to` since its last clear().
    [[nodiscard]] int fd(unsigned to) const noexcept;
    void clear(unsigned to) const noexcept;

private:
    struct Ring;
    Ring* ring(unsigned from, unsigned to);

    unsigned workers_;
    std::vector<UniqueFd> fds_;
    /// [from * workers + to]: each slot is created by its producer thread only, on first use.
    std::vector<std::unique_ptr<Ring>> owned_;
    /// The same rings as the consumer sees them: published by the producer after creating one.
    std::unique_ptr<std::atomic<Ring*>[]> rings_;
};

}  // namespace ikeplex::esp
