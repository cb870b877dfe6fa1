#include "util/log.h"

#include <array>
#include <atomic>
#include <cctype>

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

namespace {

std::array<std::atomic<int>, kSubsystems> g_levels{};  // spdlog::level values; 0 = trace: all pass

}  // namespace

std::optional<Subsystem> subsystem_of(std::string_view t) noexcept {
    for (std::size_t i = 0; i < kSubsystems; ++i) {
        const auto s = static_cast<Subsystem>(i);
        const std::string_view name = tag(s);
        if (name.size() == t.size() &&
            std::equal(name.begin(), name.end(), t.begin(), [](char a, char b) {
                return std::toupper(static_cast<unsigned char>(a)) ==
                       std::toupper(static_cast<unsigned char>(b));
            })) {
            return s;
        }
    }
    return std::nullopt;
}

void set_level(Subsystem s, spdlog::level::level_enum level) noexcept {
    g_levels[static_cast<std::size_t>(s)].store(static_cast<int>(level), std::memory_order_relaxed);
}

bool enabled(Subsystem s, spdlog::level::level_enum level) noexcept {
    return static_cast<int>(level) >=
           g_levels[static_cast<std::size_t>(s)].load(std::memory_order_relaxed);
}

bool RateLimiter::allow(std::uint64_t now_ms) noexcept {
    if (!started_ || now_ms - window_start_ >= interval_ms_) {
        started_ = true;
        window_start_ = now_ms;
        in_window_ = 0;
    }
    if (in_window_ < burst_) {
        ++in_window_;
        reported_ = suppressed_;
        suppressed_ = 0;
        return true;
    }
    ++suppressed_;
    return false;
}

}  // namespace ikeplex::log
