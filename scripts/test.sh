#!/usr/bin/env bash
# The whole test suite, as CI runs it (design.md §8), on a fresh Debian 12 machine:
#   1. install dependencies        (scripts/setup-deps.sh), check formatting (clang-format)
#   2. build the `ci` preset        (clang 14, ASan + UBSan, libFuzzer)
#   3. build the `release` preset   (g++ 12, -Werror) and smoke-run every benchmark
#   4. run every ctest label on the `ci` build (unit, vectors, fuzz, ...)
# Prints each phase's time; ctest's summary is the last thing printed. Exits non-zero on any
# failure. Environment: IKEPLEX_FUZZ_SECONDS (per fuzz target, default 60), JOBS (default nproc).
set -uo pipefail

cd "$(dirname "$0")/.."
jobs=${JOBS:-$(nproc)}
declare -a phase_names=() phase_secs=()
status=0
ctest_log=$(mktemp /tmp/ikeplex-ctest.XXXXXX)
trap 'rm -f "$ctest_log"' EXIT

phase() {  # NAME COMMAND...
    local name=$1
    shift
    echo "=== $name"
    local t0=$SECONDS
    "$@"
    local rc=$?
    phase_names+=("$name")
    phase_secs+=($((SECONDS - t0)))
    if [ $rc -ne 0 ]; then
        echo "=== $name FAILED (exit $rc)"
        status=1
    fi
    return $rc
}

build_ci() {
    local fuzz_seconds=${IKEPLEX_FUZZ_SECONDS:-60}
    cmake --preset ci -DIKEPLEX_FUZZ_SECONDS="$fuzz_seconds" > /dev/null &&
        cmake --build --preset ci -j "$jobs"
}

build_release() {
    cmake --preset release > /dev/null && cmake --build --preset release -j "$jobs"
}

bench_smoke() {
    local rc=0
    for b in build/release/bench/*_bench; do
        [ -x "$b" ] || continue
        echo "--- $b (smoke)"
        IKEPLEX_BENCH_SMOKE=1 "$b" --benchmark_min_time=0.01 --benchmark_color=false || rc=1
    done
    return $rc
}

run_ctest() {
    ctest --test-dir build/ci -j "$jobs" --output-on-failure --timeout 900 2>&1 | tee "$ctest_log"
    return "${PIPESTATUS[0]}"
}

phase "setup-deps" scripts/setup-deps.sh || exit 1
phase "format check (clang-format)" scripts/lint.sh --format-only || status=1
phase "build ci (clang, ASan+UBSan, libFuzzer)" build_ci || { echo "build failed"; exit 1; }
phase "build release (g++, -Werror)" build_release || status=1
phase "benchmarks (smoke)" bench_smoke || status=1
phase "ctest (ci build, all labels)" run_ctest || status=1

echo
echo "=== phase times"
total=0
for i in "${!phase_names[@]}"; do
    printf '  %-45s %5d s\n' "${phase_names[$i]}" "${phase_secs[$i]}"
    total=$((total + phase_secs[i]))
done
printf '  %-45s %5d s\n' "total" "$total"
echo
echo "=== ctest summary"
sed -n '/tests passed\|tests failed/,$p' "$ctest_log"
exit $status
