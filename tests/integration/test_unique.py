#!/usr/bin/env python3
"""Uniqueness policies against Debian's strongSwan 5.9.8 (issue 22), in a namespace pair of our
own: the gateway is 10.99.157.1, the client has 10.99.157.2 and .3 (two devices of one user,
identity carol.test). IKE SAs only (no Child SA: the policies act on IKE SAs).

1. charon as the gateway, ikeplexd as the client (connections c1, c2 from .2 and c3, c4 from
   .3; c4 sends INITIAL_CONTACT, the others none: `unique = never` on our side):
   - keep: c1 up; c2 from the same address is accepted (charon 5.9.8 takes it for a
     reauthentication, as we do); c3 from the other address is refused with
     AUTHENTICATION_FAILED alone in the IKE_AUTH response, which our client reports, and c2 is
     deleted (charon keeps the first duplicate only); c4's INITIAL_CONTACT makes charon drop c1.
   - replace: c2 from the same address is kept (a reauthentication again); c3 from the other
     address makes charon delete c1 and c2 (our client gets the Deletes).
2. ikeplexd as the gateway, charon as the client (c1 from .2, c3 from .3, one identity; charon
   sends no INITIAL_CONTACT while it has an IKE SA with us):
   - keep: charon's c3 is refused with AUTHENTICATION_FAILED, its c1 stays;
   - replace: charon's c1 is deleted by us (charon logs our Delete), c3 stays.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lib import (Charon, Ikeplexd, PrefixPair, ike_sas, main_wrapper, run, swanctl_conf,  # noqa: E402
                 wait_until)

GW, DEV1, DEV2 = "10.99.157.1", "10.99.157.2", "10.99.157.3"


def conf(local_id, remote_id, conns):
    """swanctl.conf with one connection per (name, local address, remote address, unique)."""
    out, text = [], ""
    for name, local, remote, unique in conns:
        text = swanctl_conf(local, remote, local_id, remote_id, "dynamic", "dynamic",
                            conn_extra=f"unique = {unique}")
        body = text[text.index("    t {") + len("    t {"):text.index("\n}\n")]
        out.append(f"    {name} {{{body}")
    secrets = text[text.index("\n}\n") + 3:]
    return "connections {\n" + "\n".join(out) + "\n}\n" + secrets


def gateway_conf(policy):
    return conf("gw.test", "%any", [("gw", GW, "%any", policy)])


def counters(d):
    return json.loads(d.cli("counters", "--json"))


def log_of(d):
    with open(f"{d.dir}/ikeplexd.log", errors="replace") as f:
        return f.read()


def up(d):
    return sorted(n for n, f in ike_sas(d.sas()) if f.get("state") == "ESTABLISHED")


def charon_gateway(build, p, folder, policy):
    charon = Charon(p.a, f"{folder}/charon-gw-{policy}", gateway_conf(policy))
    d = None
    try:
        d = Ikeplexd(build, p.b, f"{folder}/client-{policy}",
                     conf("carol.test", "gw.test", [("c1", DEV1, GW, "never"), ("c2", DEV1, GW, "never"),
                                                    ("c3", DEV2, GW, "never"), ("c4", DEV2, GW, "no")]))
        d.cli("initiate", "--ike", "c1")
        if policy == "keep":
            d.cli("initiate", "--ike", "c2")
            assert up(d) == ["c1", "c2"] and len(charon.sas()) == 2, (up(d), charon.sas())
            out = d.cli("initiate", "--ike", "c3", check=False)
            wait_until(lambda: "c3[3] received AUTHENTICATION_FAILED notify error" in log_of(d), 10,
                       "c3 refused by charon")
            # charon 5.9.8 keeps the first and, once it refuses one, deletes the other duplicates
            # (c2): as ours does.
            assert "canceling IKE_SA setup due to uniqueness policy" in charon.log(), charon.log()[-3000:]
            wait_until(lambda: up(d) == ["c1"], 10, "c2 deleted by charon")
            assert len(charon.sas()) == 1, (out, up(d), charon.sas())
            d.cli("initiate", "--ike", "c4")
            wait_until(lambda: len(charon.sas()) == 1, 10, "charon keeping only c4 after its INITIAL_CONTACT")
            assert "destroying duplicate IKE_SA for peer 'carol.test', received INITIAL_CONTACT" in charon.log()
            print("charon unique = keep: a second IKE SA from the same address accepted, one from "
                  "another address refused with AUTHENTICATION_FAILED, INITIAL_CONTACT replaces them")
        else:
            # From the same address: a reauthentication to charon 5.9.8 as to us, nothing deleted
            # (charon deletes before it answers IKE_AUTH, so the log says so by now).
            d.cli("initiate", "--ike", "c2")
            assert "deleting duplicate" not in charon.log() and up(d) == ["c1", "c2"], up(d)
            d.cli("initiate", "--ike", "c3")
            wait_until(lambda: up(d) == ["c3"], 10, "c1 and c2 deleted by charon")
            assert "deleting duplicate IKE_SA for peer 'carol.test' due to uniqueness policy" in charon.log()
            print("charon unique = replace: a second IKE SA from the same address kept, the other "
                  "device's IKE SA makes charon delete both")
    finally:
        if d is not None:
            d.close()
        charon.close()


def ikeplexd_gateway(build, p, folder, policy):
    d = Ikeplexd(build, p.a, f"{folder}/gw-{policy}", gateway_conf(policy))
    charon = None
    try:
        charon = Charon(p.b, f"{folder}/charon-{policy}",
                        conf("carol.test", "gw.test", [("c1", DEV1, GW, "no"), ("c3", DEV2, GW, "no")]))
        charon.swanctl("--initiate", "--ike", "c1")
        wait_until(lambda: len(ike_sas(d.sas())) == 1, 10, "charon's c1 on ikeplexd")
        charon.swanctl("--initiate", "--ike", "c3", check=False)
        if policy == "keep":
            wait_until(lambda: "received AUTHENTICATION_FAILED notify error" in charon.log(), 10,
                       "charon's c3 refused")
            assert [f["remote-host"] for _, f in ike_sas(d.sas())] == [DEV1], d.sas()
            assert counters(d)["unique-refused"] == "1", counters(d)
            assert "cancelling this IKE_SA setup (unique = keep)" in log_of(d)
            print("ikeplexd unique = keep: charon's IKE SA from its second address refused with "
                  "AUTHENTICATION_FAILED, the first kept")
        else:
            wait_until(lambda: [f["remote-host"] for _, f in ike_sas(d.sas())] == [DEV2], 10,
                       "charon's c1 deleted")
            wait_until(lambda: "received DELETE for IKE_SA c1" in charon.log(), 10, "charon seeing the Delete")
            assert counters(d)["unique-replaced"] == "1", counters(d)
            print("ikeplexd unique = replace: charon's first IKE SA deleted for the one from its second "
                  "address")
    finally:
        if charon is not None:
            charon.close()
        d.close()


def test(build, folder):
    with PrefixPair("10.99.157") as p:
        run(["ip", "-n", p.b, "addr", "add", f"{DEV2}/24", "dev", p.veth_b])
        for policy in ("keep", "replace"):
            charon_gateway(build, p, folder, policy)
            ikeplexd_gateway(build, p, folder, policy)


if __name__ == "__main__":
    sys.exit(main_wrapper(test, "unique"))
