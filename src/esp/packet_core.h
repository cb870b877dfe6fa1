// What a worker's I/O loop (worker.h) drives: a core that turns batches of inner packets from
// the TUN queue into datagrams to send and received datagrams into inner packets, applies the
// control thread's commands and keeps the worker's counters. WorkerCore (ESP, worker_core.h)
// is the one ikeplexd runs; a benchmark baseline plugs in its own through
// DataplaneOptions::make_core (ikeplex-relay: the same I/O without ESP). The loop calls it
// once per batch, never per packet.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <span>
#include <variant>
#include <vector>

#include "esp/esp_types.h"
#include "esp/packet.h"
#include "esp/sa.h"
#include "esp/selector.h"

namespace ikeplex::crypto {
class IpsecMb;
}

namespace ikeplex::esp {

struct AddSa {
    SaPtr sa;
};
struct RemoveSa {
    Spi spi;
    bool inbound{false};
    /// Inbound: keep accepting packets this long after the removal (packets the peer sent
    /// before it switched to the rekeyed SA are still in flight).
    std::int64_t grace_ms{0};
};
struct SetPolicies {
    PolicyTablePtr table;
};
/// An installed SA's outer path moved (MOBIKE, RFC 4555; a NAT that appeared or went): the
/// worker sends (and, in transport mode, rebuilds inner headers) with these from now on; keys,
/// sequence numbers, replay window and counters stay.
struct MoveSa {
    Spi spi;
    bool inbound{false};
    SaPath path;
};
using Command = std::variant<AddSa, RemoveSa, SetPolicies, MoveSa>;

/// A datagram ready to leave: UDP-encapsulated ESP (RFC 3948) or raw ESP.
struct Outgoing {
    PacketBuf* buf{nullptr};
    Endpoint local;
    Endpoint peer;
    bool udp{true};
};

/// Per-worker counters (one writer: the worker; read by the control thread).
struct WorkerCounters {
    std::atomic<std::uint64_t> tx_packets{0};  ///< ESP packets sent (encapsulated)
    std::atomic<std::uint64_t> tx_bytes{0};    ///< their inner bytes
    std::atomic<std::uint64_t> rx_packets{0};  ///< ESP packets decapsulated and accepted
    std::atomic<std::uint64_t> rx_bytes{0};
    std::atomic<std::uint64_t> fallback_tx{0};  ///< sent on the group's fallback SA
    /// Received datagrams passed to the worker that owns their SPI (UDP GRO, handoff.h).
    std::atomic<std::uint64_t> handed_off{0};
    std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(Drop::kCount)> drops{};
};

class PacketCore {
public:
    PacketCore(const PacketCore&) = delete;
    PacketCore& operator=(const PacketCore&) = delete;
    PacketCore(PacketCore&&) = delete;
    PacketCore& operator=(PacketCore&&) = delete;
    virtual ~PacketCore() = default;

    /// The worker's index: its resource (CPU).
    [[nodiscard]] unsigned index() const noexcept { return index_; }
    /// A command of the control thread (through the worker's command queue).
    virtual void apply(Command& c) = 0;
    /// The worker thread's IPsec-MB manager: SAs keyed from now on use it where they can.
    virtual void set_ipsec_mb(crypto::IpsecMb* /*mb*/) noexcept {}
    /// Called often by the worker loop (e.g. to drop SAs whose grace period has passed).
    virtual void expire_retired(std::int64_t /*now_ms*/) {}

    /// Turns each inner packet in `pkts` in place into a datagram; those to send are appended
    /// to `out`.
    virtual void outbound(std::span<PacketBuf> pkts, std::vector<Outgoing>& out,
                          std::int64_t now_ms) = 0;
    /// Turns each received datagram (UDP payload or raw ESP) in place into an inner packet;
    /// those to hand to the TUN are appended to `out`.
    virtual void inbound(std::span<PacketBuf> pkts, std::vector<PacketBuf*>& out,
                         std::int64_t now_ms) = 0;
    virtual void inbound(std::span<PacketBuf* const> pkts, std::vector<PacketBuf*>& out,
                         std::int64_t now_ms) = 0;

    [[nodiscard]] const WorkerCounters& counters() const noexcept { return counters_; }
    /// Counts `n` packets dropped for reason `d` (also used by the I/O loop for kIo).
    void count_drop(Drop d, std::uint64_t n = 1) noexcept {
        bump(counters_.drops[static_cast<std::size_t>(d)], n);
    }
    /// Counts `n` datagrams handed to another worker (the I/O loop).
    void count_handoff(std::uint64_t n) noexcept { bump(counters_.handed_off, n); }

protected:
    explicit PacketCore(unsigned index) noexcept : index_(index) {}
    /// One writer (the worker): a relaxed load and store, no read-modify-write.
    static void bump(std::atomic<std::uint64_t>& a, std::uint64_t v = 1) noexcept {
        a.store(a.load(std::memory_order_relaxed) + v, std::memory_order_relaxed);
    }

    WorkerCounters counters_;

private:
    unsigned index_;
};

}  // namespace ikeplex::esp
