// ML-KEM accumulated known-answer runs (tests/support/mlkem_accumulated.h) on the release
// build: the 10,000-test hashes of C2SP/CCTV (all three parameter sets) and Go (the final
// standard, ML-KEM-768) by default — scripts/test.sh runs this on every CI run — and the
// 1,000,000-test hashes with --million (scripts/bench.sh mlkem; about 2 h on 2 CPUs).
// Prints one line per run and exits non-zero on any mismatch.
#include "mlkem_accumulated.h"

#include <chrono>
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
    const bool million = argc > 1 && std::strcmp(argv[1], "--million") == 0;
    int status = 0;
    for (const auto& run : ikeplex::test::kMlKemAccumulatedRuns) {
        if ((run.n == 1000000) != million) {
            continue;
        }
        const auto start = std::chrono::steady_clock::now();
        const auto r =
                ikeplex::test::mlkem_accumulated(*run.params, run.n, run.draft_g, run.hash_dk);
        const double s =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const bool ok = r.hash == run.hash && r.mismatches == 0;
        std::printf("%s %s: %s (%zu Decaps mismatches, %.1f s)\n", ok ? "PASS" : "FAIL", run.what,
                    r.hash.c_str(), r.mismatches, s);
        std::fflush(stdout);
        status |= ok ? 0 : 1;
    }
    return status;
}
