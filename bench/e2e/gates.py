#!/usr/bin/env python3
"""End-to-end data-plane gates G3-G6 (docs performance-anchors.md §C; results and method in
docs/performance.md "End to end (G3-G6)"). Every configuration below runs in its own namespace
pair of the shared topology (lib.Namespaces), all are brought up first, then measured in
interleaved rounds (round by round, test by test, configuration by configuration, the order of
the configurations rotated each round), so that the two sides of each ratio come from the same
minutes of a noisy 2-vCPU machine. A ratio uses the best round of each side (best of N: load
from other processes only ever lowers a figure); the per-round ratios are printed beside it.

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
  udp1400x2@60kpps      2 UDP streams at 30k packets/s each (G5 gate)
  udp1400x2             2 UDP streams, unlimited (G5 saturated, reported)
  udp1400x2@30kpps      rekey phase after the rounds: baseline, rekey run, baseline (10 s each)
"pkt_per_cpu_s" = datagrams (TCP: bytes / MSS) that arrived per CPU-second used by both gateway
processes (utime + stime of all their threads, which includes the kernel work done in their
system calls): the per-core packet rate of the gateway pair. At a fixed offered rate below
capacity both sides of a ratio carry the same packets, so the ratio is the inverse ratio of CPU
cost per packet; unlimited senders on a 2-vCPU machine mostly measure how the scheduler splits
the CPUs between sender and gateways (receive livelock), which is why those are reported only.
Gate lines (exit status 1 if one FAILs or cannot be computed):
  G3 esp/relay pkt_per_cpu_s=..   (PASS >=0.80)   per-CPU ESP vs relay, per-packet I/O
  G4 batched/pp mbps=..           (PASS >=3.00)   ikeplex-pcpu, offloads yes vs no, tcpx2
  G5 pcpu/shared pkt_per_cpu_s=.. (PASS >=1.15)   batched, udp1400x2@60kpps (stretch 1.60 printed)
  G5 fallback_tx, wrong_cpu_pkts, replay_integrity_drops (==0), rekey_lost (<= baseline)
  G6 ikeplex/strongswan mbps=..   (PASS >=3.00)   pcpu-batched vs kernel-libipsec, tcpx2
Lines "G<n> info ..." are reported figures, not gates.
Usage: gates.py --build DIR [--rounds 3] [--duration 4] [--json FILE] [--keep] [--budget 360]
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
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))
import e2e  # noqa: E402
import lib  # noqa: E402
import peers  # noqa: E402
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
REKEY_PPS = 30000  # rekey phase (2 streams): half the G5 rate, well under capacity
REKEY_DURATION = 10
REKEYS = [(0, 3.0, "a"), (1, 6.5, "b")]  # (member's CPU, seconds after the start, daemon that rekeys)
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

# (test, configurations) measured each round, in this order. G3's fixed-rate pair is the
# smallest difference measured here (ESP adds ~10 % to the per-packet cost), so it is measured at
# the start and at the end of each round: 2N samples per side.
PLAN = [
    (T_G3, ["relay-pp", "ikeplex-pcpu-pp"]),
    (T_G3_MAX, ["relay-pp", "ikeplex-pcpu-pp"]),
    (T_TCP2, ["ikeplex-pcpu-pp", "ikeplex-pcpu-batched", "ikeplex-shared-pp", "ikeplex-shared-batched",
              "relay-batched", "strongswan-libipsec", "wireguard-go"]),
    (T_G5, ["ikeplex-pcpu-batched", "ikeplex-shared-batched"]),
    (T_UDP2, ["ikeplex-pcpu-batched", "ikeplex-shared-batched"]),
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
                for name in names[k:] + names[:k]:
                    self.measure(name, test, rnd)

    # -- rekey phase (G5) --------------------------------------------------------------------

    def rekey_phase(self):
        name = "ikeplex-pcpu-batched"
        if name not in self.up:
            return
        gw, topo = self.up[name]
        test = Test("udp1400x2", label=f"udp1400x2@{REKEY_PPS // 1000}kpps", pps=REKEY_PPS)
        log(f"# rekey phase: {name}, udp1400x2 at {REKEY_PPS} pps in total (half the G5 rate), "
            f"{REKEY_DURATION} s per run: baseline, rekey run (CPU 0's member by A, CPU 1's by B), baseline")
        for kind in ("baseline", "rekey", "baseline"):
            need = REKEY_DURATION + e2e.PER_TEST_OVERHEAD_S + 3
            if time.monotonic() + need > self.deadline:
                self.skipped.append({"peer": name, "test": test.name, "why": f"rekey phase {kind}: time budget"})
                log(f"E2E {name} {test.name} {kind} SKIPPED (time budget)")
                continue
            rec = self.rekey_run(gw, topo, test, kind)
            if rec is not None:
                self.rekey.append(rec)

    def rekey_run(self, gw, topo, test, kind):
        events, started = [], threading.Event()
        stop = threading.Event()
        # CPU 0's member rekeyed by A (it sends the traffic), CPU 1's by B (it receives it): both
        # roles of a rekey under load
        at = REKEYS if kind == "rekey" else []

        def rekeyer():
            t0 = time.monotonic()
            for cpu, when, side in at:
                if stop.wait(max(0.0, when - (time.monotonic() - t0))):
                    return
                d = gw.daemons[side]
                ev = {"cpu": cpu, "by": side, "at_s": round(time.monotonic() - t0, 2)}
                try:
                    old = (peers.ikeplex_children(d) or {}).get(str(cpu))
                    if old is None:
                        raise lib.Failure(f"no member for CPU {cpu} before its rekey")
                    ev["old_spi_out"] = old["spi-out"]
                    d.cli("rekey", "--child-id", old["uniqueid"], timeout=10)

                    def done(d=d, old=old):
                        g = peers.ikeplex_children(d) or {}
                        new = g.get(str(cpu))
                        return new if new and new["spi-out"] != old["spi-out"] and \
                            not any(k.startswith(f"{cpu}#") for k in g) else None
                    new = lib.wait_until(done, 5, f"the rekey of CPU {cpu}'s member")
                    ev.update(new_spi_out=new["spi-out"], new_cpu=new.get("cpu"), ok=True,
                              took_s=round(time.monotonic() - t0 - ev["at_s"], 2))
                except ERRORS as e:
                    ev.update(ok=False, error=str(e))
                events.append(ev)

        th = threading.Thread(target=rekeyer, daemon=True)
        cpu_sampler = traffic.CpuSampler(gw.pids)

        def on_start():
            cpu_sampler.start()
            if not started.is_set():
                started.set()
                th.start()
        load = round(os.getloadavg()[0], 2)
        devs = {"a": (topo.ns.a, gw.devices["a"]), "b": (topo.ns.b, gw.devices["b"]),
                "va": (topo.ns.a, topo.ns.veth_a), "vb": (topo.ns.b, topo.ns.veth_b)}
        try:
            before = gw.snapshot()
            udp0 = udp_errors(topo, gw.name)
            tun0 = {s: traffic.link_counters(*v) for s, v in devs.items()}
            soft0 = softnet_drops()
            r = traffic.iperf3(topo.ns.a, topo.ns.b, lib.INNER_A, lib.INNER_B, proto="udp",
                               size=traffic.udp_payload_for(test.packet), rate=test.rate / test.streams,
                               duration=REKEY_DURATION, streams=test.streams, client_cpus=test.cpus(),
                               server_cpus=test.cpus(), on_start=on_start, attempts=1, server_output=True)
            cpu_sampler.stop()
            udp_d = udp_errors(topo, gw.name, udp0)
            tun_d = {f"{s[-1]}:{devs[s][1]}": traffic.counters_delta(tun0[s], traffic.link_counters(*devs[s]))
                     for s in devs}
            softnet = softnet_drops() - soft0
        except ERRORS as e:
            self.errors.append(f"rekey phase {kind}: {e}")
            log(f"E2E {gw.name} {test.name} {kind} ERROR {e}")
            return None
        finally:
            stop.set()
            if th.is_alive():
                th.join(timeout=20)
        # both sides must end with the full group again (each side follows the other's rekeys)
        try:
            try:
                lib.wait_until(lambda: all(sorted(peers.ikeplex_children(d) or {}) == ["-", "0", "1"]
                                           for d in gw.daemons.values()), 5, "the group on both sides after the run")
                group_ok = True
            except lib.Failure:
                group_ok = False
            delta = peers.ikeplex_delta(before, gw.snapshot())
        except ERRORS as e:
            self.errors.append(f"rekey phase {kind}: reading the counters: {e}")
            log(f"E2E {gw.name} {test.name} {kind} ERROR {e}")
            return None
        rec = {"peer": gw.name, "test": test.name, "kind": kind, "loadavg_1m": load, "offered_bps": test.rate,
               "sent": r.packets, "arrived": r.rx_packets, "lost": r.lost, "loss_pct": round(r.loss_pct, 4),
               "pps": round(r.pps), "gw_cpu_s": round(cpu_sampler.total, 3), "rekeys": events,
               "group_after": group_ok, "sa_delta": delta, "traffic": r.as_dict(), "udp_errors": udp_d,
               "counters": tun_d, "softnet_dropped": softnet}
        # datagrams missing per second (the servers' intervals, all streams together)
        per_second = {}
        for st in r.streams:
            for iv in getattr(st, "server_intervals", []):
                k = int(round(iv["start"]))
                per_second[k] = per_second.get(k, 0) + (iv.get("lost") or 0)
        rec["lost_per_second"] = per_second
        lossy = {f"{k}-{k + 1}s": v for k, v in sorted(per_second.items()) if v}
        fb = sum(delta[s]["sas"].get("-", {}).get("packets-out", 0) for s in delta)
        drops = {}
        for s in delta:
            for w in delta[s]["workers"].values():
                for k, v in w.items():
                    if k.startswith("dropped-") and v:
                        drops[f"{s}:{k[8:]}"] = drops.get(f"{s}:{k[8:]}", 0) + v
        rec["fallback_tx"], rec["worker_drops"] = fb, drops
        done = [(e["cpu"], e["by"], e["at_s"], e.get("took_s") if e["ok"] else "FAILED") for e in events]
        log(f"E2E {gw.name} {test.name} {kind} sent={r.packets} arrived={r.rx_packets} lost={r.lost} "
            f"loss={r.loss_pct:.3f}% fallback_tx=+{fb} {drops_text(rec)} gaps_by_second={lossy or 0} "
            f"rekeys(cpu,by,at,took)={done if at else '-'} load={load}")
        return rec

    # -- gates -------------------------------------------------------------------------------

    def best(self, name, test, key):
        rs = [r for r in self.records if r["peer"] == name and r["test"] == test.name and r.get(key) is not None]
        return max(rs, key=lambda r: r[key]) if rs else None

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

    def ratio(self, gate, what, num, den, test, key, minimum, note=""):
        bn, bd = self.best(num, test, key), self.best(den, test, key)
        rounds = self.per_round(num, den, test, key)
        n = sum(1 for r in self.records if r["peer"] == num and r["test"] == test.name)
        extra = f"[{test.name}, best of {n}: {bn[key] if bn else 'n/a'} vs " \
                f"{bd[key] if bd else 'n/a'}; per round {' '.join(f'{x:.2f}' for x in rounds) or 'n/a'}" \
                f"{'; ' + note if note else ''}]"
        line = gate_line(gate, what, bn[key] if bn else None, bd[key] if bd else None, minimum, extra)
        self.lines.append({"gate": gate, "line": line, "num": num, "den": den, "test": test.name, "key": key,
                           "best_num": bn[key] if bn else None, "best_den": bd[key] if bd else None,
                           "per_round": [round(x, 3) for x in rounds],
                           "median_per_round": round(statistics.median(rounds), 3) if rounds else None,
                           "ratio": round(bn[key] / bd[key], 3) if bn and bd and bd[key] else None,
                           "min": minimum, "pass": bool(bn and bd and bd[key] and bn[key] / bd[key] >= minimum)})
        return line

    def info(self, gate, what, num, den, test, key, note):
        bn, bd = self.best(num, test, key), self.best(den, test, key)
        if not bn or not bd or not bd[key]:
            return f"{gate} info {what}=n/a ({note})"
        rounds = self.per_round(num, den, test, key)
        return f"{gate} info {what}={bn[key] / bd[key]:.2f} ({note}; {test.name}, best {bn[key]} vs {bd[key]}; " \
               f"per round {' '.join(f'{x:.2f}' for x in rounds)})"

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
            out.append(self.rekey_check(rk[0], base))
        return out

    def rekey_check(self, r, base):
        """No loss while each member is rekeyed under load. Loss = datagrams missing (iperf3's
        per-second sequence gaps, all streams) in the seconds around each rekey: from the second
        it started to the one after it completed. The same seconds of the baseline runs (same
        rate, no rekey) give the machine's own loss there; the rekey run may not lose more. Any
        inbound packet the data plane dropped for want of its SA (no_sa: an SA deleted while
        packets for it were still on the way) or for replay/integrity during the rekey run is
        rekey loss whatever the baseline says."""
        rekeys_ok = len(r["rekeys"]) == len(REKEYS) and r["group_after"] and \
            all(e["ok"] and e.get("new_cpu") == str(e["cpu"]) for e in r["rekeys"])
        seconds = set()
        for e in r["rekeys"]:
            first = int(e["at_s"] - 0.5)  # iperf3's clock starts a little after on_start
            last = int(e["at_s"] + (e.get("took_s") or 1.0) + 1.0)
            seconds.update(range(max(0, first), last + 1))
        lost = sum(v for k, v in r["lost_per_second"].items() if int(k) in seconds)
        allowed = max(sum(v for k, v in b["lost_per_second"].items() if int(k) in seconds) for b in base)
        dp = {k: v for k, v in r["worker_drops"].items() if k.split(":")[1] in ("no_sa", "replay", "integrity")}
        ok = rekeys_ok and lost <= allowed and not dp
        secs = ",".join(str(x) for x in sorted(seconds))
        return self.check(
            "G5", "rekey_lost", lost, ok, f"<={allowed} baseline, no no_sa/replay drops",
            f"{r['test']}, {REKEY_DURATION} s; "
            + "; ".join(f"CPU {e['cpu']}'s member rekeyed by {e['by'].upper()} at {e['at_s']} s"
                        + (f" ({e['took_s']} s)" if e["ok"] else f" FAILED: {e.get('error')}") for e in r["rekeys"])
            + f"{'' if rekeys_ok else ' (REKEY NOT COMPLETED)'}; seconds {secs}: lost {lost}, baselines "
            f"{', '.join(str(sum(v for k, v in b['lost_per_second'].items() if int(k) in seconds)) for b in base)}; "
            f"whole run lost {r['lost']} of {r['sent']} (baselines {', '.join(str(b['lost']) for b in base)}); "
            f"data-plane drops in the rekey run {r['worker_drops'] or 0}; fallback_tx +{r['fallback_tx']}")

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
            exact = g5["best_num"] / g5["best_den"]
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
    """One line per configuration and test: best pps / Mbit/s / CPU-s per Mpkt over the rounds."""
    rows = {}
    for r in records:
        rows.setdefault((r["peer"], r["test"]), []).append(r)
    out = []
    for (peer, test), rs in rows.items():
        b = max(rs, key=lambda r: r["pps"])
        cpu = min((r["cpu_s_per_Mpkt"] for r in rs if r["cpu_s_per_Mpkt"]), default=None)
        loss = f" loss={b['loss_pct']:.1f}%" if b["loss_pct"] is not None else ""
        out.append(f"# best {peer:24s} {test:22s} {'pps_est' if b['pps_estimated'] else 'pps'}={b['pps']} "
                   f"mbps={b['mbps']:.0f}{loss} cpu_s_per_Mpkt={cpu if cpu is not None else 'n/a'} (n={len(rs)})")
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description="ikeplex end-to-end gates G3-G6")
    p.add_argument("--build", required=True, help="build tree with apps/ikeplexd, apps/ikeplex, apps/ikeplex-relay")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (1..10, default 3)")
    p.add_argument("--duration", type=float, default=4, help="seconds per measurement (2..30, default 4)")
    p.add_argument("--budget", type=float, default=360, help="seconds for the whole run (default 360)")
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
        f"pair twice a round), best run per configuration; build {args.build}; files in {folder}")
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
                        "g5_pps": G5_PPS, "rekey_pps": REKEY_PPS, "rekey_duration_s": REKEY_DURATION,
                        "statistic": "best of rounds per configuration; per-round ratios beside"},
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
