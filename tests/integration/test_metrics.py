#!/usr/bin/env python3
"""The Prometheus endpoint (issue 20): two ikeplexd (backend userspace, 2 workers) with an RFC
9611 group, metrics on inside each namespace (A: per_sa = no, B: per_sa = yes). Scraped with
urllib inside the namespace and parsed as the text exposition format: names and types, one IKE
SA, the group's members per CPU, per-CPU packet counters that grow by at least the pings sent
from each CPU (taskset), a second scrape after more traffic, a Child SA rekey counted, per-SA
series only on B. Then a third ikeplexd whose metrics address is taken must refuse to start."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lib import Failure, Ikeplexd, Namespaces, group, main_wrapper, run, side_conf, wait_until  # noqa: E402

GROUP = "per_cpu_sas = yes\n                per_cpu_sas_start = all"
CPUS = 2
PORT = 9903
PINGS = 5

# Families every scrape must carry, with their types (docs/config.md, "Metrics").
EXPECTED = {
    "ikeplex_ike_sas": "gauge",
    "ikeplex_ike_sas_half_open": "gauge",
    "ikeplex_ike_cookies_required": "gauge",
    "ikeplex_child_sas": "gauge",
    "ikeplex_group_members": "gauge",
    "ikeplex_ike_rekeys_total": "counter",
    "ikeplex_child_rekeys_total": "counter",
    "ikeplex_ike_retransmits_total": "counter",
    "ikeplex_ike_cookies_sent_total": "counter",
    "ikeplex_ts_max_queue_sent_total": "counter",
    "ikeplex_ts_max_queue_received_total": "counter",
    "ikeplex_dataplane_packets_total": "counter",
    "ikeplex_dataplane_bytes_total": "counter",
    "ikeplex_dataplane_drops_total": "counter",
    "ikeplex_udp_datagrams_total": "counter",
    "ikeplex_vici_clients": "gauge",
}
PER_SA = ("ikeplex_sa_info", "ikeplex_sa_child_bytes_total", "ikeplex_sa_child_packets_total")

TYPE_LINE = re.compile(r"^# TYPE (\S+) (\S+)$")
SAMPLE_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


class Scrape:
    """One scrape in the text exposition format: {family: type} and {name: [(labels, value)]}."""

    def __init__(self, text):
        self.types, self.samples = {}, {}
        for line in text.splitlines():
            if not line or line.startswith("# HELP"):
                continue
            if m := TYPE_LINE.match(line):
                self.types[m.group(1)] = m.group(2)
                continue
            m = SAMPLE_LINE.match(line)
            if m is None:
                raise Failure(f"not the text exposition format: {line!r}")
            name, labels, value = m.group(1), dict(LABEL.findall(m.group(2) or "")), float(m.group(3))
            family = re.sub(r"_(count|sum|bucket)$", "", name) if name not in self.types else name
            if family not in self.types:
                raise Failure(f"sample {name} without a TYPE line")
            self.samples.setdefault(name, []).append((labels, value))

    def get(self, name, **want):
        """The sum of `name`'s samples whose labels include `want`; a Failure if there is none."""
        hits = [v for labels, v in self.samples.get(name, []) if all(labels.get(k) == w for k, w in want.items())]
        if not hits:
            raise Failure(f"no sample {name}{want}")
        return sum(hits)


def scrape(ns):
    code = ("import sys, urllib.request; "
            "sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())")
    return Scrape(run(["ip", "netns", "exec", ns, "python3", "-c", code, f"http://127.0.0.1:{PORT}/metrics"],
                      timeout=15))


def ping(ns, cpu, src, dst, count=PINGS):
    out = run(["ip", "netns", "exec", ns, "taskset", "-c", str(cpu), "ping", "-c", str(count), "-i", "0.05",
               "-W", "2", "-I", src, dst], timeout=30, check=False)
    if f"{count} received" not in out:
        raise Failure(f"ping {src} -> {dst} on CPU {cpu}: {out}")


def full_group(d):
    g = group(d)
    return g if g is not None and sorted(g) == ["-"] + [str(k) for k in range(CPUS)] else None


def cpu_packets(s, direction):
    return {cpu: s.get("ikeplex_dataplane_packets_total", cpu=str(cpu), direction=direction)
            for cpu in range(CPUS)}


def check_names_and_types(s):
    for name, kind in EXPECTED.items():
        if s.types.get(name) != kind:
            raise Failure(f"{name}: type {s.types.get(name)}, expected {kind}")
    for name, kind in s.types.items():
        if name.startswith("exposer_"):
            continue  # prometheus-cpp's own: scrapes, bytes sent, request latencies
        assert name.startswith("ikeplex_"), name
        assert (kind == "counter") == name.endswith("_total"), (name, kind)


def sas_and_group(s):
    """The snapshot shows one established IKE SA and the group: fallback + one member per CPU."""
    want = [s.get("ikeplex_ike_sas", state="ESTABLISHED") == 1,
            s.get("ikeplex_ike_sas") == 1,
            s.get("ikeplex_child_sas", state="INSTALLED") == CPUS + 1,
            s.get("ikeplex_group_members", child="net", cpu="fallback") == 1]
    want += [s.get("ikeplex_group_members", child="net", cpu=str(k)) == 1 for k in range(CPUS)]
    return s if all(want) else None


def grew(ns, before, direction, at_least):
    """Waits for a snapshot in which each CPU's packet counter grew by `at_least[cpu]`."""
    def check():
        s = scrape(ns)
        now = cpu_packets(s, direction)
        return s if all(now[k] - before[k] >= at_least[k] for k in range(CPUS)) else None
    return wait_until(check, 5, f"per-CPU {direction} packet counters to grow by {at_least} from {before}")


def traffic_and_counters(ns):
    s0 = wait_until(lambda: sas_and_group(scrape(ns.a)), 5, "one IKE SA and the group in A's metrics")
    check_names_and_types(s0)
    before = cpu_packets(s0, "out")
    for cpu in range(CPUS):
        ping(ns.a, cpu, "10.99.1.1", "10.99.2.1")
    s1 = grew(ns.a, before, "out", {k: PINGS for k in range(CPUS)})
    received = sum(cpu_packets(s1, "in").values()) - sum(cpu_packets(s0, "in").values())
    assert received >= CPUS * PINGS, ("echo replies not counted in", received)
    print(f"per-CPU packets out {before} -> {cpu_packets(s1, 'out')}, in +{received}")
    # A second scrape after more traffic, on CPU 0 only: its counters (packets and bytes) grow.
    after = cpu_packets(s1, "out")
    ping(ns.a, 0, "10.99.1.1", "10.99.2.1", count=2 * PINGS)
    s2 = grew(ns.a, after, "out", {0: 2 * PINGS, 1: 0})
    assert s2.get("ikeplex_dataplane_bytes_total", cpu="0", direction="out") > \
        s1.get("ikeplex_dataplane_bytes_total", cpu="0", direction="out")
    assert s2.get("ikeplex_dataplane_drops_total", reason="replay") == 0
    print(f"second scrape: CPU 0 out {after[0]} -> {cpu_packets(s2, 'out')[0]}")
    assert not any(name.startswith("ikeplex_sa_") for name in s2.types), "per-SA series with per_sa = no"


def rekey_counted(ns, a):
    assert scrape(ns.a).get("ikeplex_child_rekeys_total") == 0
    uid = group(a)["0"]["uniqueid"]
    a.cli("rekey", "--child-id", uid)
    wait_until(lambda: scrape(ns.a).get("ikeplex_child_rekeys_total") >= 1, 10, "the Child SA rekey in the metrics")
    print("Child SA rekey counted")


def per_sa_series(ns, b):
    ike = b.sas()[0]["t"]
    uid = ike["uniqueid"]
    ids = sorted(c["uniqueid"] for c in ike["child-sas"].values() if c["state"] == "INSTALLED")

    def check():
        s = scrape(ns.b)
        seen = sorted({labels["child_id"] for labels, _ in s.samples.get("ikeplex_sa_child_packets_total", [])})
        return s if seen == ids else None
    s = wait_until(check, 5, f"per-SA series of Child SAs {ids} on B")
    assert s.get("ikeplex_sa_info", conn="t", ike_id=uid, state="ESTABLISHED") == 1
    for name in PER_SA:
        assert s.types.get(name) == ("gauge" if name == "ikeplex_sa_info" else "counter"), (name, s.types.get(name))
    # B's members carried A's pings: their inbound packets are in the per-SA series.
    assert s.get("ikeplex_sa_child_packets_total", conn="t", direction="in") >= CPUS * PINGS
    print(f"per_sa = yes on B: IKE SA {uid}, Child SAs {ids}")


def address_taken(build, ns, folder):
    """A third ikeplexd in A's namespace (other IKE ports, backend none) wants A's metrics port."""
    extra = f"port = 1500\n    port_nat_t = 14500\n    metrics {{ listen = 127.0.0.1:{PORT} }}"
    try:
        c = Ikeplexd(build, ns.a, folder, side_conf("a"), extra=extra)
        c.close()
        raise AssertionError("ikeplexd started although its metrics address was taken")
    except Failure as e:
        if "ikeplexd exited" not in str(e):
            raise
    log = open(f"{folder}/ikeplexd.log").read()
    want = f"metrics: cannot listen on 127.0.0.1:{PORT}: Address already in use"
    assert want in log, log
    print(f"metrics address taken: ikeplexd refused to start ({want})")


def test(build, folder):
    with Namespaces() as ns:
        a = b = None
        try:
            metrics = "metrics {{ listen = 127.0.0.1:{}\n per_sa = {} }}"
            b = Ikeplexd(build, ns.b, f"{folder}/b", side_conf("b", child_extra=GROUP), workers=CPUS, window=4,
                         backend="userspace", extra=metrics.format(PORT, "yes"))
            a = Ikeplexd(build, ns.a, f"{folder}/a", side_conf("a", child_extra=GROUP), workers=CPUS, window=4,
                         backend="userspace", extra=metrics.format(PORT, "no"))
            out = a.cli("initiate", "--child", "net")
            assert "initiate completed successfully" in out, out
            wait_until(lambda: full_group(a) and full_group(b), 15, "the group on both sides")
            traffic_and_counters(ns)
            per_sa_series(ns, b)
            rekey_counted(ns, a)
            address_taken(build, ns, f"{folder}/c")
        finally:
            for d in (a, b):
                if d is not None:
                    d.close()


if __name__ == "__main__":
    sys.exit(main_wrapper(test, "metrics"))
