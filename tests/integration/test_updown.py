#!/usr/bin/env python3
"""Updown scripts between two ikeplexd (backend none) in a namespace pair: the script (with an
argument, as strongSwan allows) records its PLUTO_* environment on both sides; the values are
strongSwan's (verbs, addresses, identities, client subnets, ports, protocol, reqid, unique id)
and the SPIs are those `ikeplex list-sas` shows; a Child SA rekey runs nothing, a terminate
runs down-client with the rekeyed SA's SPIs; hostaccess = yes gives PLUTO_HOST_ACCESS. An RFC
9611 group runs it for the fallback and each member, with their own SPIs. Then a script that
hangs is killed at updown_timeout while `ikeplex stats` keeps answering; on shutdown the down
scripts run before ikeplexd exits."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from lib import Ikeplexd, Namespaces, children, ike_sas, main_wrapper, side_conf, wait_until  # noqa: E402

SCRIPT = """#!/bin/sh
# $1: the file to append this run's environment to; with $1.hang present, hang after that.
{ echo ---; env | grep '^PLUTO_' | sort; echo end; } >> "$1"
if [ -e "$1.hang" ]; then echo hanging; sleep 600; fi
echo "recorded $PLUTO_VERB"
"""


def records(path):
    """[{name: value}] of the runs recorded in `path`, oldest first (only those written to
    the end: a script may be writing the last one)."""
    if not os.path.exists(path):
        return []
    out, cur = [], None
    for line in open(path).read().splitlines():
        if line == "---":
            cur = {}
        elif line == "end" and cur is not None:
            out.append(cur)
            cur = None
        elif "=" in line and cur is not None:
            k, v = line.split("=", 1)
            cur[k] = v
    return out


def only_child(d):
    """(ike fields, child fields) of the only IKE SA and its only installed Child SA, or None."""
    sas = ike_sas(d.sas())
    if len(sas) != 1:
        return None
    cs = [c for c in children(sas[0][1]) if c["state"] == "INSTALLED"]
    return (sas[0][1], cs[0]) if len(cs) == 1 else None


def check_env(e, verb, me, peer, my_id, peer_id, my_client, peer_client, ike, child):
    expect = {
        "PLUTO_VERSION": "1.1", "PLUTO_VERB": verb, "PLUTO_CONNECTION": "net", "PLUTO_PROTO": "esp",
        "PLUTO_ME": me, "PLUTO_PEER": peer, "PLUTO_MY_ID": my_id, "PLUTO_PEER_ID": peer_id,
        "PLUTO_MY_CLIENT": my_client, "PLUTO_PEER_CLIENT": peer_client,
        "PLUTO_MY_PORT": "0", "PLUTO_PEER_PORT": "0", "PLUTO_MY_PROTOCOL": "0", "PLUTO_PEER_PROTOCOL": "0",
        "PLUTO_UNIQUEID": ike["uniqueid"], "PLUTO_REQID": child["reqid"],
    }
    for k, v in expect.items():
        assert e.get(k) == v, f"{k}: {e.get(k)!r}, expected {v!r} in {e}"
    assert int(e["PLUTO_INBOUND_SPI"], 16) == int(child["spi-in"], 16), (e, child)
    assert int(e["PLUTO_OUTBOUND_SPI"], 16) == int(child["spi-out"], 16), (e, child)
    assert e["PLUTO_INBOUND_SPI"].startswith("0x") and len(e["PLUTO_INBOUND_SPI"]) == 10, e
    assert e.get("PLUTO_INTERFACE", "unknown") != "unknown", e
    assert "PLUTO_UDP_ENC" not in e, "no NAT, no UDP encapsulation with backend none"


def group_child(side, script, log):
    """A second child `grp` (an RFC 9611 group of fallback + 4 members): closes child `net` of
    side_conf()'s template and opens `grp`, which the template's closing brace ends."""
    mine, theirs = ("10.99.11.0/24", "10.99.12.0/24") if side == "a" else ("10.99.12.0/24", "10.99.11.0/24")
    return f"""}}
            grp {{
                local_ts = {mine}
                remote_ts = {theirs}
                esp_proposals = aes128gcm16
                per_cpu_sas = yes
                per_cpu_sas_start = all
                updown = {script} {log}"""


def test(build, folder):
    script = f"{folder}/updown.sh"
    with open(script, "w") as f:
        f.write(SCRIPT)
    os.chmod(script, 0o755)
    log_a, log_b = f"{folder}/a-updown.env", f"{folder}/b-updown.env"
    grp_a, grp_b = f"{folder}/a-grp.env", f"{folder}/b-grp.env"
    with Namespaces() as ns:
        a = b = None
        try:
            b = Ikeplexd(build, ns.b, f"{folder}/b",
                         side_conf("b", child_extra=f"updown = {script} {log_b}\n                hostaccess = yes"
                                   + group_child("b", script, grp_b)),
                         extra="updown_timeout = 2", window=4)
            a = Ikeplexd(build, ns.a, f"{folder}/a",
                         side_conf("a", child_extra=f"updown = {script} {log_a}" + group_child("a", script, grp_a)),
                         window=4)
            t0 = time.monotonic()
            out = a.cli("initiate", "--child", "net")
            assert "initiate completed successfully" in out, out
            wait_until(lambda: len(records(log_a)) == 1 and len(records(log_b)) == 1, 10, "both up scripts")
            (ia, ca), (ib, cb) = only_child(a), only_child(b)
            ra, rb = records(log_a)[0], records(log_b)[0]
            check_env(ra, "up-client", "10.99.0.1", "10.99.0.2", "a.test", "b.test", "10.99.1.0/24", "10.99.2.0/24",
                      ia, ca)
            check_env(rb, "up-client", "10.99.0.2", "10.99.0.1", "b.test", "a.test", "10.99.2.0/24", "10.99.1.0/24",
                      ib, cb)
            assert "PLUTO_HOST_ACCESS" not in ra and rb.get("PLUTO_HOST_ACCESS") == "1", (ra, rb)
            print(f"up-client on both sides with strongSwan's values, SPIs as list-sas shows "
                  f"({ra['PLUTO_INBOUND_SPI']}/{ra['PLUTO_OUTBOUND_SPI']}), reqid {ra['PLUTO_REQID']}")

            # A rekey runs nothing; the down that follows carries the new SPIs.
            a.cli("rekey", "--child-id", ca["uniqueid"])
            wait_until(lambda: (lambda x, y: x and y and x[1]["uniqueid"] != ca["uniqueid"]
                                and x[1]["spi-in"] == y[1]["spi-out"])(only_child(a), only_child(b)),
                       10, "the Child SA rekey")
            (ia, ca2), (ib, cb2) = only_child(a), only_child(b)
            out = a.cli("terminate", "--ike", "t")
            assert "terminate completed successfully" in out, out
            wait_until(lambda: len(records(log_a)) >= 2 and len(records(log_b)) >= 2, 10, "both down scripts")
            ra, rb = records(log_a), records(log_b)
            assert [r["PLUTO_VERB"] for r in ra] == ["up-client", "down-client"], ra
            assert [r["PLUTO_VERB"] for r in rb] == ["up-client", "down-client"], rb
            check_env(ra[1], "down-client", "10.99.0.1", "10.99.0.2", "a.test", "b.test", "10.99.1.0/24",
                      "10.99.2.0/24", ia, ca2)
            check_env(rb[1], "down-client", "10.99.0.2", "10.99.0.1", "b.test", "a.test", "10.99.2.0/24",
                      "10.99.1.0/24", ib, cb2)
            counters = json.loads(a.cli("counters", "--json"))
            assert counters.get("updown-runs") == "2" and counters.get("updown-failures") == "0", counters
            print("rekey: no script; terminate: down-client with the rekeyed SPIs on both sides")

            # An RFC 9611 group: one run per Child SA (fallback and members), each with its SPIs.
            out = a.cli("initiate", "--child", "grp")
            assert "initiate completed successfully" in out, out
            wait_until(lambda: len(records(grp_a)) == 5 and len(records(grp_b)) == 5, 15, "5 up scripts each side")
            for d, path in ((a, grp_a), (b, grp_b)):
                sas = ike_sas(d.sas())
                listed = {(int(c["spi-in"], 16), int(c["spi-out"], 16))
                          for _, f in sas for c in children(f) if c["name"] == "grp" and c["state"] == "INSTALLED"}
                ran = {(int(r["PLUTO_INBOUND_SPI"], 16), int(r["PLUTO_OUTBOUND_SPI"], 16)) for r in records(path)}
                assert len(listed) == 5 and ran == listed, (ran, listed)
                assert {r["PLUTO_VERB"] for r in records(path)} == {"up-client"}
                assert {r["PLUTO_CONNECTION"] for r in records(path)} == {"grp"}
            print("RFC 9611 group: up-client for the fallback and each of the 4 members, with their own SPIs")

            # A script that hangs on b: killed after updown_timeout (2 s); stats answers meanwhile.
            open(f"{log_b}.hang", "w").close()
            out = a.cli("initiate", "--child", "net")
            assert "initiate completed successfully" in out, out
            wait_until(lambda: len(records(log_b)) == 3, 10, "b's hanging up script")
            answered = 0
            while json.loads(b.cli("counters", "--json")).get("updown-timeouts") != "1":
                s0 = time.monotonic()
                stats = b.cli("stats", timeout=5)
                assert "updown scripts:" in stats, stats
                assert time.monotonic() - s0 < 2, "stats took too long while the script hung"
                answered += 1
                assert time.monotonic() - t0 < 30, "the hanging script was never killed"
            assert answered >= 2, f"stats answered only {answered} times while the script hung"
            counters = json.loads(b.cli("counters", "--json"))
            assert counters.get("updown-failures") == "1", counters
            wait_until(lambda: "killed" in open(f"{folder}/b/ikeplexd.log").read(), 5, "the kill in b's log")
            assert "updown: hanging" in open(f"{folder}/b/ikeplexd.log").read(), "the script's output is logged"
            print(f"hanging script killed at updown_timeout; stats answered {answered} times meanwhile")

            # Shutdown (SIGTERM) deletes the IKE SA; the daemon waits for the down scripts.
            os.unlink(f"{log_b}.hang")
            a.stop()
            verbs = [r["PLUTO_VERB"] for r in records(grp_a)]
            assert verbs.count("down-client") == 5, verbs
            assert [r["PLUTO_VERB"] for r in records(log_a)][-1] == "down-client", records(log_a)
            print("shutdown: the down scripts ran before ikeplexd exited")
            print(f"took {time.monotonic() - t0:.1f} s")
        finally:
            for d in (a, b):
                if d is not None:
                    d.close()


if __name__ == "__main__":
    sys.exit(main_wrapper(test, "updown"))
