#!/usr/bin/env python3
"""EAP in IKE_AUTH (RFC 7296 §2.16) against Debian's strongSwan 5.9.8, per method:

- strongSwan as the EAP client (`local.auth = eap-<method>`, an EAP identity of its own)
  against ikeplexd as a certificate gateway asking for it with EAP-Identity: accepted (ping
  through the Child SA both ways, list-sas shows `remote-eap-id`), and rejected with a wrong
  secret (strongSwan reports the EAP failure, nothing stays up);
- ikeplexd as the EAP client against strongSwan as the EAP server (ping both ways);
- ikeplexd <-> ikeplexd (ping both ways).

Addresses: 10.99.124.0/24 outside (A = .1, B = .2), 10.99.125.0/25 behind A, 10.99.125.128/25
behind B, in namespaces of this test's own. A method is one entry of METHODS."""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lib import Charon, Failure, GatewayTopology, Ikeplexd, ike_sas, main_wrapper, make_certs, run, wait_until  # noqa: E402
from traffic import wait_ping  # noqa: E402

OUT_A, OUT_B = "10.99.124.1", "10.99.124.2"
IN_A, IN_B = "10.99.125.1", "10.99.125.129"
NET_A, NET_B = "10.99.125.0/25", "10.99.125.128/25"
SECRET = "eap-test-secret-0123"

# method -> the strongSwan plugins it needs beside eap-identity (eap-mschapv2 and eap-tls are
# one line each here once ikeplex has them).
METHODS = {
    "md5": "eap-md5",
}


def Namespaces():
    """A (ns.g) and B (ns.c) joined by a veth pair, each with its inside address on lo."""
    return GatewayTopology("eap", OUT_A, OUT_B, IN_A, client_inside=IN_B)


def conf(side, local_auth, remote_auth, secret=SECRET):
    """swanctl.conf of side "a" or "b": connection t, child net; `local_auth`/`remote_auth` are
    the lines inside local { } and remote { }."""
    me, peer = (OUT_A, OUT_B) if side == "a" else (OUT_B, OUT_A)
    mine, theirs = (NET_A, NET_B) if side == "a" else (NET_B, NET_A)
    return f"""connections {{
    t {{
        version = 2
        local_addrs = {me}
        remote_addrs = {peer}
        proposals = aes128gcm16-prfsha256-x25519
        local {{
            {local_auth}
        }}
        remote {{
            {remote_auth}
        }}
        children {{
            net {{
                local_ts = {mine}
                remote_ts = {theirs}
                esp_proposals = aes128gcm16
            }}
        }}
    }}
}}
secrets {{
    eap-carol {{
        id = carol
        secret = "{secret}"
    }}
}}
"""


def server_auth(method, side):
    """A certificate gateway asking for the client's EAP identity."""
    return (f"auth = pubkey\n            id = {side}.test\n            certs = {side}.pem",
            f"auth = eap-{method}\n            eap_id = %any")


def client_auth(method, side, server):
    return (f"auth = eap-{method}\n            id = {side}.test\n            eap_id = carol",
            f"auth = pubkey\n            id = {server}.test")


def credentials(folder, side, certs, ca, own=True):
    for sub in ("x509", "x509ca", "private"):
        os.makedirs(f"{folder}/{sub}", exist_ok=True)
    shutil.copy(ca, f"{folder}/x509ca/ca.pem")
    if own:
        shutil.copy(certs[side][0], f"{folder}/x509/{side}.pem")
        shutil.copy(certs[side][1], f"{folder}/private/{side}.pem")


def pings(ns):
    wait_ping(ns.g, IN_B, src=IN_A, timeout=10)
    wait_ping(ns.c, IN_A, src=IN_B, timeout=10)


def one_sa(d):
    sas = ike_sas(d.sas())
    return sas[0][1] if len(sas) == 1 and sas[0][1].get("state") == "ESTABLISHED" else None


def strongswan_client(build, ns, folder, method, certs, ca, secret, log):
    """strongSwan (B) authenticates with EAP to ikeplexd (A), a certificate gateway."""
    credentials(f"{folder}/ours", "a", certs, ca)
    credentials(f"{folder}/charon", "b", certs, ca, own=False)
    ours = charon = None
    try:
        ours = Ikeplexd(build, ns.g, f"{folder}/ours", conf("a", *server_auth(method, "a")),
                        backend="userspace", workers=1)
        charon = Charon(ns.c, f"{folder}/charon", conf("b", *client_auth(method, "b", "a"), secret=secret),
                        plugins_extra=f"eap-identity {METHODS[method]}")
        out = charon.swanctl("--initiate", "--child", "net", timeout=30, check=False)
        if secret != SECRET:
            assert "completed successfully" not in out, out
            wait_until(lambda: not ike_sas(ours.sas()), 10, "ikeplexd to drop the half-open IKE SA")
            assert f"EAP method EAP_{method.upper()} failed for peer 'carol'" in \
                open(f"{folder}/ours/ikeplexd.log").read()
            assert "received EAP_FAILURE" in charon.log(), charon.log()[-2000:]
            log(f"[{method}] strongSwan client with a wrong secret: EAP_FAILURE, nothing up")
            return
        assert "completed successfully" in out, out
        sa = wait_until(lambda: one_sa(ours), 10, "ikeplexd's IKE SA")
        assert sa.get("remote-eap-id") == "carol", sa
        charon.data_plane_up(NET_A)
        pings(ns)
        log(f"[{method}] strongSwan client -> ikeplexd gateway (EAP-Identity 'carol'): up, ping both ways")
    finally:
        if charon is not None:
            charon.close()
        if ours is not None:
            ours.close()


def strongswan_server(build, ns, folder, method, certs, ca, log):
    """ikeplexd (A) authenticates with EAP to strongSwan (B), a certificate gateway."""
    credentials(f"{folder}/ours", "a", certs, ca, own=False)
    os.makedirs(f"{folder}/charon", exist_ok=True)
    credentials(f"{folder}/charon", "b", certs, ca)
    ours = charon = None
    try:
        charon = Charon(ns.c, f"{folder}/charon", conf("b", *server_auth(method, "b")),
                        plugins_extra=f"eap-identity {METHODS[method]}")
        ours = Ikeplexd(build, ns.g, f"{folder}/ours", conf("a", *client_auth(method, "a", "b")),
                        backend="userspace", workers=1)
        out = ours.cli("initiate", "--child", "net")
        assert "completed successfully" in out, out
        charon.data_plane_up(NET_A)
        pings(ns)
        assert f"EAP method EAP_{method.upper()} succeeded" in charon.log(), charon.log()[-2000:]
        log(f"[{method}] ikeplexd client -> strongSwan gateway: up, ping both ways")
    finally:
        if ours is not None:
            ours.close()
        if charon is not None:
            charon.close()


def ikeplexd_pair(build, ns, folder, method, certs, ca, log):
    """Two ikeplexd; the gateway's connection, certificate, key and EAP secret are loaded over
    VICI by Debian's swanctl (load-conn with the EAP keys, load-shared type EAP)."""
    credentials(f"{folder}/a", "a", certs, ca, own=False)
    os.makedirs(f"{folder}/swanctl", exist_ok=True)
    credentials(f"{folder}/swanctl", "b", certs, ca)
    with open(f"{folder}/swanctl/swanctl.conf", "w") as f:
        f.write(conf("b", *server_auth(method, "b")))
    with open(f"{folder}/swanctl/strongswan.conf", "w") as f:
        f.write("swanctl { load = pem pkcs1 pkcs8 x509 pubkey openssl random nonce }\n")
    env = dict(os.environ, STRONGSWAN_CONF=f"{folder}/swanctl/strongswan.conf")
    a = b = None
    try:
        b = Ikeplexd(build, ns.c, f"{folder}/b", "", backend="userspace", workers=1, preload=False)

        def swanctl(*args):
            return run(["swanctl", *args, "--uri", f"unix://{b.vici}"], timeout=30, env=env)
        out = swanctl("--load-all", "--file", f"{folder}/swanctl/swanctl.conf")
        assert "loaded eap secret 'eap-carol'" in out, out
        out = swanctl("--list-conns")
        assert "EAP" in out and "eap_id: %any" in out, out
        a = Ikeplexd(build, ns.g, f"{folder}/a", conf("a", *client_auth(method, "a", "b")), backend="userspace",
                     workers=1)
        out = a.cli("initiate", "--child", "net")
        assert "completed successfully" in out, out
        sa = wait_until(lambda: one_sa(b), 10, "the gateway's IKE SA")
        assert sa.get("remote-eap-id") == "carol", sa
        out = swanctl("--list-sas")
        assert "'carol'" in out, out
        pings(ns)
        log(f"[{method}] ikeplexd client -> ikeplexd gateway (loaded by swanctl over VICI): up, ping both ways")
    finally:
        for d in (a, b):
            if d is not None:
                d.close()


def test(build, folder):
    if not os.path.exists("/usr/lib/ipsec/plugins/libstrongswan-eap-md5.so"):
        raise Failure("strongSwan's eap-md5 plugin is missing (libcharon-extra-plugins)")
    certs, ca = make_certs(f"{folder}/pki")
    with Namespaces() as ns:
        for method in METHODS:
            strongswan_client(build, ns, f"{folder}/{method}-ss-client", method, certs, ca, SECRET, print)
            strongswan_client(build, ns, f"{folder}/{method}-ss-client-wrong", method, certs, ca,
                              "not-the-secret", print)
            strongswan_server(build, ns, f"{folder}/{method}-ss-server", method, certs, ca, print)
            ikeplexd_pair(build, ns, f"{folder}/{method}-pair", method, certs, ca, print)


if __name__ == "__main__":
    sys.exit(main_wrapper(test, "eap"))
