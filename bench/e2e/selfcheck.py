#!/usr/bin/env python3
"""Quick self-check of the end-to-end harness (about 15 s, needs root):
1. charon <-> charon, both with kernel-libipsec (lib.Charon's default data plane), in the shared
   topology: CHILD_SA as ESP-in-UDP, route via ipsec0 on both sides, ping both ways (also a
   1400-byte packet with DF set), packet counters in `swanctl --list-sas`, a short rate-limited
   iperf3 UDP run with low loss and CPU seconds sampled from both charons, a short TCP run.
2. lib.Charon(data_plane="none") as responder: IKE SA up, CHILD_SA refused (no ESP in this
   kernel), as interop.md describes.
Exit 0 = all good, 1 = a check failed, 77 = not root."""
import os
import re
import shutil
import signal
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))
import lib  # noqa: E402
import traffic  # noqa: E402

IKE = "aes128gcm16-prfsha256-x25519"


def check(cond, what):
    if not cond:
        raise lib.Failure(what)
    print(f"ok   {what}", flush=True)


def libipsec_pair(folder):
    with lib.Namespaces(tag=f"s{os.getpid()}") as ns:
        a = b = None
        try:
            a = lib.Charon(ns.a, f"{folder}/a", lib.side_conf("a", ike=IKE))
            b = lib.Charon(ns.b, f"{folder}/b", lib.side_conf("b", ike=IKE))
            check(traffic.process_name(a.pid) == "charon" and traffic.process_name(b.pid) == "charon",
                  f"Charon.pid is charon itself ({a.pid}, {b.pid})")
            out = a.initiate("net")
            check("CHILD_SA net{1} established" in out, "charon A initiated IKE SA and CHILD_SA")
            dev_a, dev_b = a.data_plane_up(lib.NET_B), b.data_plane_up(lib.NET_A)
            check(dev_a == dev_b == "ipsec0", f"TUN devices with routes to the remote inner network: {dev_a}, {dev_b}")
            listing = a.swanctl("--list-sas")
            check("TUNNEL-in-UDP" in listing and "AES_GCM_16-128" in listing,
                  "CHILD_SA is ESP-in-UDP with AES_GCM_16-128 (5.9.8 kernel-libipsec forces UDP encapsulation)")
            p1 = traffic.ping(ns.a, lib.INNER_B, src=lib.INNER_A, count=3, timeout=5)
            p2 = traffic.ping(ns.b, lib.INNER_A, src=lib.INNER_B, count=3, timeout=5)
            check(p1["received"] == 3 and p2["received"] == 3,
                  f"ping through the tunnel both ways ({p1['rtt_avg_ms']} / {p2['rtt_avg_ms']} ms)")
            traffic.ping(ns.a, lib.INNER_B, src=lib.INNER_A, count=1, timeout=3, size=1400 - 28)
            check(True, "a 1400-byte inner packet with DF passes (fits ipsec0's MTU)")
            try:
                traffic.ping(ns.a, lib.INNER_B, src=lib.INNER_A, count=1, timeout=2, size=1500)
                check(False, "ping with an oversize DF packet must fail")
            except traffic.TrafficError as e:
                check("0 of 1" in str(e) or "too long" in str(e) or "mtu" in str(e).lower(),
                      "an oversize DF ping fails with a clear error")
            listing = a.swanctl("--list-sas")
            m = re.search(r"in\s+[0-9a-f]{8}.*?(\d+) bytes,\s+(\d+) packets", listing)
            check(m and int(m.group(2)) >= 4, f"swanctl counts the ping replies on the inbound SA ({m and m.group(2)})")
            cpu = traffic.CpuSampler({"charon-a": a.pid, "charon-b": b.pid})
            before = traffic.link_counters(ns.a, dev_a)
            r = traffic.iperf3(ns.a, ns.b, lib.INNER_A, lib.INNER_B, proto="udp", size=1372, rate=20e6,
                               duration=2, on_start=cpu.start)
            cpu.stop()
            sent_tun = traffic.counters_delta(before, traffic.link_counters(ns.a, dev_a))["tx_packets"]
            check(r.rx_packets > 3000 and r.loss_pct < 2.0,
                  f"iperf3 UDP 20 Mbit/s, 1400-byte packets: {r.pps:.0f} pps, loss {r.loss_pct:.2f}%, "
                  f"jitter {r.jitter_ms:.3f} ms")
            check(sent_tun >= r.rx_packets, f"the traffic went through {dev_a} ({sent_tun} packets)")
            check(cpu.total > 0, f"charon CPU seconds sampled: {cpu.per_process}, "
                  f"{traffic.cpu_s_per_mpkt(r.rx_packets, cpu.total):.1f} s per Mpkt")
            r = traffic.iperf3(ns.a, ns.b, lib.INNER_A, lib.INNER_B, proto="tcp", duration=2)
            check(r.mbps > 1, f"iperf3 TCP through the tunnel: {r.mbps:.0f} Mbit/s (MSS {r.streams[0].mss})")
        finally:
            for c in (b, a):
                if c:
                    c.close()


def ike_only(folder):
    with lib.Namespaces(tag=f"t{os.getpid()}") as ns:
        a = b = None
        try:
            a = lib.Charon(ns.a, f"{folder}/ia", lib.side_conf("a", ike=IKE))
            b = lib.Charon(ns.b, f"{folder}/ib", lib.side_conf("b", ike=IKE), data_plane="none")
            out = a.swanctl("--initiate", "--child", "net", timeout=20, check=False)
            check("NO_PROPOSAL_CHOSEN" in out or "failed to establish CHILD_SA" in out,
                  "data_plane='none' responder refuses the CHILD_SA (no ESP in this kernel)")
            sas = lib.wait_until(lambda: b.sas() or None, 5, "the IKE SA at B")
            check(sas[0]["state"] == "ESTABLISHED" and not sas[0]["children"], "the IKE SA stays, without CHILD_SA")
            check(not lib.run(["ip", "-n", ns.b, "-o", "link", "show", "type", "tun"]).strip(),
                  "no TUN device at B")
        finally:
            for c in (b, a):
                if c:
                    c.close()


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root (network namespaces)")
        return 77
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    folder = tempfile.mkdtemp(prefix="ikeplex-e2e-selfcheck-")
    t0 = time.monotonic()
    try:
        libipsec_pair(folder)
        ike_only(folder)
        print(f"PASS: e2e selfcheck ({time.monotonic() - t0:.1f} s)")
        return 0
    except (lib.Failure, AssertionError) as e:
        print(f"FAIL: {e}")
        for root, _, files in os.walk(folder):
            for f in files:
                if f.endswith((".log", ".out")):
                    with open(os.path.join(root, f), errors="replace") as fh:
                        print(f"----- {f}\n" + "".join(fh.readlines()[-30:]))
        return 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
