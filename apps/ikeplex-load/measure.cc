#include "measure.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <sys/resource.h>

#include <fmt/format.h>
#include <unistd.h>

namespace ikeplex::load {

namespace {

std::optional<std::string> slurp(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        return std::nullopt;
    }
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

double per(std::uint64_t total, std::size_t n) {
    return n == 0 ? 0.0 : static_cast<double>(total) / static_cast<double>(n);
}

std::uint64_t delta(std::uint64_t after, std::uint64_t before) {
    return after > before ? after - before : 0;
}

}  // namespace

std::uint64_t self_cpu_us() {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    const auto us = [](const timeval& t) {
        return static_cast<std::uint64_t>(t.tv_sec) * 1000000 +
               static_cast<std::uint64_t>(t.tv_usec);
    };
    return us(u.ru_utime) + us(u.ru_stime);
}

std::optional<std::uint64_t> parse_stat_cpu_us(const std::string& stat, long ticks_per_s) {
    // The command (field 2) may hold spaces and parentheses: fields count from the last ')'.
    const auto close = stat.rfind(')');
    if (close == std::string::npos || ticks_per_s <= 0) {
        return std::nullopt;
    }
    std::istringstream in(stat.substr(close + 1));
    std::string field;
    std::uint64_t utime = 0;
    std::uint64_t stime = 0;
    for (int n = 3; n <= 15 && in >> field; ++n) {  // utime is field 14, stime 15
        if (n == 14 || n == 15) {
            std::uint64_t v = 0;
            if (!(std::istringstream(field) >> v)) {
                return std::nullopt;
            }
            (n == 14 ? utime : stime) = v;
            if (n == 15) {
                return (utime + stime) * 1000000 / static_cast<std::uint64_t>(ticks_per_s);
            }
        }
    }
    return std::nullopt;
}

std::optional<std::uint64_t> parse_status_rss_kib(const std::string& status) {
    const auto at = status.find("\nVmRSS:");
    if (at == std::string::npos) {
        return std::nullopt;
    }
    std::istringstream in(status.substr(at + 7));
    std::uint64_t kib = 0;
    if (!(in >> kib)) {
        return std::nullopt;
    }
    return kib;
}

std::optional<std::uint64_t> parse_schedstat_us(const std::string& schedstat) {
    std::istringstream in(schedstat);
    std::uint64_t ns = 0;
    if (!(in >> ns)) {
        return std::nullopt;
    }
    return ns / 1000;
}

namespace {

/// The sum of the threads' schedstat run times; nullopt if any cannot be read.
std::optional<std::uint64_t> threads_cpu_us(const std::string& base) {
    std::error_code ec;
    std::uint64_t total = 0;
    std::size_t threads = 0;
    for (const auto& e : std::filesystem::directory_iterator(base + "/task", ec)) {
        auto text = slurp(e.path().string() + "/schedstat");
        auto us = text ? parse_schedstat_us(*text) : std::nullopt;
        if (!us) {
            return std::nullopt;
        }
        total += *us;
        ++threads;
    }
    if (ec || threads == 0) {
        return std::nullopt;
    }
    return total;
}

}  // namespace

std::optional<ProcSample> sample_process(pid_t pid) {
    const std::string base = "/proc/" + std::to_string(pid);
    auto stat = slurp(base + "/stat");
    auto status = slurp(base + "/status");
    if (!stat || !status) {
        return std::nullopt;
    }
    auto cpu = threads_cpu_us(base);
    if (!cpu) {
        cpu = parse_stat_cpu_us(*stat, ::sysconf(_SC_CLK_TCK));
    }
    auto rss = parse_status_rss_kib(*status);
    if (!cpu || !rss) {
        return std::nullopt;
    }
    return ProcSample{*cpu, *rss};
}

std::optional<ProcSample> settled_sample(pid_t pid, double max_s) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(max_s);
    auto last = sample_process(pid);
    while (last && std::chrono::steady_clock::now() < end) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        auto next = sample_process(pid);
        if (!next || next->rss_kib == last->rss_kib) {
            return next ? next : last;
        }
        last = next;
    }
    return last;
}

std::vector<std::string> report_lines(const Report& r) {
    std::vector<std::string> out;
    out.push_back(fmt::format(
            "load sas={} established={} failed={} retransmits={} setup_s={:.3f} "
            "established_per_s={:.1f} group={}",
            r.sas, r.established, r.failed, r.retransmits, r.setup_s,
            r.setup_s > 0 ? static_cast<double>(r.established) / r.setup_s : 0.0, r.group));
    out.push_back(fmt::format("load setup_ms p50={:.2f} p90={:.2f} p99={:.2f} max={:.2f}",
                              r.setup_ms.p50, r.setup_ms.p90, r.setup_ms.p99, r.setup_ms.max));
    out.push_back(
            fmt::format("load generator_cpu_us_per_sa={:.1f} delete_generator_cpu_us_per_sa={:.1f}",
                        per(r.setup_cpu_us, r.established), per(r.delete_cpu_us, r.deleted)));
    if (r.r_start && r.r_established) {
        out.push_back(
                fmt::format("load responder_cpu_us_per_sa={:.1f} responder_kib_per_sa={:.2f} "
                            "responder_rss_start_kib={} responder_rss_established_kib={}",
                            per(delta(r.r_established->cpu_us, r.r_start->cpu_us), r.established),
                            per(delta(r.r_established->rss_kib, r.r_start->rss_kib), r.established),
                            r.r_start->rss_kib, r.r_established->rss_kib));
    }
    if (r.vips) {
        out.push_back(fmt::format("load vips={} vips_missing={} vips_duplicate={}", r.vips_assigned,
                                  r.vips_missing, r.vips_duplicate));
    }
    std::string del =
            fmt::format("load delete_s={:.3f} deleted={} remaining={} delete_retransmits={}",
                        r.delete_s, r.deleted, r.remaining, r.delete_retransmits);
    if (r.r_established && r.r_deleted) {
        del += fmt::format(
                " delete_responder_cpu_us_per_sa={:.1f} responder_rss_after_delete_kib={}",
                per(delta(r.r_deleted->cpu_us, r.r_established->cpu_us), r.deleted),
                r.r_deleted->rss_kib);
    }
    out.push_back(std::move(del));
    return out;
}

}  // namespace ikeplex::load
