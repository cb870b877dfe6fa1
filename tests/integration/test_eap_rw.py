#!/usr/bin/env python3
"""Road warriors with EAP-MSCHAPv2 (RFC 2759) and EAP-TLS (RFC 5216) and virtual IPs (RFC 7296
§2.19) against Debian's strongSwan 5.9.8, in namespaces of this test's own (10.99.131.0/24
outside: gateway .1, client .2; 10.99.132.1 the gateway's inside; leases from 10.99.133.0/24):

1. charon as the MSCHAPv2 client (`vips = 0.0.0.0`, its resolve plugin writing a temp file)
   against ikeplexd running examples/swanctl/road-warrior.conf (addresses rewritten to the
   test's, certificates written where the example expects them): the virtual IP arrives, a ping
   flows through it, the pool's DNS server lands in charon's file, the lease is keyed by the
   EAP identity; a wrong password is refused (E=691, no lease); a certificate client lands on
   the example's rw-cert connection and gets the next address.
2. charon as the EAP-TLS client against ikeplexd (pool with dns): accepted with a virtual IP;
   a client certificate from another CA is refused.
3. ikeplexd as the client (MSCHAPv2, TLS) against charon as the EAP gateway with a pool: the
   address on ikeplexd's TUN device, ping through it.
4. ikeplexd <-> ikeplexd with MSCHAPv2 and a virtual IP.
5. EAP-only (RFC 5998): charon with `remote { auth = eap }` (it sends
   N(EAP_ONLY_AUTHENTICATION)) against ikeplexd with `local { auth = eap }` (no AUTH of the
   gateway's own): EAP-TLS accepted, the TLS handshake authenticates both; strongSwan refuses
   EAP-only with MSCHAPv2 (it does not count it as mutual)."""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lib import run_steps, Charon, Failure, GatewayTopology, Ikeplexd, ike_sas, main_wrapper, make_certs, run, wait_until  # noqa: E402
from traffic import wait_ping  # noqa: E402

GW, CLIENT = "10.99.131.1", "10.99.131.2"
INSIDE, INSIDE_NET = "10.99.132.1", "10.99.132.0/24"
POOL, DNS, FIRST = "10.99.133.0/24", "10.99.132.53", "10.99.133.1"
EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "swanctl", "road-warrior.conf")
CAROL = "Ch4nge-me-carol"  # the example's password for carol
IKE = "aes256gcm16-prfsha384-x25519"



def Topology():
    return GatewayTopology("rw", GW, CLIENT, INSIDE)


def read(path):
    with open(path) as f:
        return f.read()


def example_conf():
    """The example with the test's addresses (nothing else changes)."""
    text = read(EXAMPLE)
    for old, new in (("192.0.2.1", GW), ("10.3.0.0/24", POOL), ("10.1.0.0/16", INSIDE_NET),
                     ("10.1.0.53, 10.1.0.54", f"{DNS}, 10.99.132.54")):
        assert old in text, old
        text = text.replace(old, new)
    return text


def creds(folder, ca, cert=None, key=None, name="moon"):
    """swanctl's folders: x509ca/ca.pem and optionally x509/<name>.pem, private/<name>.pem."""
    for sub in ("x509", "x509ca", "private"):
        os.makedirs(f"{folder}/{sub}", exist_ok=True)
    shutil.copy(ca, f"{folder}/x509ca/ca.pem")
    if cert:
        shutil.copy(cert, f"{folder}/x509/{name}.pem")
        shutil.copy(key, f"{folder}/private/{name}.pem")


def gateway_conf(remote_auth, local_auth="auth = pubkey\n            certs = moon.pem\n"
                 "            id = moon.example.org", secrets=""):
    return f"""connections {{
    rw {{
        local_addrs = {GW}
        remote_addrs = %any
        pools = p
        proposals = {IKE}
        local {{
            {local_auth}
        }}
        remote {{
            {remote_auth}
        }}
        children {{ rw {{ local_ts = {INSIDE_NET}
                         esp_proposals = aes256gcm16 }} }}
    }}
}}
pools {{ p {{ addrs = {POOL}
             dns = {DNS} }} }}
secrets {{ {secrets} }}
"""


def client_conf(local_auth, remote_auth="auth = pubkey\n            id = moon.example.org", secrets=""):
    return f"""connections {{
    home {{
        local_addrs = {CLIENT}
        remote_addrs = {GW}
        vips = 0.0.0.0
        proposals = {IKE}
        local {{
            {local_auth}
        }}
        remote {{
            {remote_auth}
        }}
        children {{ home {{ remote_ts = {INSIDE_NET}
                           esp_proposals = aes256gcm16 }} }}
    }}
}}
secrets {{ {secrets} }}
"""


def eap_secret(user, secret):
    return f'eap-{user} {{ id = {user}\n secret = "{secret}" }}'


MSCHAP_CLIENT = "auth = eap-mschapv2\n            id = road.test\n            eap_id = carol"
PLUGINS = "eap-identity eap-mschapv2 eap-tls resolve"


def resolv_file(folder):
    os.makedirs(folder, exist_ok=True)
    path = f"{folder}/resolv.conf"
    with open(path, "w") as f:
        f.write("# test resolv.conf\n")
    return path


def charon_client(folder, topo, conf):
    resolv = resolv_file(folder)
    charon = Charon(topo.c, f"{folder}/charon", conf, plugins_extra=PLUGINS,
                    extra=f"install_virtual_ip = yes\n  plugins {{ resolve {{ file = {resolv} }} }}")
    return charon, resolv


def lease_of(gw, pool):
    pools = json.loads(gw.cli("list-pools", "--leases", "--json"))
    return pools[pool].get("leases", {})


def vip_up(gw, charon, topo, resolv, pool, eap_id, addr=FIRST):
    """charon's tunnel is up: the virtual IP, a ping through it, DNS in its file, the lease."""
    charon.data_plane_up(INSIDE_NET)
    wait_ping(topo.c, INSIDE, src=addr, timeout=10)
    wait_until(lambda: f"nameserver {DNS}" in read(resolv), 10, "the DNS server in charon's file")
    sa = ike_sas(gw.sas())[0][1]
    assert sa.get("remote-vips") == [addr], sa
    lease = next(v for v in lease_of(gw, pool).values() if v["address"] == addr)
    assert lease["identity"] == eap_id and lease["status"] == "online", lease


def refused(gw, charon, folder, why):
    out = charon.swanctl("--initiate", "--child", "home", timeout=30, check=False)
    assert "completed successfully" not in out, out
    wait_until(lambda: not ike_sas(gw.sas()), 10, "ikeplexd to drop the refused IKE SA")
    assert why in read(f"{folder}/gw/ikeplexd.log"), read(f"{folder}/gw/ikeplexd.log")[-3000:]


def example_mschapv2(build, topo, folder, pki, log):
    creds(f"{folder}/gw", pki["ca"], *pki["moon"])
    gw = Ikeplexd(build, topo.g, f"{folder}/gw", example_conf(), backend="userspace", workers=1)
    charon = None
    try:
        creds(f"{folder}/charon", pki["ca"])
        charon, resolv = charon_client(folder, topo, client_conf(MSCHAP_CLIENT, secrets=eap_secret("carol", CAROL)))
        charon.initiate("home")
        vip_up(gw, charon, topo, resolv, "rw-v4", "carol")
        assert ike_sas(gw.sas())[0][1].get("remote-eap-id") == "carol"
        log(f"[example] strongSwan MSCHAPv2 client -> ikeplexd running road-warrior.conf: {FIRST}, "
            f"ping through it, DNS {DNS} in charon's file, lease keyed 'carol'")
        charon.close()
        charon = None
        wait_until(lambda: not ike_sas(gw.sas()), 15, "the gateway to drop carol's IKE SA")
        creds(f"{folder}/wrong/charon", pki["ca"])
        charon, _ = charon_client(f"{folder}/wrong", topo,
                                  client_conf(MSCHAP_CLIENT, secrets=eap_secret("carol", "not-the-password")))
        # ikeplexd answers E=691 (RFC 2759 §6); charon gives up without acknowledging and says
        # so in an INFORMATIONAL N(AUTHENTICATION_FAILED), which ends the half-open IKE SA.
        refused(gw, charon, folder, "received AUTHENTICATION_FAILED notify during IKE_AUTH")
        assert "EAP_MSCHAPV2 method failed" in charon.log(), charon.log()[-2000:]
        assert len(lease_of(gw, "rw-v4")) == 1  # carol's lease only (offline)
        log("[example] wrong MSCHAPv2 password: E=691, charon's AUTHENTICATION_FAILED, nothing up")
        charon.close()
        charon = None
        # A certificate client: the example's rw-cert (the client sends AUTH, so not rw-eap).
        creds(f"{folder}/cert/charon", pki["ca"], *pki["dave"], name="dave")
        charon, resolv = charon_client(f"{folder}/cert", topo, client_conf(
            "auth = pubkey\n            id = dave.test\n            certs = dave.pem"))
        charon.initiate("home")
        vip_up(gw, charon, topo, resolv, "rw-v4", "dave.test", addr="10.99.133.2")
        assert ike_sas(gw.sas())[0][0] == "rw-cert", gw.sas()
        log("[example] strongSwan certificate client -> the example's rw-cert: 10.99.133.2, ping, DNS")
    finally:
        if charon is not None:
            charon.close()
        gw.close()


def tls_client(build, topo, folder, pki, log):
    creds(f"{folder}/gw", pki["ca"], *pki["moon"])
    gw = Ikeplexd(build, topo.g, f"{folder}/gw", gateway_conf("auth = eap-tls\n            eap_id = %any"),
                  backend="userspace", workers=1)
    charon = None
    try:
        tls_auth = "auth = eap-tls\n            id = dave.test\n            certs = dave.pem"
        creds(f"{folder}/charon", pki["ca"], *pki["dave"], name="dave")
        charon, resolv = charon_client(folder, topo, client_conf(tls_auth))
        charon.initiate("home")
        vip_up(gw, charon, topo, resolv, "p", "CN=dave.test, O=ikeplex test")  # the subject TLS proved
        log(f"[tls] strongSwan EAP-TLS client -> ikeplexd: {FIRST}, ping through it, DNS in charon's file")
        charon.close()
        charon = None
        wait_until(lambda: not ike_sas(gw.sas()), 15, "the gateway to drop dave's IKE SA")
        creds(f"{folder}/untrusted/charon", pki["ca"], *pki["evil"], name="dave")
        charon, _ = charon_client(f"{folder}/untrusted", topo, client_conf(tls_auth))
        refused(gw, charon, folder, "EAP method EAP_TLS failed")
        log("[tls] client certificate from an untrusted CA: refused")
    finally:
        if charon is not None:
            charon.close()
        gw.close()


def ikeplexd_client(build, topo, folder, pki, method, log):
    if method == "mschapv2":
        remote, local, secrets = "auth = eap-mschapv2\n            eap_id = %any", MSCHAP_CLIENT, \
            eap_secret("carol", CAROL)
        creds(f"{folder}/ours", pki["ca"])
    else:
        remote, local, secrets = "auth = eap-tls\n            eap_id = %any", \
            "auth = eap-tls\n            id = dave.test\n            certs = dave.pem", ""
        creds(f"{folder}/ours", pki["ca"], *pki["dave"], name="dave")
    os.makedirs(f"{folder}/charon", exist_ok=True)
    creds(f"{folder}/charon", pki["ca"], *pki["moon"])
    charon = Charon(topo.g, f"{folder}/charon", gateway_conf(remote, secrets=secrets), plugins_extra=PLUGINS)
    ours = None
    try:
        resolv = resolv_file(folder)
        ours = Ikeplexd(build, topo.c, f"{folder}/ours", client_conf(local, secrets=secrets), backend="userspace",
                        workers=1, extra=f"resolve {{ file = {resolv} }}")
        out = ours.cli("initiate", "--child", "home")
        assert "completed successfully" in out, out
        sa = ike_sas(ours.sas())[0][1]
        assert sa.get("local-vips") == [FIRST], sa
        assert f"nameserver {DNS}" in read(resolv), read(resolv)
        charon.data_plane_up(FIRST)
        wait_ping(topo.c, INSIDE, src=FIRST, timeout=10)
        assert f"EAP method EAP_{method.upper()} succeeded" in charon.log(), charon.log()[-2000:]
        log(f"[{method}] ikeplexd client -> strongSwan EAP gateway: {FIRST} on its TUN device, ping, DNS")
    finally:
        if ours is not None:
            ours.close()
        charon.close()


def ikeplexd_pair(build, topo, folder, pki, log):
    creds(f"{folder}/gw", pki["ca"], *pki["moon"])
    creds(f"{folder}/ours", pki["ca"])
    gw = Ikeplexd(build, topo.g, f"{folder}/gw", gateway_conf("auth = eap-mschapv2\n            eap_id = %any",
                                                               secrets=eap_secret("carol", CAROL)),
                  backend="userspace", workers=1)
    ours = None
    try:
        resolv = resolv_file(folder)
        ours = Ikeplexd(build, topo.c, f"{folder}/ours", client_conf(MSCHAP_CLIENT, secrets=eap_secret("carol", CAROL)),
                        backend="userspace", workers=1, extra=f"resolve {{ file = {resolv} }}")
        out = ours.cli("initiate", "--child", "home")
        assert "completed successfully" in out, out
        assert ike_sas(ours.sas())[0][1].get("local-vips") == [FIRST]
        assert lease_of(gw, "p")["0"]["identity"] == "carol"
        wait_ping(topo.c, INSIDE, src=FIRST, timeout=10)
        assert f"nameserver {DNS}" in read(resolv), read(resolv)
        log(f"[mschapv2] ikeplexd <-> ikeplexd: {FIRST}, lease keyed 'carol', ping, DNS")
    finally:
        if ours is not None:
            ours.close()
        gw.close()


def eap_only(build, topo, folder, pki, log):
    """RFC 5998: the gateway sends no AUTH of its own (`local { auth = eap }`), the client's
    remote auth is `eap` (charon then sends N(EAP_ONLY_AUTHENTICATION)). strongSwan 5.9.8 takes
    that only with a method it calls mutual: EAP-TLS, not EAP-MSCHAPv2 (its eap-mschapv2 says
    not mutual), which the first attempt shows."""
    creds(f"{folder}/gw", pki["ca"], *pki["moon"])
    gw = Ikeplexd(build, topo.g, f"{folder}/gw",
                  gateway_conf("auth = eap\n            eap_id = %any",
                               local_auth="auth = eap\n            id = moon.example.org\n"
                               "            certs = moon.pem",
                               secrets=eap_secret("carol", CAROL)),
                  backend="userspace", workers=1)
    charon = None
    try:
        eap_remote = "auth = eap\n            id = moon.example.org"
        creds(f"{folder}/m/charon", pki["ca"])
        charon, _ = charon_client(f"{folder}/m", topo,
                                  client_conf(MSCHAP_CLIENT, remote_auth=eap_remote,
                                              secrets=eap_secret("carol", CAROL)))
        out = charon.swanctl("--initiate", "--child", "home", timeout=30, check=False)
        assert "completed successfully" not in out, out
        assert "EAP-only authentication requires a mutual and MSK deriving EAP method, but " \
            "EAP_MSCHAPV2 is not" in charon.log(), charon.log()[-2000:]
        charon.close()
        charon = None
        wait_until(lambda: not ike_sas(gw.sas()), 15, "the gateway to drop the refused IKE SA")
        log("[eap-only] strongSwan 5.9.8 refuses EAP-only with MSCHAPv2 (not mutual to it)")
        tls_auth = "auth = eap-tls\n            id = dave.test\n            certs = dave.pem"
        creds(f"{folder}/t/charon", pki["ca"], *pki["dave"], name="dave")
        charon, resolv = charon_client(f"{folder}/t", topo, client_conf(tls_auth, remote_auth=eap_remote))
        charon.initiate("home")
        # .1 stays carol's (offline) from the refused attempt: dave gets .2.
        vip_up(gw, charon, topo, resolv, "p", "CN=dave.test, O=ikeplex test", addr="10.99.133.2")
        assert "allow mutual EAP-only authentication" in charon.log(), charon.log()[-2000:]
        log("[eap-only] strongSwan EAP-TLS client, EAP-only (RFC 5998, no AUTH from the gateway): "
            "10.99.133.2, ping, DNS")
    finally:
        if charon is not None:
            charon.close()
        gw.close()


def test(build, folder):
    certs, ca = make_certs(f"{folder}/pki", {"moon": "moon.example.org", "dave": "dave.test"})
    other, _ = make_certs(f"{folder}/pki-other", {"evil": "dave.test"})
    pki = {"ca": ca, "moon": certs["moon"], "dave": certs["dave"], "evil": other["evil"]}
    steps = [
        lambda t: example_mschapv2(build, t, f"{folder}/1", pki, print),
        lambda t: tls_client(build, t, f"{folder}/2", pki, print),
        lambda t: ikeplexd_client(build, t, f"{folder}/3m", pki, "mschapv2", print),
        lambda t: ikeplexd_client(build, t, f"{folder}/3t", pki, "tls", print),
        lambda t: ikeplexd_pair(build, t, f"{folder}/4", pki, print),
        lambda t: eap_only(build, t, f"{folder}/5", pki, print),
    ]
    run_steps(steps, Topology, "RW_STEPS")


if __name__ == "__main__":
    try:
        sys.exit(main_wrapper(test, "eap_rw"))
    except Failure as e:
        print(f"FAIL: {e}")
        sys.exit(1)
