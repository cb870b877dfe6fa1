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
#include <unordered_map>

#include "ike/time.h"
#include "util/log.h"

namespace ikeplex::ike {

class PeerLog {
public:
    explicit PeerLog(std::uint32_t burst = 20, std::uint64_t interval_ms = 1000) noexcept
        : burst_(burst), interval_ms_(interval_ms) {}

    /// Whether call site `site` may write a line at `now`; if so, `suppressed` is how many of
    /// its lines were dropped since its previous one.
    bool allow(const void* site, TimePoint now, std::uint64_t& suppressed);
    /// Lines suppressed so far, all sites together (the `log-suppressed` counter).
    [[nodiscard]] std::uint64_t suppressed_total() const noexcept { return total_; }

private:
    std::uint32_t burst_;
    std::uint64_t interval_ms_;
    std::unordered_map<const void*, log::RateLimiter> sites_;
    std::uint64_t total_{0};
};

/// " (N similar suppressed)" when N > 0, else "".
std::string suppressed_suffix(std::uint64_t n);

}  // namespace ikeplex::ike

/// One line through a PeerLog; the site is the macro's expansion (a static's address). `lvl`
/// is debug, info or warn. Nothing is formatted when the level is off.
#define PEER_LOG(peer_log, now, lvl, subsystem, ...)                                    \
    do {                                                                                \
        static const char ikeplex_peer_log_site = 0;                                    \
        std::uint64_t ikeplex_suppressed = 0;                                           \
        if (::spdlog::should_log(::spdlog::level::lvl) &&                               \
            ::ikeplex::log::enabled(subsystem, ::spdlog::level::lvl) &&                 \
            (peer_log).allow(&ikeplex_peer_log_site, now, ikeplex_suppressed)) {        \
            ::ikeplex::log::lvl(subsystem, "{}{}", fmt::format(__VA_ARGS__),            \
                                ::ikeplex::ike::suppressed_suffix(ikeplex_suppressed)); \
        }                                                                               \
    } while (false)
