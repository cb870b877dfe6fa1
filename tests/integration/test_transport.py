#!/usr/bin/env python3
"""ikeplexd's transport against Debian's strongSwan 5.9.8, and reloading:
- behind a real NAT (a router namespace masquerading with nftables): NAT detected, IKE moves
  to port 4500 with the non-ESP marker, ikeplexd sends RFC 3948 NAT keepalives (seen on the
  wire by tcpdump and decoded by tshark), both sides agree on the SA;
- over IPv6 with IPv6 traffic selectors, both roles;
- SIGHUP reloads swanctl.conf: a new connection appears, a removed one goes, a connection that
  now has errors keeps its previous version and the error names file and line."""
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lib import (Charon, Failure, Ikeplexd, Namespaces, agree, ike_sas, main_wrapper, run,  # noqa: E402
                 side_conf, start_tcpdump, stop_tcpdump, swanctl_conf, wait_until)


class NatTopology:
    """A (10.99.3.2) -- R (10.99.3.1 | 10.99.0.1, masquerading) -- B (10.99.0.2)."""

    def __init__(self):
        tag = str(os.getpid())
        self.a, self.r, self.b = f"ntA{tag}", f"ntR{tag}", f"ntB{tag}"
        self.links = (f"na{tag}", f"nra{tag}", f"nrb{tag}", f"nb{tag}")

    def __enter__(self):
        self.down()
        la, lra, lrb, lb = self.links
        for cmd in (
            ["ip", "netns", "add", self.a], ["ip", "netns", "add", self.r], ["ip", "netns", "add", self.b],
            ["ip", "link", "add", la, "type", "veth", "peer", "name", lra],
            ["ip", "link", "add", lrb, "type", "veth", "peer", "name", lb],
            ["ip", "link", "set", la, "netns", self.a], ["ip", "link", "set", lra, "netns", self.r],
            ["ip", "link", "set", lrb, "netns", self.r], ["ip", "link", "set", lb, "netns", self.b],
            ["ip", "-n", self.a, "addr", "add", "10.99.3.2/24", "dev", la],
            ["ip", "-n", self.r, "addr", "add", "10.99.3.1/24", "dev", lra],
            ["ip", "-n", self.r, "addr", "add", "10.99.0.1/24", "dev", lrb],
            ["ip", "-n", self.b, "addr", "add", "10.99.0.2/24", "dev", lb],
            *[["ip", "-n", ns, "link", "set", dev, "up"] for ns, dev in
              ((self.a, la), (self.r, lra), (self.r, lrb), (self.b, lb), (self.a, "lo"), (self.r, "lo"),
               (self.b, "lo"))],
            ["ip", "-n", self.a, "route", "add", "default", "via", "10.99.3.1"],
            ["ip", "-n", self.a, "addr", "add", "10.99.1.1/32", "dev", "lo"],
            ["ip", "-n", self.b, "addr", "add", "10.99.2.1/32", "dev", "lo"],
            ["ip", "netns", "exec", self.r, "sysctl", "-qw", "net.ipv4.ip_forward=1"],
            ["ip", "netns", "exec", self.r, "nft", "add", "table", "ip", "nat"],
            ["ip", "netns", "exec", self.r, "nft",
             "add chain ip nat post { type nat hook postrouting priority 100 ; }"],
            ["ip", "netns", "exec", self.r, "nft", "add", "rule", "ip", "nat", "post", "oifname", lrb,
             "masquerade"],
        ):
            run(cmd)
        return self

    def __exit__(self, *exc):
        self.down()

    def down(self):
        for ns in (self.a, self.r, self.b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


KEEPALIVES = "ip.src == 10.99.0.1 && udp.dstport == 4500 && udp.length == 9"


class Capture:
    """tcpdump of UDP in a namespace, into a pcap file."""

    def __init__(self, ns, dev, path):
        self.path = path
        self.proc = start_tcpdump(ns, path, ["-i", dev, "udp"])

    def stop(self):
        stop_tcpdump(self.proc)

    def fields(self, display_filter, *fields):
        out = run(["tshark", "-r", self.path, "-Y", display_filter, "-T", "fields",
                   *sum((["-e", f] for f in fields), [])], timeout=60)
        return [line.split("\t") for line in out.splitlines() if line.strip()]


def behind_nat(build, folder, log):
    with NatTopology() as t:
        theirs = swanctl_conf("10.99.0.2", "%any", "b.test", "a.test", "10.99.2.0/24", "10.99.1.0/24")
        ours_conf = swanctl_conf("10.99.3.2", "10.99.0.2", "a.test", "b.test", "10.99.1.0/24", "10.99.2.0/24")
        charon = Charon(t.b, f"{folder}/charon", theirs)
        ours = None
        cap = Capture(t.b, t.links[3], f"{folder}/nat.pcap")
        try:
            ours = Ikeplexd(build, t.a, f"{folder}/ours", ours_conf, extra="keep_alive = 1")
            out = ours.cli("initiate", "--child", "net")
            assert "completed successfully" in out, out
            agree(ours, charon, 1)
            f = ike_sas(ours.sas())[0][1]
            if f.get("nat-local") != "yes" or f.get("local-port") != "4500" or f.get("remote-port") != "4500":
                raise Failure(f"ikeplexd did not see the NAT or did not move to 4500: {f}")
            listing = charon.swanctl("--list-sas")
            if "10.99.0.1[" not in listing or "[500]" in listing.split("remote", 1)[1].splitlines()[0]:
                raise Failure(f"charon does not see us NATed on 4500:\n{listing}")
            log("behind a NAT: detected by both, IKE moved to 4500")
            # keep_alive = 1: at least two keepalives (tcpdump -U writes each packet at once)
            wait_until(lambda: len(cap.fields(KEEPALIVES, "frame.number")) >= 2, 15, "two NAT keepalives")
        finally:
            cap.stop()
            if ours:
                ours.close()
            charon.close()
        # What crossed the NAT towards B, decoded by tshark.
        ike4500 = cap.fields("udp.dstport == 4500 && isakmp", "isakmp.exchangetype")
        if not any(x[0] == "35" for x in ike4500):  # IKE_AUTH behind the non-ESP marker
            raise Failure(f"no IKE_AUTH on port 4500 decoded by tshark: {ike4500}")
        keepalives = cap.fields(KEEPALIVES, "frame.number", "udp.payload")
        if len(keepalives) < 2 or any(k[1].replace(":", "") != "ff" for k in keepalives):
            raise Failure(f"expected NAT keepalives (one 0xff byte) to 4500, got {keepalives}")
        log(f"{len(ike4500)} IKE messages on 4500 with the non-ESP marker and {len(keepalives)} "
            "NAT keepalives, decoded by tshark")


def ipv6(build, folder, log):
    with Namespaces() as ns:
        for we_initiate in (True, False):
            sub = f"{folder}/v6-{'i' if we_initiate else 'r'}"
            ours_conf = swanctl_conf("fd00:99::1", "fd00:99::2", "a.test", "b.test", "fd00:1::/64", "fd00:2::/64")
            theirs = swanctl_conf("fd00:99::2", "fd00:99::1", "b.test", "a.test", "fd00:2::/64", "fd00:1::/64")
            charon = Charon(ns.b, f"{sub}/charon", theirs)
            ours = None
            try:
                ours = Ikeplexd(build, ns.a, f"{sub}/ours", ours_conf)
                if we_initiate:
                    out = ours.cli("initiate", "--child", "net")
                    assert "completed successfully" in out, out
                else:
                    charon.swanctl("--initiate", "--child", "net", timeout=30)
                agree(ours, charon, 1)
                f = ike_sas(ours.sas())[0][1]
                child = next(iter(f["child-sas"].values()))
                if f["local-host"] != "fd00:99::1" or child["local-ts"] != ["fd00:1::/64"]:
                    raise Failure(f"unexpected addresses or selectors: {f}")
                log(f"IPv6, we are {'initiator' if we_initiate else 'responder'}: fd00:1::/64 === fd00:2::/64 up")
            finally:
                if ours:
                    ours.close()
                charon.close()


def reload(build, folder, log):
    with Namespaces() as ns:
        d = Ikeplexd(build, ns.a, f"{folder}/reload", side_conf("a"))
        try:
            conns = lambda: d.cli("list-conns")
            if "t:" not in conns():
                raise Failure(f"t not loaded: {conns()}")
            u = side_conf("a").replace("    t {", "    u {", 1).split("secrets")[0]
            with open(d.dir + "/swanctl.conf", "w") as f:
                f.write(side_conf("a", conn_extra="dpd_delay = 7s").rstrip() + "\n" + u)
            d.proc.send_signal(signal.SIGHUP)
            wait_until(lambda: "u:" in conns(), 10, "u to appear after SIGHUP")
            log("SIGHUP: a new connection appears")
            # t now has an error (kept as it was), u is gone.
            bad = side_conf("a", conn_extra="version = 1")
            line = 1 + next(i for i, t in enumerate(bad.splitlines()) if "version = 1" in t)
            with open(d.dir + "/swanctl.conf", "w") as f:
                f.write(bad)
            d.proc.send_signal(signal.SIGHUP)
            wait_until(lambda: "u:" not in conns(), 10, "u to go after SIGHUP")
            if "t:" not in conns():
                raise Failure(f"t with errors was removed instead of kept: {conns()}")
            with open(d.dir + "/ikeplexd.log") as f:
                text = f.read()
            want = f"{d.dir}/swanctl.conf:{line}: connections.t.version: only IKEv2 is supported"
            if want not in text or "connection 't' has errors: its previous version stays" not in text:
                raise Failure(f"expected '{want}' in the log:\n{text[-2000:]}")
            log("SIGHUP: a removed connection goes; one with errors keeps its previous version (file:line logged)")
            out = d.cli("stats")
            assert d.proc.poll() is None, "ikeplexd exited"
            del out
        finally:
            d.close()


def test(build, folder):
    behind_nat(build, folder, print)
    ipv6(build, folder, print)
    reload(build, folder, print)


if __name__ == "__main__":
    sys.exit(main_wrapper(test, "transport"))
