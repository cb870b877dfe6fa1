#!/usr/bin/env bash
# Benchmarks with gates, on the release build (not part of CI; design.md §8). Each benchmark
# runs its baseline in the same binary, repeated with random interleaving, and prints ratio
# lines "<gate> <what>=<ratio> (PASS|FAIL >=<min>) [every round]"; a gate is the median of at
# least 5 rounds. This script exits non-zero on any FAIL. Record the figures in
# docs/performance.md with the machine (printed first) and date.
#   scripts/bench.sh [GROUP...]   GROUP: crypto wire esp e2e ike all (default all; e2e and ike need
#                                 root), or mlkem1m (not in all: ML-KEM's 1,000,000-test
#                                 accumulated hashes, bench/mlkem_accumulated --million, ~40 min)
set -uo pipefail
cd "$(dirname "$0")/.."
groups=" ${*:-all} "
for g in $groups; do
    case $g in
        crypto | wire | esp | e2e | ike | all | mlkem1m) ;;
        *)
            echo "bench: unknown group '$g' (crypto wire esp e2e ike all mlkem1m)" >&2
            exit 2
            ;;
    esac
done
want() {  # GROUP: asked for by name or by all
    [[ $groups == *" $1 "* || $groups == *" all "* ]]
}
scripts/setup-deps.sh --bench > /dev/null || exit 1
cmake --preset release > /dev/null && cmake --build --preset release -j "$(nproc)" > /dev/null || {
    echo "bench: release build failed" >&2
    exit 1
}
status=0
rm -f /tmp/ikeplex-*_bench.log  # no ratio lines of an earlier run
echo "=== machine: $(nproc) CPUs,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2) (family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' ') model $(grep -m1 '^model[[:space:]]*:' /proc/cpuinfo | cut -d: -f2 | tr -d ' ')), kernel $(uname -r), loadavg $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo none)"
run() {  # NAME ARGS...
    local name=$1
    shift
    echo "=== $name $(date -u +%FT%TZ) on $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
    "build/release/bench/$name" --benchmark_enable_random_interleaving=true "$@" | tee "/tmp/ikeplex-$name.log"
    local rc=${PIPESTATUS[0]}
    [ "$rc" -eq 0 ] || status=1
}
if [[ $groups == *" mlkem1m "* ]]; then
    echo "=== mlkem_accumulated --million $(date -u +%FT%TZ)"
    build/release/bench/mlkem_accumulated --million || status=1
fi
if want crypto; then
    run crypto_bench --benchmark_repetitions=7 --benchmark_min_time=0.2
fi
if want esp; then
    # Many short interleaved repetitions: on a shared VM the median of 20 x 0.05 s is far
    # steadier than 5 x 0.5 s (each long run catches some neighbour's burst).
    run esp_bench --benchmark_repetitions=20 --benchmark_min_time=0.05
fi
if want wire; then
    run wire_bench --benchmark_repetitions=5 --benchmark_min_time=0.2
fi
if want e2e; then
    # End to end G3-G6 (bench/e2e/gates.py, 5 rounds and the rekey phase, ~10 min): all output in /tmp/ikeplex-e2e.log, the
    # gate lines also in /tmp/ikeplex-e2e_bench.log for the ratio lines below.
    echo "=== e2e_gates $(date -u +%FT%TZ) on $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2), loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
    scripts/bench-e2e.sh --gates --build build/release | tee /tmp/ikeplex-e2e.log
    rc=${PIPESTATUS[0]}
    grep -E '^G[0-9]+ ' /tmp/ikeplex-e2e.log > /tmp/ikeplex-e2e_bench.log
    if [ "$rc" -eq 77 ]; then
        echo "bench: e2e skipped (needs root)"
    elif [ "$rc" -ne 0 ]; then
        status=1
    fi
fi
if want ike; then
    # IKE control plane at scale, G7-G8 (bench/ike/ike_gates.py: ikeplex-load against ikeplexd
    # and Debian's charon, 1,000-10,000 IKE SAs, 3 interleaved rounds, ~10 min); the plot goes
    # to docs/ike-scaling.png.
    echo "=== ike_gates $(date -u +%FT%TZ) on $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2), loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
    if [ "$(id -u)" -ne 0 ]; then
        echo "bench: ike skipped (needs root)"
    else
        # Debian's python3 (python3-matplotlib for the plot), whatever python3 comes first in PATH
        timeout --signal=TERM --kill-after=20 1800 /usr/bin/python3 bench/ike/ike_gates.py --build build/release \
            --json /tmp/ikeplex-ike-gates.json --plot docs/ike-scaling.png | tee /tmp/ikeplex-ike.log
        [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
        grep -E '^G[0-9]+[a-z]? ' /tmp/ikeplex-ike.log > /tmp/ikeplex-ike_bench.log
    fi
fi
echo
echo "=== ratio lines"
grep -hE '^[A-Z][0-9A-Za-z-]* .*=' /tmp/ikeplex-*_bench.log 2>/dev/null | grep -v '^BM_'
if grep -qh 'FAIL' /tmp/ikeplex-*_bench.log 2>/dev/null; then
    status=1
fi
exit $status
