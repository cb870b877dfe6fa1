#include "util/log.h"

#include <array>
#include <atomic>
#include <cctype>

#include "util/escape.h"

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

std::string detail::safe_text(std::string text, bool keep_newlines) {
    if (!needs_escaping(text, keep_newlines)) {
        return text;
    }
    return escape_nonprintable(text, keep_newlines);
}

namespace {

/// Per subsystem, how far below level 4 its threshold is (kRaw - level): zero, the initial
/// value, lets everything pass.
std::array<std::atomic<int>, kSubsystems> g_below_raw{};
thread_local int t_detail = kRaw;  ///< the level of the trace line being written

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

spdlog::level::level_enum spdlog_level(int strongswan_level) noexcept {
    if (strongswan_level < kBasic) {
        return spdlog::level::off;
    }
    switch (strongswan_level) {
        case kBasic:
            return spdlog::level::warn;
        case kAudit:
            return spdlog::level::info;
        case kControl:
            return spdlog::level::debug;
        default:
            return spdlog::level::trace;
    }
}

int strongswan_level(spdlog::level::level_enum level) noexcept {
    switch (level) {
        case spdlog::level::trace:
            return t_detail;
        case spdlog::level::debug:
            return kControl;
        case spdlog::level::info:
            return kAudit;
        default:
            return kBasic;
    }
}

void set_level(Subsystem s, int strongswan_level) noexcept {
    g_below_raw[static_cast<std::size_t>(s)].store(kRaw - strongswan_level,
                                                   std::memory_order_relaxed);
}

bool enabled(Subsystem s, int strongswan_level) noexcept {
    return strongswan_level <=
           kRaw - g_below_raw[static_cast<std::size_t>(s)].load(std::memory_order_relaxed);
}

namespace detail {

DetailScope::DetailScope(int level) noexcept : previous_(t_detail) {
    t_detail = level;
}

DetailScope::~DetailScope() {
    t_detail = previous_;
}

}  // namespace detail

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
