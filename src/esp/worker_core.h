// What one data-plane worker does with packets, without I/O (design.md §3): inner packets from
// its TUN queue become ESP datagrams on its resource's SA (or the group's fallback SA), ESP
// datagrams steered to it become inner packets. The I/O loop (worker.h) drives it as its
// PacketCore; the in-process tests and benchmarks drive this class directly.
//
// Threading: one thread calls apply(), outbound() and inbound() (the worker's own); the control
// thread only reads counters. Commands reach it through the Worker's command queue; nothing
// here locks.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "crypto/aead.h"
#include "crypto/registry.h"
#include "esp/esp_codec.h"
#include "esp/events.h"
#include "esp/packet.h"
#include "esp/packet_core.h"
#include "esp/replay_window.h"
#include "esp/sa.h"
#include "esp/sa_crypto.h"
#include "esp/selector.h"

namespace ikeplex::esp {

class WorkerCore final : public PacketCore {
public:
    /// `index`: this worker's resource (CPU). `mb`: this thread's IPsec-MB manager or nullptr.
    WorkerCore(unsigned index, const crypto::Registry& registry, EventQueue& events,
               crypto::IpsecMb* mb) noexcept;

    void set_ipsec_mb(crypto::IpsecMb* mb) noexcept override { mb_ = mb; }
    void apply(Command& c) override;

    /// Encapsulates each inner packet in `pkts` in place; those to send are appended to `out`.
    void outbound(std::span<PacketBuf> pkts, std::vector<Outgoing>& out,
                  std::int64_t now_ms) override;
    void outbound(std::span<PacketBuf* const> pkts, std::vector<Outgoing>& out,
                  std::int64_t now_ms);
    /// Decapsulates each ESP packet (UDP payload or raw ESP) in place; inner packets to hand
    /// to the TUN are appended to `out`.
    void inbound(std::span<PacketBuf> pkts, std::vector<PacketBuf*>& out,
                 std::int64_t now_ms) override;
    void inbound(std::span<PacketBuf* const> pkts, std::vector<PacketBuf*>& out,
                 std::int64_t now_ms) override;

    /// Removes inbound SAs whose grace period after removal has passed (worker loop, often).
    void expire_retired(std::int64_t now_ms) override;
    [[nodiscard]] std::size_t inbound_sas() const noexcept { return inbound_.size(); }
    [[nodiscard]] std::size_t outbound_sas() const noexcept { return outbound_.size(); }

private:
    struct Out {
        SaPtr sa;
        std::unique_ptr<SaCrypto> crypto;
        std::uint64_t order{0};
        SaPath path;  ///< this worker's copy (MoveSa changes it)
    };
    struct In {
        SaPtr sa;
        std::unique_ptr<SaCrypto> crypto;
        ReplayWindow window;
        SaPath path;
    };
    /// The SAs a worker may send on for one policy: its resource's and the group's fallback,
    /// each the oldest and the newest installed. The oldest is used until it is deleted or
    /// expires, so a rekey switches traffic only when the old SA goes: the rekey initiator
    /// deletes it after the peer has installed the new inbound SA, and the responder learns
    /// of it by that DELETE, after the initiator installed its own (RFC 7296 §2.8, as
    /// strongSwan does): no packet is sent on an SA the peer cannot yet receive.
    struct Slot {
        Out* oldest{nullptr};
        Out* newest{nullptr};
        [[nodiscard]] Out* usable() const noexcept;
    };
    struct Route {
        Slot own;
        Slot fallback;
        std::int64_t last_acquire_ms{-1};
        std::int64_t last_trap_ms{-1};
    };

    void add(const SaPtr& sa);
    void retire(Spi spi, std::int64_t grace_ms);
    void move(const MoveSa& m);
    void remove(Spi spi, bool inbound);
    void rebuild_routes();
    void lifetime(Sa& sa, Sa::Crossed crossed);
    bool rate_ok(std::int64_t& last_ms, std::int64_t now_ms) const noexcept;
    void one_outbound(PacketBuf& p, std::vector<Outgoing>& out, std::int64_t now_ms);
    void one_inbound(PacketBuf& p, std::vector<PacketBuf*>& out, std::int64_t now_ms);

    const crypto::Registry& registry_;
    EventQueue& events_;
    crypto::IpsecMb* mb_;
    PolicyTablePtr policies_;
    std::unordered_map<std::uint32_t, Out> outbound_;  // by SPI
    std::unordered_map<std::uint32_t, In> inbound_;    // by SPI
    std::unordered_map<std::uint32_t, Route> routes_;  // by reqid
    struct Retiring {
        std::uint32_t spi;
        SaPtr sa;
        std::int64_t grace_ms;
        std::int64_t deadline_ms{-1};  ///< set by the first expire_retired() after removal
    };
    std::vector<Retiring> retiring_;
    std::uint64_t next_order_{0};
};

}  // namespace ikeplex::esp
