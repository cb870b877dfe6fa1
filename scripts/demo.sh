#!/usr/bin/env bash
# ikeplex's main job, end to end on one machine: two gateways, each an ikeplexd in its own
# network namespace, bring up a site-to-site tunnel as an RFC 9611 per-CPU Child SA group —
# the fallback SA plus one SA per CPU — and show it with `ikeplex list-sas` and with
# strongSwan's own `swanctl`, which talks to ikeplexd over VICI.
#
# Installs what it needs (scripts/setup-deps.sh demo), builds the release binaries, and removes
# everything it created on any exit. Needs root (network namespaces).
#
# The gateways carry real traffic through ikeplex's userspace ESP data plane (one worker per
# CPU, a multi-queue TUN device steered by CPU, ESP in UDP): ping and iperf3 run from each CPU
# (taskset), and the counters show each CPU's packets on its own Child SA, none on the fallback.
# Then every CPU sends at once, first through the group and then, both gateways restarted with
# `per_cpu_sas = no`, through one shared SA; a small table puts the two aggregates side by side.
#
#   IKEPLEX_DEMO_CPUS=N   workers / RFC 9611 resources per gateway (default: the CPUs, nproc)
#   IKEPLEX_DEMO_KEEP=1   leave the daemons running and print how to reach them (Ctrl-C ends)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

if [ "$(id -u)" -ne 0 ]; then
    echo "demo: run as root (it creates network namespaces)" >&2
    exit 1
fi

cpus=${IKEPLEX_DEMO_CPUS:-$(nproc)}
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "dependencies (scripts/setup-deps.sh demo)"
scripts/setup-deps.sh demo

# Its own build directory: the release preset without the benchmarks (whose library the demo
# does not install); a compiler cache shares the objects with build/release.
step "build (release: g++ -O2)"
if [ ! -f build/demo/build.ninja ]; then
    cmake --preset release -B build/demo -DIKEPLEX_BUILD_BENCH=OFF >/dev/null
fi
cmake --build build/demo --target ikeplexd ikeplex
ikeplexd="$root/build/demo/apps/ikeplexd"
ikeplex="$root/build/demo/apps/ikeplex"

tag=$$
ns_a="ikdemoA$tag" ns_b="ikdemoB$tag"
work=$(mktemp -d /tmp/ikeplex-demo.XXXXXX)
pids=()
# SIGTERM to both daemons (each deletes its SAs), SIGKILL to one still there after 5 s.
stop_gateways() {
    local p
    for p in "${pids[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do
        for _ in $(seq 50); do
            kill -0 "$p" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$p" 2>/dev/null || true
    done
}
cleanup() {
    local rc=$?
    stop_gateways
    for ns in "$ns_a" "$ns_b"; do  # iperf3 and anything else still running inside
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
    done
    ip netns del "$ns_a" 2>/dev/null || true
    ip netns del "$ns_b" 2>/dev/null || true
    if [ $rc -ne 0 ] && [ -d "$work" ]; then
        for side in a b; do
            [ -f "$work/$side/ikeplexd.log" ] || continue
            echo "----- gateway $side: last lines of ikeplexd.log"
            tail -n 30 "$work/$side/ikeplexd.log"
        done
    fi
    rm -rf "$work"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "two gateways in network namespaces: $ns_a (10.99.0.1) and $ns_b (10.99.0.2)"
ip netns add "$ns_a"
ip netns add "$ns_b"
ip link add "dva$tag" type veth peer name "dvb$tag"
ip link set "dva$tag" netns "$ns_a"
ip link set "dvb$tag" netns "$ns_b"
ip -n "$ns_a" addr add 10.99.0.1/24 dev "dva$tag"
ip -n "$ns_b" addr add 10.99.0.2/24 dev "dvb$tag"
for ns in "$ns_a" "$ns_b"; do
    ip -n "$ns" link set lo up
done
ip -n "$ns_a" link set "dva$tag" up
ip -n "$ns_b" link set "dvb$tag" up
# The sites behind each gateway (the tunnel's traffic selectors).
ip -n "$ns_a" addr add 10.99.1.1/24 dev lo
ip -n "$ns_b" addr add 10.99.2.1/24 dev lo

# side, our address, the peer's, our site, the peer's site, per_cpu_sas (yes: the RFC 9611 group)
write_config() {
    local side=$1 me=$2 peer=$3 my_net=$4 peer_net=$5 pcpu=$6 dir="$work/$1" start=""
    if [ "$pcpu" = yes ]; then
        start=$'\n                per_cpu_sas_start = all    # ikeplex: one SA per CPU right after the fallback'
    fi
    mkdir -p "$dir"
    cat >"$dir/swanctl.conf" <<EOF
# Gateway $side: a site-to-site tunnel, PSK, with an RFC 9611 per-CPU Child SA group.
connections {
    site {
        local_addrs = $me
        remote_addrs = $peer
        proposals = aes256gcm16-prfsha384-x25519
        local {
            auth = psk
            id = $me
        }
        remote {
            auth = psk
            id = $peer
        }
        children {
            net {
                local_ts = $my_net
                remote_ts = $peer_net
                esp_proposals = aes256gcm16
                per_cpu_sas = $pcpu          # RFC 9611, as strongSwan 6 spells it$start
            }
        }
    }
}
secrets {
    ike-site {
        id-a = 10.99.0.1
        id-b = 10.99.0.2
        secret = 0sZGVtby1vbmx5LXNoYXJlZC1rZXktY2hhbmdlLW1l
    }
}
EOF
    cat >"$dir/ikeplexd.conf" <<EOF
ikeplexd {
    listen = $me
    vici = unix://$dir/ikeplexd.vici
    swanctl_conf = $dir/swanctl.conf
    backend = userspace       # ikeplex's own ESP data plane (TUN ikeplex0, ESP in UDP)
    workers = $cpus           # data-plane workers = RFC 9611 resources, one per CPU
    window_size = 8           # lets the per-CPU CREATE_CHILD_SAs run in parallel
    log {
        default = 1
        ike = 1
    }
}
EOF
}
start_gateways() {  # per_cpu_sas
    write_config a 10.99.0.1 10.99.0.2 10.99.1.0/24 10.99.2.0/24 "$1"
    write_config b 10.99.0.2 10.99.0.1 10.99.2.0/24 10.99.1.0/24 "$1"
    pids=()
    for side in b a; do
        ns=$ns_a
        [ "$side" = b ] && ns=$ns_b
        rm -f "$work/$side/ikeplexd.vici"
        ip netns exec "$ns" "$ikeplexd" -c "$work/$side/ikeplexd.conf" >>"$work/$side/ikeplexd.log" 2>&1 &
        pids+=($!)
        for _ in $(seq 100); do
            [ -S "$work/$side/ikeplexd.vici" ] && break
            sleep 0.1
        done
        if [ ! -S "$work/$side/ikeplexd.vici" ]; then
            echo "demo: ikeplexd ($side) did not start" >&2
            exit 1
        fi
    done
}

step "start ikeplexd on both gateways ($cpus resources each)"
start_gateways yes
cli_a=("$ikeplex" --uri "unix://$work/a/ikeplexd.vici")
cli_b=("$ikeplex" --uri "unix://$work/b/ikeplexd.vici")
"${cli_a[@]}" list-conns

installed() {
    "$@" list-sas --json | python3 -c '
import json, sys
n = 0
for ev in json.load(sys.stdin):
    for ike in ev.values():
        n += sum(1 for c in ike.get("child-sas", {}).values() if c.get("state") == "INSTALLED")
print(n)'
}
# Initiates from gateway a and waits for `want` Child SAs installed on both gateways.
bring_up() {
    local want=$1 side cli n
    "${cli_a[@]}" initiate --child net --timeout 20
    for _ in $(seq 100); do
        if [ "$(installed "${cli_a[@]}")" -ge "$want" ] && [ "$(installed "${cli_b[@]}")" -ge "$want" ]; then
            break
        fi
        sleep 0.1
    done
    for side in a b; do
        cli=("${cli_a[@]}")
        [ "$side" = b ] && cli=("${cli_b[@]}")
        n=$(installed "${cli[@]}")
        if [ "$n" -lt "$want" ]; then
            echo "demo: gateway $side has $n Child SAs installed, expected $want" >&2
            exit 1
        fi
    done
}

step "gateway a: ikeplex initiate --child net"
# The fallback comes with IKE_AUTH; the per-CPU members follow, pipelined in the window.
bring_up $((cpus + 1))

step "gateway a: ikeplex list-sas"
"${cli_a[@]}" list-sas
step "gateway b: ikeplex list-sas"
"${cli_b[@]}" list-sas

if command -v swanctl >/dev/null; then
    step "gateway a, seen by strongSwan's swanctl over VICI: swanctl --list-sas"
    # (swanctl 5.9.8 predates RFC 9611, so it shows the members without their cpu; its plugin
    # loader's complaints about plugins Debian does not ship are dropped)
    swanctl --list-sas --uri "unix://$work/a/ikeplexd.vici" 2> >(grep -v "failed to load" >&2)
fi

step "traffic from each CPU of gateway a (taskset): ping, then iperf3 TCP for 3 s"
# One iperf3 server per CPU (5201, 5202, ...): the aggregate run below uses them all at once.
streams=$((cpus < $(nproc) ? cpus : $(nproc)))
for ((k = 0; k < streams; k++)); do
    ip netns exec "$ns_b" iperf3 -s -B 10.99.2.1 -p $((5201 + k)) -D --logfile "$work/iperf3-$k.log"
done
for ((k = 0; k < streams; k++)); do
    for _ in $(seq 50); do
        ip netns exec "$ns_b" ss -ltn | grep -q ":$((5201 + k)) " && break
        sleep 0.1
    done
done
for ((k = 0; k < streams; k++)); do
    echo "-- CPU $k: ping -c 3 10.99.2.1"
    ip netns exec "$ns_a" taskset -c "$k" ping -c 3 -i 0.2 -I 10.99.1.1 10.99.2.1 | tail -n 2
    echo "-- CPU $k: iperf3 -c 10.99.2.1 -t 3"
    ip netns exec "$ns_a" taskset -c "$k" iperf3 -c 10.99.2.1 -B 10.99.1.1 -p 5201 -t 3 |
        grep -E 'sender|receiver'
done
step "gateway a: per-CPU counters (ikeplex list-sas: each CPU's traffic on its own SA, none on the fallback)"
"${cli_a[@]}" list-sas
step "gateway a: the data plane's workers (ikeplex stats)"
"${cli_a[@]}" stats

# Traffic from every CPU at once: one iperf3 TCP stream per CPU (taskset), AGG_SECS seconds;
# prints the streams' received Gbit/s summed.
AGG_SECS=3
aggregate() {
    local k jpids=()
    for ((k = 0; k < streams; k++)); do
        ip netns exec "$ns_a" taskset -c "$k" iperf3 -c 10.99.2.1 -B 10.99.1.1 -p $((5201 + k)) \
            -t "$AGG_SECS" --json >"$work/agg-$k.json" &
        jpids+=($!)
    done
    for p in "${jpids[@]}"; do
        wait "$p"
    done
    python3 - "$work"/agg-*.json <<'PY'
import json, sys
total = sum(json.load(open(f))["end"]["sum_received"]["bits_per_second"] for f in sys.argv[1:])
print(f"{total / 1e9:.2f}")
PY
}
step "traffic from every CPU at once: $streams TCP streams for ${AGG_SECS} s on the per-CPU group"
group_gbps=$(aggregate)
echo "aggregate: $group_gbps Gbit/s"

step "gateway a: rekey one per-CPU member; its successor keeps the CPU"
read -r member cpu < <("${cli_a[@]}" list-sas --json | python3 -c '
import json, sys
for ev in json.load(sys.stdin):
    for ike in ev.values():
        for c in ike.get("child-sas", {}).values():
            if "cpu" in c and c.get("state") == "INSTALLED":
                print(c["uniqueid"], c["cpu"]); sys.exit(0)')
echo "ikeplex rekey --child-id $member   (the member of cpu $cpu)"
"${cli_a[@]}" rekey --child-id "$member"
for _ in $(seq 50); do
    "${cli_a[@]}" list-sas --json | grep -q "\"uniqueid\": \"$member\"" || break
    sleep 0.1
done
"${cli_a[@]}" list-sas

if [ "${IKEPLEX_DEMO_KEEP:-0}" = 1 ]; then
    step "running; try:  ${cli_a[*]} list-sas   (Ctrl-C ends the demo)"
    wait
fi

step "gateway a: ikeplex terminate --ike site"
"${cli_a[@]}" terminate --ike site --timeout 10
for _ in $(seq 50); do
    [ "$(installed "${cli_b[@]}")" -eq 0 ] && break
    sleep 0.1
done
echo "gateway a: $(installed "${cli_a[@]}") Child SAs, gateway b: $(installed "${cli_b[@]}") Child SAs"

step "the same with one shared SA: both gateways restarted with per_cpu_sas = no"
stop_gateways
start_gateways no
bring_up 1
"${cli_a[@]}" list-sas
step "traffic from every CPU at once: $streams TCP streams for ${AGG_SECS} s on one shared SA"
shared_gbps=$(aggregate)
echo "aggregate: $shared_gbps Gbit/s"
"${cli_a[@]}" terminate --ike site --timeout 10

step "side by side: $streams TCP streams, one per CPU, ${AGG_SECS} s, userspace data plane"
python3 - "$group_gbps" "$shared_gbps" "$streams" "$(nproc)" <<'PY'
import sys
group, shared, streams, ncpu = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]
print(f"  {'tunnel':<38} {'aggregate Gbit/s':>16}")
print(f"  {'RFC 9611 group (fallback + 1 SA/CPU)':<38} {group:>16.2f}")
print(f"  {'one shared SA (per_cpu_sas = no)':<38} {shared:>16.2f}")
ratio = group / shared if shared > 0 else float("nan")
print(f"  {'group / shared':<38} {ratio:>16.2f}")
print(f"  (this machine: {ncpu} CPUs shared by both gateways, the senders and the receivers,")
print("   so the figure is what these CPUs allow, not a gateway's ceiling; docs/performance.md)")
PY

step "done: the RFC 9611 group came up with the fallback and $cpus per-CPU Child SAs and carried each CPU's traffic"
