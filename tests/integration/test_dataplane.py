#!/usr/bin/env python3
"""The userspace data plane end to end: two ikeplexd (backend userspace, 2 workers each) in a
namespace pair bring up an RFC 9611 group (fallback + one SA per CPU), then ping and iperf3 run
through the tunnel from each CPU (taskset). The Child SA counters prove that each CPU's traffic
went on its own SA, none on the fallback once the group was up, without replay drops; a member
rekey under traffic keeps its CPU and loses no ping. Then the same with members created on
demand (start_action = trap, per_cpu_sas_start = acquire: the first packet brings up the IKE SA
and the fallback, each CPU's traffic its own member), and ikeplexd <-> Debian's strongSwan 5.9.8
with kernel-libipsec: ping through the tunnel both ways (ESP in UDP)."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import traffic  # noqa: E402
from lib import (Charon, Failure, Ikeplexd, Namespaces, children, group, ike_sas, main_wrapper, run,  # noqa: E402
                 side_conf, start_tcpdump, stop_tcpdump, wait_until)

GROUP = "per_cpu_sas = yes\n                per_cpu_sas_start = all"
CPUS = 2


def full_group(d):
    g = group(d)
    return g if g is not None and sorted(g) == ["-"] + [str(k) for k in range(CPUS)] else None


def counts(d, field):
    return {cpu: int(c[field]) for cpu, c in group(d).items()}


def ping(ns, cpu, src, dst, count=5):
    out = run(["ip", "netns", "exec", ns, "taskset", "-c", str(cpu), "ping", "-c", str(count), "-i", "0.05",
               "-W", "2", "-I", src, dst], timeout=30, check=False)
    if f"{count} received" not in out:
        raise Failure(f"ping {src} -> {dst} on CPU {cpu}: {out}")


def iperf(ns_client, ns_server, cpu, server_ip, client_ip, seconds=2):
    """iperf3 TCP from `cpu` through the tunnel; Mbit/s received. traffic.iperf3 starts the
    server and waits until it accepts connections before the client starts, and takes an iperf3
    `error` as a failed attempt (retried for set-up errors), never as a result."""
    r = traffic.iperf3(ns_client, ns_server, client_ip, server_ip, proto="tcp", duration=seconds,
                       client_cpus=[cpu], attempts=3)
    if r.rx_bytes <= 0:
        raise Failure(f"iperf3 from CPU {cpu}: nothing received ({r.as_dict()})")
    return r.mbps


def test(build, folder):
    group_all(build, f"{folder}/all")
    group_on_demand(build, f"{folder}/acquire")
    with_strongswan(build, f"{folder}/strongswan")
    raw_esp(build, f"{folder}/raw")


def ping_until(ns, cpu, src, dst, timeout=15):
    """Pings (1 packet at a time) until one answer comes back: the first packets raise the
    acquires that bring the SAs up."""
    def once():
        out = run(["ip", "netns", "exec", ns, "taskset", "-c", str(cpu), "ping", "-c", "1", "-W", "1", "-I", src,
                   dst], timeout=10, check=False)
        return "1 received" in out
    wait_until(once, timeout, f"an answer to ping {src} -> {dst} on CPU {cpu}")


def group_on_demand(build, folder):
    trap = "per_cpu_sas = yes\n                start_action = trap"
    with Namespaces() as ns:
        a = b = None
        try:
            b = Ikeplexd(build, ns.b, f"{folder}/b", side_conf("b", child_extra="per_cpu_sas = yes"), workers=CPUS,
                         window=4, backend="userspace")
            a = Ikeplexd(build, ns.a, f"{folder}/a", side_conf("a", child_extra=trap), workers=CPUS, window=4,
                         backend="userspace")
            assert not ike_sas(a.sas()), "an IKE SA before any traffic"
            ping_until(ns.a, 0, "10.99.1.1", "10.99.2.1")
            wait_until(lambda: (g := group(a)) and "0" in g, 10, "CPU 0's member after traffic on CPU 0")
            print(f"trap + acquire: traffic on CPU 0 brought up {sorted(group(a))}")
            ping_until(ns.a, 1, "10.99.1.1", "10.99.2.1")
            wait_until(lambda: full_group(a) and full_group(b), 10, "CPU 1's member after traffic on CPU 1")
            before = counts(a, "packets-out")
            ping(ns.a, 1, "10.99.1.1", "10.99.2.1")
            after = counts(a, "packets-out")
            assert after["1"] - before["1"] >= 5 and after["-"] == before["-"], (before, after)
            print(f"acquires for each CPU: group {sorted(group(a))}, CPU 1's traffic on its member")
        finally:
            for d in (a, b):
                if d is not None:
                    d.close()


def with_strongswan(build, folder):
    with Namespaces() as ns:
        a = charon = None
        try:
            charon = Charon(ns.b, f"{folder}/b", side_conf("b"))
            a = Ikeplexd(build, ns.a, f"{folder}/a", side_conf("a"), workers=CPUS, backend="userspace")
            out = a.cli("initiate", "--child", "net")
            assert "initiate completed successfully" in out, out
            charon.data_plane_up("10.99.1.0/24")
            ping(ns.a, 0, "10.99.1.1", "10.99.2.1")
            ping(ns.b, 0, "10.99.2.1", "10.99.1.1")
            g = group(a)
            assert int(g["-"]["packets-out"]) >= 5 and int(g["-"]["packets-in"]) >= 10, g
            assert g["-"].get("encap") == "yes", g
            print("ikeplexd <-> strongSwan 5.9.8 kernel-libipsec: ping both ways (ESP in UDP), "
                  f"{g['-']['packets-in']} in / {g['-']['packets-out']} out")
        finally:
            if a is not None:
                a.close()
            if charon is not None:
                charon.close()


def raw_esp(build, folder):
    """raw_esp = yes and no NAT: plain ESP (IP protocol 50) on raw sockets, seen on the wire."""
    with Namespaces() as ns:
        a = b = None
        cap = None
        try:
            b = Ikeplexd(build, ns.b, f"{folder}/b", side_conf("b"), workers=CPUS, backend="userspace",
                         extra="raw_esp = yes")
            a = Ikeplexd(build, ns.a, f"{folder}/a", side_conf("a"), workers=CPUS, backend="userspace",
                         extra="raw_esp = yes")
            out = a.cli("initiate", "--child", "net")
            assert "initiate completed successfully" in out, out
            pcap = f"{folder}/esp.pcap"
            cap = start_tcpdump(ns.b, pcap, ["-i", "any", "ip proto 50"])
            ping(ns.a, 0, "10.99.1.1", "10.99.2.1")
            ping(ns.b, 1, "10.99.2.1", "10.99.1.1")
            g = group(a)
            assert "encap" not in g["-"], g["-"]
            assert int(g["-"]["packets-out"]) >= 10 and int(g["-"]["packets-in"]) >= 10, g["-"]
            # The 20 ESP packets of both pings; -U writes each as it is captured.
            def esp_seen():
                n = len(run(["tshark", "-r", pcap, "-Y", "esp"], check=False, timeout=60).strip().splitlines())
                if n < 20:
                    raise Failure(f"{n} ESP packets in the capture so far")
                return n
            n = wait_until(esp_seen, 15, "the 20 raw ESP packets of both pings in the capture")
            stop_tcpdump(cap)
            cap = None
            print(f"raw ESP (protocol 50, no UDP): ping both ways, {n} ESP packets on the wire")
        finally:
            if cap is not None:
                stop_tcpdump(cap)
            for d in (a, b):
                if d is not None:
                    d.close()


def group_all(build, folder):
    with Namespaces() as ns:
        a = b = None
        try:
            b = Ikeplexd(build, ns.b, f"{folder}/b", side_conf("b", child_extra=GROUP), workers=CPUS, window=4,
                         backend="userspace")
            a = Ikeplexd(build, ns.a, f"{folder}/a", side_conf("a", child_extra=GROUP), workers=CPUS, window=4,
                         backend="userspace")
            out = a.cli("initiate", "--child", "net")
            assert "initiate completed successfully" in out, out
            wait_until(lambda: full_group(a) and full_group(b), 15, "the group on both sides")
            print(f"group up: fallback + {CPUS} per-CPU SAs on both sides")
            g = group(a)
            assert g["-"]["worker-out"] == "all", g["-"]
            for cpu in range(CPUS):
                assert g[str(cpu)]["worker-out"] == str(cpu), g[str(cpu)]
                assert g[str(cpu)]["worker-in"] in [str(k) for k in range(CPUS)], g[str(cpu)]

            # Each CPU of a pings b: the packets leave on that CPU's SA, the fallback stays idle.
            for cpu in range(CPUS):
                before = counts(a, "packets-out")
                ping(ns.a, cpu, "10.99.1.1", "10.99.2.1")
                after = counts(a, "packets-out")
                delta = {k: after[k] - before.get(k, 0) for k in after}
                assert delta[str(cpu)] >= 5, (cpu, delta)
                assert delta["-"] == 0, ("fallback used", delta)
                others = [k for k in delta if k not in ("-", str(cpu))]
                assert all(delta[k] == 0 for k in others), ("wrong CPU's SA used", cpu, delta)
                print(f"CPU {cpu}: ping a -> b on its own SA ({delta[str(cpu)]} packets)")
            # And the other way round.
            for cpu in range(CPUS):
                before = counts(b, "packets-out")
                ping(ns.b, cpu, "10.99.2.1", "10.99.1.1")
                after = counts(b, "packets-out")
                delta = {k: after[k] - before.get(k, 0) for k in after}
                assert delta[str(cpu)] >= 5 and delta["-"] == 0, (cpu, delta)
                print(f"CPU {cpu}: ping b -> a on its own SA")

            # iperf3 (TCP) from each CPU.
            for cpu in range(CPUS):
                before = counts(a, "packets-out")
                mbps = iperf(ns.a, ns.b, cpu, "10.99.2.1", "10.99.1.1")
                after = counts(a, "packets-out")
                delta = {k: after[k] - before.get(k, 0) for k in after}
                assert delta[str(cpu)] > 1000 and delta["-"] == 0, (cpu, delta)
                print(f"CPU {cpu}: iperf3 TCP {mbps:.0f} Mbit/s, {delta[str(cpu)]} packets on its SA")

            # No false replay or integrity drops anywhere.
            for d in (a, b):
                for cpu, c in group(d).items():
                    assert "dropped-replay-in" not in c and "dropped-integrity-in" not in c, (cpu, c)
                stats = d.cli("stats")
                assert "replay" not in stats and "integrity" not in stats, stats
            print(a.cli("stats"))

            # A member rekey under traffic: same CPU, pings keep flowing.
            old = group(a)["0"]["spi-out"]
            uid = group(a)["0"]["uniqueid"]
            a.cli("rekey", "--child-id", uid)
            wait_until(lambda: (g := full_group(a)) and g["0"]["spi-out"] != old, 15, "the member rekey")
            ping(ns.a, 0, "10.99.1.1", "10.99.2.1", count=10)
            print("member rekeyed on CPU 0; ping still on CPU 0's new SA")
        finally:
            for d in (a, b):
                if d is not None:
                    d.close()


if __name__ == "__main__":
    sys.exit(main_wrapper(test, "dataplane"))
