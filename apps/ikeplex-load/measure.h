// What ikeplex-load measures and prints: its own CPU time, a responder process's CPU time and
// RSS (from /proc), and the report as key=value lines.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "load_math.h"

namespace ikeplex::load {

/// This process's user + system CPU time in microseconds (getrusage RUSAGE_SELF).
std::uint64_t self_cpu_us();

struct ProcSample {
    std::uint64_t cpu_us{0};   ///< time on a CPU of all its threads (or utime + stime)
    std::uint64_t rss_kib{0};  ///< VmRSS
};
/// Reads the CPU time of every thread from /proc/PID/task/*/schedstat (nanoseconds; a
/// process's stat counts in clock ticks of 10 ms, too coarse for a delete phase of 1,000 SAs),
/// or from /proc/PID/stat without schedstat, and VmRSS from /proc/PID/status; nullopt if the
/// process is gone.
std::optional<ProcSample> sample_process(pid_t pid);
/// The time on a CPU (first field, ns) from the text of a /proc schedstat file, in µs.
std::optional<std::uint64_t> parse_schedstat_us(const std::string& schedstat);
/// utime + stime (clock ticks) from the text of /proc/PID/stat, in microseconds.
std::optional<std::uint64_t> parse_stat_cpu_us(const std::string& stat, long ticks_per_s);
/// VmRSS in KiB from the text of /proc/PID/status.
std::optional<std::uint64_t> parse_status_rss_kib(const std::string& status);
/// Samples until the RSS is the same twice in a row 100 ms apart, at most `max_s` seconds.
std::optional<ProcSample> settled_sample(pid_t pid, double max_s);

/// The figures of one run.
struct Report {
    std::size_t sas{0};
    std::uint32_t group{0};
    std::size_t established{0};
    std::size_t failed{0};
    std::uint64_t retransmits{0};
    double setup_s{0};
    Percentiles setup_ms;
    std::uint64_t setup_cpu_us{0};
    std::size_t delete_targets{0};  ///< IKE SAs that existed when deletes began
    std::size_t deleted{0};
    std::size_t remaining{0};  ///< IKE SAs still in the engine after the delete phase
    std::uint64_t delete_retransmits{0};
    double delete_s{0};
    std::uint64_t delete_cpu_us{0};
    /// --vips: the IKE SAs established with a virtual IP, those without one, and the addresses
    /// assigned to more than one of them.
    bool vips{false};
    std::size_t vips_assigned{0};
    std::size_t vips_missing{0};
    std::size_t vips_duplicate{0};
    /// The responder at start, all established, after deletes (with --responder-pid).
    std::optional<ProcSample> r_start, r_established, r_deleted;
};

/// The report's key=value lines ("load sas=... established=...").
std::vector<std::string> report_lines(const Report& r);

}  // namespace ikeplex::load
