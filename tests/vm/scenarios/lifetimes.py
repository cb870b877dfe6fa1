#!/usr/bin/env python3
# vm-timeout: 240
# what: lifetimes on the kernel data plane: soft EXPIRE (packets, bytes) and rekey_time rekey a member, hard EXPIRE deletes; rekey under traffic loses nothing; IKE rekey carries the group
"""Lifetimes of an RFC 9611 group on the kernel data plane (backend xfrm on both sides):
- the kernel's soft EXPIRE of a member (rekey_packets, then rekey_bytes) makes ikeplexd rekey
  that member, which keeps its CPU; rekey_time rekeys it as well;
- the kernel's hard EXPIRE (life_packets with no soft limit) deletes the Child SA, in the kernel
  as in list-sas;
- a member rekeyed while a ping stream pinned to its CPU runs loses no packet;
- an IKE SA rekey carries the whole group: afterwards each CPU's traffic is still on its member.
"""
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import vmlib  # noqa: E402
from vmlib import Failure, Plan, cpus, full_group, kernel_sas, spis, wait_until  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "integration"))
from lib import Ikeplexd, Namespaces, children, ike_sas  # noqa: E402

GROUP = "per_cpu_sas = yes\n                per_cpu_sas_start = all"


def log_of(d):
    d.log.flush()
    with open(f"{d.dir}/ikeplexd.log", errors="replace") as f:
        return f.read()


def ping(ns, cpu, count, interval="0.01", size=56, timeout=60):
    out = vmlib.run(["ip", "netns", "exec", ns, "taskset", "-c", str(cpu), "ping", "-n", "-q", "-c", str(count),
                     "-i", interval, "-s", str(size), "-W", "2", "-I", "10.99.1.1", "10.99.2.1"],
                    timeout=timeout, check=False)
    return out


def xfrm_stat(ns):
    """The kernel's XFRM error counters of namespace `ns` that are not zero."""
    out = vmlib.run(["ip", "netns", "exec", ns, "cat", "/proc/net/xfrm_stat"])
    return {k: int(v) for k, v in (line.split() for line in out.splitlines() if line.strip()) if int(v)}


def member_spi(d, cpu, n):
    g = full_group(d, n)
    return spis(g[str(cpu)])[0] if g else None


def pair(build, folder, tag, child_a, child_b):
    n = cpus()
    ns = Namespaces(tag).__enter__()
    plan = Plan("tunnel", 4, "esp")
    b = Ikeplexd(build, ns.b, f"{folder}/{tag}/b", plan.conf("b", child_b), workers=n, window=4, backend="xfrm")
    a = Ikeplexd(build, ns.a, f"{folder}/{tag}/a", plan.conf("a", child_a + "\n                start_action = start"),
                 workers=n, window=4, backend="xfrm")
    return ns, a, b


def soft_limits(build, folder):
    n = cpus()
    # No jitter (rand_*): each member's soft limit is exactly rekey_*, which the counts below
    # rely on (the default, life - rekey, would draw it anywhere from 1 to rekey_*).
    limits = "rekey_packets = 150\n                life_packets = 100000\n                " \
             "rekey_bytes = 120000\n                life_bytes = 100000000\n                " \
             "rand_packets = 0\n                rand_bytes = 0"
    ns, a, b = pair(build, folder, "lsoft", GROUP + "\n                " + limits, GROUP)
    try:
        for d in (a, b):
            wait_until(lambda: full_group(d, n), 60, "the group")
        # packets: 160 echo requests are over 150 packets on CPU 0's outbound SA at a and on
        # its inbound SA at b. Its successor carries at most the last 10, so the 120-packet
        # stream below stays under its own limit (160 + 120 <= 2 * 150 with room to spare).
        old = member_spi(a, 0, n)
        out = ping(ns.a, 0, 160)
        if "160 received" not in out:
            raise Failure(f"pings across the soft limit's rekey: {out}; xfrm_stat a {xfrm_stat(ns.a)} "
                          f"b {xfrm_stat(ns.b)}")
        wait_until(lambda: "soft lifetime of CHILD_SA" in log_of(a) or "soft lifetime of CHILD_SA" in log_of(b), 15,
                   "the kernel's soft EXPIRE (packets)")
        wait_until(lambda: member_spi(a, 0, n) not in (None, old), 20, "CPU 0's member rekeyed after rekey_packets")
        print(f"rekey_packets: CPU 0's member rekeyed ({old:08x} -> {member_spi(a, 0, n):08x}), still CPU 0", flush=True)
        # bytes: 130 pings of 1000 bytes are over 120000 bytes, under 150 packets.
        old1 = member_spi(a, 1 % n, n)
        out = ping(ns.a, 1 % n, 130, size=1000)
        if "130 received" not in out:
            raise Failure(f"pings before the byte limit: {out}")
        wait_until(lambda: member_spi(a, 1 % n, n) not in (None, old1), 20, "the member rekeyed after rekey_bytes")
        print(f"rekey_bytes: CPU {1 % n}'s member rekeyed", flush=True)
        # no packet lost while CPU 0's member is rekeyed by hand under a 20 ms ping stream
        g = full_group(a, n)
        child_id = g["0"]["uniqueid"]
        result = {}
        # (120 packets: with the at most 10 above, under the fresh member's rekey_packets)
        t = threading.Thread(target=lambda: result.update(out=ping(ns.a, 0, 120, interval="0.02")))
        t.start()
        old = member_spi(a, 0, n)
        wait_until(lambda: kernel_sas(build, ns.a), 5, "the stream to start")
        a.cli("rekey", "--child-id", child_id)
        wait_until(lambda: member_spi(a, 0, n) not in (None, old), 20, "the member rekey under traffic")
        t.join(timeout=30)
        if "120 received" not in result.get("out", ""):
            raise Failure(f"a member rekey under traffic lost packets: {result.get('out')}")
        print("member rekey under a 50 pkt/s stream: 120 of 120 echo replies", flush=True)
        # the IKE SA rekey carries the group
        ike_spi = ike_sas(a.sas())[0][1]["initiator-spi"]
        a.cli("rekey", "--ike", "t")
        wait_until(lambda: ike_sas(a.sas()) and ike_sas(a.sas())[0][1]["initiator-spi"] != ike_spi and
                   full_group(a, n) and full_group(b, n), 30, "the IKE SA rekey with the group")
        for cpu in range(n):
            before = {s["spi"]: s["packets"] for s in kernel_sas(build, ns.a)}
            out = ping(ns.a, cpu, 5, interval="0.05")
            if "5 received" not in out:
                raise Failure(f"CPU {cpu} after the IKE rekey: {out}")
            after = {s["spi"]: s for s in kernel_sas(build, ns.a)}
            _, spi_out = spis(full_group(a, n)[str(cpu)])
            key = f"0x{spi_out:08x}"
            if after[key]["packets"] - before.get(key, 0) < 5 or after[key]["pcpu"] != cpu:
                raise Failure(f"CPU {cpu}'s traffic not on its member after the IKE rekey: {after[key]}")
        print("IKE SA rekey: the group moved to the new IKE SA; each CPU's traffic on its member", flush=True)
    finally:
        a.close()
        b.close()
        ns.down()


def hard_limit(build, folder):
    limits = "rekey_packets = 0\n                life_packets = 60\n                rekey_time = 0\n" \
             "                life_time = 0"
    ns, a, b = pair(build, folder, "lhard", limits, "")
    try:
        wait_until(lambda: ike_sas(a.sas()) and any(c["state"] == "INSTALLED" for c in children(ike_sas(a.sas())[0][1])),
                   30, "the Child SA")
        first = children(ike_sas(a.sas())[0][1])[0]
        old = {int(first["spi-in"], 16), int(first["spi-out"], 16)}
        ping(ns.a, 0, 80, interval="0.02")
        wait_until(lambda: "hard lifetime of CHILD_SA" in log_of(a), 15, "the kernel's hard EXPIRE")
        # (traffic that goes on may raise an acquire and a new Child SA: only the old one counts)
        wait_until(lambda: not any({int(c["spi-in"], 16), int(c["spi-out"], 16)} & old
                                   for _, f in ike_sas(a.sas()) for c in children(f)), 15, "the Child SA deleted")
        left = [s for s in kernel_sas(build, ns.a) if int(s["spi"], 16) in old]
        if left:
            raise Failure(f"the expired SA is left in the kernel: {left}")
        print("life_packets: the kernel's hard EXPIRE deleted the Child SA (kernel and list-sas)", flush=True)
    finally:
        a.close()
        b.close()
        ns.down()


def time_limit(build, folder):
    n = cpus()
    ns, a, b = pair(build, folder, "ltime", GROUP + "\n                rekey_time = 6s\n                life_time = 60s",
                    GROUP)
    try:
        wait_until(lambda: full_group(a, n), 60, "the group")
        old = {cpu: member_spi(a, cpu, n) for cpu in range(n)}
        wait_until(lambda: all(member_spi(a, c, n) not in (None, old[c]) for c in range(n)), 30,
                   "every member rekeyed after rekey_time")
        print("rekey_time: every member rekeyed, each on its CPU", flush=True)
    finally:
        a.close()
        b.close()
        ns.down()


def test(build, folder, *parts):
    for p in parts or ("soft", "hard", "time"):
        {"soft": soft_limits, "hard": hard_limit, "time": time_limit}[p](build, folder)


if __name__ == "__main__":
    sys.exit(vmlib.main(test, "lifetimes"))
