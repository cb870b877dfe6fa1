// Engine time: a virtual clock's milliseconds. The engine never reads a clock; every input
// carries `now`, and the host (or the test harness) decides what time it is.
#pragma once

#include <chrono>
#include <cstdint>

namespace ikeplex::ike {

using Duration = std::chrono::milliseconds;

/// A point in engine time (milliseconds since an arbitrary epoch of the host's choosing).
struct TimePoint {
    std::int64_t ms{0};
    friend constexpr TimePoint operator+(TimePoint t, Duration d) noexcept {
        return TimePoint{t.ms + d.count()};
    }
    friend constexpr TimePoint operator-(TimePoint t, Duration d) noexcept {
        return TimePoint{t.ms - d.count()};
    }
    friend constexpr Duration operator-(TimePoint a, TimePoint b) noexcept {
        return Duration{a.ms - b.ms};
    }
    constexpr auto operator<=>(const TimePoint&) const =
            default;  // NOLINT(modernize-use-nullptr): clang-tidy 14 misreads defaulted <=>
};

inline constexpr TimePoint kNever{INT64_MAX};

}  // namespace ikeplex::ike
