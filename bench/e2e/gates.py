#!/usr/bin/env python3
"""End-to-end data-plane gates G3-G6 (docs performance-anchors.md §C; results and method in
docs/performance.md "End to end (G3-G6)"). Every configuration below runs in its own namespace
pair of the shared topology (lib.Namespaces), all are brought up first, then measured in
interleaved rounds (round by round, test by test, configuration by configuration, the order of
the configurations rotated each round), so that the two sides of each ratio come from the same
minutes of a noisy 2-vCPU machine. A gate is the median of the per-round ratios (each pair
measured side by side in one round; at least 5 rounds), and every round's ratio is printed
beside it.

Configurations (bench/e2e/peers.py):
  relay-pp, relay-batched          ikeplex-relay (the data plane's I/O code, no ESP), offloads no / yes
  ikeplex-pcpu-pp, -pcpu-batched   ikeplexd userspace, 2 workers, fallback + 2 per-CPU Child SAs
                                   (per_cpu_sas = yes, per_cpu_sas_start = all), offloads no / yes
  ikeplex-shared-pp, -shared-batched  ikeplexd userspace, 2 workers, one Child SA shared by both
  strongswan-libipsec              Debian strongSwan 5.9.8 charon, kernel-libipsec (ESP in UDP)
  wireguard-go                     Debian wireguard-go (reported beside G6)
Traffic (iperf3 between the inner addresses 10.99.1.1 -> 10.99.2.1, inner IPv4 packets of
1400 bytes for UDP; with 2 streams, stream i's client and server are pinned to CPU i, which is
also worker i's CPU: the TUN steers by sending CPU, so each CPU carries its stream end to end):
  udp1400@cpu0/30kpps   one UDP stream on CPU 0 at 30k packets/s (G3 gate)
  udp1400@cpu0          the same, unlimited (G3 saturated pps, reported)
  tcpx2                 2 TCP streams (G4, G6; G5 throughput reported)
  udp1400x2@60kpps      2 UDP streams at 30k packets/s each (G5 gate; like G3's pair, measured at
                        the start and at the end of each round: 2N pairs)
  udp1400x2             2 UDP streams, unlimited (G5 saturated, reported)
  udp1400x2@near-saturation  the same at 0.85 x the lower delivered rate of that round's
                        saturated pair (G5, reported)
  udp1400x2@30kpps      rekey phase after the rounds (bench/e2e/rekey.py): baseline, rekey run
                        (14 rekey commands), 2 baselines, 14 s each
"pkt_per_cpu_s" = datagrams (TCP: bytes / MSS) that arrived per CPU-second used by both gateway
processes (the scheduler's exact runtime of all their threads, /proc/PID/task/*/schedstat, which
includes the kernel work done in their system calls; traffic.CpuSampler): the per-core packet
rate of the gateway pair. At a fixed offered rate below
capacity both sides of a ratio carry the same packets, so the ratio is the inverse ratio of CPU
cost per packet; unlimited senders on a 2-vCPU machine mostly measure how the scheduler splits
the CPUs between sender and gateways (receive livelock), which is why those are reported only.
Gate lines (exit status 1 if one FAILs or cannot be computed):
  G3 esp/relay pkt_per_cpu_s=..   (PASS >=0.80)   per-CPU ESP vs relay, per-packet I/O
  G4 batched/pp mbps=..           (PASS >=3.00)   ikeplex-pcpu, offloads yes vs no, tcpx2
  G5 pcpu/shared pkt_per_cpu_s=.. (PASS >=1.15)   batched, udp1400x2@60kpps (stretch 1.60 printed)
  G5 fallback_tx, wrong_cpu_pkts, replay_integrity_drops (==0), rekey_lost (<= baseline median + spread)
  G6 ikeplex/strongswan mbps=..   (PASS >=3.00)   pcpu-batched vs kernel-libipsec, tcpx2
Lines "G<n> info ..." are reported figures, not gates.
Usage: gates.py --build DIR [--rounds 5] [--duration 4] [--json FILE] [--keep] [--budget 900]
Needs root; Python 3.11 standard library only.
"""
import argparse
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))
import e2e  # noqa: E402
import lib  # noqa: E402
import peers  # noqa: E402
import rekey  # noqa: E402
import traffic  # noqa: E402

CONFIGS = {
    "relay-pp": lambda t: peers.ikeplex_relay(t, offloads=False),
    "relay-batched": lambda t: peers.ikeplex_relay(t, offloads=True),
    "ikeplex-pcpu-pp": lambda t: peers.ikeplex_userspace(t, per_cpu=True, offloads=False),
    "ikeplex-pcpu-batched": lambda t: peers.ikeplex_userspace(t, per_cpu=True, offloads=True),
    "ikeplex-shared-pp": lambda t: peers.ikeplex_userspace(t, per_cpu=False, offloads=False),
    "ikeplex-shared-batched": lambda t: peers.ikeplex_userspace(t, per_cpu=False, offloads=True),
    "strongswan-libipsec": peers.strongswan_libipsec,
    "wireguard-go": peers.wireguard_go,
}
PCPU = ("ikeplex-pcpu-pp", "ikeplex-pcpu-batched")
G3_PPS = 30000  # fixed offered rate of the G3 gate (one stream): below either side's capacity here
G5_PPS = 60000  # fixed offered rate of the G5 gate (2 streams, 30k each): below both capacities
# what a failed bring-up or measurement may raise (CLI timeouts, unreadable JSON included)
ERRORS = (lib.Failure, OSError, ValueError, subprocess.TimeoutExpired)
STREAM_SLACK = 100  # packets a stream's SA may carry beyond its datagrams (iperf3's control connection)


class Test(e2e.Test):
    """e2e.Test with an explicit CPU list for its streams (one pinned stream) and a label."""

    def __init__(self, spec, label=None, cpus=None, pps=None):
        super().__init__(spec)
        self._cpus = cpus
        if pps:
            self.rate = pps * traffic.udp_payload_for(self.packet) * 8
        self.name = label or spec

    def cpus(self):
        return self._cpus if self._cpus is not None else super().cpus()


T_G3 = Test("udp1400", label=f"udp1400@cpu0/{G3_PPS // 1000}kpps", cpus=[0], pps=G3_PPS)
T_G3_MAX = Test("udp1400", label="udp1400@cpu0", cpus=[0])
T_TCP2 = Test("tcpx2")
T_UDP2 = Test("udp1400x2")
T_G5 = Test("udp1400x2", label=f"udp1400x2@{G5_PPS // 1000}kpps", pps=G5_PPS)
# just below saturation: NEAR_SATURATION x the lower delivered rate of the two saturated runs of
# the same round (set per round in Run.rounds), so that the scheduler's split between unlimited
# senders and gateways drops out of the comparison
T_NEAR = Test("udp1400x2", label="udp1400x2@near-saturation")
NEAR_SATURATION = 0.85
MIN_ROUNDS = 5  # a gate needs at least this many paired rounds (docs/performance.md)

# (test, configurations) measured each round, in this order. G3's fixed-rate pair is the
# smallest difference measured here (ESP adds ~10 % to the per-packet cost), so it is measured at
# the start and at the end of each round: 2N samples per side. G5's fixed-rate pair likewise
# (the group's edge at 60 kpps is 1.1-1.3 on the kernel-6.18 machine, its pairs spread
# 0.86-1.42: docs/performance.md, "Issue 15: 2026-12-06 night").
PLAN = [
    (T_G3, ["relay-pp", "ikeplex-pcpu-pp"]),
    (T_G3_MAX, ["relay-pp", "ikeplex-pcpu-pp"]),
    (T_TCP2, ["ikeplex-pcpu-pp", "ikeplex-pcpu-batched", "ikeplex-shared-pp", "ikeplex-shared-batched",
              "relay-batched", "strongswan-libipsec", "wireguard-go"]),
    (T_G5, ["ikeplex-pcpu-batched", "ikeplex-shared-batched"]),
    (T_UDP2, ["ikeplex-pcpu-batched", "ikeplex-shared-batched"]),
    (T_NEAR, ["ikeplex-pcpu-batched", "ikeplex-shared-batched"]),
    (T_G5, ["ikeplex-shared-batched", "ikeplex-pcpu-batched"]),
    (T_G3, ["ikeplex-pcpu-pp", "relay-pp"]),
]


def log(s=""):
    print(s, flush=True)


UDP_ERRORS = ("RcvbufErrors", "SndbufErrors", "InErrors", "MemErrors")


TUNNEL_PORT = {"relay-pp": peers.RELAY_PORT, "relay-batched": peers.RELAY_PORT, "wireguard-go": peers.WG_PORT}


def udp_errors(topo, name, before=None):
    """UDP drop counters of both namespaces (deltas against `before` if given): the kernel's
    counters for all sockets (RcvbufErrors, ...) and "TunnelSockDrops", the drops of the
    gateway's own UDP sockets (the ESP/relay/WireGuard port; the rest are iperf3's)."""
    port = TUNNEL_PORT.get(name, 4500)
    now = {}
    for s, ns in (("a", topo.ns.a), ("b", topo.ns.b)):
        now[s] = {k: v for k, v in traffic.udp_counters(ns).items() if k in UDP_ERRORS}
        now[s]["TunnelSockDrops"] = traffic.socket_drops(ns, port)["drops"]
    if before is None:
        return now
    return {s: traffic.counters_delta(before[s], now[s]) for s in now}


def softnet_drops():
    """Packets the kernel dropped because a CPU's input backlog was full (all CPUs; machine-wide,
    /proc/net/softnet_stat column 2)."""
    with open("/proc/net/softnet_stat") as f:
        return sum(int(line.split()[1], 16) for line in f if line.strip())


def drops_text(rec):
    """Where packets were dropped during a measurement: the gateway's UDP sockets (tunnel_sock_a/b:
    receive buffer full; counted per skb, and with UDP GRO one skb holds several datagrams),
    other UDP sockets (other_rcvbuf: iperf3's), a device queue (txdrop_a_<dev>: the sender
    outran the gateway reading its TUN), a CPU's input backlog (softnet_backlog, machine-wide),
    data-plane drops (<side>:<reason>)."""
    parts = []
    for s in ("a", "b"):
        e = rec.get("udp_errors", {}).get(s, {})
        n, t = e.get("RcvbufErrors", 0), e.get("TunnelSockDrops", 0)
        if t:
            parts.append(f"tunnel_sock_{s}={t}")
        if n - t > 0:
            parts.append(f"other_rcvbuf_{s}={n - t}")
    for k, c in rec.get("counters", {}).items():
        if c.get("tx_dropped"):
            parts.append(f"txdrop_{k.replace(':', '_')}={c['tx_dropped']}")
    for s, d in rec.get("sa_delta", {}).items():
        for w in d["workers"].values():
            for k, v in w.items():
                if k.startswith("dropped-") and v:
                    parts.append(f"{s}:{k[8:]}={v}")
    if rec.get("softnet_dropped"):
        parts.append(f"softnet_backlog={rec['softnet_dropped']}")
    return "drops: " + (" ".join(parts) if parts else "none")


def fmt_num(v):
    return "n/a" if v is None else (f"{v:.0f}" if abs(v) >= 100 else f"{v:.2f}")


def gate_line(gate, what, num, den, minimum, extra=""):
    line = e2e.ratio_line(gate, what, num, den, minimum)
    return f"{line} {extra}".rstrip()


class Run:
    def __init__(self, args, folder):
        self.args, self.folder = args, folder
        self.t0 = time.monotonic()
        self.deadline = self.t0 + args.budget
        self.up = {}  # name -> (gw, topo)
        self.records = []
        self.rekey = []
        self.errors = []
        self.skipped = []
        self.lines = []

    # -- bring-up ----------------------------------------------------------------------------

    def bring_up(self, stack, names):
        for i, name in enumerate(names):
            tag = f"e{os.getpid()}p{i}"  # scripts/bench-e2e.sh removes ip[AB]e<pid>p<i> after a crash
            ns = stack.enter_context(lib.Namespaces(tag=tag))
            topo = peers.Topology(ns, f"{self.folder}/{name}", self.args)
            t = time.monotonic()
            try:
                gw = CONFIGS[name](topo)
            except ERRORS as e:
                self.errors.append(f"{name}: bring-up failed: {e}")
                log(f"E2E {name} ERROR bring-up failed: {e}")
                continue
            stack.callback(gw.close)
            try:
                traffic.ping(ns.a, lib.INNER_B, src=lib.INNER_A, count=2, timeout=5, interval=0.1)
                traffic.ping(ns.b, lib.INNER_A, src=lib.INNER_B, count=2, timeout=5, interval=0.1)
                traffic.ping(ns.a, lib.INNER_B, src=lib.INNER_A, count=1, timeout=3, size=1400 - 28)
            except traffic.TrafficError as e:
                self.errors.append(f"{name}: ping through the tunnel failed: {e}")
                log(f"E2E {name} ERROR {e}")
                continue
            self.up[name] = (gw, topo)
            log(f"# {name}: up in {time.monotonic() - t:.1f} s [{gw.note}]")

    # -- one measurement ---------------------------------------------------------------------

    def measure(self, name, test, rnd, rate=None, attempts=None):
        gw, topo = self.up[name]
        need = self.args.duration + e2e.PER_TEST_OVERHEAD_S + 3
        if time.monotonic() + need > self.deadline:
            self.skipped.append({"peer": name, "test": test.name, "round": rnd, "why": "time budget"})
            log(f"E2E {name} {test.name} SKIPPED (time budget {self.args.budget:.0f} s)")
            return None
        load = round(os.getloadavg()[0], 2)
        try:
            before = gw.snapshot() if gw.snapshot else None
            udp0 = udp_errors(topo, name)
            rec = e2e.measure(gw, topo, test, self.args.duration, rate=rate,
                              attempts=attempts or max(1, min(3, int((self.deadline - time.monotonic()) // need))))
            rec["udp_errors"] = udp_errors(topo, name, udp0)
            if before is not None:
                rec["sa_delta"] = peers.ikeplex_delta(before, gw.snapshot())
        except ERRORS as e:
            self.errors.append(f"{name} {test.name} round {rnd}: {e}")
            log(f"E2E {name} {test.name} ERROR {e}")
            return None
        rec["round"], rec["loadavg_1m"] = rnd, load
        self.records.append(rec)
        log(e2e.report_line(rec) + f" load={load} {drops_text(rec)}")
        return rec

    def rounds(self):
        for rnd in range(self.args.rounds):
            for test, names in PLAN:
                names = [n for n in names if n in self.up]
                k = rnd % len(names) if names else 0
                rate = None
                if test is T_NEAR:
                    sat = [r["pps"] for r in self.records if r["test"] == T_UDP2.name and r["round"] == rnd
                           and r["peer"] in names and r.get("pps")]
                    if len(sat) < len(names):
                        continue
                    pps = NEAR_SATURATION * min(sat)
                    rate = pps * traffic.udp_payload_for(test.packet) * 8
                    log(f"# round {rnd}: near saturation = {NEAR_SATURATION} x {min(sat)} pps = {pps:.0f} pps")
                for name in names[k:] + names[:k]:
                    self.measure(name, test, rnd, rate=rate)

    # -- rekey phase (G5, bench/e2e/rekey.py) -----------------------------------------------

    def rekey_phase(self):
        name = "ikeplex-pcpu-batched"
        if name not in self.up:
            return
        gw, topo = self.up[name]
        log(f"# rekey phase: {name}, udp1400x2 at {rekey.REKEY_PPS} pps in total, {rekey.DURATION} s per run: "
            f"baseline, rekey run ({sum(len(c) for _, c in rekey.SCHEDULE)} rekey commands), 2 baselines")
        for kind in ["baseline", "rekey"] + ["baseline"] * (rekey.BASELINES - 1):
            need = rekey.DURATION + e2e.PER_TEST_OVERHEAD_S + 8
            if time.monotonic() + need > self.deadline:
                self.skipped.append({"peer": name, "test": "rekey", "why": f"rekey phase {kind}: time budget"})
                log(f"E2E {name} rekey phase {kind} SKIPPED (time budget)")
                continue
            try:
                self.rekey.append(rekey.run_one(gw, topo, kind, log, drops_text, udp_errors))
            except ERRORS as e:
                self.errors.append(f"rekey phase {kind}: {e}")
                log(f"E2E {gw.name} rekey phase {kind} ERROR {e}")

    # -- gates -------------------------------------------------------------------------------

    def values(self, name, test, key):
        return [r[key] for r in self.records if r["peer"] == name and r["test"] == test.name and r.get(key)]

    def median(self, name, test, key):
        v = self.values(name, test, key)
        return statistics.median(v) if v else None

    def per_round(self, num, den, test, key):
        """Ratios of the pairs measured next to each other (same round, same position)."""
        out = []
        for rnd in range(self.args.rounds):
            a = [r[key] for r in self.records if r["peer"] == num and r["test"] == test.name and r["round"] == rnd
                 and r.get(key)]
            b = [r[key] for r in self.records if r["peer"] == den and r["test"] == test.name and r["round"] == rnd
                 and r.get(key)]
            out += [x / y for x, y in zip(a, b)]
        return out

    def compare(self, num, den, test, key):
        """(median of the per-round ratios or None, the ratios, detail text). The median of pairs
        measured side by side: a burst of other load spoils one pair, not the figure."""
        rounds = self.per_round(num, den, test, key)
        mn, md = self.median(num, test, key), self.median(den, test, key)
        text = f"{test.name}, median of {len(rounds)} paired rounds; medians {fmt_num(mn)} vs {fmt_num(md)}; " \
               f"per round {' '.join(f'{x:.2f}' for x in rounds) or 'n/a'}"
        return (statistics.median(rounds) if rounds else None), rounds, text

    def ratio(self, gate, what, num, den, test, key, minimum, note=""):
        value, rounds, text = self.compare(num, den, test, key)
        extra = f"[{text}{'; ' + note if note else ''}]"
        line = gate_line(gate, what, value, 1.0 if value is not None else None, minimum, extra)
        if value is not None and len(rounds) < MIN_ROUNDS:
            line = line.replace("(PASS", "(FAIL: fewer than %d rounds," % MIN_ROUNDS)
        self.lines.append({"gate": gate, "line": line, "num": num, "den": den, "test": test.name, "key": key,
                           "median_num": self.median(num, test, key), "median_den": self.median(den, test, key),
                           "per_round": [round(x, 3) for x in rounds],
                           "ratio": round(value, 3) if value is not None else None, "min": minimum,
                           "pass": value is not None and value >= minimum and len(rounds) >= MIN_ROUNDS})
        return line

    def info(self, gate, what, num, den, test, key, note):
        value, rounds, text = self.compare(num, den, test, key)
        self.lines.append({"gate": gate, "info": what, "ratio": round(value, 3) if value is not None else None,
                           "per_round": [round(x, 3) for x in rounds], "pass": True})
        if value is None:
            return f"{gate} info {what}=n/a ({note})"
        return f"{gate} info {what}={value:.2f} ({note}; {text})"

    def check(self, gate, what, value, ok, cond, detail):
        line = f"{gate} {what}={value} ({'PASS' if ok else 'FAIL'} {cond}) [{detail}]"
        self.lines.append({"gate": gate, "line": line, "pass": ok, "value": value})
        return line

    def g5_checks(self):
        """Counter checks over every measurement of the per-CPU configurations."""
        out = []
        fb, wrong, drops, n, details = 0, 0, 0, 0, []
        recs = [r for r in self.records if r["peer"] in PCPU and "sa_delta" in r] + \
               [r for r in self.rekey if "sa_delta" in r]
        for r in recs:
            d = r["sa_delta"]
            n += 1
            for side in ("a", "b"):
                s = d[side]
                fb += s["sas"].get("-", {}).get("packets-out", 0)
                for k, v in s["sas"].items():
                    drops += v.get("dropped-replay-in", 0) + v.get("dropped-integrity-in", 0)
                for w in s["workers"].values():
                    drops += w.get("dropped-replay", 0) + w.get("dropped-integrity", 0)
                if r.get("kind") == "rekey" or s["replaced"]:
                    continue  # a rekeyed member's counters start again: no per-member identity
                # worker k sends only on member k (or the fallback) and receives only member k's SPIs
                for k, w in s["workers"].items():
                    m = s["sas"].get(str(k))
                    if m is None:
                        continue
                    bad = abs(w.get("tx-packets", 0) - w.get("fallback-tx-packets", 0) - m["packets-out"]) + \
                        abs(w.get("rx-packets", 0) - m["packets-in"])
                    if bad:
                        details.append(f"{r['peer']} {r['test']} {side} worker {k}: tx {w.get('tx-packets')} "
                                       f"rx {w.get('rx-packets')} vs SA out {m['packets-out']} in {m['packets-in']}")
                    wrong += bad
            # UDP with streams pinned per CPU: member k of A carries stream k's datagrams, no more
            t = r.get("traffic", {})
            if t.get("proto") == "udp" and t.get("streams", 0) > 1 and not d["a"]["replaced"] and \
                    r.get("kind") != "rekey":
                for st in t["per_stream"]:
                    m = d["a"]["sas"].get(str(st["cpu"]))
                    if m is None:
                        continue
                    extra = max(0, m["packets-out"] - st["packets"] - STREAM_SLACK) + \
                        max(0, st["rx_packets"] - m["packets-out"])
                    if extra:
                        details.append(f"{r['peer']} {r['test']} stream on CPU {st['cpu']}: sent {st['packets']} "
                                       f"arrived {st['rx_packets']}, member {st['cpu']} out {m['packets-out']}")
                    wrong += extra
        out.append(self.check("G5", "fallback_tx", fb, n > 0 and fb == 0, "==0",
                              f"fallback packets-out delta, both daemons, {n} per-CPU runs"))
        out.append(self.check("G5", "wrong_cpu_pkts", wrong, n > 0 and wrong == 0, "==0",
                              "member k's packets only on worker k and from CPU k's stream"
                              + ("; " + "; ".join(details[:4]) if details else "")))
        out.append(self.check("G5", "replay_integrity_drops", drops, n > 0 and drops == 0, "==0",
                              f"SA and worker counters, both daemons, {n} per-CPU runs"))
        base = [r for r in self.rekey if r["kind"] == "baseline"]
        rk = [r for r in self.rekey if r["kind"] == "rekey"]
        if not rk or not base:
            out.append(self.check("G5", "rekey_lost", "n/a", False, "<=baseline", "rekey phase incomplete"))
        else:
            ok, value, cond, detail = rekey.check(rk[0], base)
            out.append(self.check("G5", "rekey_lost", value, ok, cond, detail))
        return out

    def report(self):
        lines = [
            self.ratio("G3", "esp/relay pkt_per_cpu_s", "ikeplex-pcpu-pp", "relay-pp", T_G3, "pkt_per_cpu_s", 0.80,
                       "per-packet I/O, gateway packets per CPU-second at a fixed rate"),
            self.info("G3", "esp/relay saturated_pps", "ikeplex-pcpu-pp", "relay-pp", T_G3_MAX, "pps",
                      "delivered pps, unlimited sender on the gateways' CPU"),
            self.info("G3", "esp/relay batched_mbps", "ikeplex-pcpu-batched", "relay-batched", T_TCP2, "mbps",
                      "offloads on both"),
            self.ratio("G4", "batched/pp mbps", "ikeplex-pcpu-batched", "ikeplex-pcpu-pp", T_TCP2, "mbps", 3.0,
                       "ikeplexd per-CPU, offloads yes vs no"),
            self.ratio("G5", "pcpu/shared pkt_per_cpu_s", "ikeplex-pcpu-batched", "ikeplex-shared-batched", T_G5,
                       "pkt_per_cpu_s", 1.15, "offloads on, 2 workers, streams pinned to CPU 0 and 1, fixed rate"),
        ]
        g5 = self.lines[-1]
        if g5.get("ratio") is not None:
            exact = g5["ratio"]
            reached = exact >= 1.6
            lines.append(f"G5 stretch pcpu/shared pkt_per_cpu_s={exact:.2f} "
                         f"(stretch >=1.60 {'reached' if reached else 'not reached'})")
        lines += [
            self.info("G5", "pcpu/shared tcp_mbps", "ikeplex-pcpu-batched", "ikeplex-shared-batched", T_TCP2, "mbps",
                      "TCP throughput"),
            self.info("G5", "pcpu/shared tcp_pkt_per_cpu_s", "ikeplex-pcpu-batched", "ikeplex-shared-batched", T_TCP2,
                      "pkt_per_cpu_s", "TCP, saturated"),
            self.info("G5", "pcpu/shared udp_max_pkt_per_cpu_s", "ikeplex-pcpu-batched", "ikeplex-shared-batched",
                      T_UDP2, "pkt_per_cpu_s", "unlimited UDP, saturated"),
            self.info("G5", "pcpu/shared udp_max_pps", "ikeplex-pcpu-batched", "ikeplex-shared-batched",
                      T_UDP2, "pps", "unlimited UDP, delivered packets per second"),
            self.info("G5", "pcpu/shared udp_near_pkt_per_cpu_s", "ikeplex-pcpu-batched", "ikeplex-shared-batched",
                      T_NEAR, "pkt_per_cpu_s", f"UDP at {NEAR_SATURATION} x the lower saturated rate of the round"),
        ]
        shared_drops = 0
        for r in self.records:
            if r["peer"].startswith("ikeplex-shared") and "sa_delta" in r:
                for s in r["sa_delta"].values():
                    shared_drops += sum(w.get("dropped-replay", 0) for w in s["workers"].values())
        lines.append(f"G5 info shared_sa_replay_drops={shared_drops} (one SA shared by 2 workers: reordering "
                     f"beyond the replay window; not a gate)")
        lines += self.g5_checks()
        lines += [
            self.ratio("G6", "ikeplex/strongswan mbps", "ikeplex-pcpu-batched", "strongswan-libipsec", T_TCP2,
                       "mbps", 3.0, "2 per-CPU SAs, batched vs strongSwan 5.9.8 kernel-libipsec"),
            self.info("G6", "ikeplex-shared-pp/strongswan mbps", "ikeplex-shared-pp", "strongswan-libipsec", T_TCP2,
                      "mbps", "one Child SA, per-packet I/O; anchor >=1.50"),
            self.info("G6", "ikeplex/wireguard-go mbps", "ikeplex-pcpu-batched", "wireguard-go", T_TCP2, "mbps",
                      "Debian's wireguard-go 0.0.20220316 predates wireguard-go's GSO/GRO work"),
        ]
        return lines


def summary_table(records):
    """One line per configuration and test: median pps / Mbit/s / CPU-s per Mpkt over the rounds."""
    rows = {}
    for r in records:
        rows.setdefault((r["peer"], r["test"]), []).append(r)
    out = []
    for (peer, test), rs in rows.items():
        def med(key):
            v = [r[key] for r in rs if r.get(key) is not None]
            return statistics.median(v) if v else None
        loss = f" loss={med('loss_pct'):.1f}%" if med("loss_pct") is not None else ""
        cpu = med("cpu_s_per_Mpkt")
        out.append(f"# median {peer:24s} {test:26s} {'pps_est' if rs[0]['pps_estimated'] else 'pps'}={med('pps'):.0f} "
                   f"mbps={med('mbps'):.0f}{loss} cpu_s_per_Mpkt={f'{cpu:.3f}' if cpu is not None else 'n/a'} "
                   f"(n={len(rs)})")
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description="ikeplex end-to-end gates G3-G6")
    p.add_argument("--build", required=True, help="build tree with apps/ikeplexd, apps/ikeplex, apps/ikeplex-relay")
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds (1..10, default 5; gates need 5)")
    p.add_argument("--duration", type=float, default=4, help="seconds per measurement (2..30, default 4)")
    p.add_argument("--budget", type=float, default=900, help="seconds for the whole run (default 900)")
    p.add_argument("--json", default="/tmp/ikeplex-e2e-gates.json", help="every number (default %(default)s)")
    p.add_argument("--keep", action="store_true", help="keep the run's folder (configs, logs)")
    p.add_argument("--configs", help="comma separated subset of " + ", ".join(CONFIGS) + " (gates that need a "
                   "missing one are reported n/a)")
    args = p.parse_args(argv)
    if os.geteuid() != 0:
        print("gates: needs root (network namespaces)", file=sys.stderr)
        return 77
    try:
        if not 1 <= args.rounds <= 10 or not 2 <= args.duration <= 30:
            raise lib.Failure("--rounds must be 1..10 and --duration 2..30")
        for b in ("ikeplexd", "ikeplex", "ikeplex-relay"):
            if not os.access(os.path.join(args.build, "apps", b), os.X_OK):
                raise lib.Failure(f"{args.build}/apps/{b} is missing (cmake --build {args.build} --target "
                                  f"ikeplexd ikeplex ikeplex-relay)")
        names = [n for n in (args.configs or ",".join(CONFIGS)).split(",") if n]
        for n in names:
            if n not in CONFIGS:
                raise lib.Failure(f"unknown configuration {n!r}")
        peers.check_tools(["ip", "ss", "iperf3", "ping", "taskset", "charon", "swanctl", "wireguard-go",
                           "wg"])
    except lib.Failure as e:
        print(f"gates: {e}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    folder = tempfile.mkdtemp(prefix=f"ikeplex-e2e-{os.getpid()}-")  # bench-e2e.sh removes it after a crash
    m0 = e2e.machine()
    log(f"# e2e gates: {m0['cpus']} CPUs {m0['cpu_model']}, kernel {m0['kernel']}, {m0['date']}, "
        f"loadavg {open('/proc/loadavg').read().split()[:3]}; {args.rounds} rounds x {args.duration:g} s (G3's "
        f"pair twice a round), gates on the median of the per-round ratios; build {args.build}; files in {folder}")
    run = Run(args, folder)
    lines = []
    try:
        with contextlib.ExitStack() as stack:
            run.bring_up(stack, names)
            run.rounds()
            run.rekey_phase()
            log(f"# measurements done after {time.monotonic() - run.t0:.0f} s; teardown")
        for s in summary_table(run.records):
            log(s)
        lines = run.report()
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    m1 = e2e.machine()
    log(f"# e2e gates: {time.monotonic() - run.t0:.0f} s, loadavg at start {m0['loadavg_1m']}, at end "
        f"{m1['loadavg_1m']}")
    for line in lines:
        log(line)
    for e in run.errors:
        log(f"# error: {e}")
    res = {"machine": dict(m0, loadavg_1m_end=m1["loadavg_1m"]),
           "settings": {"rounds": args.rounds, "duration_s": args.duration, "g3_pps": G3_PPS,
                        "g5_pps": G5_PPS, "rekey_pps": rekey.REKEY_PPS, "rekey_duration_s": rekey.DURATION,
                        "near_saturation": NEAR_SATURATION,
                        "statistic": "median of the per-round ratios (pairs measured side by side)"},
           "peers": {n: {"note": gw.note, "info": gw.info, "pids": gw.pids, "devices": gw.devices}
                     for n, (gw, _) in run.up.items()},
           "gates": run.lines, "lines": lines, "measurements": run.records, "rekey": run.rekey,
           "skipped": run.skipped, "errors": run.errors, "elapsed_s": round(time.monotonic() - run.t0, 1)}
    with open(args.json, "w") as f:
        json.dump(res, f, indent=1, default=str)
    log(f"# wrote {args.json}")
    failed = [g for g in run.lines if not g["pass"]]
    return 1 if failed or run.errors else 0


if __name__ == "__main__":
    sys.exit(main())
