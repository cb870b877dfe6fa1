// Google Benchmark reporting for ikeplex benchmarks: the usual table, plus every repetition of
// each benchmark (--benchmark_repetitions, at least 5, with
// --benchmark_enable_random_interleaving=true so the baseline and the measured code share the
// machine's noise), from which ratio lines and gates are printed. A ratio is the ratio of the
// two medians; every repetition's ratio (repetition i against repetition i) follows it:
//   "C1 openssl aes128gcm 1400 seal ours/raw=0.98 (PASS >=0.85) [median of 5: 0.97 0.98 ...]"
// A gate that fails makes the binary exit non-zero (scripts/bench.sh relies on it), except in
// a smoke run (IKEPLEX_BENCH_SMOKE=1, scripts/test.sh): runs that short are noise, so the lines
// say "(smoke: not gated)" and only a crash or error fails.
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <unistd.h>

namespace ikeplex::bench {

class RatioReporter : public benchmark::ConsoleReporter {
public:
    RatioReporter() : ConsoleReporter(isatty(STDOUT_FILENO) != 0 ? OO_Defaults : OO_None) {}

    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        for (const Run& r : runs) {
            if (r.run_type != Run::RT_Iteration || r.error_occurred) {
                continue;
            }
            const std::string name = r.run_name.function_name +
                                     (r.run_name.args.empty() ? "" : "/" + r.run_name.args);
            // Under its name, and also as "<name>/threads:N" for multi-threaded runs.
            for (const std::string& key :
                 {name,
                  r.run_name.threads.empty() ? std::string() : name + "/" + r.run_name.threads}) {
                if (!key.empty()) {
                    times_[key].push_back(r.GetAdjustedRealTime());
                    cpu_times_[key].push_back(r.GetAdjustedCPUTime());
                }
            }
        }
    }

    /// Median per-iteration time of a benchmark over its repetitions (its full name, e.g.
    /// "BM_Seal/1400"), or 0.
    [[nodiscard]] double median(const std::string& name) const { return median_of(times_, name); }

    /// Median CPU time per iteration (summed over a benchmark's threads), or 0.
    [[nodiscard]] double median_cpu(const std::string& name) const {
        return median_of(cpu_times_, name);
    }

    /// Speed ratio of `fast` over `slow` (median time of slow / median time of fast), 0 if
    /// either is missing.
    [[nodiscard]] double speedup(const std::string& fast, const std::string& slow) const {
        const double f = median(fast);
        const double s = median(slow);
        return f > 0 && s > 0 ? s / f : 0.0;
    }

    /// "[median of N: r1 r2 ...]": the ratio of each repetition pair, in repetition order.
    [[nodiscard]] std::string rounds(const std::string& fast, const std::string& slow) const {
        auto f = times_.find(fast);
        auto s = times_.find(slow);
        if (f == times_.end() || s == times_.end()) {
            return "[no repetitions]";
        }
        const std::size_t n = std::min(f->second.size(), s->second.size());
        std::string out = "[median of " + std::to_string(n) + ":";
        for (std::size_t i = 0; i < n; ++i) {
            char buf[16];
            std::snprintf(buf, sizeof buf, " %.2f", s->second[i] / f->second[i]);
            out += buf;
        }
        return out + "]";
    }

    /// Prints "<label>=<ratio> (PASS|FAIL >=<min>)" and records a failure.
    void gate(const std::string& label, double ratio, double min, const std::string& detail = "") {
        const std::string tail = detail.empty() ? "" : " " + detail;
        if (smoke_) {
            std::printf("%s=%.2f (smoke: not gated, >=%.2f in scripts/bench.sh)%s\n", label.c_str(),
                        ratio, min, tail.c_str());
            return;
        }
        const bool pass = ratio >= min;
        failed_ = failed_ || !pass;
        std::printf("%s=%.2f (%s >=%.2f)%s\n", label.c_str(), ratio, pass ? "PASS" : "FAIL", min,
                    tail.c_str());
    }
    /// gate() on speedup(fast, slow), with every repetition's ratio.
    void gate(const std::string& label, const std::string& fast, const std::string& slow,
              double min) {
        gate(label, speedup(fast, slow), min, rounds(fast, slow));
    }
    /// Prints "<label>=<ratio>" without a gate.
    static void info(const std::string& label, double ratio) {
        std::printf("%s=%.2f\n", label.c_str(), ratio);
    }

    [[nodiscard]] bool failed() const { return failed_; }

private:
    static double median_of(const std::map<std::string, std::vector<double>>& m,
                            const std::string& name) {
        auto it = m.find(name);
        if (it == m.end() || it->second.empty()) {
            return 0.0;
        }
        std::vector<double> v = it->second;
        std::sort(v.begin(), v.end());
        const std::size_t n = v.size();
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    std::map<std::string, std::vector<double>> times_;
    std::map<std::string, std::vector<double>> cpu_times_;
    bool failed_{false};
    bool smoke_{std::getenv("IKEPLEX_BENCH_SMOKE") != nullptr &&
                std::string(std::getenv("IKEPLEX_BENCH_SMOKE")) == "1"};
};

}  // namespace ikeplex::bench
