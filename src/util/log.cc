#include "util/log.h"

namespace ikeplex::log {

std::string_view tag(Subsystem s) noexcept {
    switch (s) {
        case Subsystem::kLib:
            return "LIB";
        case Subsystem::kEnc:
            return "ENC";
        case Subsystem::kIke:
            return "IKE";
        case Subsystem::kChd:
            return "CHD";
        case Subsystem::kCfg:
            return "CFG";
        case Subsystem::kKnl:
            return "KNL";
        case Subsystem::kNet:
            return "NET";
        case Subsystem::kEsp:
            return "ESP";
        case Subsystem::kDmn:
            return "DMN";
        case Subsystem::kVici:
            return "VCI";
    }
    return "???";
}

bool RateLimiter::allow(std::uint64_t now_ms) noexcept {
    if (!started_ || now_ms - window_start_ >= interval_ms_) {
        started_ = true;
        window_start_ = now_ms;
        in_window_ = 0;
    }
    if (in_window_ < burst_) {
        ++in_window_;
        return true;
    }
    ++suppressed_;
    return false;
}

}  // namespace ikeplex::log
