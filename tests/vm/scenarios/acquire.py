#!/usr/bin/env python3
# vm-timeout: 180
# what: start_action = trap + per_cpu_sas_start = acquire on both gateways: the kernel's acquires build one member per CPU on each side
"""Both gateways run backend xfrm with start_action = trap and per_cpu_sas_start = acquire. The
first packet's ACQUIRE (no CPU) brings up the IKE SA and the fallback; then pings from every CPU,
in both directions, make the kernel raise per-CPU ACQUIREs (XFRMA_SA_PCPU) on both gateways,
often for the same CPU at once (the reply leaves on the fallback). Steady state: each side has
the fallback plus exactly one member per CPU — never two for one CPU — and each CPU's traffic
is on its member both ways (kernel counters and list-sas); the fallback carries nothing then."""
import itertools
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vmlib  # noqa: E402
from pair import check_side  # noqa: E402
from vmlib import Failure, Plan, cpus, full_group, group, wait_until  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "integration"))
from lib import Ikeplexd, Namespaces, ike_sas  # noqa: E402

TRAP = "per_cpu_sas = yes\n                per_cpu_sas_start = acquire\n                start_action = trap"


def ping_until(ns, cpu, src, dst, timeout=20):
    def once():
        out = vmlib.run(["ip", "netns", "exec", ns, "taskset", "-c", str(cpu), "ping", "-n", "-c", "1", "-W", "1",
                         "-I", src, dst], check=False)
        return " 0% packet loss" in out
    wait_until(once, timeout, f"an answer to ping {src} -> {dst} on CPU {cpu}")


def test(build, folder):
    n = cpus()
    plan = Plan("tunnel", 4, "esp")
    with Namespaces("aq") as nsp:
        ns = {"a": nsp.a, "b": nsp.b}
        d = {}
        try:
            d["b"] = Ikeplexd(build, nsp.b, f"{folder}/b", plan.conf("b", TRAP), workers=n, window=4, backend="xfrm")
            d["a"] = Ikeplexd(build, nsp.a, f"{folder}/a", plan.conf("a", TRAP), workers=n, window=4, backend="xfrm")
            if ike_sas(d["a"].sas()) or ike_sas(d["b"].sas()):
                raise Failure("an IKE SA before any traffic")
            ping_until(nsp.a, 0, plan.ends["a"], plan.ends["b"])
            print(f"first packet: IKE SA and fallback up; a has {sorted(group(d['a']) or {})}", flush=True)
            # Every CPU, both directions, twice: acquires from both sides for the same CPUs.
            for _ in range(2):
                for side, cpu in itertools.product(("a", "b"), range(n)):
                    other = "b" if side == "a" else "a"
                    ping_until(ns[side], cpu, plan.ends[side], plan.ends[other])
            for s in ("a", "b"):
                wait_until(lambda: full_group(d[s], n), 30, f"{s}: the fallback and one member per CPU")
            for s in ("a", "b"):
                if full_group(d[s], n) is None:
                    raise Failure(f"{s}: not fallback + one member per CPU: {sorted(group(d[s]) or {})}")
            print(f"both sides: fallback + {n} members, one per CPU", flush=True)
            for side in ("a", "b"):
                check_side(build, plan, ns, d, side, n)
            print("trap + acquire: each CPU's traffic on its own member both ways; fallback idle", flush=True)
        finally:
            for x in d.values():
                x.close()


if __name__ == "__main__":
    sys.exit(vmlib.main(test, "acquire"))
