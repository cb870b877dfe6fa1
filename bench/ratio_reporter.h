// Google Benchmark reporting for ikeplex benchmarks: the usual table, plus the fastest run of
// each benchmark (over --benchmark_repetitions, ideally with
// --benchmark_enable_random_interleaving=true so the baseline and the measured code share the
// machine's noise), from which ratio lines and gates are printed:
//   "C1 openssl aes128gcm 1400 seal ours/raw=0.98 (PASS >=0.85)"
// A gate that fails makes the binary exit non-zero (scripts/bench.sh relies on it), except in
// a smoke run (IKEPLEX_BENCH_SMOKE=1, scripts/test.sh): runs that short are noise, so the lines
// say "(smoke: not gated)" and only a crash or error fails.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

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
            const double t = r.GetAdjustedRealTime();
            auto it = best_.find(name);
            if (it == best_.end() || t < it->second) {
                best_[name] = t;
            }
        }
    }

    /// Fastest per-iteration time of a benchmark (its full name, e.g. "BM_Seal/1400"), or 0.
    [[nodiscard]] double best(const std::string& name) const {
        auto it = best_.find(name);
        return it == best_.end() ? 0.0 : it->second;
    }

    /// Speed ratio of `fast` over `slow` (time of slow / time of fast), 0 if either is missing.
    [[nodiscard]] double speedup(const std::string& fast, const std::string& slow) const {
        const double f = best(fast);
        const double s = best(slow);
        return f > 0 && s > 0 ? s / f : 0.0;
    }

    /// Prints "<label>=<ratio> (PASS|FAIL >=<min>)" and records a failure.
    void gate(const std::string& label, double ratio, double min) {
        if (smoke_) {
            std::printf("%s=%.2f (smoke: not gated, >=%.2f in scripts/bench.sh)\n", label.c_str(),
                        ratio, min);
            return;
        }
        const bool pass = ratio >= min;
        failed_ = failed_ || !pass;
        std::printf("%s=%.2f (%s >=%.2f)\n", label.c_str(), ratio, pass ? "PASS" : "FAIL", min);
    }
    /// Prints "<label>=<ratio>" without a gate.
    static void info(const std::string& label, double ratio) {
        std::printf("%s=%.2f\n", label.c_str(), ratio);
    }

    [[nodiscard]] bool failed() const { return failed_; }

private:
    std::map<std::string, double> best_;
    bool failed_{false};
    bool smoke_{std::getenv("IKEPLEX_BENCH_SMOKE") != nullptr &&
                std::string(std::getenv("IKEPLEX_BENCH_SMOKE")) == "1"};
};

}  // namespace ikeplex::bench
