#!/usr/bin/env python3
# vm-timeout: 120
# what: ikeplexd backend xfrm <-> ikeplexd backend userspace: the RFC 9611 group works across data planes
"""ikeplexd with backend xfrm (A, the kernel's ESP) against ikeplexd with backend userspace (B, its
own per-CPU workers), both per_cpu_sas = yes. The group comes up on both; pings pinned to CPU k
leave A on CPU k's member (kernel counters, XFRMA_SA_PCPU k) and reach B on that Child SA
(list-sas); pings from B's CPU k leave on B's member of CPU k (list-sas) and reach A on the same
Child SA (kernel counters). The fallback carries nothing."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import vmlib  # noqa: E402
from vmlib import Failure, Plan, cpus, full_group, kernel_sas, spis, wait_until  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "integration"))
from lib import Ikeplexd, Namespaces  # noqa: E402

GROUP = "per_cpu_sas = yes\n                per_cpu_sas_start = all"
COUNT = 5


def ping_on(ns, cpu, src, dst):
    out = vmlib.run(["ip", "netns", "exec", ns, "taskset", "-c", str(cpu), "ping", "-n", "-q", "-c", str(COUNT),
                     "-i", "0.05", "-W", "2", "-I", src, dst], timeout=30, check=False)
    if f"{COUNT} received" not in out:
        raise Failure(f"ping {src} -> {dst} on CPU {cpu}: {out}")


def kernel_packets(build, ns):
    return {(int(s["spi"], 16), s["dir"]): s for s in kernel_sas(build, ns)}


def user_packets(d, n):
    """{cpu or "-": (packets-in, packets-out)} of B's group (list-sas)."""
    return {k: (int(c["packets-in"]), int(c["packets-out"])) for k, c in full_group(d, n).items()}


def test(build, folder):
    n = cpus()
    plan = Plan("tunnel", 4, "udp")
    with Namespaces("mx") as ns:
        a = b = None
        try:
            b = Ikeplexd(build, ns.b, f"{folder}/b", plan.conf("b", GROUP), workers=n, window=4, backend="userspace")
            a = Ikeplexd(build, ns.a, f"{folder}/a", plan.conf("a", GROUP + "\n                start_action = start"),
                         workers=n, window=4, backend="xfrm")
            for d in (a, b):
                wait_until(lambda: full_group(d, n), 60, "the group on both data planes")
            ga = full_group(a, n)
            for cpu in range(n):
                # A -> B from CPU `cpu`: A's member of that CPU sends, B receives on the same SA.
                k0, u0 = kernel_packets(build, ns.a), user_packets(b, n)
                ping_on(ns.a, cpu, "10.99.1.1", "10.99.2.1")
                k1, u1 = kernel_packets(build, ns.a), user_packets(b, n)
                spi_in, spi_out = spis(ga[str(cpu)])
                out_sa = k1[(spi_out, "out")]
                sent = out_sa["packets"] - k0[(spi_out, "out")]["packets"]
                fb_in, fb_out = spis(ga["-"])
                fb = k1[(fb_out, "out")]["packets"] - k0[(fb_out, "out")]["packets"]
                gb = full_group(b, n)
                b_key = next(k for k, c in gb.items() if int(c["spi-in"], 16) == spi_out)
                got = u1[b_key][0] - u0[b_key][0]
                if out_sa["pcpu"] != cpu or sent < COUNT or got < COUNT or fb:
                    raise Failure(f"A's CPU {cpu}: out SA {out_sa}, {sent} sent, {got} received by B's {b_key}, "
                                  f"{fb} on the fallback")
                # B -> A from CPU `cpu`: B's member of that CPU sends, A receives on the same SA.
                k0, u0 = kernel_packets(build, ns.a), user_packets(b, n)
                ping_on(ns.b, cpu, "10.99.2.1", "10.99.1.1")
                k1, u1 = kernel_packets(build, ns.a), user_packets(b, n)
                bsent = u1[str(cpu)][1] - u0[str(cpu)][1]
                bfb = u1["-"][1] - u0["-"][1]
                b_out = int(gb[str(cpu)]["spi-out"], 16)
                arrived = k1[(b_out, "in")]["packets"] - k0[(b_out, "in")]["packets"]
                if bsent < COUNT or arrived < COUNT or bfb:
                    raise Failure(f"B's CPU {cpu}: {bsent} sent on its member, {arrived} arrived at A, {bfb} on the "
                                  "fallback")
                print(f"  CPU {cpu}: A's kernel member -> B ({got} in), B's userspace member -> A ({arrived} in); "
                      "fallback idle", flush=True)
            print(f"xfrm <-> userspace: fallback + {n} per-CPU SAs on both, each CPU's traffic on its own SA",
                  flush=True)
        finally:
            for d in (a, b):
                if d is not None:
                    d.close()


if __name__ == "__main__":
    sys.exit(vmlib.main(test, "mixed"))
