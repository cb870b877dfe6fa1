#!/usr/bin/env python3
# vm-timeout: 150
# what: MOBIKE on the kernel data plane: the initiator's address moves under traffic, the per-CPU group keeps its SPIs and CPUs
"""Two ikeplexd with backend xfrm and an RFC 9611 group (per_cpu_sas = yes, one member per CPU),
on the MOBIKE topology of tests/integration/test_mobike.py: the initiator in C (10.99.151.2,
inside 10.99.155.129), the responder in G (10.99.151.1 and 10.99.152.1, inside 10.99.155.1).
A 20/s ping runs while C's address moves to 10.99.152.2 (the old one deleted, the new one added
with a route to G via 10.99.152.1): C's address monitor hands the new set to the engine, which
sends UPDATE_SA_ADDRESSES; both kernels then hold the same SPIs (no new Child SA, no rekey) with
the new outer addresses, each member still bound to its CPU (XFRMA_SA_PCPU), the policies'
templates name the new addresses, and pings from every CPU travel on that CPU's member.
Prints `mobike loss=N/M`."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import vmlib  # noqa: E402
from vmlib import Failure, cpus, full_group, kernel_sas, wait_until  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "integration"))
from lib import Ikeplexd, ike_sas  # noqa: E402
from test_mobike import (CLIENT, CLIENT2, CLIENT_INSIDE, CLIENT_NET, GW, GW2, INSIDE, MobikeTopology,  # noqa: E402
                         client_conf, gateway_conf, moved_to, ours_view, roam)

GROUP = "per_cpu_sas = yes\n                per_cpu_sas_start = all"


def sa_map(build, ns):
    """({(spi, dir): (src, dst, pcpu)} of the kernel's ESP SAs in `ns`, [its larval acquire
    states]). Larval states (SPI 0) are not SAs and stay out of the map: a ping that meets the
    outbound policy while a member's SA is deleted and added again with the new addresses (same
    SPI and destination: the kernel cannot hold both) can leave one behind (seen on the old path
    and on the new one, for a CPU whose member is back); it expires by itself. The pings from
    every CPU after the move show that none holds a CPU's packets; the scenario prints them."""
    states = kernel_sas(build, ns)
    sas = {(s["spi"], s["dir"]): (s["src"], s["dst"], s.get("pcpu")) for s in states if int(s["spi"], 16)}
    return sas, [s for s in states if not int(s["spi"], 16)]


def ping_cpu(ns, cpu, count=5):
    out = vmlib.run(["ip", "netns", "exec", ns, "taskset", "-c", str(cpu), "ping", "-n", "-q", "-c", str(count),
                     "-i", "0.05", "-W", "2", "-I", CLIENT_INSIDE, INSIDE], timeout=30, check=False)
    if f"{count} received" not in out:
        raise Failure(f"ping from CPU {cpu}: {out}")


def test(build, folder):
    n = cpus()
    with MobikeTopology(client_inside=CLIENT_INSIDE) as topo:
        gw = client = None
        try:
            gw = Ikeplexd(build, topo.g, f"{folder}/gw",
                          gateway_conf(pools=False, remote_ts=f"remote_ts = {CLIENT_NET}", child_extra=GROUP),
                          workers=n, window=4, backend="xfrm")
            client = Ikeplexd(build, topo.c, f"{folder}/client",
                              client_conf(vips=False, local_ts=f"local_ts = {CLIENT_NET}",
                                          child_extra=GROUP + "\n                start_action = start"),
                              workers=n, window=4, backend="xfrm")
            for d in (gw, client):
                wait_until(lambda: full_group(d, n), 60, "the group on both sides")
            for cpu in range(n):
                ping_cpu(topo.c, cpu)
            (before_c, _), (before_g, _) = sa_map(build, topo.c), sa_map(build, topo.g)
            view = ours_view(gw)
            lost, sent = roam(topo, CLIENT_INSIDE, INSIDE, lambda: topo.move_client(CLIENT, CLIENT2, topo.veth_c, GW2))
            moved_to(gw, CLIENT2, view[0], kids=view[1])
            (after_c, larval_c), (after_g, larval_g) = sa_map(build, topo.c), sa_map(build, topo.g)
            larval = larval_c + larval_g
            # The gateway's address on the new path: GW, or its other address GW2 when the client's
            # engine chose that one (RFC 4555 §3.5: the peer's additional addresses are candidates;
            # the route to GW may come after the quiet period ended).
            gw_addr = ike_sas(gw.sas())[0][1]["local-host"]
            if gw_addr not in (GW, GW2):
                raise Failure(f"the gateway's IKE SA moved to {gw_addr}")
            if sorted(after_c) != sorted(before_c) or sorted(after_g) != sorted(before_g):
                raise Failure(f"the kernels' SPIs changed: {sorted(before_c)} -> {sorted(after_c)}, "
                              f"{sorted(before_g)} -> {sorted(after_g)}")
            for (spi, d), (src, dst, pcpu) in after_c.items():
                want = (CLIENT2, gw_addr) if d == "out" else (gw_addr, CLIENT2)
                if (src, dst) != want or pcpu != before_c[(spi, d)][2]:
                    raise Failure(f"C's SA {spi} {d}: {src} -> {dst} cpu {pcpu}, before {before_c[(spi, d)]}")
            for (spi, d), (src, dst, pcpu) in after_g.items():
                want = (gw_addr, CLIENT2) if d == "out" else (CLIENT2, gw_addr)
                if (src, dst) != want or pcpu != before_g[(spi, d)][2]:
                    raise Failure(f"G's SA {spi} {d}: {src} -> {dst} cpu {pcpu}, before {before_g[(spi, d)]}")
            for cpu in range(n):
                ping_cpu(topo.c, cpu)
            print(f"mobike loss={lost}/{sent} (xfrm, {n} CPUs, {len(after_c)} SAs moved to {CLIENT2} - {gw_addr}, "
                  f"SPIs and CPUs kept; larval acquire states left: {[(x['src'], x['dst'], x['pcpu']) for x in larval]})",
                  flush=True)
        finally:
            for d in (client, gw):
                if d is not None:
                    d.close()


if __name__ == "__main__":
    sys.exit(vmlib.main(test, "mobike"))
