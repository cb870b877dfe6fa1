#!/usr/bin/env bash
# Benchmarks with gates, on the release build (not part of CI; design.md §8). Each benchmark
# runs its baseline in the same binary, repeated with random interleaving, and prints ratio
# lines "<gate> <what>=<ratio> (PASS|FAIL >=<min>)"; this script exits non-zero on any FAIL.
# Record the figures in docs/performance.md with the machine and date.
#   scripts/bench.sh [crypto|wire|all]   (default all)
set -uo pipefail
cd "$(dirname "$0")/.."
which=${1:-all}
scripts/setup-deps.sh > /dev/null || exit 1
cmake --preset release > /dev/null && cmake --build --preset release -j "$(nproc)" > /dev/null || {
    echo "bench: release build failed" >&2
    exit 1
}
status=0
run() {  # NAME ARGS...
    local name=$1
    shift
    echo "=== $name $(date -u +%FT%TZ) on $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
    "build/release/bench/$name" --benchmark_enable_random_interleaving=true "$@" | tee "/tmp/ikeplex-$name.log"
    local rc=${PIPESTATUS[0]}
    [ "$rc" -eq 0 ] || status=1
}
if [ "$which" = all ] || [ "$which" = crypto ]; then
    run crypto_bench --benchmark_repetitions=5 --benchmark_min_time=0.2
fi
if [ "$which" = all ] || [ "$which" = wire ]; then
    run wire_bench --benchmark_repetitions=3 --benchmark_min_time=0.2
fi
echo
echo "=== ratio lines"
grep -hE '^[A-Z][0-9A-Za-z-]* .*=' /tmp/ikeplex-*_bench.log 2>/dev/null | grep -v '^BM_'
if grep -qh 'FAIL' /tmp/ikeplex-*_bench.log 2>/dev/null; then
    status=1
fi
exit $status
