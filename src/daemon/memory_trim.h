// Hands the heap of deleted IKE SAs back to the system. glibc keeps freed memory in its
// arenas; after a mass deletion (thousands of SAs) the daemon's RSS would stay at its peak.
// When the number of established IKE SAs falls far below its peak, malloc_trim(0) returns
// the free pages, at most once per interval (it walks every free chunk). The same goes for
// VICI clients: once their buffers add up to enough (ReleaseTally), a trim is requested.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ikeplex::daemon {

class TrimPolicy {
public:
    struct Limits {
        std::size_t min_peak{1000};      ///< smaller peaks are not worth a trim
        std::size_t divisor{4};          ///< trim once the count is below peak / divisor
        std::int64_t interval_ms{1000};  ///< at most one trim per interval
    };
    enum class Action : std::uint8_t {
        kNone,
        kTrimNow,
        kTrimLater,  ///< due, but the last trim was too recent: at next_allowed_ms()
    };

    TrimPolicy() = default;
    explicit TrimPolicy(Limits limits) noexcept : limits_(limits) {}

    /// The number of established IKE SAs at `now_ms`: what to do.
    [[nodiscard]] Action update(std::size_t sas, std::int64_t now_ms) noexcept;
    /// A trim happened: the peak starts again from `sas`.
    void trimmed(std::size_t sas, std::int64_t now_ms) noexcept;
    [[nodiscard]] std::int64_t next_allowed_ms() const noexcept {
        return last_trim_ms_ + limits_.interval_ms;
    }
    [[nodiscard]] std::size_t peak() const noexcept { return peak_; }

private:
    Limits limits_;
    std::size_t peak_{0};
    std::int64_t last_trim_ms_{INT64_MIN / 2};
};

/// Bytes given back by things that went away (VICI clients): whether enough have gone since
/// the last trim for another to be worth it.
class ReleaseTally {
public:
    static constexpr std::size_t kDefaultThreshold = std::size_t{1} << 20;

    explicit ReleaseTally(std::size_t threshold = kDefaultThreshold) noexcept
        : threshold_(threshold) {}

    /// `bytes` released; true once the total since the last true reaches the threshold.
    [[nodiscard]] bool add(std::size_t bytes) noexcept {
        total_ += bytes;
        if (total_ < threshold_) {
            return false;
        }
        total_ = 0;
        return true;
    }

private:
    std::size_t threshold_;
    std::size_t total_{0};
};

/// malloc_trim(0) where glibc has it; nothing elsewhere.
void trim_heap() noexcept;

}  // namespace ikeplex::daemon
