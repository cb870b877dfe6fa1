// Logging: spdlog underneath, strongSwan-style subsystem tags in each line ("[IKE]", "[ENC]",
// "[CHD]"), and a rate limiter for anything an outsider can trigger (design.md §7: bad input is
// logged rate-limited, never per packet).
//
// The sink and level are process-wide (spdlog's default logger); everything else is passed in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace ikeplex::log {

/// strongSwan's subsystem names, so operators can read our logs as they read charon's.
enum class Subsystem : std::uint8_t { kLib, kEnc, kIke, kChd, kCfg, kKnl, kNet, kEsp, kDmn, kVici };

/// Three-letter tag of a subsystem, e.g. "IKE".
std::string_view tag(Subsystem s) noexcept;
/// The subsystem of a tag ("IKE", "ike"), if it names one.
std::optional<Subsystem> subsystem_of(std::string_view tag) noexcept;
inline constexpr std::size_t kSubsystems = 10;

/// strongSwan's log levels: -1 silent, 0 basic (errors, warnings), 1 audit, 2 control,
/// 3 controlmore, 4 raw. spdlog's levels carry 0..2 (err/warn, info, debug); 3 and 4 are both
/// spdlog's trace, told apart by the writers more() and raw() below.
inline constexpr int kBasic = 0;
inline constexpr int kAudit = 1;
inline constexpr int kControl = 2;
inline constexpr int kControlMore = 3;
inline constexpr int kRaw = 4;

/// The spdlog level that lets strongSwan's `level` and those below it through (off for -1).
spdlog::level::level_enum spdlog_level(int strongswan_level) noexcept;
/// strongSwan's level of a line written at spdlog `level`; for trace, the level (3 or 4) of
/// the line being written on this thread (for sinks: they run inside the write).
int strongswan_level(spdlog::level::level_enum level) noexcept;

/// Per-subsystem threshold on top of spdlog's global level (strongSwan's per-group log
/// levels, -1..4): lines above it are dropped. Default: everything passes (4).
void set_level(Subsystem s, int strongswan_level) noexcept;
[[nodiscard]] bool enabled(Subsystem s, int strongswan_level) noexcept;

/// Whether a line of `level` for `s` would be written: lets a caller skip building what only
/// the line needs (IKE_LOG formats its message only then).
[[nodiscard]] inline bool would_log(spdlog::level::level_enum level, Subsystem s) noexcept {
    return spdlog::should_log(level) && enabled(s, strongswan_level(level));
}
/// The same for strongSwan's level 3 or 4 (more(), raw()).
[[nodiscard]] inline bool would_log_detail(int strongswan_level, Subsystem s) noexcept {
    return spdlog::should_log(spdlog::level::trace) && enabled(s, strongswan_level);
}

namespace detail {
/// Marks the trace line written in its scope as level 3 or 4 (strongswan_level(trace)).
class DetailScope {
public:
    explicit DetailScope(int level) noexcept;
    ~DetailScope();
    DetailScope(const DetailScope&) = delete;
    DetailScope& operator=(const DetailScope&) = delete;
    DetailScope(DetailScope&&) = delete;
    DetailScope& operator=(DetailScope&&) = delete;

private:
    int previous_;
};
/// A formatted message as it goes into a line: control characters and malformed UTF-8 escaped
/// (util/escape.h), so that text from outside (identities, names) cannot forge or break lines;
/// `keep_newlines` for raw() hex dumps.
std::string safe_text(std::string text, bool keep_newlines = false);
}  // namespace detail

/// The level of each writer below, by the writer's name (for macros such as IKE_LOG, which
/// name both with one token: hence the writers' lower-case names).
// NOLINTBEGIN(readability-identifier-naming)
namespace levels {
inline constexpr spdlog::level::level_enum debug = spdlog::level::debug;
inline constexpr spdlog::level::level_enum info = spdlog::level::info;
inline constexpr spdlog::level::level_enum warn = spdlog::level::warn;
inline constexpr spdlog::level::level_enum error = spdlog::level::err;
}  // namespace levels
// NOLINTEND(readability-identifier-naming)

template <class... Args>
void write(spdlog::level::level_enum level, Subsystem s, fmt::format_string<Args...> f,
           Args&&... args) {
    if (!would_log(level, s)) {
        return;
    }
    spdlog::log(level, "[{}] {}", tag(s),
                detail::safe_text(fmt::format(f, std::forward<Args>(args)...)));
}

template <class... Args>
void debug(Subsystem s, fmt::format_string<Args...> f, Args&&... args) {
    write(spdlog::level::debug, s, f, std::forward<Args>(args)...);
}
template <class... Args>
void info(Subsystem s, fmt::format_string<Args...> f, Args&&... args) {
    write(spdlog::level::info, s, f, std::forward<Args>(args)...);
}
template <class... Args>
void warn(Subsystem s, fmt::format_string<Args...> f, Args&&... args) {
    write(spdlog::level::warn, s, f, std::forward<Args>(args)...);
}
/// strongSwan's level 3 (controlmore): details such as each payload of a message.
template <class... Args>
void more(Subsystem s, fmt::format_string<Args...> f, Args&&... args) {
    if (!would_log_detail(kControlMore, s)) {
        return;
    }
    const detail::DetailScope scope(kControlMore);
    spdlog::log(spdlog::level::trace, "[{}] {}", tag(s),
                detail::safe_text(fmt::format(f, std::forward<Args>(args)...)));
}
/// strongSwan's level 4 (raw): hex dumps of messages (never keys: ikeplex logs none).
template <class... Args>
void raw(Subsystem s, fmt::format_string<Args...> f, Args&&... args) {
    if (!would_log_detail(kRaw, s)) {
        return;
    }
    const detail::DetailScope scope(kRaw);
    spdlog::log(spdlog::level::trace, "[{}] {}", tag(s),
                detail::safe_text(fmt::format(f, std::forward<Args>(args)...), true));
}
template <class... Args>
void error(Subsystem s, fmt::format_string<Args...> f, Args&&... args) {
    write(spdlog::level::err, s, f, std::forward<Args>(args)...);
}

/// At most `burst` events per `interval_ms`; the caller supplies the time (so virtual clocks
/// work) and learns how many were suppressed since the last allowed one.
class RateLimiter {
public:
    RateLimiter(std::uint32_t burst, std::uint64_t interval_ms) noexcept
        : burst_(burst), interval_ms_(interval_ms) {}

    /// True if an event at `now_ms` may be logged.
    bool allow(std::uint64_t now_ms) noexcept;
    /// After allow() returned true: how many events it refused before this one (since the
    /// previous allowed event), for "N similar suppressed".
    [[nodiscard]] std::uint64_t suppressed() const noexcept { return reported_; }

private:
    std::uint32_t burst_;
    std::uint64_t interval_ms_;
    std::uint64_t window_start_{0};
    std::uint32_t in_window_{0};
    std::uint64_t suppressed_{0};  ///< refused since the last allowed event
    std::uint64_t reported_{0};    ///< suppressed_ when the last event was allowed
    bool started_{false};
};

}  // namespace ikeplex::log
