#include "daemon/memory_trim.h"

#include <algorithm>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace ikeplex::daemon {

TrimPolicy::Action TrimPolicy::update(std::size_t sas, std::int64_t now_ms) noexcept {
    peak_ = std::max(peak_, sas);
    if (peak_ < limits_.min_peak || sas >= peak_ / limits_.divisor) {
        return Action::kNone;
    }
    return now_ms >= next_allowed_ms() ? Action::kTrimNow : Action::kTrimLater;
}

void TrimPolicy::trimmed(std::size_t sas, std::int64_t now_ms) noexcept {
    peak_ = sas;
    last_trim_ms_ = now_ms;
}

void trim_heap() noexcept {
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}

}  // namespace ikeplex::daemon
