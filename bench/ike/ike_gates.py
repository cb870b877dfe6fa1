#!/usr/bin/env python3
"""IKE control-plane gates G7-G8 (issue 17; results and method in docs/performance.md "IKE control
plane at scale"). A responder runs in namespace A (10.99.0.1), pinned to CPU 0; ikeplex-load
(apps/ikeplex-load, our engine as the initiator) runs in namespace B, pinned to CPU 1, with every
address of 10.99.16.0/20 local (a "local" route on lo), and sets up N IKE SAs (X25519, PSK,
AES-GCM-128, one Child SA each, or an RFC 9611 group) from 256 source addresses, then deletes
them. The responder is started afresh for every run; its CPU time (utime + stime of all its
threads) and RSS are read by ikeplex-load from /proc. Sizes and responders are interleaved
round by round, and each figure is the median over the rounds.

Responders:
  ikeplexd   backend = none (IKE only), logging at the default level 1
  charon     Debian's strongSwan 5.9.8 with kernel-libipsec and install_routes = no (Debian's
             charon has no load-tester plugin and no fake kernel: its Child SAs go to libipsec in
             userspace, which costs it a little per Child SA that ikeplexd does not pay); logging
             default 0 / ike 1; info only (G7c)

Gate lines (exit status 1 if one FAILs or cannot be computed):
  G7a cpu_us_per_sa 10000/1000=..     (PASS <=1.20)  responder CPU per IKE SA + Child SA, flat
  G7a delete_cpu_us_per_sa 10000/1000=.. (PASS <=1.20)
  G7b sa_per_cpu_s/x25519_ceiling=..  (PASS >=0.50)  at 10000 SAs; the ceiling is crypto_bench's
                                      BM_KeyExchange/31 (one X25519 key generation + one shared
                                      secret, the responder's two operations) per second, on CPU 0
  G8 kib_per_sa=..                    (PASS <=7)     responder RSS growth per IKE SA + Child SA at 10000
  G8 rss_after_delete_mib_over_start=.. (PASS <=20)  at 10000
  G7c info charon/ikeplexd cpu_us_per_sa=.. at each size
  G7g child_per_cpu_s/x25519_ceiling (PASS >=0.50), kib_per_child (PASS <=7): 1000 IKE SAs each
                                      with an RFC 9611 group of 4 members + the fallback, per Child SA
Usage: ike_gates.py --build DIR [--sizes 1000,5000,10000] [--rounds 3] [--no-charon] [--no-groups]
                    [--json FILE] [--plot PNG] [--keep]
Needs root; Python 3.11 standard library (matplotlib for --plot).
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))
import lib  # noqa: E402

SOURCES = "10.99.16.0/20"
ADDRESSES = 256
PSK = lib.PSK
IKE = "aes128gcm16-prfsha256-x25519"
ESP = "aes128gcm16"
GEN_TS, RESP_TS = "10.98.0.0/16", "10.97.0.0/16"
LOG = {"default": 1}  # both daemons at strongSwan's default log level
GROUP_SAS, GROUP_K = 1000, 4


def responder_conf(group=0):
    """swanctl.conf of the responder (ikeplexd and charon read the same file)."""
    return lib.load_responder_conf("per_cpu_sas = yes" if group else "", ike=IKE, esp=ESP)


def pin(pid, cpu):
    lib.run(["taskset", "-a", "-p", "-c", str(cpu), str(pid)])


def start_responder(kind, build, ns, folder, group):
    """A fresh responder pinned to CPU 0; returns (pid, close)."""
    if kind == "ikeplexd":
        # backend none; groups need a resource per member (workers)
        d = lib.Ikeplexd(build, ns, folder, responder_conf(group), workers=max(group, 1), window=4,
                         backend="none", log_levels=LOG,
                         extra="dos_protection = no  # the load's many SAs per source address")
        pin(d.proc.pid, 0)
        return d.proc.pid, d.close
    c = lib.Charon(ns, folder, responder_conf(group), log_levels=LOG,
                   extra="cookie_threshold = 100000\n  block_threshold = 100000\n  threads = 16")
    pin(c.pid, 0)
    return c.pid, c.close


def parse(out):
    """ikeplex-load's "load key=value ..." lines as one dict of floats (and strings)."""
    res = {}
    for line in out.splitlines():
        if not line.startswith("load "):
            continue
        words = line.split()
        prefix = f"{words[1]}_" if len(words) > 1 and "=" not in words[1] else ""  # "load setup_ms p50=.."
        for k, v in re.findall(r"(\w+)=(\S+)", line):
            k = prefix + k
            try:
                res[k] = float(v)
            except ValueError:
                res[k] = v
    return res


def one_run(kind, n, group, build, ns, folder, timeout):
    pid, close = start_responder(kind, build, ns.a, folder, group)
    try:
        cmd = ["ip", "netns", "exec", ns.b, "taskset", "-c", "1", f"{build}/apps/ikeplex-load",
               "--remote", "10.99.0.1", "--sources", SOURCES, "--addresses", str(ADDRESSES),
               "--sas", str(n), "--concurrency", "64", "--psk", PSK, "--ike", IKE, "--esp", ESP,
               "--local-ts", GEN_TS, "--remote-ts", RESP_TS, "--responder-pid", str(pid),
               "--timeout", str(timeout)]
        if group:
            cmd += ["--group", str(group)]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 60)
        res = parse(p.stdout)
        if p.returncode != 0:
            raise lib.Failure(f"ikeplex-load against {kind} with {n} SAs: exit {p.returncode}: "
                              f"{p.stderr.strip()[-500:]} {p.stdout.strip()[-500:]}")
        return res
    finally:
        close()


def median(runs, key):
    vals = [r[key] for r in runs if key in r]
    return statistics.median(vals) if vals else None


def ceiling(build):
    """X25519 key generation + shared secret per second on CPU 0: crypto_bench's
    BM_KeyExchange/31, median CPU time of 5 repetitions (its exit status reflects its own
    gates, which the filter leaves out, so only the lines are read)."""
    out = lib.run(["taskset", "-c", "0", f"{build}/bench/crypto_bench", "--benchmark_filter=BM_KeyExchange/31$",
                   "--benchmark_repetitions=5", "--benchmark_min_time=0.2"], timeout=120, check=False)
    times = []
    for line in out.splitlines():
        m = re.match(r"BM_KeyExchange/31\s+[\d.]+ (ns|us|ms)\s+([\d.]+) (ns|us|ms)\s+\d+", line)
        if m:
            times.append(float(m.group(2)) * {"ns": 1e-3, "us": 1.0, "ms": 1e3}[m.group(3)])
    if len(times) < 3:
        raise lib.Failure(f"crypto_bench gave no BM_KeyExchange/31 repetitions: {out[-500:]}")
    us = statistics.median(times)
    return 1e6 / us, us


def gate(name, what, value, op, limit, rounds=None):
    ok = value is not None and (value <= limit if op == "<=" else value >= limit)
    v = "n/a" if value is None else f"{value:.2f}"
    extra = f" [per round {' '.join(f'{x:.2f}' for x in rounds)}]" if rounds else ""
    print(f"{name} {what}={v} ({'PASS' if ok else 'FAIL'} {op}{limit:g}){extra}", flush=True)
    return ok


def per_round(runs_a, runs_b, key):
    return [b[key] / a[key] for a, b in zip(runs_a, runs_b) if key in a and key in b and a[key] > 0]


def plot(path, sizes, results):
    import matplotlib  # noqa: PLC0415 - only for --plot (python3-matplotlib, the benchmarks' deps)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    labels = {"charon": "charon 5.9.8 (Debian, kernel-libipsec)"}
    for kind, runs in results.items():
        xs = [n for n in sizes if runs.get(n)]
        label = labels.get(kind, kind)
        ax1.plot(xs, [median(runs[n], "responder_cpu_us_per_sa") for n in xs], marker="o", label=label)
        ax2.plot(xs, [median(runs[n], "responder_kib_per_sa") for n in xs], marker="o", label=label)
    # log scale: libipsec's cost per SA grows with the SA count, ours stays flat
    ax1.set(xlabel="IKE SAs", ylabel="responder CPU µs per IKE SA + Child SA (log)", yscale="log")
    ax2.set(xlabel="IKE SAs", ylabel="responder KiB per IKE SA + Child SA", ylim=(0, None))
    for ax in (ax1, ax2):
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.suptitle(f"IKE responder cost by number of SAs ({time.strftime('%Y-%m-%d')}, "
                 f"{os.cpu_count()} vCPU {lib.run(['uname', '-r']).strip()})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"# plot: {path}")


def main(argv=None):
    p = argparse.ArgumentParser(description="ikeplex IKE control-plane gates G7-G8")
    p.add_argument("--build")
    p.add_argument("--replot", metavar="JSON", help="only draw --plot from the JSON of an earlier run")
    p.add_argument("--sizes", default="1000,5000,10000")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--no-charon", action="store_true")
    p.add_argument("--no-groups", action="store_true")
    p.add_argument("--timeout", type=int, default=180, help="seconds per run of ikeplex-load")
    p.add_argument("--json")
    p.add_argument("--plot")
    p.add_argument("--keep", action="store_true")
    args = p.parse_args(argv)
    if args.replot:
        with open(args.replot) as f:
            js = json.load(f)
        results = {k: {int(n): v for n, v in r.items()} for k, r in js["results"].items()}
        plot(args.plot or "ike-scaling.png", sorted(next(iter(results.values()))), results)
        return 0
    if not args.build:
        p.error("--build is required")
    if os.geteuid() != 0:
        print("ike_gates: needs root (network namespaces)", file=sys.stderr)
        return 77
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if 1000 not in sizes or 10000 not in sizes or not 1 <= args.rounds <= 10:
        print("ike_gates: --sizes must include 1000 and 10000, --rounds 1..10", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    kinds = ["ikeplexd"] + ([] if args.no_charon else ["charon"])
    folder = tempfile.mkdtemp(prefix=f"ikeplex-ike-{os.getpid()}-")
    results = {k: {n: [] for n in sizes} for k in kinds}
    groups = []
    errors = []
    ceil = None
    with lib.Namespaces(f"k{os.getpid() % 100000}") as ns:
        lib.run(["ip", "-n", ns.b, "route", "add", "local", SOURCES, "dev", "lo"])
        lib.run(["ip", "-n", ns.a, "route", "add", SOURCES, "via", "10.99.0.2"])
        # kernel-libipsec routes the remote selector via its TUN device from a local address
        # inside the local selector, also with install_routes = no
        lib.run(["ip", "-n", ns.a, "addr", "add", "10.97.0.1/32", "dev", "lo"])
        try:
            ceil, ceil_us = ceiling(args.build)
            print(f"# X25519 ceiling on CPU 0: {ceil:.0f} IKE SAs/s ({ceil_us:.1f} µs per keygen + derive)",
                  flush=True)
            for r in range(args.rounds):
                order = [(k, n) for n in sizes for k in kinds]
                order = order[r % len(order):] + order[:r % len(order)]
                for kind, n in order:
                    try:
                        res = one_run(kind, n, 0, args.build, ns, f"{folder}/{kind}-{n}-{r}", args.timeout)
                        results[kind][n].append(res)
                        print(f"# round {r + 1} {kind} {n}: " + " ".join(
                            f"{k}={res[k]:g}" for k in ("established_per_s", "responder_cpu_us_per_sa",
                                                        "delete_responder_cpu_us_per_sa",
                                                        "responder_kib_per_sa", "generator_cpu_us_per_sa",
                                                        "retransmits") if k in res), flush=True)
                    except (lib.Failure, subprocess.TimeoutExpired) as e:
                        errors.append(str(e))
                        print(f"# error: {e}", flush=True)
                if not args.no_groups:
                    try:
                        groups.append(one_run("ikeplexd", GROUP_SAS, GROUP_K, args.build, ns,
                                              f"{folder}/group-{r}", args.timeout))
                    except (lib.Failure, subprocess.TimeoutExpired) as e:
                        errors.append(str(e))
                        print(f"# error: {e}", flush=True)
        finally:
            if not args.keep:
                shutil.rmtree(folder, ignore_errors=True)
    ours = results["ikeplexd"]
    ok = True
    small, big = ours[1000], ours[10000]
    for key in ("responder_cpu_us_per_sa", "delete_responder_cpu_us_per_sa"):
        a, b = median(small, key), median(big, key)
        ok &= gate("G7a", f"{key.replace('responder_', '')} 10000/1000", b / a if a and b else None, "<=", 1.2,
                   per_round(small, big, key))
    cpu_big = median(big, "responder_cpu_us_per_sa")
    ok &= gate("G7b", "sa_per_cpu_s/x25519_ceiling", (1e6 / cpu_big) / ceil if cpu_big and ceil else None, ">=",
               0.5)
    ok &= gate("G8", "kib_per_sa", median(big, "responder_kib_per_sa"), "<=", 7)
    over = [(r["responder_rss_after_delete_kib"] - r["responder_rss_start_kib"]) / 1024 for r in big
            if "responder_rss_after_delete_kib" in r]
    ok &= gate("G8", "rss_after_delete_mib_over_start", statistics.median(over) if over else None, "<=", 20)
    for n in sizes:
        line = f"G7 info ikeplexd n={n}"
        for key in ("responder_cpu_us_per_sa", "delete_responder_cpu_us_per_sa", "responder_kib_per_sa",
                    "established_per_s", "generator_cpu_us_per_sa", "setup_ms_p99"):
            v = median(ours[n], key)
            line += f" {key}={v:.2f}" if v is not None else f" {key}=n/a"
        print(line)
    if "charon" in results:
        for n in sizes:
            a, b = median(ours[n], "responder_cpu_us_per_sa"), median(results["charon"][n], "responder_cpu_us_per_sa")
            ka = median(results["charon"][n], "responder_kib_per_sa")
            print(f"G7c info n={n} charon/ikeplexd cpu_us_per_sa=" + (f"{b / a:.2f}" if a and b else "n/a") +
                  f" (charon {b if b else 'n/a'} µs, {ka if ka else 'n/a'} KiB per SA; Debian strongSwan 5.9.8, "
                  f"kernel-libipsec, install_routes = no)")
    if groups:
        # The same gates per Child SA: a group is K members + the fallback, K + 1 Child SAs
        per_child = GROUP_K + 1
        cpu = median(groups, "responder_cpu_us_per_sa")
        kib = median(groups, "responder_kib_per_sa")
        dcpu = median(groups, "delete_responder_cpu_us_per_sa")
        ok &= gate("G7g", f"{GROUP_SAS}x{GROUP_K} child_per_cpu_s/x25519_ceiling",
                   (1e6 / (cpu / per_child)) / ceil if cpu and ceil else None, ">=", 0.5)
        ok &= gate("G7g", f"{GROUP_SAS}x{GROUP_K} kib_per_child", kib / per_child if kib else None, "<=", 7)
        print(f"G7g info {GROUP_SAS} IKE SAs x group of {GROUP_K} (+ fallback): cpu_us_per_child="
              f"{cpu / per_child:.2f} delete_cpu_us_per_child={dcpu / per_child:.2f} cpu_us_per_ike_sa={cpu:.2f}"
              if cpu and dcpu else "G7g info groups: n/a")
    elif not args.no_groups:
        ok = False
        print("G7g groups: n/a (FAIL: no group run completed)")
    for e in errors:
        print(f"# error: {e}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"ceiling_sa_per_s": ceil, "results": {k: {str(n): v for n, v in r.items()}
                                                             for k, r in results.items()},
                       "groups": groups, "errors": errors}, f, indent=1)
    if args.plot:
        plot(args.plot, sizes, results)
    return 0 if ok and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
