// Timers of all IKE SAs in one ordered queue. Setting a key replaces its previous deadline;
// the host learns only the earliest deadline (Output::wakeup).
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "ike/time.h"

namespace ikeplex::ike {

enum class TimerKind : std::uint8_t {
    kRetransmit,  ///< arg: message id
    kHalfOpen,    ///< responder: IKE_AUTH did not come
    kDpd,
    kIkeRekey,
    kIkeExpire,
    kChildRekey,   ///< arg: child id
    kChildExpire,  ///< arg: child id
    kRetry,        ///< queued work to retry (e.g. after TEMPORARY_FAILURE); arg: task id
    kDeleteLater,  ///< delete a redundant or rekeyed SA; arg: child id (0 = the IKE SA)
};

struct TimerKey {
    std::uint32_t ike{0};
    TimerKind kind{TimerKind::kRetransmit};
    std::uint32_t arg{0};
    auto operator<=>(const TimerKey&) const =
            default;  // NOLINT(modernize-use-nullptr): clang-tidy 14 misreads defaulted <=>
};

class TimerQueue {
public:
    TimerQueue() = default;
    TimerQueue(const TimerQueue&) = delete;  // by_ike_ points into by_time_
    TimerQueue& operator=(const TimerQueue&) = delete;
    TimerQueue(TimerQueue&&) = default;
    TimerQueue& operator=(TimerQueue&&) = default;
    ~TimerQueue() = default;

    void set(TimerKey key, TimePoint at);
    void cancel(TimerKey key);
    /// Cancels every timer of an IKE SA.
    void cancel_all(std::uint32_t ike);
    /// The earliest timer due at `now`, removed from the queue.
    std::optional<TimerKey> pop_due(TimePoint now);
    [[nodiscard]] TimePoint next() const noexcept;
    [[nodiscard]] std::optional<TimePoint> deadline(TimerKey key) const;
    [[nodiscard]] std::size_t size() const noexcept { return size_; }

private:
    using ByTime = std::multimap<TimePoint, TimerKey>;
    /// One timer of an IKE SA: its entry in by_time_.
    struct Armed {
        TimerKind kind{TimerKind::kRetransmit};
        std::uint32_t arg{0};
        ByTime::iterator at;
    };
    using Armeds = std::vector<Armed>;

    [[nodiscard]] static Armeds::iterator find(Armeds& armed, const TimerKey& key) noexcept;

    ByTime by_time_;
    /// Each IKE SA's timers (a few): set, cancel and cancel_all cost O(1) in the number of
    /// IKE SAs, apart from by_time_'s own O(log n).
    std::unordered_map<std::uint32_t, Armeds> by_ike_;
    std::size_t size_{0};
};

}  // namespace ikeplex::ike
