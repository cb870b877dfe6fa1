#!/usr/bin/env python3
"""ikeplexd <-> ikeplexd in a namespace pair: set-up with an RFC 9611 group (per_cpu_sas_start =
all, 4 resources, window 4), IKE and Child SA rekeys, deleting a member, one side killed and
restarted (INITIAL_CONTACT replaces the stale IKE SA), and a clean terminate."""
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lib import Failure, Ikeplexd, Namespaces, children, ike_sas, main_wrapper, side_conf, wait_until  # noqa: E402

GROUP = "per_cpu_sas = yes\n                per_cpu_sas_start = all"


def group_of(d):
    """(ike fields, [children]) of the only IKE SA, or None."""
    sas = ike_sas(d.sas())
    if len(sas) != 1:
        return None
    return sas[0][1], [c for c in children(sas[0][1]) if c["state"] == "INSTALLED"]


def paired(a, b, n):
    """Both sides show one IKE SA with the same SPIs and `n` Child SAs with crossed SPIs."""
    ga, gb = group_of(a), group_of(b)
    if ga is None or gb is None:
        return None
    (fa, ca), (fb, cb) = ga, gb
    if (fa["initiator-spi"], fa["responder-spi"]) != (fb["initiator-spi"], fb["responder-spi"]):
        return None
    pa = sorted((c["spi-in"], c["spi-out"]) for c in ca)
    pb = sorted((c["spi-out"], c["spi-in"]) for c in cb)
    return (fa, ca, cb) if pa == pb and len(pa) == n else None


def test(build, folder):
    with Namespaces() as ns:
        a = b = None
        try:
            b = Ikeplexd(build, ns.b, f"{folder}/b", side_conf("b", child_extra=GROUP), window=4)
            a = Ikeplexd(build, ns.a, f"{folder}/a", side_conf("a", child_extra=GROUP), window=4)
            out = a.cli("initiate", "--child", "net")
            assert "initiate completed successfully" in out, out
            fa, ca, cb = wait_until(lambda: paired(a, b, 5), 15, "the group (fallback + 4 per-CPU SAs)")
            cpus_a = sorted(c.get("cpu", "-") for c in ca)
            cpus_b = sorted(c.get("cpu", "-") for c in cb)
            assert cpus_a == ["-", "0", "1", "2", "3"], cpus_a
            assert cpus_b == ["-", "0", "1", "2", "3"], cpus_b
            table = a.cli("list-sas")
            assert "group net: fallback + 4 per-CPU SAs (cpu 0 1 2 3)" in table, table
            print("group up: fallback + 4 per-CPU SAs on both sides")

            # IKE rekey from b: the group moves over.
            old_spi = fa["initiator-spi"]
            b.cli("rekey", "--ike", "t")
            fa, ca, cb = wait_until(lambda: (lambda p: p if p and p[0]["initiator-spi"] != old_spi else None)(
                paired(a, b, 5)), 15, "the IKE rekey")
            print(f"IKE SA rekeyed: {old_spi} -> {fa['initiator-spi']}, group kept")

            # A member rekey from a keeps its CPU.
            member = next(c for c in ca if c.get("cpu") == "2")
            a.cli("rekey", "--child-id", member["uniqueid"])
            fa, ca, cb = wait_until(lambda: (lambda p: p if p and all(c["uniqueid"] != member["uniqueid"] for c in p[1]) else None)(
                paired(a, b, 5)), 15, "the member rekey")
            assert sorted(c.get("cpu", "-") for c in ca) == ["-", "0", "1", "2", "3"]
            print("member rekeyed, still on cpu 2")

            # b deletes one of its members.
            victim = next(c for c in cb if c.get("cpu") == "1")
            b.cli("terminate", "--child-id", victim["uniqueid"])
            wait_until(lambda: paired(a, b, 4), 15, "the member delete")
            print("member deleted by the peer: 4 Child SAs left")

            # a dies without a word and comes back: its INITIAL_CONTACT makes b drop the stale SA.
            a.proc.send_signal(signal.SIGKILL)
            a.proc.wait(timeout=10)
            os.unlink(a.vici)
            a.start()
            a.cli("initiate", "--child", "net")
            wait_until(lambda: paired(a, b, 5), 20, "the new IKE SA after the restart")
            assert len(ike_sas(b.sas())) == 1
            print("restarted side reconnected; the stale IKE SA is gone (INITIAL_CONTACT)")

            # Clean terminate.
            out = a.cli("terminate", "--ike", "t")
            assert "terminate completed successfully" in out, out
            wait_until(lambda: not ike_sas(a.sas()) and not ike_sas(b.sas()), 10, "both sides empty")
            print("terminated: nothing left on either side")
        finally:
            for d in (a, b):
                if d is not None:
                    d.close()


if __name__ == "__main__":
    sys.exit(main_wrapper(test, "daemon-pair"))
