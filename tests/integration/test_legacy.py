#!/usr/bin/env python3
"""Legacy algorithms (issue 24) against Debian's strongSwan 5.9.8: IKE aes128-sha1-modp1024 and
two Child SAs, ESP aes128-sha1 (child net) and 3des-sha1 (child net3), with ikeplexd's userspace
data plane and charon's kernel-libipsec. We initiate, then charon does; each time ping passes
both ways through each Child SA, and ikeplexd's log warns about the legacy algorithms with the
peer named. Addresses: 10.99.190.1/.2 outside; 10.99.191.0/24 ours and 10.99.192.0/24 charon's
inside, split into /25s for the two children."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lib import (Charon, Failure, Ikeplexd, PrefixPair, ike_sas, main_wrapper, run, swanctl_conf,  # noqa: E402
                 wait_until)

NETS = {"net": ("10.99.191.0/25", "10.99.192.0/25", "10.99.191.1", "10.99.192.1", "aes128-sha1"),
        "net3": ("10.99.191.128/25", "10.99.192.128/25", "10.99.191.129", "10.99.192.129", "3des-sha1")}


def conf(side):
    local, remote = ("10.99.190.1", "10.99.190.2") if side == "ours" else ("10.99.190.2", "10.99.190.1")
    ids = ("a.test", "b.test") if side == "ours" else ("b.test", "a.test")
    ours_net, theirs_net, _, _, esp = NETS["net"]
    ts = (ours_net, theirs_net) if side == "ours" else (theirs_net, ours_net)
    text = swanctl_conf(local, remote, *ids, *ts, ike="aes128-sha1-modp1024", esp=esp)
    o3, t3, _, _, esp3 = NETS["net3"]
    l3, r3 = (o3, t3) if side == "ours" else (t3, o3)
    net3 = (f"net3 {{\n local_ts = {l3}\n remote_ts = {r3}\n esp_proposals = {esp3}\n mode = tunnel\n }}\n")
    return text.replace("children {\n", "children {\n" + net3, 1)


def ping(ns, src, dst):
    out = run(["ip", "netns", "exec", ns, "ping", "-c", "2", "-i", "0.05", "-W", "1", "-I", src, dst],
              check=False, timeout=10)
    if " 0% packet loss" not in out:
        raise Failure(f"ping {src} -> {dst}: {out}")


def pings(ns, charon):
    for child, (ours_net, _, ours_in, theirs_in, _) in NETS.items():
        charon.data_plane_up(ours_net)
        ping(ns.a, ours_in, theirs_in)
        ping(ns.b, theirs_in, ours_in)


def test(build, folder):
    with PrefixPair("10.99.190") as ns:
        for _, _, ours_in, theirs_in, _ in NETS.values():
            run(["ip", "-n", ns.a, "addr", "add", f"{ours_in}/32", "dev", "lo"])
            run(["ip", "-n", ns.b, "addr", "add", f"{theirs_in}/32", "dev", "lo"])
        charon = Charon(ns.b, f"{folder}/charon", conf("theirs"))
        ours = None
        try:
            ours = Ikeplexd(build, ns.a, f"{folder}/ours", conf("ours"), workers=2, backend="userspace")
            for child in NETS:
                out = ours.cli("initiate", "--child", child)
                assert "completed successfully" in out, out
            pings(ns, charon)
            with open(f"{folder}/ours/ikeplexd.log", errors="replace") as f:
                log = f.read()
            for needle in ["IKE_SA with 10.99.190.2: chosen proposal "
                           "IKE:AES_CBC_128/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024 has legacy algorithm(s)",
                           "CHILD_SA net with 10.99.190.2: chosen proposal ESP:AES_CBC_128/HMAC_SHA1_96",
                           "CHILD_SA net3 with 10.99.190.2: chosen proposal ESP:3DES_CBC/HMAC_SHA1_96"]:
                assert needle in log, f"ikeplexd's log lacks {needle!r}"
            print("we initiate: IKE aes128-sha1-modp1024, ESP aes128-sha1 and 3des-sha1, warned; ping both ways")

            ours.cli("terminate", "--ike", "t")
            wait_until(lambda: not ike_sas(ours.sas()) and not charon.sas(), 10, "the IKE SA to go")
            for child in NETS:
                charon.initiate(child)
            pings(ns, charon)
            print("charon initiates: both Child SAs up with the legacy algorithms; ping both ways")
        finally:
            if ours is not None:
                ours.close()
            charon.close()


if __name__ == "__main__":
    sys.exit(main_wrapper(test, "legacy"))
