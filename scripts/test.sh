#!/usr/bin/env bash
# The whole test suite, as CI runs it (design.md §8), on a fresh Debian 12 machine:
#   1. install dependencies        (scripts/setup-deps.sh), check formatting (clang-format) and
#      that includes follow the layers of docs/architecture.md (scripts/check-layers.py)
#   2. build the `ci` preset        (clang 14, ASan + UBSan, libFuzzer)
#   3. build the `release` preset   (g++ 12, -Werror), package it (scripts/package.sh) and
#      install, remove and purge the package (tests/package/test_package.sh), smoke-run every
#      benchmark
#   4. fetch or reuse the VM label's guest kernel (scripts/vm.sh kernel; tests/vm/README.md)
#   5. run every ctest label on the `ci` build (unit, vectors, fuzz, ..., vm)
# Prints each phase's time against its share of the CI time budget (docs/testing.md: 40 minutes
# on a fresh clone of the 2-core machine kind, idle), a warning line for a phase over its share,
# and ctest's summary last. Exits non-zero on any failure (a budget overrun only warns, unless
# IKEPLEX_BUDGET_STRICT=1). Environment: IKEPLEX_FUZZ_BUDGET (seconds of fuzzing for all targets
# together, default 300), JOBS (default nproc), CCACHE_DIR (compiler cache, outside the clone;
# ccache's default is ~/.cache/ccache).
set -uo pipefail

cd "$(dirname "$0")/.."
jobs=${JOBS:-$(nproc)}
declare -a phase_names=() phase_secs=()
# The budget (docs/testing.md, "Time budget"): seconds per phase, in the order they run. A fresh
# machine's first run compiles everything (an empty compiler cache); the shares hold for that.
budget_total=2400
declare -A budget=(
    ["setup-deps"]=240
    ["format check (clang-format)"]=30
    ["layer check (includes)"]=10
    ["build ci (clang, ASan+UBSan, libFuzzer)"]=640
    ["build release (g++, -Werror)"]=300
    ["package (build, lintian, install, purge)"]=90
    ["benchmarks (smoke)"]=30
    ["ML-KEM (release: accumulated 10k, valgrind constant time)"]=40
    ["vm kernel"]=60
    ["ctest (ci build, all labels)"]=960
)
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
    local took=$((SECONDS - t0))
    phase_names+=("$name")
    phase_secs+=("$took")
    local share=${budget[$name]:-0}
    if [ "$share" -gt 0 ] && [ "$took" -gt "$share" ]; then
        echo "=== WARNING: phase '$name' took $took s, over its budget share of $share s (docs/testing.md)"
    fi
    if [ $rc -ne 0 ]; then
        echo "=== $name FAILED (exit $rc)"
        status=1
    fi
    return $rc
}

ccache_line() {  # hits and misses of the compiler cache since the last call (empty without ccache)
    command -v ccache > /dev/null || return 0
    ccache --print-stats 2> /dev/null | awk -F'\t' '
        $1 == "direct_cache_hit" || $1 == "preprocessed_cache_hit" { hit += $2 }
        $1 == "cache_miss" { miss = $2 }
        END { if (hit + miss > 0) printf "ccache: %d hits, %d misses (%d%% hit)\n", hit, miss, 100 * hit / (hit + miss) }'
    ccache --zero-stats > /dev/null 2>&1
}

build_ci() {
    local fuzz_budget=${IKEPLEX_FUZZ_BUDGET:-300}
    ccache_line > /dev/null
    cmake --preset ci -DIKEPLEX_FUZZ_BUDGET="$fuzz_budget" > /dev/null &&
        cmake --build --preset ci -j "$jobs" || return 1
    ccache_line
}

build_release() {
    cmake --preset release > /dev/null && cmake --build --preset release -j "$jobs" || return 1
    ccache_line
}

# The Debian package of the release build (scripts/package.sh: debhelper, lintian), installed,
# removed and purged (tests/package/test_package.sh; skipped visibly when not root).
package_test() {
    local log deb rc
    log=$(mktemp /tmp/ikeplex-package.XXXXXX)
    scripts/package.sh build/release > "$log" 2>&1
    rc=$?
    cat "$log"
    deb=$(tail -n 1 "$log")
    rm -f "$log"
    [ $rc -eq 0 ] || return $rc
    tests/package/test_package.sh "$deb"
    rc=$?
    [ $rc -eq 77 ] && return 0  # its SKIP line says why
    return $rc
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

# ML-KEM on the release build: the 10,000-test accumulated hashes (minutes under ASan, seconds
# here) and the valgrind constant-time check (tests/ct/run_mlkem_ct.sh).
mlkem_release() {
    build/release/bench/mlkem_accumulated && tests/ct/run_mlkem_ct.sh build/release
}

run_ctest() {
    ctest --test-dir build/ci -j "$jobs" --output-on-failure --timeout 900 2>&1 | tee "$ctest_log"
    return "${PIPESTATUS[0]}"
}

phase "setup-deps" scripts/setup-deps.sh || exit 1
phase "format check (clang-format)" scripts/lint.sh --format-only || status=1
phase "layer check (includes)" scripts/check-layers.py || status=1
phase "build ci (clang, ASan+UBSan, libFuzzer)" build_ci || { echo "build failed"; exit 1; }
phase "build release (g++, -Werror)" build_release &&
    phase "package (build, lintian, install, purge)" package_test || status=1
phase "benchmarks (smoke)" bench_smoke || status=1
phase "ML-KEM (release: accumulated 10k, valgrind constant time)" mlkem_release || status=1
# The guest kernel of the vm label (tests/vm/README.md): reused from the cache or fetched; its
# version goes into this log. A failure here fails the vm tests as well, with the same line.
phase "vm kernel" scripts/vm.sh kernel || status=1
phase "ctest (ci build, all labels)" run_ctest || status=1

echo
echo "=== phase times (budget: docs/testing.md)"
total=0
for i in "${!phase_names[@]}"; do
    name=${phase_names[$i]}
    share=${budget[$name]:-0}
    mark=""
    [ "${phase_secs[$i]}" -gt "$share" ] && mark="  OVER"
    printf '  %-45s %5d s of %5d s%s\n' "$name" "${phase_secs[$i]}" "$share" "$mark"
    total=$((total + phase_secs[i]))
done
mark=""
if [ "$total" -gt "$budget_total" ]; then
    mark="  OVER"
    echo "=== WARNING: the whole run took $total s, over the CI budget of $budget_total s (docs/testing.md)"
    [ "${IKEPLEX_BUDGET_STRICT:-0}" = 1 ] && status=1
fi
printf '  %-45s %5d s of %5d s%s\n' "total" "$total" "$budget_total" "$mark"
echo
echo "=== ctest summary"
sed -n '/tests passed\|tests failed/,$p' "$ctest_log"
exit $status
