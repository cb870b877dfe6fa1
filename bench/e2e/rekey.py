"""The rekey phase of the end-to-end gates (bench/e2e/gates.py, G5 rekey_lost): the per-CPU
group carries 2 UDP streams at a fixed rate while both daemons rekey its members, alone, two
members at once, and both daemons the same member at once (a rekey collision, RFC 7296
§2.8.1). Runs of the same length without rekeys, measured beside it, give the machine's own
loss and its run-to-run spread.

The commands of a step go over VICI at once (bench/e2e/vici_min.py), so "at once" is within
microseconds and both daemons' requests cross on the wire. The baseline runs make the same
control calls at the same times with `stats` in place of `rekey` (see _step).

Check (docs/performance.md "Rekey under load"): in the rekey run the data plane drops no packet
for want of its SA, as a replay or for integrity (worker counters no_sa, replay, integrity, both
daemons: 0), every rekey completes with a new SPI on the same CPU and both daemons end with the
full group, and the datagrams lost in the rekey seconds (iperf3's per-second sequence gaps, from
the second each rekey started to the one after it completed) do not exceed the median of the
same seconds of the baseline runs by more than those runs' spread (max - min)."""
import os
import statistics
import threading
import time

import e2e
import lib
import peers
import traffic
import vici_min

REKEY_PPS = 30000  # 2 streams together: half the G5 rate, well under capacity
DURATION = 14
BASELINES = 3
# (seconds after the start, [(member's CPU, daemon that rekeys), ...]): the commands of one step
# are issued at once. 14 rekey commands, 12 new SAs (the two collisions keep one SA each).
SCHEDULE = [
    (1.0, [(0, "a")]),
    (2.0, [(1, "b")]),
    (3.0, [(1, "a")]),
    (4.0, [(0, "b")]),
    (5.0, [(0, "a"), (1, "b")]),  # two members at once, one by each side
    (6.5, [(0, "a"), (1, "a")]),  # both members by the same side at once
    (8.0, [(0, "a"), (0, "b")]),  # the same member by both sides: a collision
    (9.5, [(1, "b"), (1, "a")]),  # and again, the other member
    (11.0, [(1, "b")]),
    (12.0, [(0, "a")]),
]
DROP_REASONS = ("no_sa", "replay", "integrity")
COLLISION_LOG = "deleting our redundant"  # ikeplexd logs it once per Child SA rekey collision (§2.8.1)


def _log_count(d, text):
    try:
        with open(f"{d.dir}/ikeplexd.log", errors="replace") as f:
            return sum(1 for line in f if text in line)
    except OSError:
        return 0
ERRORS = (lib.Failure, OSError, ValueError, KeyError)


def _step(gw, cmds, t0, events, dry):
    """The rekey commands of one step, sent over VICI within microseconds of each other (the
    CLI's process start would take milliseconds, longer than a whole rekey exchange), then the
    wait for each member's new SPI. `dry` (the baseline runs): the same list-sas calls and
    connections, a `stats` request in place of each rekey, so that the baselines carry the test
    bed's own control load (these 2 CPUs also run the senders, and the receiving iperf3's socket
    buffer holds about 10 ms of a stream)."""
    todo = []
    for cpu, side in cmds:
        d = gw.daemons[side]
        ev = {"cpu": cpu, "by": side, "at_s": round(time.monotonic() - t0, 2), "dry": dry}
        try:
            old = (peers.ikeplex_children(d) or {}).get(str(cpu))
            if old is None:
                raise lib.Failure(f"no member for CPU {cpu} before its rekey")
            ev["old_spi_out"] = old["spi-out"]
            todo.append((d, ev, old, vici_min.Session(d.vici)))
        except ERRORS as e:
            ev.update(ok=False, error=str(e))
            events.append(ev)
    for d, ev, old, v in todo:
        if dry:
            v.send("stats")
        else:
            v.send("rekey", child_id=old["uniqueid"])
    for d, ev, old, v in todo:
        cpu = ev["cpu"]
        try:
            res = v.receive()
            if not dry and res.get("success") != "yes":
                # both sides on one member: if the peer's rekey completed before this request
                # arrived, the SA it names is gone; the member must still be renewed
                if "no matching" not in res.get("errmsg", ""):
                    raise lib.Failure(f"rekey of CPU {cpu}'s member by {ev['by'].upper()}: {res}")
                ev["raced"] = True

            def done(d=d, old=old, cpu=cpu):
                g = peers.ikeplex_children(d) or {}
                new = g.get(str(cpu))
                return new if dry or (new and new["spi-out"] != old["spi-out"] and
                                      not any(k.startswith(f"{cpu}#") for k in g)) else None
            new = lib.wait_until(done, 8, f"the rekey of CPU {cpu}'s member by {ev['by'].upper()}")
            ev.update(new_spi_out=new["spi-out"], new_cpu=new.get("cpu"), ok=True,
                      took_s=round(time.monotonic() - t0 - ev["at_s"], 2))
        except ERRORS as e:
            ev.update(ok=False, error=str(e))
        finally:
            v.close()
        events.append(ev)


def _rekeyer(gw, schedule, stop, events, dry):
    t0 = time.monotonic()
    for when, cmds in schedule:
        if stop.wait(max(0.0, when - (time.monotonic() - t0))):
            return
        _step(gw, cmds, t0, events, dry)


def run_one(gw, topo, kind, log, drops_text, udp_errors):
    """One 2-stream run; kind "rekey" runs SCHEDULE during it. Returns its record or raises."""
    test = e2e.Test("udp1400x2")
    rate = REKEY_PPS * traffic.udp_payload_for(test.packet) * 8
    events, stop, started = [], threading.Event(), threading.Event()
    th = threading.Thread(target=_rekeyer, args=(gw, SCHEDULE, stop, events, kind != "rekey"), daemon=True)
    cpu_sampler = traffic.CpuSampler(gw.pids)

    def on_start():
        cpu_sampler.start()
        if not started.is_set():
            started.set()
            th.start()
    load = round(os.getloadavg()[0], 2)
    collisions0 = sum(_log_count(d, COLLISION_LOG) for d in gw.daemons.values())
    try:
        before = gw.snapshot()
        udp0 = udp_errors(topo, gw.name)
        r = traffic.iperf3(topo.ns.a, topo.ns.b, lib.INNER_A, lib.INNER_B, proto="udp",
                           size=traffic.udp_payload_for(test.packet), rate=rate / test.streams,
                           duration=DURATION, streams=test.streams, client_cpus=test.cpus(),
                           server_cpus=test.cpus(), on_start=on_start, attempts=1, server_output=True,
                           udp_buffer=e2e.app_buffer())
        cpu_sampler.stop()
        udp_d = udp_errors(topo, gw.name, udp0)
    finally:
        stop.set()
        if th.is_alive():
            th.join(timeout=30)
    # both sides must end with the full group again (each side follows the other's rekeys)
    try:
        lib.wait_until(lambda: all(sorted(peers.ikeplex_children(d) or {}) == ["-", "0", "1"]
                                   for d in gw.daemons.values()), 8, "the group on both sides after the run")
        group_ok = True
    except lib.Failure:
        group_ok = False
    delta = peers.ikeplex_delta(before, gw.snapshot())
    collisions = sum(_log_count(d, COLLISION_LOG) for d in gw.daemons.values()) - collisions0
    per_second = {}
    for st in r.streams:
        for iv in getattr(st, "server_intervals", []):
            k = int(round(iv["start"]))
            per_second[k] = per_second.get(k, 0) + (iv.get("lost") or 0)
    drops = {}
    for s in delta:
        for w in delta[s]["workers"].values():
            for k, v in w.items():
                if k.startswith("dropped-") and v:
                    drops[f"{s}:{k[8:]}"] = drops.get(f"{s}:{k[8:]}", 0) + v
    fb = sum(delta[s]["sas"].get("-", {}).get("packets-out", 0) for s in delta)
    rec = {"peer": gw.name, "test": f"udp1400x2@{REKEY_PPS // 1000}kpps", "kind": kind, "loadavg_1m": load,
           "sent": r.packets, "arrived": r.rx_packets, "lost": r.lost, "loss_pct": round(r.loss_pct, 4),
           "gw_cpu_s": round(cpu_sampler.total, 3), "rekeys": sorted(events, key=lambda e: e["at_s"]),
           "group_after": group_ok, "sa_delta": delta, "udp_errors": udp_d, "lost_per_second": per_second,
           "worker_drops": drops, "fallback_tx": fb, "collisions": collisions, "app_buffer": e2e.app_buffer()}
    lossy = {f"{k}-{k + 1}s": v for k, v in sorted(per_second.items()) if v}
    done = [(e["cpu"], e["by"], e["at_s"], e.get("took_s") if e["ok"] else "FAILED") for e in rec["rekeys"]
            if not e["dry"]]
    log(f"E2E {gw.name} {rec['test']} {kind} sent={r.packets} arrived={r.rx_packets} lost={r.lost} "
        f"loss={r.loss_pct:.3f}% fallback_tx=+{fb} {drops_text(rec)} gaps_by_second={lossy or 0} "
        f"rekeys(cpu,by,at,took)={done or '-'} collisions={collisions} load={load}")
    return rec


def rekey_seconds(rec):
    """The seconds of iperf3's clock touched by a rekey: from the second it started to the one
    after it completed."""
    seconds = set()
    for e in rec["rekeys"]:
        first = int(e["at_s"] - 0.5)  # iperf3's clock starts a little after on_start
        last = int(e["at_s"] + (e.get("took_s") or 1.0) + 1.0)
        seconds.update(range(max(0, first), last + 1))
    return seconds


def check(rk, base):
    """(ok, value, condition, detail) of the rekey check; see the module's doc."""
    commands = sum(len(c) for _, c in SCHEDULE)
    rekeys_ok = len(rk["rekeys"]) == commands and rk["group_after"] and \
        all(e["ok"] and e.get("new_cpu") == str(e["cpu"]) for e in rk["rekeys"])
    seconds = rekey_seconds(rk)
    lost = sum(v for k, v in rk["lost_per_second"].items() if int(k) in seconds)
    bl = [sum(v for k, v in b["lost_per_second"].items() if int(k) in seconds) for b in base]
    allowed = statistics.median(bl) + (max(bl) - min(bl)) if bl else 0
    dp = {k: v for k, v in rk["worker_drops"].items() if k.split(":")[1] in DROP_REASONS}
    ok = rekeys_ok and len(base) >= BASELINES and lost <= allowed and not dp
    failed = [e for e in rk["rekeys"] if not e["ok"]]
    raced = sum(1 for e in rk["rekeys"] if e.get("raced"))
    took = [e["took_s"] for e in rk["rekeys"] if e["ok"]]
    detail = (f"udp1400x2@{REKEY_PPS // 1000}kpps, {DURATION} s, iperf3 -w {rk.get('app_buffer') or 'default'}; "
              f"{commands} rekey commands in {len(SCHEDULE)} "
              f"steps (alone, two members at once, both sides on one member at once), "
              f"{len(rk['rekeys']) - len(failed)} completed"
              + (f" in {min(took)}-{max(took)} s" if took else "")
              + f" ({rk.get('collisions', 0)} collisions resolved by the nonces, {raced} commands found the member "
              f"already renewed by the peer)"
              + (f", FAILED: {'; '.join(str(e.get('error')) for e in failed[:3])}" if failed else "")
              + ("" if rk["group_after"] else ", group not whole after the run")
              + f"; {len(seconds)} rekey seconds: lost {lost}, {len(base)} baselines {bl} (median "
              f"{statistics.median(bl) if bl else 'n/a'}, spread {max(bl) - min(bl) if bl else 'n/a'}); whole run "
              f"lost {rk['lost']} of {rk['sent']} (baselines {', '.join(str(b['lost']) for b in base)}); data-plane "
              f"drops no_sa/replay/integrity {dp or 0}, all {rk['worker_drops'] or 0}; fallback_tx +{rk['fallback_tx']}")
    return ok, lost, f"<={allowed:g} = baseline median + spread, no no_sa/replay/integrity drops", detail
