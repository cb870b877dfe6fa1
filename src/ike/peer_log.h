// Log lines a peer can trigger at will (design.md §7: outside input is logged rate-limited,
// never per packet; issue 18: 820,553 lines in 30 s from unmatched IKE_SA_INIT requests).
// Each call site has its own budget of lines per interval, so one flood cannot hide the
// lines of another kind; the next line a site writes after a burst says how many of its
// lines were suppressed.
//
//   PEER_LOG(services.peer_log, step.now, info, log::Subsystem::kIke,
//            "{} no IKE config or proposal matches IKE_SA_INIT from {}", local, remote);
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

#include "ike/time.h"
#include "util/log.h"

namespace ikeplex::ike {

class PeerLog {
public:
    explicit PeerLog(std::uint32_t burst = 20, std::uint64_t interval_ms = 1000) noexcept
        : burst_(burst), interval_ms_(interval_ms) {}

    enum class Verdict : std::uint8_t {
        kSuppress,   ///< drop the line
        kWrite,      ///< write it (with "N similar suppressed" when N > 0)
        kWriteLast,  ///< write it, saying that further lines of its kind are suppressed for now
    };

    /// What to do with a line of call site `site` at `now`: at most `burst` lines per
    /// interval, plus one that says the rest of the interval is suppressed (so a burst that
    /// ends in silence is still visible). On kWrite, `suppressed` is how many of the site's
    /// lines were dropped since its previous one.
    Verdict allow(const void* site, TimePoint now, std::uint64_t& suppressed);
    /// Lines suppressed so far, all sites together (the `log-suppressed` counter).
    [[nodiscard]] std::uint64_t suppressed_total() const noexcept { return total_; }
    [[nodiscard]] std::uint64_t interval_ms() const noexcept { return interval_ms_; }

private:
    struct Site {
        std::int64_t window_start{0};
        std::uint32_t in_window{0};
        bool told{false};  ///< the kWriteLast line of this window was written
        std::uint64_t suppressed{0};
    };
    std::uint32_t burst_;
    std::uint64_t interval_ms_;
    std::unordered_map<const void*, Site> sites_;
    std::uint64_t total_{0};
};

/// What PEER_LOG appends to a line: " (N similar suppressed)" after a suppression, " (further
/// similar lines suppressed for up to 1 s)" for kWriteLast, else "".
std::string suppressed_suffix(PeerLog::Verdict v, std::uint64_t n, std::uint64_t interval_ms);

}  // namespace ikeplex::ike

/// One line through a PeerLog; the site is the macro's expansion (a static's address). `lvl`
/// is debug, info or warn. Nothing is formatted when the level is off.
#define PEER_LOG(peer_log, now, lvl, subsystem, ...)                                           \
    do {                                                                                       \
        static const char ikeplex_peer_log_site = 0;                                           \
        std::uint64_t ikeplex_suppressed = 0;                                                  \
        if (::ikeplex::log::would_log(::ikeplex::log::levels::lvl, subsystem)) {               \
            const auto ikeplex_verdict =                                                       \
                    (peer_log).allow(&ikeplex_peer_log_site, now, ikeplex_suppressed);         \
            if (ikeplex_verdict != ::ikeplex::ike::PeerLog::Verdict::kSuppress) {              \
                ::ikeplex::log::lvl(                                                           \
                        subsystem, "{}{}", fmt::format(__VA_ARGS__),                           \
                        ::ikeplex::ike::suppressed_suffix(ikeplex_verdict, ikeplex_suppressed, \
                                                          (peer_log).interval_ms()));          \
            }                                                                                  \
        }                                                                                      \
    } while (false)
