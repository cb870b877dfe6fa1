#!/usr/bin/env python3
"""End-to-end data-plane benchmark (docs performance-anchors.md §C, G3-G6): every peer gets its
own pair of namespaces in the shared topology (lib.Namespaces: outer veth 10.99.0.1 <-> 10.99.0.2,
inner 10.99.1.1 in A and 10.99.2.1 in B on lo); iperf3 runs between the inner addresses from
inside the gateway namespaces, so each peer's tunnel device carries it. All peers are brought up
first, then measured interleaved (round by round, test by test, peer by peer), so that ratios
between peers come from the same minutes of a noisy machine.

One line per measurement, e.g.
  E2E strongswan-libipsec udp1400 pps=41230 mbps=461 loss=0.1% gw_cpu_s=4.85 cpu_s_per_Mpkt=23.5 ...
and --json FILE with every number (all rounds, and the best round per peer and test).

Tests (--tests, comma separated):
  udp<N>[x<S>][@<rate>]  iperf3 UDP, inner IPv4 packets of N bytes (payload N-28), S streams
                         (separate iperf3 pairs; with S > 1 stream i is pinned to CPU i mod ncpu
                         on both ends), rate: total bit/s of payload with K/M/G suffix, or P%
                         of the pps this peer delivered in the last unlimited udp<N>[x<S>] of
                         the same round (which must come earlier in --tests); default unlimited
  tcp[x<S>]              iperf3 TCP, S streams (pinned likewise)
pps for UDP counts datagrams that arrived; for TCP it is an estimate (received bytes / MSS).
cpu_s_per_Mpkt = gateway processes' CPU seconds (exact runtime of all threads, both sides) per
million packets that arrived; sys_cpu_s_per_Mpkt uses the whole machine's busy time (includes
iperf3 and kernel softirq work, and other load on a shared machine).

Adding a peer: a function taking a peers.Topology and returning a peers.Gateways (see
peers.py), registered in PEERS or passed to run_bench(). Ratio lines: ratio_line().
"""
import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))
import lib  # noqa: E402
import peers  # noqa: E402
import traffic  # noqa: E402

PEERS = {
    "plain": peers.plain,
    "strongswan-libipsec": peers.strongswan_libipsec,
    "wireguard-go": peers.wireguard_go,
}
# Known but not run by default (give them in --peers; they need --build): ikeplexd with its
# userspace backend and ikeplex-relay. The gates G3-G6 are computed by gates.py.
OPTIONAL_PEERS = {
    "ikeplex-userspace": peers.ikeplex_userspace,  # = ikeplex-pcpu-batched
    "ikeplex-pcpu-batched": lambda t: peers.ikeplex_userspace(t, per_cpu=True, offloads=True),
    "ikeplex-pcpu-pp": lambda t: peers.ikeplex_userspace(t, per_cpu=True, offloads=False),
    "ikeplex-shared-batched": lambda t: peers.ikeplex_userspace(t, per_cpu=False, offloads=True),
    "ikeplex-shared-pp": lambda t: peers.ikeplex_userspace(t, per_cpu=False, offloads=False),
    "relay-batched": lambda t: peers.ikeplex_relay(t, offloads=True),
    "relay-pp": lambda t: peers.ikeplex_relay(t, offloads=False),
}
PEER_TOOLS = {"strongswan-libipsec": ["charon", "swanctl"], "wireguard-go": ["wireguard-go", "wg"]}
DEFAULT_TESTS = "udp1400,udp1400@80%,tcp,udp1400x2"
SETUP_ALLOWANCE_S = 8  # per peer: namespaces, daemons, IKE, pings
PER_TEST_OVERHEAD_S = 2  # iperf3 start, connection, result exchange


class Test:
    def __init__(self, spec):
        m = re.fullmatch(r"(udp)(\d+)(?:x(\d+))?(?:@(\d+(?:\.\d+)?)([kKmMgG%]?))?|(tcp)(?:x(\d+))?", spec)
        if not m:
            raise lib.Failure(f"unknown test {spec!r} (udp<N>[x<S>][@<rate>] or tcp[x<S>])")
        self.name = spec
        if m.group(1):
            self.proto, self.packet = "udp", int(m.group(2))
            if not 64 <= self.packet <= 9000:
                raise lib.Failure(f"test {spec}: packet size {self.packet} out of 64..9000")
            self.streams = int(m.group(3) or 1)
            self.rate = self.rate_pct = None
            self.base = f"udp{self.packet}" + (f"x{self.streams}" if self.streams > 1 else "")
            if m.group(5) == "%":
                self.rate_pct = float(m.group(4))
                if not 1 <= self.rate_pct <= 200:
                    raise lib.Failure(f"test {spec}: rate {self.rate_pct}% out of 1..200")
            elif m.group(4):
                mult = {"": 1, "k": 1e3, "m": 1e6, "g": 1e9}[m.group(5).lower()]
                self.rate = float(m.group(4)) * mult
        else:
            self.proto, self.packet, self.rate, self.rate_pct, self.base = "tcp", None, None, None, None
            self.streams = int(m.group(7) or 1)
        if not 1 <= self.streams <= 8:
            raise lib.Failure(f"test {spec}: {self.streams} streams (1..8)")

    def cpus(self):
        n = os.cpu_count() or 1
        return [i % n for i in range(self.streams)] if self.streams > 1 else None


def fmt(v, spec, none="n/a"):
    return none if v is None else format(v, spec)


# iperf3's own socket buffers for UDP (-w, both ends): the default receive buffer (212992 bytes)
# holds ~10 ms of a stream (~64 datagrams of 1400 bytes at their truesize), so any 10 ms the
# receiving iperf3 waits for its CPU (these 2 CPUs also run both gateways and the senders) loses
# datagrams at the application, in the rekey phase's baselines (0, 0 and 711 in three) as in
# saturated runs, where a gateway that hands the TUN 64 datagrams in one write (UDP coalescing)
# fills it at once while the receiver on the same CPU waits. 4 MiB holds ~280 ms: what is left
# is the tunnel's loss. The tunnel's own drops are counted apart in any case. Capped by the machine's
# net.core.rmem_max/wmem_max (global sysctls, not changed here; Debian's default is 212992).
APP_BUFFER_WANTED = 4 << 20


def app_buffer():
    """The -w to give iperf3, or None when the sysctls allow no more than the default."""
    try:
        caps = [int(open(f"/proc/sys/net/core/{k}").read()) for k in ("rmem_max", "wmem_max")]
    except (OSError, ValueError):
        return None
    n = min([APP_BUFFER_WANTED] + caps)
    return n if n > 212992 else None


def measure(gw, topo, test, duration, rate=None, attempts=3):
    """One measurement of `test` through running gateways `gw` (`rate`: total payload bit/s,
    overrides the test's own); returns the JSON record."""
    rate = rate if rate is not None else test.rate
    devs = {}
    for side, ns in (("a", topo.ns.a), ("b", topo.ns.b)):
        if side in gw.devices:
            devs[f"{side}:{gw.devices[side]}"] = (ns, gw.devices[side])
    veths = {f"a:{topo.ns.veth_a}": (topo.ns.a, topo.ns.veth_a), f"b:{topo.ns.veth_b}": (topo.ns.b, topo.ns.veth_b)}
    devs.update(veths)
    before = {k: traffic.link_counters(*v) for k, v in devs.items()}
    cpu = traffic.CpuSampler(gw.pids)
    r = traffic.iperf3(topo.ns.a, topo.ns.b, lib.INNER_A, lib.INNER_B, proto=test.proto,
                       size=traffic.udp_payload_for(test.packet) if test.proto == "udp" else None,
                       rate=rate / test.streams if rate else None, duration=duration, streams=test.streams,
                       client_cpus=test.cpus(), server_cpus=test.cpus(), on_start=cpu.start, attempts=attempts,
                       udp_buffer=app_buffer() if test.proto == "udp" else None)
    cpu.stop()
    counters = {k: traffic.counters_delta(before[k], traffic.link_counters(*v)) for k, v in devs.items()}
    # the traffic must have taken the peer's device: A's device sent at least the payload that
    # arrived (bytes, not packets: GSO super-packets count once on veth)
    dev_a = f"a:{gw.devices.get('a', topo.ns.veth_a)}"
    if counters[dev_a]["tx_bytes"] < r.rx_bytes:
        raise lib.Failure(f"{gw.name} {test.name}: {dev_a} sent {counters[dev_a]['tx_bytes']} bytes but "
                          f"{r.rx_bytes} bytes of payload arrived: the traffic did not take the tunnel")
    gw_cpu = cpu.total if gw.pids else None
    rec = {
        "peer": gw.name, "test": test.name, "note": gw.note, "offered_bps": rate,
        "attempts": r.attempts, "pps": round(r.pps), "pps_estimated": test.proto == "tcp", "mbps": round(r.mbps, 1),
        "loss_pct": round(r.loss_pct, 3) if test.proto == "udp" else None,
        "jitter_ms": r.jitter_ms, "retransmits": r.retransmits,
        "gw_cpu_s": round(gw_cpu, 3) if gw_cpu is not None else None,
        "cpu_s_per_Mpkt": traffic.cpu_s_per_mpkt(r.rx_packets, gw_cpu),
        "pkt_per_cpu_s": traffic.per_cpu_second(r.rx_packets, gw_cpu),
        "sys_cpu_s_per_Mpkt": traffic.cpu_s_per_mpkt(r.rx_packets, cpu.system_busy),
        "cpu": cpu.as_dict(), "traffic": r.as_dict(), "counters": counters,
    }
    for k in ("cpu_s_per_Mpkt", "pkt_per_cpu_s", "sys_cpu_s_per_Mpkt"):
        if rec[k] is not None:
            rec[k] = round(rec[k], 3 if k != "pkt_per_cpu_s" else None)
    return rec


def report_line(rec):
    pps_key = "pps_est" if rec["pps_estimated"] else "pps"
    parts = [f"E2E {rec['peer']} {rec['test']}", f"{pps_key}={rec['pps']}", f"mbps={rec['mbps']:.0f}"]
    if rec.get("offered_bps"):
        parts.append(f"offered_mbps={rec['offered_bps'] / 1e6:.0f}")
    if rec["loss_pct"] is not None:
        parts.append(f"loss={rec['loss_pct']:.1f}%")
    if rec["retransmits"] is not None:
        parts.append(f"retrans={rec['retransmits']}")
    parts += [f"gw_cpu_s={fmt(rec['gw_cpu_s'], '.2f')}", f"cpu_s_per_Mpkt={fmt(rec['cpu_s_per_Mpkt'], '.1f')}",
              f"pkt_per_cpu_s={fmt(rec['pkt_per_cpu_s'], '.0f')}",
              f"sys_cpu_s_per_Mpkt={fmt(rec['sys_cpu_s_per_Mpkt'], '.1f')}"]
    if rec.get("attempts", 1) > 1:
        parts.append(f"attempts={rec['attempts']}")
    parts.append(f"[{rec['note']}]")
    return " ".join(parts)


def ratio_line(gate, what, num, den, minimum):
    """`G6 ikeplex/strongswan=1.62 (PASS >=1.50)`; num/den are numbers (e.g. best pps)."""
    if not num or not den:
        return f"{gate} {what}=n/a (FAIL >={minimum:.2f}: missing measurement)"
    r = num / den
    return f"{gate} {what}={r:.2f} ({'PASS' if r >= minimum else 'FAIL'} >={minimum:.2f})"


def best(records, peer, test, key="pps"):
    """The record of `peer`/`test` with the highest `key` over all rounds (None if none)."""
    c = [r for r in records if r["peer"] == peer and r["test"] == test and r.get(key) is not None]
    return max(c, key=lambda r: r[key]) if c else None


def run_bench(peer_starters, tests, duration=5, rounds=1, folder=None, args=None, budget=180, log=print):
    """Brings up every (name, start) in `peer_starters` in its own namespace pair, pings both
    ways through each, then measures each test on each peer `rounds` times, interleaved.
    Measurements that would end after `budget` seconds are skipped (reported). Returns
    {"peers": {...}, "measurements": [...], "skipped": [...], "errors": [...]}. Everything is
    torn down on every exit path."""
    t0 = time.monotonic()
    deadline = t0 + budget
    out = {"peers": {}, "measurements": [], "skipped": [], "errors": []}
    folder = folder or tempfile.mkdtemp(prefix="ikeplex-e2e-")
    with contextlib.ExitStack() as stack:
        up = []
        for i, (name, start) in enumerate(peer_starters):
            tag = f"e{os.getpid()}p{i}"  # scripts/bench-e2e.sh cleans up ip[AB]e<pid>p<i> after a crash
            ns = stack.enter_context(lib.Namespaces(tag=tag))
            topo = peers.Topology(ns, f"{folder}/{name}", args)
            t = time.monotonic()
            try:
                gw = start(topo)
            except (lib.Failure, traffic.TrafficError, OSError) as e:
                out["errors"].append(f"{name}: bring-up failed: {e}")
                log(f"E2E {name} ERROR bring-up failed: {e}")
                continue
            stack.callback(gw.close)
            try:
                pa = traffic.ping(ns.a, lib.INNER_B, src=lib.INNER_A, count=3, timeout=5)
                pb = traffic.ping(ns.b, lib.INNER_A, src=lib.INNER_B, count=3, timeout=5)
                # a full-size packet must pass without fragmentation (the UDP tests' size)
                for test in tests:
                    if test.proto == "udp":
                        traffic.ping(ns.a, lib.INNER_B, src=lib.INNER_A, count=1, timeout=3, size=test.packet - 28)
            except traffic.TrafficError as e:
                out["errors"].append(f"{name}: ping through the tunnel failed: {e}")
                log(f"E2E {name} ERROR {e}")
                continue
            out["peers"][name] = {"note": gw.note, "info": gw.info, "pids": gw.pids, "devices": gw.devices,
                                  "namespaces": [ns.a, ns.b], "bring_up_s": round(time.monotonic() - t, 2),
                                  "ping_a_to_b": pa, "ping_b_to_a": pb}
            log(f"# {name}: up in {time.monotonic() - t:.1f} s, ping a->b {pa['received']}/{pa['sent']} "
                f"({pa['rtt_avg_ms']} ms), b->a {pb['received']}/{pb['sent']}")
            up.append((name, gw, topo))
        last_unlimited = {}
        for rnd in range(rounds):
            for test in tests:
                for name, gw, topo in up:
                    need = duration + PER_TEST_OVERHEAD_S + 3
                    if time.monotonic() + need > deadline:
                        out["skipped"].append({"peer": name, "test": test.name, "round": rnd,
                                               "why": f"time budget {budget} s"})
                        log(f"E2E {name} {test.name} SKIPPED (time budget {budget} s)")
                        continue
                    rate = None
                    if test.rate_pct is not None:
                        ref = last_unlimited.get((name, test.base))
                        if ref is None:
                            out["skipped"].append({"peer": name, "test": test.name, "round": rnd,
                                                   "why": f"no unlimited {test.base} measured before it"})
                            log(f"E2E {name} {test.name} SKIPPED (needs an unlimited {test.base} before it)")
                            continue
                        rate = test.rate_pct / 100 * ref * traffic.udp_payload_for(test.packet) * 8
                    try:
                        # iperf3 repeats a run whose streams could not be set up: as often as fits
                        attempts = max(1, min(3, int((deadline - time.monotonic()) // need)))
                        rec = measure(gw, topo, test, duration, rate=rate, attempts=attempts)
                    except (lib.Failure, traffic.TrafficError) as e:
                        out["errors"].append(f"{name} {test.name} round {rnd}: {e}")
                        log(f"E2E {name} {test.name} ERROR {e}")
                        continue
                    rec["round"] = rnd
                    if test.proto == "udp" and test.rate is None and test.rate_pct is None:
                        last_unlimited[(name, test.name)] = rec["pps"]
                    out["measurements"].append(rec)
                    log(report_line(rec))
        log(f"# teardown after {time.monotonic() - t0:.1f} s")
    out["elapsed_s"] = round(time.monotonic() - t0, 1)
    return out


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"cpus": os.cpu_count(), "cpu_model": model, "kernel": os.uname().release,
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "loadavg_1m": round(os.getloadavg()[0], 2)}  # other load on a shared machine skews everything


def main(argv=None, extra_peers=None):
    p = argparse.ArgumentParser(description="ikeplex end-to-end data-plane benchmark (baselines)")
    p.add_argument("--peers", default=",".join(PEERS),
                   help=f"comma separated, of {', '.join(list(PEERS) + list(OPTIONAL_PEERS))} (default: "
                        f"{', '.join(PEERS)})")
    p.add_argument("--tests", default=DEFAULT_TESTS, help="comma separated: udp<N>[x<S>][@<rate>], tcp[x<S>]")
    p.add_argument("--duration", type=float, default=5, help="seconds per measurement (1..60)")
    p.add_argument("--rounds", type=int, default=1, help="interleaved rounds (1..10); best is kept in 'best'")
    p.add_argument("--budget", type=float, default=180, help="seconds for the whole run (default 180)")
    p.add_argument("--json", help="write all numbers here")
    p.add_argument("--build", help="build tree, for peers that need ikeplexd")
    p.add_argument("--keep", action="store_true", help="keep the run's folder (logs, configs)")
    args = p.parse_args(argv)
    if os.geteuid() != 0:
        print("bench-e2e: needs root (network namespaces)", file=sys.stderr)
        return 77
    registry = dict(PEERS, **OPTIONAL_PEERS, **(extra_peers or {}))
    try:
        names = [n for n in args.peers.split(",") if n]
        for n in names:
            if n not in registry:
                raise lib.Failure(f"unknown peer {n!r} (known: {', '.join(registry)})")
        tests = [Test(s) for s in args.tests.split(",") if s]
        if not 1 <= args.duration <= 60 or not 1 <= args.rounds <= 10:
            raise lib.Failure("--duration must be 1..60 and --rounds 1..10")
        estimate = len(names) * SETUP_ALLOWANCE_S + \
            args.rounds * len(tests) * len(names) * (args.duration + PER_TEST_OVERHEAD_S)
        if estimate > args.budget:
            raise lib.Failure(f"about {estimate:.0f} s needed but --budget is {args.budget:.0f} s: "
                              f"fewer tests, rounds or a shorter --duration")
        peers.check_tools(["ip", "ss", "iperf3", "ping", "taskset"] +
                          [t for n in names for t in PEER_TOOLS.get(n, [])])
    except lib.Failure as e:
        print(f"bench-e2e: {e}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    folder = tempfile.mkdtemp(prefix=f"ikeplex-e2e-{os.getpid()}-")  # bench-e2e.sh removes it after a crash
    machine_start = machine()
    print(f"# e2e: {machine_start}; peers {', '.join(names)}; tests {args.tests}; {args.duration:g} s each, "
          f"{args.rounds} round(s); files in {folder}", flush=True)
    try:
        res = run_bench([(n, registry[n]) for n in names], tests, duration=args.duration, rounds=args.rounds,
                        folder=folder, args=args, budget=args.budget,
                        log=lambda s: print(s, flush=True))
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    res["machine"] = dict(machine_start, loadavg_1m_end=machine()["loadavg_1m"])
    res["settings"] = {"tests": args.tests, "duration_s": args.duration, "rounds": args.rounds}
    res["best"] = {}
    for n in names:
        for t in tests:
            b = best(res["measurements"], n, t.name)
            if b:
                res["best"].setdefault(n, {})[t.name] = b
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
        print(f"# wrote {args.json}")
    for e in res["errors"]:
        print(f"# error: {e}")
    return 1 if res["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
