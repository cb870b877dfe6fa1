#!/usr/bin/env python3
"""ikeplexd <-> Debian's strongSwan 5.9.8 (kernel-libipsec), both roles: PSK and certificate
authentication, Child SA and IKE SA rekeys from either side, deletes from either side, DPD
against a vanished peer, and our per_cpu_sas = yes against a peer that ignores
SA_RESOURCE_INFO (one regular Child SA, no member requested). After every step ikeplexd's
`list-sas` and strongSwan's own `swanctl --list-sas` must agree."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from lib import (Charon, Failure, Ikeplexd, Namespaces, agree, children, ike_sas, install_credentials,  # noqa: E402
                 main_wrapper, make_certs, side_conf, wait_until)


def lifecycle(build, ns, folder, we_initiate, auth, certs, ca, log):
    kw = {"auth": auth}
    if auth == "pubkey":
        kw["certs"] = "a.pem"
    ours_conf = side_conf("a", **kw)
    if auth == "pubkey":
        kw["certs"] = "b.pem"
    theirs_conf = side_conf("b", **kw)
    charon = Charon(ns.b, f"{folder}/charon", theirs_conf) if auth == "psk" else None
    if auth == "pubkey":
        # charon's folders first, then load.
        os.makedirs(f"{folder}/charon", exist_ok=True)
        install_credentials(f"{folder}/charon", "b", certs, ca)
        charon = Charon(ns.b, f"{folder}/charon", theirs_conf)
        install_credentials(f"{folder}/ours", "a", certs, ca)
    ours = None
    role = "initiator" if we_initiate else "responder"
    step = lambda what: log(f"[{auth}, we are {role}] {what}")
    try:
        ours = Ikeplexd(build, ns.a, f"{folder}/ours", ours_conf)
        if we_initiate:
            out = ours.cli("initiate", "--child", "net")
            assert "completed successfully" in out, out
        else:
            charon.swanctl("--initiate", "--child", "net", timeout=30)
        sa = agree(ours, charon, 1)
        step(f"up: IKE SA {sa['initiator-spi']}_i {sa['responder-spi']}_r")

        spi = children(sa)[0]["spi-in"]
        ours.cli("rekey", "--child", "net")
        sa = wait_until(lambda: (lambda f: f if children(f)[0]["spi-in"] != spi else None)(agree(ours, charon, 1)),
                        15, "our Child SA rekey")
        spi = children(sa)[0]["spi-in"]
        charon.swanctl("--rekey", "--child", "net")
        sa = wait_until(lambda: (lambda f: f if children(f)[0]["spi-in"] != spi else None)(agree(ours, charon, 1)),
                        15, "strongSwan's Child SA rekey")
        step("Child SA rekeyed by each side")

        ike_spi = sa["initiator-spi"]
        ours.cli("rekey", "--ike", "t")
        sa = wait_until(lambda: (lambda f: f if f["initiator-spi"] != ike_spi else None)(agree(ours, charon, 1)),
                        15, "our IKE SA rekey")
        ike_spi = sa["initiator-spi"]
        charon.swanctl("--rekey", "--ike", "t")
        sa = wait_until(lambda: (lambda f: f if f["initiator-spi"] != ike_spi else None)(agree(ours, charon, 1)),
                        15, "strongSwan's IKE SA rekey")
        step("IKE SA rekeyed by each side")

        if we_initiate:
            ours.cli("terminate", "--child", "net")
        else:
            charon.swanctl("--terminate", "--child", "net", timeout=30)
        agree(ours, charon, 0)
        if we_initiate:
            charon.swanctl("--terminate", "--ike", "t", timeout=30)
        else:
            ours.cli("terminate", "--ike", "t")
        agree(ours, charon, None)
        step("Child SA deleted by one side, the IKE SA by the other")
    finally:
        if ours is not None:
            ours.close()
        charon.close()


def dpd(build, ns, folder, log):
    """Our DPD notices a peer that vanished (its link cut) and removes everything."""
    charon = Charon(ns.b, f"{folder}/charon", side_conf("b"))
    ours = None
    try:
        ours = Ikeplexd(build, ns.a, f"{folder}/ours", side_conf("a", conn_extra="dpd_delay = 2s"))
        ours.cli("initiate", "--child", "net")
        agree(ours, charon, 1)
        ns.block(ns.b)
        # 2 s without traffic, then the DPD request and 3 retransmits (1 s, 1.8 s, 3.2 s, 5.8 s).
        wait_until(lambda: not ike_sas(ours.sas()), 30, "DPD to remove the IKE SA")
        ns.block(ns.b, False)
        log("[dpd] the vanished peer was detected; its IKE SA and Child SA are gone")
    finally:
        if ours is not None:
            ours.close()
        charon.close()


def per_cpu_vs_598(build, ns, folder, we_initiate, log):
    extra = "per_cpu_sas = yes\n                per_cpu_sas_start = all"
    charon = Charon(ns.b, f"{folder}/charon", side_conf("b"))
    ours = None
    try:
        ours = Ikeplexd(build, ns.a, f"{folder}/ours", side_conf("a", child_extra=extra), window=4)
        if we_initiate:
            ours.cli("initiate", "--child", "net")
        else:
            charon.swanctl("--initiate", "--child", "net", timeout=30)
        sa = agree(ours, charon, 1)
        assert "per-cpu-sas" not in children(sa)[0], children(sa)[0]
        time.sleep(1.5)  # room for (wrongly) requested members
        agree(ours, charon, 1)
        if we_initiate:
            assert "N((16444))" in charon.log(), "strongSwan did not see our SA_RESOURCE_INFO"
        assert "CREATE_CHILD_SA" not in charon.log(), "a member was requested anyway"
        log(f"[per_cpu_sas, we are {'initiator' if we_initiate else 'responder'}] one regular Child SA, "
            "no member requested")
    finally:
        if ours is not None:
            ours.close()
        charon.close()


def test(build, folder):
    certs, ca = make_certs(f"{folder}/pki")
    with Namespaces() as ns:
        n = 0
        for auth in ("psk", "pubkey"):
            for we_initiate in (True, False):
                n += 1
                lifecycle(build, ns, f"{folder}/{n}-{auth}-{we_initiate}", we_initiate, auth, certs, ca, print)
        dpd(build, ns, f"{folder}/dpd", print)
        for we_initiate in (True, False):
            per_cpu_vs_598(build, ns, f"{folder}/percpu-{we_initiate}", we_initiate, print)


if __name__ == "__main__":
    sys.exit(main_wrapper(test, "strongswan"))
