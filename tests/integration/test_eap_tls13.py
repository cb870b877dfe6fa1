#!/usr/bin/env python3
"""EAP-TLS over TLS 1.3 (RFC 9190) live, in namespaces of this test's own (10.99.137.0/25
outside: gateway .1, client .2; 10.99.137.129 the gateway's inside; leases from
10.99.137.192/26):

1. ikeplexd <-> ikeplexd, both with `tls { version_max = 1.3 }`: TLS 1.3 negotiated (both logs),
   the client received the commitment message, the virtual IP arrives, a ping flows through it
   (the AUTH payloads are MACs over RFC 9190's MSK: the IKE SA exists only if both derived it).
2. Debian's strongSwan 5.9.8 as the EAP-TLS client at its default (charon.tls.version_max =
   1.2) against ikeplexd allowing 1.3: TLS 1.2 is negotiated and the client is accepted (what
   interoperates, and why ikeplexd's default stays 1.2).
3. strongSwan 5.9.8 with `charon.tls.version_max = 1.3` against ikeplexd allowing 1.3: TLS 1.3
   is negotiated, and strongSwan 5.9.8 does not survive RFC 9190: on our commitment message (the
   request after its Finished) its charon dies in libtls (SIGSEGV, seen here on Debian's
   5.9.8-5+deb12u6); its libtls also has no "EXPORTER_EAP_TLS_Key_Material" (its TLS 1.3 MSK is
   pre-RFC 9190). The step proves the finding and that our gateway stays clean: no IKE SA comes
   up and the half-open one goes after half_open_timeout. It is not an interoperability claim."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lib import run_steps, Charon, Failure, GatewayTopology, Ikeplexd, ike_sas, main_wrapper, make_certs, wait_until  # noqa: E402
from test_eap_rw import creds, read  # noqa: E402
from traffic import wait_ping  # noqa: E402

GW, CLIENT = "10.99.137.1", "10.99.137.2"
INSIDE, INSIDE_NET = "10.99.137.129", "10.99.137.128/26"
POOL, FIRST = "10.99.137.192/26", "10.99.137.193"
IKE = "aes256gcm16-prfsha384-x25519"
TLS13 = "tls { version_max = 1.3 }"
CLIENT_AUTH = "auth = eap-tls\n            id = dave.test\n            certs = dave.pem"


def Topology():
    return GatewayTopology("t13", GW, CLIENT, INSIDE, plen=25)


GATEWAY = f"""connections {{
    rw {{
        local_addrs = {GW}
        remote_addrs = %any
        pools = p
        proposals = {IKE}
        local {{
            auth = pubkey
            certs = moon.pem
            id = moon.example.org
        }}
        remote {{
            auth = eap-tls
            eap_id = %any
        }}
        children {{ rw {{ local_ts = {INSIDE_NET}
                         esp_proposals = aes256gcm16 }} }}
    }}
}}
pools {{ p {{ addrs = {POOL} }} }}
"""

ROAD = f"""connections {{
    home {{
        local_addrs = {CLIENT}
        remote_addrs = {GW}
        vips = 0.0.0.0
        proposals = {IKE}
        local {{
            {CLIENT_AUTH}
        }}
        remote {{
            auth = pubkey
            id = moon.example.org
        }}
        children {{ home {{ remote_ts = {INSIDE_NET}
                           esp_proposals = aes256gcm16 }} }}
    }}
}}
"""


def gateway(build, topo, folder, pki, extra=""):
    creds(f"{folder}/gw", pki["ca"], *pki["moon"])
    return Ikeplexd(build, topo.g, f"{folder}/gw", GATEWAY, backend="userspace", workers=1,
                    extra=f"{TLS13}\n    {extra}")


def charon_client(folder, topo, pki, extra=""):
    creds(f"{folder}/charon", pki["ca"], *pki["dave"], name="dave")
    return Charon(topo.c, f"{folder}/charon", ROAD, plugins_extra="eap-identity eap-tls",
                  extra=f"install_virtual_ip = yes\n  {extra}")


def ikeplexd_pair(build, topo, folder, pki, log):
    gw = gateway(build, topo, folder, pki)
    ours = None
    try:
        creds(f"{folder}/ours", pki["ca"], *pki["dave"], name="dave")
        ours = Ikeplexd(build, topo.c, f"{folder}/ours", ROAD, backend="userspace", workers=1,
                        extra=f"{TLS13}\n    resolve {{ file = {folder}/resolv.conf }}")
        out = ours.cli("initiate", "--child", "home")
        assert "completed successfully" in out, out
        assert ike_sas(ours.sas())[0][1].get("local-vips") == [FIRST]
        wait_ping(topo.c, INSIDE, src=FIRST, timeout=10)
        gw_log, our_log = read(f"{folder}/gw/ikeplexd.log"), read(f"{folder}/ours/ikeplexd.log")
        assert "EAP-TLS: TLSv1.3 with TLS_" in gw_log, gw_log[-3000:]
        assert "EAP-TLS: TLSv1.3 with TLS_" in our_log, our_log[-3000:]
        assert "EAP-TLS: TLS 1.3 commitment message received" in our_log, our_log[-3000:]
        log(f"[1] ikeplexd <-> ikeplexd, EAP-TLS over TLS 1.3: commitment received, {FIRST}, ping through it")
    finally:
        if ours is not None:
            ours.close()
        gw.close()


def against_strongswan(build, topo, folder, pki, charon_extra, check, gw_extra=""):
    """ikeplexd's gateway allowing TLS 1.3 and charon as the EAP-TLS client (`charon_extra`
    inside charon { }); `check(charon, gw)` judges the outcome."""
    gw = gateway(build, topo, folder, pki, gw_extra)
    charon = None
    try:
        charon = charon_client(folder, topo, pki, extra=charon_extra)
        check(charon, gw)
    finally:
        if charon is not None:
            charon.close()
        gw.close()


def strongswan_default(build, topo, folder, pki, log):
    def check(charon, gw):
        charon.initiate("home")
        charon.data_plane_up(INSIDE_NET)
        wait_ping(topo.c, INSIDE, src=FIRST, timeout=10)
        gw_log = read(f"{folder}/gw/ikeplexd.log")
        assert "EAP-TLS: TLSv1.2 with" in gw_log, gw_log[-3000:]
        log("[2] strongSwan 5.9.8 (version_max 1.2, its default) -> ikeplexd allowing 1.3: TLS 1.2, up, ping")
    against_strongswan(build, topo, folder, pki, "", check)


def strongswan_13(build, topo, folder, pki, log):
    def check(charon, gw):
        out = charon.swanctl("--initiate", "--child", "home", timeout=30, check=False)
        assert "completed successfully" not in out, out
        wait_until(lambda: not ike_sas(gw.sas()), 15, "ikeplexd to drop the half-open IKE SA")
        gw_log = read(f"{folder}/gw/ikeplexd.log")
        assert "EAP-TLS: TLSv1.3 with TLS_" in gw_log, gw_log[-3000:]
        assert "EAP method EAP_TLS succeeded" not in gw_log, gw_log[-3000:]
        assert "negotiated TLS 1.3" in charon.log(), charon.log()[-3000:]
        crashed = "received 11" in charon.log() and "libtls.so" in charon.log()
        log("[3] strongSwan 5.9.8 with version_max = 1.3: TLS 1.3 negotiated, our commitment message sent, "
            f"{'its charon died in libtls (SIGSEGV)' if crashed else 'it did not complete'}; "
            "no IKE SA, ours dropped after half_open_timeout")
    against_strongswan(build, topo, folder, pki, TLS13, check, gw_extra="half_open_timeout = 5")


def strongswan_server_13(build, topo, folder, pki, log):
    """Our client (version_max 1.3) against strongSwan 5.9.8's EAP-TLS server with version_max =
    1.3: it sends no commitment message (pre-RFC 9190), so our client refuses its EAP-Success."""
    creds(f"{folder}/charon", pki["ca"], *pki["moon"])
    charon = Charon(topo.g, f"{folder}/charon", GATEWAY, plugins_extra="eap-identity eap-tls", extra=TLS13)
    ours = None
    try:
        creds(f"{folder}/ours", pki["ca"], *pki["dave"], name="dave")
        ours = Ikeplexd(build, topo.c, f"{folder}/ours", ROAD, backend="userspace", workers=1,
                        extra=f"{TLS13}\n    resolve {{ file = {folder}/resolv.conf }}")
        out = ours.cli("initiate", "--child", "home", check=False)
        assert "completed successfully" not in out, out
        our_log = read(f"{folder}/ours/ikeplexd.log")
        assert "EAP-TLS: TLSv1.3 with TLS_" in our_log, our_log[-3000:]
        assert "commitment message received" not in our_log, our_log[-3000:]
        assert "received EAP_SUCCESS before the EAP method completed" in our_log, our_log[-3000:]
        log("[4] strongSwan 5.9.8's EAP-TLS server with version_max = 1.3: TLS 1.3, no commitment message, "
            "its EAP-Success refused by our client")
    finally:
        if ours is not None:
            ours.close()
        charon.close()


def test(build, folder):
    if not os.path.exists("/usr/lib/ipsec/plugins/libstrongswan-eap-tls.so"):
        raise Failure("strongSwan's eap-tls plugin is missing (libcharon-extra-plugins)")
    certs, ca = make_certs(f"{folder}/pki", {"moon": "moon.example.org", "dave": "dave.test"})
    pki = {"ca": ca, "moon": certs["moon"], "dave": certs["dave"]}
    steps = [
        lambda t: ikeplexd_pair(build, t, f"{folder}/1", pki, print),
        lambda t: strongswan_default(build, t, f"{folder}/2", pki, print),
        lambda t: strongswan_13(build, t, f"{folder}/3", pki, print),
        lambda t: strongswan_server_13(build, t, f"{folder}/4", pki, print),
    ]
    run_steps(steps, Topology, "TLS13_STEPS")


if __name__ == "__main__":
    sys.exit(main_wrapper(test, "eap_tls13"))
