#!/usr/bin/env bash
# End-to-end data-plane benchmark in two network namespaces (needs root; not part of CI):
# strongSwan 5.9.8 charon with kernel-libipsec, wireguard-go and plain kernel routing, measured
# side by side with iperf3 through each peer's tunnel (bench/e2e/e2e.py; docs performance-anchors
# §C, G3-G6). Prints one "E2E <peer> <test> pps=... mbps=... loss=...% cpu_s_per_Mpkt=..." line
# per measurement and writes every number as JSON.
#   scripts/bench-e2e.sh [--json FILE] [--peers a,b] [--tests udp1400,tcp,...] [--duration S]
#                        [--rounds N] [--keep] [--build DIR]
#   scripts/bench-e2e.sh --selfcheck     charon <-> charon kernel-libipsec ping/iperf3 check (~10 s)
#   scripts/bench-e2e.sh --gates --build DIR [--rounds N] [--duration S] [--json FILE] [--keep]
#                        the gates G3-G6 (bench/e2e/gates.py): ikeplexd per-CPU / shared SA and
#                        ikeplex-relay with offloads on and off, strongSwan kernel-libipsec and
#                        wireguard-go, interleaved; prints "G<n> ... (PASS|FAIL ...)" lines and
#                        exits 1 if a gate fails (about 5 minutes; stopped at 420 s)
# Default JSON file: /tmp/ikeplex-bench-e2e.json (gates: /tmp/ikeplex-e2e-gates.json). Without
# --gates the whole run is limited to 3 minutes (the driver skips what would not fit; this
# script stops it at 200 s). Namespaces, processes and the run's folder
# (/tmp/ikeplex-e2e-<pid>-*, kept with --keep) are removed on every exit, also when the driver
# itself was killed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
if [ "$(id -u)" -ne 0 ]; then
    echo "bench-e2e: needs root (network namespaces)" >&2
    exit 77
fi
scripts/setup-deps.sh > /dev/null || exit 1
py=${PYTHON:-python3}

if [ "${1:-}" = "--selfcheck" ]; then
    shift
    exec timeout --signal=TERM --kill-after=10 120 "$py" bench/e2e/selfcheck.py "$@"
fi

driver=bench/e2e/e2e.py
limit=200
if [ "${1:-}" = "--gates" ]; then
    shift
    driver=bench/e2e/gates.py
    limit=1000
fi
args=("$@")
has_json=0
for a in "${args[@]}"; do
    [ "$a" = "--json" ] && has_json=1
done
[ $has_json -eq 1 ] || [ "$driver" = bench/e2e/gates.py ] || args+=(--json /tmp/ikeplex-bench-e2e.json)

child=""
# shellcheck disable=SC2317  # called from cleanup
alive() {  # the driver is still running (and the pid is still the driver's)
    [ -n "$child" ] && grep -qs "$driver" "/proc/$child/cmdline"
}
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
    # Only what this run created: namespaces ip[AB]e<driver pid>p<i>, the processes inside them
    # (charon, ikeplexd, ikeplex-relay, wireguard-go, iperf3 started by the driver) and
    # wireguard-go's UAPI sockets.
    [ -n "$child" ] || return 0
    if alive; then  # interrupted, or timeout itself was killed: the driver cleans up first
        kill -TERM "$child" 2>/dev/null
        for _ in $(seq 40); do
            alive || break
            sleep 0.2
        done
        alive && kill -KILL "$child" 2>/dev/null
    fi
    local ns pid
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^ip[AB]e${child}p[0-9]+$"); do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            kill -TERM "$pid" 2>/dev/null
        done
        sleep 0.5
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            kill -KILL "$pid" 2>/dev/null
        done
        ip netns del "$ns" 2>/dev/null && echo "bench-e2e: removed leftover namespace $ns" >&2
    done
    rm -f /var/run/wireguard/wg[ab]e"${child}"p[0-9]*.sock 2>/dev/null
    if ! printf '%s\n' "${args[@]}" | grep -qx -- --keep; then
        rm -rf /tmp/ikeplex-e2e-"${child}"-* 2>/dev/null
    fi
    child=""
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

timeout --signal=TERM --kill-after=10 "$limit" "$py" "$driver" "${args[@]}" &
timeout_pid=$!
# the driver is timeout's child; its pid names the namespaces
for _ in $(seq 50); do
    child=$(pgrep -P "$timeout_pid" -n 2>/dev/null || true)
    [ -n "$child" ] && break
    sleep 0.1
done
wait "$timeout_pid"
rc=$?
[ $rc -eq 124 ] && echo "bench-e2e: stopped after $limit s" >&2
exit $rc
