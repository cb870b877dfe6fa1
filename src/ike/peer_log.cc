#include "ike/peer_log.h"

#include <fmt/format.h>

namespace ikeplex::ike {

PeerLog::Verdict PeerLog::allow(const void* site, TimePoint now, std::uint64_t& suppressed) {
    Site& s = sites_[site];
    if (s.in_window == 0 || now.ms - s.window_start >= static_cast<std::int64_t>(interval_ms_)) {
        s.window_start = now.ms;
        s.in_window = 0;
        s.told = false;
    }
    if (s.in_window < burst_) {
        ++s.in_window;
        suppressed = s.suppressed;
        s.suppressed = 0;
        return Verdict::kWrite;
    }
    if (!s.told) {
        s.told = true;
        suppressed = 0;
        return Verdict::kWriteLast;
    }
    ++s.suppressed;
    ++total_;
    return Verdict::kSuppress;
}

std::string suppressed_suffix(PeerLog::Verdict v, std::uint64_t n, std::uint64_t interval_ms) {
    if (v == PeerLog::Verdict::kWriteLast) {
        return fmt::format(" (further similar lines suppressed for up to {} ms)", interval_ms);
    }
    return n == 0 ? std::string() : fmt::format(" ({} similar suppressed)", n);
}

}  // namespace ikeplex::ike
