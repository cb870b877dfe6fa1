#!/usr/bin/env python3
# vm-timeout: 420
# what: ikeplexd pair, backend xfrm, RFC 9611 group: each CPU's traffic on its own SA (kernel and list-sas)
"""Two ikeplexd with backend xfrm in a namespace pair inside the VM, per_cpu_sas = yes: the group
(fallback + one member per CPU) comes up, and pings pinned to CPU k (taskset) leave on CPU k's
member on the sending side and arrive on the same Child SA on the other side; the fallback
carries nothing. Proven twice: by the kernel's own counters (GETSA through ikeplex's codec,
which also shows the SA's XFRMA_SA_PCPU) and by `ikeplex list-sas`.

Arguments: variants MODE-FAMILY-ENCAP, e.g. tunnel-4-udp transport-6-esp; "all" = the eight."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import vmlib  # noqa: E402
from vmlib import Failure, Plan, cpus, full_group, kernel_sas, spis, wait_until  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "integration"))
from lib import Ikeplexd, Namespaces  # noqa: E402

GROUP = "per_cpu_sas = yes\n                per_cpu_sas_start = all"
COUNT = 5


def ping_on(ns, cpu, src, dst, count=COUNT):
    out = vmlib.run(["ip", "netns", "exec", ns, "taskset", "-c", str(cpu), "ping", "-n", "-q", "-c", str(count),
                     "-i", "0.02", "-W", "2", "-I", src, dst], timeout=30, check=False)
    if f"{count} received" not in out:
        raise Failure(f"ping {src} -> {dst} on CPU {cpu}: {out}")


def by_spi(sas):
    return {(s["spi"], s["dir"]): s for s in sas}


def check_side(build, plan, ns, d, side, n):
    """Pings from `side` on each CPU k, (k + 1) * COUNT of them (the counts tell the CPUs apart
    in one pair of snapshots): CPU k's member must carry exactly its CPU's pings out of `side`,
    the peer must receive them on the same Child SA, and the fallback must carry nothing."""
    other = "b" if side == "a" else "a"
    before = {s: by_spi(kernel_sas(build, ns[s])) for s in ("a", "b")}
    lbefore = full_group(d[side], n)
    for cpu in range(n):
        ping_on(ns[side], cpu, plan.ends[side], plan.ends[other], (cpu + 1) * COUNT)
    after = {s: by_spi(kernel_sas(build, ns[s])) for s in ("a", "b")}
    g = {s: full_group(d[s], n) for s in ("a", "b")}
    if g["a"] is None or g["b"] is None or lbefore is None:
        raise Failure(f"the group changed while pinging from {side}: {g}")

    def delta(s, spi, direction):
        key = (f"0x{spi:08x}", direction)
        if key not in after[s]:
            raise Failure(f"{s}: no {direction} SA 0x{spi:08x} in the kernel: {sorted(after[s])}")
        return after[s][key]["packets"] - before[s].get(key, {"packets": 0})["packets"]

    for cpu in range(n):
        want = (cpu + 1) * COUNT
        member = g[side][str(cpu)]
        _, spi_out = spis(member)
        out_sa = after[side][(f"0x{spi_out:08x}", "out")]
        if out_sa["pcpu"] != cpu:
            raise Failure(f"{side}: the out SA of CPU {cpu}'s member has XFRMA_SA_PCPU {out_sa['pcpu']}")
        if out_sa["mode"] != plan.mode or (out_sa["encap"] is not None) != (plan.encap == "udp"):
            raise Failure(f"{side}: the kernel's SA is not {plan.name()}: {out_sa}")
        sent = delta(side, spi_out, "out")
        got = delta(other, spi_out, "in")  # the peer's inbound SA of the same Child SA
        if sent != want or got != want:
            raise Failure(f"CPU {cpu} of {side}: {sent} packets out on its member, {got} in at {other} "
                          f"(want exactly {want}: its own pings)")
        # list-sas tells the same story.
        lsent = int(member["packets-out"]) - int(lbefore[str(cpu)]["packets-out"])
        if lsent != want:
            raise Failure(f"{side}: list-sas shows {lsent} packets out on CPU {cpu}'s member, want {want}")
        print(f"  {side} CPU {cpu}: {sent} out on SPI 0x{spi_out:08x} (pcpu {out_sa['pcpu']}), {got} in at "
              f"{other}", flush=True)
    # Nothing on the fallback, either side, either direction.
    for s in ("a", "b"):
        fin, fout = spis(g[s]["-"])
        moved = delta(s, fin, "in"), delta(s, fout, "out")
        if any(moved):
            raise Failure(f"{s}: the fallback carried packets (in, out) = {moved} while pinging from {side}")


def leftovers(build, ns):
    """What an ikeplexd that stopped left in namespace `ns`'s kernel (empty when nothing)."""
    left = {}
    sas = [s for s in kernel_sas(build, ns) if int(s["spi"], 16) != 0]  # SPI 0: a kernel larval acquire
    if sas:
        left["states"] = sas
    for what, cmd in (("policies", ["xfrm", "policy", "list"]), ("routes", ["route", "show", "table", "220"]),
                      ("routes6", ["-6", "route", "show", "table", "220"])):
        r = subprocess.run(["ip", "-n", ns, *cmd], capture_output=True, text=True, timeout=20)
        out = r.stdout.strip() if "does not exist" not in r.stderr else ""
        if out or (r.returncode != 0 and "does not exist" not in r.stderr):
            left[what] = out
    rules = [r for r in vmlib.run(["ip", "-n", ns, "rule", "list"]).splitlines() + vmlib.run(
        ["ip", "-n", ns, "-6", "rule", "list"]).splitlines() if "lookup 220" in r]
    if rules:
        left["rules"] = rules
    return left


def variant(build, folder, plan, tag):
    n = cpus()
    with Namespaces(tag) as nsp:
        ns = {"a": nsp.a, "b": nsp.b}
        d = {}
        try:
            d["b"] = Ikeplexd(build, nsp.b, f"{folder}/{tag}/b", plan.conf("b", GROUP), workers=n, backend="xfrm")
            d["a"] = Ikeplexd(build, nsp.a, f"{folder}/{tag}/a", plan.conf("a", GROUP + "\n                start_action = start"),
                              workers=n, backend="xfrm")
            for s in ("a", "b"):
                wait_until(lambda: full_group(d[s], n), 60, f"{s}: the group (fallback + {n} members)")
                flags = vmlib.out_policies_cpu_acquire(ns[s])
                if not flags or not all(flags):  # a group's policy asks for per-CPU acquires
                    raise Failure(f"{s}: outbound policies without XFRM_POLICY_CPU_ACQUIRE: {flags}")
            for side in ("a", "b"):
                check_side(build, plan, ns, d, side, n)
            print(f"{plan.name()}: fallback + {n} per-CPU SAs, each CPU's traffic on its own SA", flush=True)
            for s in ("a", "b"):  # SIGTERM leaves nothing in the kernel
                d.pop(s).close()
                left = leftovers(build, ns[s])
                if left:
                    raise Failure(f"{s}: left in the kernel after SIGTERM: {left}")
            print(f"{plan.name()}: SIGTERM removed every SA, policy, route and rule", flush=True)
        finally:
            for x in d.values():
                x.close()


def test(build, folder, *variants):
    if not variants or variants == ("all",):
        variants = [f"{m}-{f}-{e}" for m in ("tunnel", "transport") for f in (4, 6) for e in ("udp", "esp")]
    for i, v in enumerate(variants):
        mode, family, encap = v.split("-")
        variant(build, folder, Plan(mode, family, encap), f"p{i}")


if __name__ == "__main__":
    sys.exit(vmlib.main(test, "pair"))
