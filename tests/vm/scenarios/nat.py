#!/usr/bin/env python3
# vm-timeout: 150
# what: NAT on the kernel data plane: the SNAT port of ESP in UDP changes; the kernel's MAPPING event moves the SAs, traffic continues
"""A behind a NAT router R (nftables masquerading that changes the source port) and B, both ikeplexd
with backend xfrm and an RFC 9611 group, in the VM. NAT is detected, IKE and ESP move to UDP
4500 through the NAT, traffic from every CPU flows. Then R's mapping changes: its SNAT rule
takes another port range and its old NAT entries go. A's next ESP packets reach B
from a new port; B's kernel reports XFRM_MSG_MAPPING; ikeplexd on B moves its SAs to the new
port (UPDSA); traffic from every CPU flows again, both ways."""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import vmlib  # noqa: E402
from vmlib import Failure, cpus, full_group, kernel_sas, wait_until  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "integration"))
from lib import Ikeplexd, run, swanctl_conf  # noqa: E402
from test_transport import NatTopology  # noqa: E402

GROUP = "per_cpu_sas = yes\n                per_cpu_sas_start = all"


def masquerade(topo, ports):
    """R's only NAT rule: masquerade (to 10.99.0.1) with a source port from `ports`."""
    lrb = topo.links[2]
    run(["ip", "netns", "exec", topo.r, "nft", "flush", "chain", "ip", "nat", "post"])
    for proto in ("udp", "tcp"):
        run(["ip", "netns", "exec", topo.r, "nft", "add", "rule", "ip", "nat", "post", "oifname", lrb,
             "meta", "l4proto", proto, "masquerade", "to", f":{ports}"])
    run(["ip", "netns", "exec", topo.r, "nft", "add", "rule", "ip", "nat", "post", "oifname", lrb, "masquerade"])


def ping_ok(ns, cpu, count=10):
    out = vmlib.run(["ip", "netns", "exec", ns, "taskset", "-c", str(cpu), "ping", "-n", "-q", "-c", str(count),
                     "-i", "0.05", "-W", "2", "-I", "10.99.1.1", "10.99.2.1"], timeout=30, check=False)
    return f"{count} received" in out, out


def peer_ports(build, ns):
    """The destination ports of B's outbound ESP-in-UDP SAs (A's port as R maps it)."""
    return {s["encap"][1] for s in kernel_sas(build, ns) if s["dir"] == "out" and s["encap"]}


def conntrack_udp(ns):
    """R's UDP conntrack entries (/proc/net/nf_conntrack)."""
    out = vmlib.run(["ip", "netns", "exec", ns, "cat", "/proc/net/nf_conntrack"])
    return [line for line in out.splitlines() if " udp " in f" {line} "]


def test(build, folder):
    n = cpus()
    with NatTopology() as topo:
        masquerade(topo, "40000-40099")
        a = b = None
        try:
            b = Ikeplexd(build, topo.b, f"{folder}/b",
                         swanctl_conf("10.99.0.2", "10.99.0.1", "b.test", "a.test", "10.99.2.0/24", "10.99.1.0/24",
                                      child_extra=GROUP), workers=n, window=4, backend="xfrm")
            a = Ikeplexd(build, topo.a, f"{folder}/a",
                         swanctl_conf("10.99.3.2", "10.99.0.2", "a.test", "b.test", "10.99.1.0/24", "10.99.2.0/24",
                                      child_extra=GROUP + "\n                start_action = start"),
                         workers=n, window=4, backend="xfrm")
            for d in (a, b):
                wait_until(lambda: full_group(d, n), 60, "the group through the NAT")
            before = peer_ports(build, topo.b)
            if not before or not all(40000 <= p <= 40099 for p in before):
                raise Failure(f"B's SAs do not send to R's mapped port 40000-40099: {kernel_sas(build, topo.b)}")
            for cpu in range(n):
                ok, out = ping_ok(topo.a, cpu)
                if not ok:
                    raise Failure(f"CPU {cpu} through the NAT: {out}")
            print(f"through the NAT (A's port mapped to {sorted(before)}): the group carries every CPU's "
                  "traffic", flush=True)

            # The mapping changes: another port range, and R drops its old mappings (the kernel
            # removes a masquerading router's NAT entries when the address they use goes).
            masquerade(topo, "41000-41099")
            lrb = topo.links[2]
            run(["ip", "-n", topo.r, "addr", "del", "10.99.0.1/24", "dev", lrb])
            run(["ip", "-n", topo.r, "addr", "add", "10.99.0.1/24", "dev", lrb])
            wait_until(lambda: not [c for c in conntrack_udp(topo.r) if "sport=4500" in c or "dport=4500" in c], 15,
                       "R's old UDP mappings to go")
            # A's next packets come from a new port: B's kernel reports it, ikeplexd follows.
            deadline = time.time() + 20
            while not ping_ok(topo.a, 0, count=1)[0]:
                if time.time() > deadline:
                    raise Failure(f"no traffic after the mapping changed; B's SAs: {kernel_sas(build, topo.b)}")
            after = peer_ports(build, topo.b)
            if not after or not all(41000 <= p <= 41099 for p in after):
                raise Failure(f"B's outbound SAs did not follow the new mapping: {sorted(after)}")
            with open(f"{folder}/b/ikeplexd.log", errors="replace") as f:
                if not re.search(r"NAT mapping of SA \S+ changed", f.read()):
                    raise Failure("B logged no NAT mapping change")
            if "xfrm-mappings" not in b.cli("counters"):
                raise Failure("no xfrm-mappings counter")
            for cpu in range(n):
                ok, out = ping_ok(topo.a, cpu)
                if not ok:
                    raise Failure(f"CPU {cpu} after the mapping changed: {out}")
            print(f"mapping changed {sorted(before)} -> {sorted(after)}: B's kernel reported it, ikeplexd moved "
                  "the SAs, every CPU's traffic flows again", flush=True)
        finally:
            for d in (a, b):
                if d is not None:
                    d.close()


if __name__ == "__main__":
    sys.exit(vmlib.main(test, "nat"))
