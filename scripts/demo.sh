#!/usr/bin/env bash
# ikeplex's main job, end to end on one machine: two gateways, each an ikeplexd in its own
# network namespace, bring up a site-to-site tunnel as an RFC 9611 per-CPU Child SA group —
# the fallback SA plus one SA per CPU — and show it with `ikeplex list-sas` and with
# strongSwan's own `swanctl`, which talks to ikeplexd over VICI.
#
# Installs what it needs (scripts/setup-deps.sh), builds the release binaries, and removes
# everything it created on any exit. Needs root (network namespaces).
#
# The gateways carry real traffic through ikeplex's userspace ESP data plane (one worker per
# CPU, a multi-queue TUN device steered by CPU, ESP in UDP): ping and iperf3 run from each CPU
# (taskset), and the counters show each CPU's packets on its own Child SA, none on the fallback.
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

step "dependencies"
scripts/setup-deps.sh

step "build (release: g++ -O2)"
if [ ! -f build/release/build.ninja ]; then
    cmake --preset release >/dev/null
fi
cmake --build build/release --target ikeplexd ikeplex
ikeplexd="$root/build/release/apps/ikeplexd"
ikeplex="$root/build/release/apps/ikeplex"

tag=$$
ns_a="ikdemoA$tag" ns_b="ikdemoB$tag"
work=$(mktemp -d /tmp/ikeplex-demo.XXXXXX)
pids=()
cleanup() {
    local rc=$?
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

# side, our address, the peer's, our site, the peer's site
write_config() {
    local side=$1 me=$2 peer=$3 my_net=$4 peer_net=$5 dir="$work/$1"
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
                per_cpu_sas = yes          # RFC 9611, as strongSwan 6 spells it
                per_cpu_sas_start = all    # ikeplex: one SA per CPU right after the fallback
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
write_config a 10.99.0.1 10.99.0.2 10.99.1.0/24 10.99.2.0/24
write_config b 10.99.0.2 10.99.0.1 10.99.2.0/24 10.99.1.0/24

step "start ikeplexd on both gateways ($cpus resources each)"
for side in b a; do
    ns=$ns_a
    [ "$side" = b ] && ns=$ns_b
    ip netns exec "$ns" "$ikeplexd" -c "$work/$side/ikeplexd.conf" >"$work/$side/ikeplexd.log" 2>&1 &
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
cli_a=("$ikeplex" --uri "unix://$work/a/ikeplexd.vici")
cli_b=("$ikeplex" --uri "unix://$work/b/ikeplexd.vici")
"${cli_a[@]}" list-conns

step "gateway a: ikeplex initiate --child net"
"${cli_a[@]}" initiate --child net --timeout 20

# The fallback comes with IKE_AUTH; the per-CPU members follow, pipelined in the window.
want=$((cpus + 1))
installed() {
    "$@" list-sas --json | python3 -c '
import json, sys
n = 0
for ev in json.load(sys.stdin):
    for ike in ev.values():
        n += sum(1 for c in ike.get("child-sas", {}).values() if c.get("state") == "INSTALLED")
print(n)'
}
for _ in $(seq 100); do
    if [ "$(installed "${cli_a[@]}")" -ge $want ] && [ "$(installed "${cli_b[@]}")" -ge $want ]; then
        break
    fi
    sleep 0.1
done
for side in a b; do
    cli=("${cli_a[@]}")
    [ "$side" = b ] && cli=("${cli_b[@]}")
    n=$(installed "${cli[@]}")
    if [ "$n" -lt $want ]; then
        echo "demo: gateway $side has $n Child SAs installed, expected the fallback + $cpus" >&2
        exit 1
    fi
done

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
ip netns exec "$ns_b" iperf3 -s -B 10.99.2.1 -p 5201 -D --logfile "$work/iperf3.log"
for _ in $(seq 50); do
    ip netns exec "$ns_b" ss -ltn | grep -q ':5201' && break
    sleep 0.1
done
for ((k = 0; k < cpus && k < $(nproc); k++)); do
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

step "done: the RFC 9611 group came up with the fallback and $cpus per-CPU Child SAs and carried each CPU's traffic"
