// An installed SA as the data plane sees it (design.md §1.3): configuration fixed at install,
// plus the few counters that other threads read. Created by the control thread, shared with
// the worker(s) that use it through shared_ptr copies carried in commands (never per packet).
//
// Ownership on the packet path:
//  - an inbound SA belongs to exactly one worker (the one its SPI names), which alone touches
//    its replay window and crypto context;
//  - a per-resource outbound SA belongs to the worker of that resource;
//  - a fallback outbound SA is used by every worker; its sequence counter is the one shared
//    object of the data plane (one atomic), each worker keeps its own crypto context.
// Counters are atomics written by owners (relaxed) and read by the control thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "esp/esp_codec.h"
#include "esp/selector.h"
#include "util/ip_address.h"
#include "util/secret_bytes.h"
#include "util/strong_id.h"

namespace ikeplex::esp {

struct Lifetime {
    std::uint64_t soft_bytes{0};  ///< 0: no limit
    std::uint64_t hard_bytes{0};
    std::uint64_t soft_packets{0};
    std::uint64_t hard_packets{0};
};

struct SaConfig {
    std::uint32_t child_id{0};
    ReqId reqid;
    Spi spi;
    bool inbound{false};
    ResourceId resource;  ///< none: the fallback SA of its group
    Mode mode{Mode::kTunnel};
    bool udp_encap{true};
    bool esn{false};
    std::uint32_t replay_window{32};
    Endpoint local;  ///< outer addresses (ports used with UDP encapsulation)
    Endpoint peer;
    std::uint16_t encr_id{0};
    std::uint16_t encr_key_bits{0};
    std::uint16_t integ_id{0};
    SecretBytes encr_key;
    SecretBytes integ_key;
    Lifetime lifetime;
    std::vector<Selector> local_ts;
    std::vector<Selector> remote_ts;
};

/// The outer path of an SA: what MOBIKE (RFC 4555) may change after install. Each worker that
/// uses the SA keeps its own copy (the fallback outbound SA is shared by all workers), changed
/// on its own thread by a MoveSa command, so the packet path reads it without a lock.
struct SaPath {
    Endpoint local;
    Endpoint peer;
    bool udp_encap{true};
    bool operator==(const SaPath&) const = default;
};

/// Drops counted per SA (the rest are counted per worker only).
enum class SaDrop : std::uint8_t { kReplay, kIntegrity, kOther, kCount };

// The sequence counter and the packet counters sit on cache lines of their own on purpose
// (the fallback's counter is written by every worker): the padding is wanted.
class Sa {  // NOLINT(clang-analyzer-optin.performance.Padding)
public:
    explicit Sa(SaConfig c) noexcept
        : config_(std::move(c)), shared_(!config_.inbound && config_.resource.is_none()) {}

    [[nodiscard]] const SaConfig& config() const noexcept { return config_; }

    /// Outbound: reserves the next sequence number (starting at 1). Shared by every worker for
    /// a fallback SA, so it is an atomic increment there; a per-resource SA has one writer
    /// (its worker) and needs no locked instruction.
    std::uint64_t next_seq() noexcept {
        if (shared_) {
            return seq_.fetch_add(1, std::memory_order_relaxed) + 1;
        }
        const std::uint64_t next = seq_.load(std::memory_order_relaxed) + 1;
        seq_.store(next, std::memory_order_relaxed);
        return next;
    }
    [[nodiscard]] std::uint64_t last_seq() const noexcept {
        return seq_.load(std::memory_order_relaxed);
    }

    /// Counts a packet; returns the lifetime limit crossed by it, if any (each reported once).
    enum class Crossed : std::uint8_t { kNone, kSoft, kHard };
    Crossed count(std::size_t bytes, std::int64_t now_s) noexcept;
    void drop(SaDrop d) noexcept {
        drops_[static_cast<std::size_t>(d)].fetch_add(1, std::memory_order_relaxed);
    }
    /// True once the hard lifetime is reached (the SA must not be used any more).
    [[nodiscard]] bool expired() const noexcept { return hard_.load(std::memory_order_relaxed); }
    void expire() noexcept { hard_.store(true, std::memory_order_relaxed); }

    [[nodiscard]] std::uint64_t packets() const noexcept {
        return packets_.load(std::memory_order_relaxed);
    }
    [[nodiscard]] std::uint64_t bytes() const noexcept {
        return bytes_.load(std::memory_order_relaxed);
    }
    [[nodiscard]] std::int64_t last_use() const noexcept {
        return last_use_.load(std::memory_order_relaxed);
    }
    [[nodiscard]] std::uint64_t drops(SaDrop d) const noexcept {
        return drops_[static_cast<std::size_t>(d)].load(std::memory_order_relaxed);
    }

private:
    SaConfig config_;
    bool shared_;  ///< used by several workers (fallback outbound): counters need RMW atomics
    alignas(64) std::atomic<std::uint64_t> seq_{0};
    alignas(64) std::atomic<std::uint64_t> packets_{0};
    std::atomic<std::uint64_t> bytes_{0};
    std::atomic<std::int64_t> last_use_{0};
    std::atomic<bool> soft_{false};
    std::atomic<bool> hard_{false};
    std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(SaDrop::kCount)> drops_{};
};
using SaPtr = std::shared_ptr<Sa>;

}  // namespace ikeplex::esp
