#!/usr/bin/env python3
"""Live revocation (issue 24) against servers the test runs in a's namespace: a CRL over HTTP
(python3 -m http.server) and an OCSP responder (`openssl ocsp`), both named by the
certificates (CDP, AIA) made at test time with openssl(1) (revocation_pki.py).

1. prefetch: ikeplexd (b) with an authority whose crl_uris name the CRL and a silent port: at
   start b fetches both (one CRL cached, one failure in `ikeplex stats`) and stops at once.
2. IKE: ikeplexd b (responder) checks ikeplexd a's certificates under `remote.revocation`; the
   engine holds IKE_AUTH while b's fetcher asks.
   - good (OCSP good) under strict: up;      revoked (OCSP revoked) under relaxed: refused;
   - crlgood / crlrevoked (CDP only) under strict: up / refused;
   - unknown (OCSP unknown, no CDP): strict refused, ifuri refused, relaxed up;
   - the OCSP responder stopped (silent; OCSP only, no CRL cached yet): strict refused,
     relaxed up. (Once the CA's CRL is cached it answers for every certificate of the CA.)

Namespaces in 10.99.200.0/24 (a = .1 with the servers, b = .2). A few seconds."""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from lib import Failure, Ikeplexd, PrefixPair, ike_sas, main_wrapper, wait_until  # noqa: E402
from revocation_pki import Pki, http_server, ocsp_responder  # noqa: E402

NET = "10.99.200"
A, B = f"{NET}.1", f"{NET}.2"
HTTP_PORT, OCSP_PORT = 8080, 8888


PROPOSAL = "aes128gcm16-prfsha256-x25519"

# case -> (issue() arguments, b's mode)
CASES = {
    "good": (dict(), "strict"),
    "revoked": (dict(), "relaxed"),
    "crlgood": (dict(ocsp=False), "strict"),
    "crlrevoked": (dict(ocsp=False), "strict"),
    "unkstrict": (dict(listed=False, crl=False), "strict"),
    "unkifuri": (dict(listed=False, crl=False), "ifuri"),
    "unkrelaxed": (dict(listed=False, crl=False), "relaxed"),
    "silentstrict": (dict(crl=False), "strict"),
    "silentrelaxed": (dict(crl=False), "relaxed"),
}


def conn(name, n, local, remote, local_id, remote_id, local_certs, revocation=None, ts=None):
    """`ts`: (local_ts, remote_ts), else 10.99.201.n (a's) and 10.99.202.n (b's)."""
    rev = f"\n            revocation = {revocation}" if revocation else ""
    ts_a, ts_b = f"10.99.201.{n}/32", f"10.99.202.{n}/32"
    lts, rts = ts or ((ts_a, ts_b) if local == A else (ts_b, ts_a))
    return f"""    {name} {{
        version = 2
        local_addrs = {local}
        remote_addrs = {remote}
        proposals = {PROPOSAL}
        local {{ auth = pubkey
            id = {local_id}
            certs = {local_certs} }}
        remote {{ auth = pubkey
            id = {remote_id}{rev} }}
        children {{ net {{ local_ts = {lts}
            remote_ts = {rts}
            esp_proposals = aes128gcm16 }} }}
    }}
"""


def install(folder, pki, certs):
    for sub in ("x509", "x509ca", "private"):
        os.makedirs(f"{folder}/{sub}", exist_ok=True)
    os.link(pki.ca, f"{folder}/x509ca/ca.pem")
    for name, (cert, key) in certs.items():
        os.link(cert, f"{folder}/x509/{name}.pem")
        os.link(key, f"{folder}/private/{name}.pem")


def up(daemon, name):
    return any(f.get("state") == "ESTABLISHED" for n, f in ike_sas(daemon.sas()) if n == name)


def attempt(a, b, name, expect_up):
    t0 = time.time()
    out = a.cli("initiate", "--ike", name, "--child", "net", check=False, timeout=20)
    took = time.time() - t0
    if expect_up:
        wait_until(lambda: up(a, name) and up(b, name), 5, f"{name} established")
    else:
        if up(a, name) or up(b, name):
            raise Failure(f"{name}: established although it should be refused: {out}")
    print(f"{name}: {'up' if expect_up else 'refused'} as expected ({took:.1f} s)")


def revocation_line(d):
    line = next((x for x in d.cli("stats").splitlines() if x.startswith("revocation:")), "")
    m = re.match(r"revocation: (\d+) fetches ok, (\d+) failed, (\d+) timed out; (\d+) queries, "
                 r"(\d+) answered; (\d+) CRLs, (\d+) OCSP answers, (\d+) unusable", line)
    return tuple(int(g) for g in m.groups()) if m else None


def prefetch(build, folder, ns, pki):
    """b prefetches its authority's CRLs at start; one server is silent."""
    b_conf = f"""authorities {{
    test-ca {{
        cacert = ca.pem
        crl_uris = http://{A}:{HTTP_PORT}/ca.crl, http://{A}:{HTTP_PORT + 1}/silent.crl
    }}
}}
"""
    install(f"{folder}/b", pki, {})
    b = Ikeplexd(build, ns.b, f"{folder}/b", b_conf, log_levels={"default": 1, "cfg": 2})
    try:
        counts = wait_until(lambda: (lambda c: c if c and c[0] == 1 and c[1] == 1 else None)(revocation_line(b)),
                            8, "b to fetch the CRL and give up on the silent URI")
        assert counts[5] == 1 and counts[7] == 0, counts  # one CRL cached, nothing refused
        print(f"prefetch: CRL fetched and cached, silent URI failed (stats {counts})")
        t0 = time.time()
        b.stop()
        print(f"b stopped in {time.time() - t0:.1f} s")
    finally:
        b.close()


def ike_cases(build, folder, ns, pki, servers, certs, b_cert):
    """b (responder) checks a's certificates under each case's mode; the servers go silent for the
    last two."""
    a_conf = "connections {\n" + "".join(
        conn(name, i + 1, A, B, f"{name}.test", "b.test", f"{name}.pem") for i, name in enumerate(CASES)) + "}\n"
    b_conf = "connections {\n" + "".join(
        conn(name, i + 1, B, A, "b.test", f"{name}.test", "b.pem", mode)
        for i, (name, (_, mode)) in enumerate(CASES.items())) + "}\n"
    install(f"{folder}/ia", pki, certs)
    install(f"{folder}/ib", pki, b_cert)
    a = b = None
    try:
        b = Ikeplexd(build, ns.b, f"{folder}/ib", b_conf, log_levels={"default": 1, "ike": 2, "cfg": 2})
        a = Ikeplexd(build, ns.a, f"{folder}/ia", a_conf)
        # OCSP first: once b holds the CA's CRL, every certificate of the CA has a status.
        attempt(a, b, "good", True)
        attempt(a, b, "revoked", False)
        attempt(a, b, "unkstrict", False)
        attempt(a, b, "unkifuri", False)
        attempt(a, b, "unkrelaxed", True)
        servers.pop().stop()  # the OCSP responder goes silent
        attempt(a, b, "silentstrict", False)
        attempt(a, b, "silentrelaxed", True)
        attempt(a, b, "crlgood", True)
        attempt(a, b, "crlrevoked", False)
        print("b's counters:", revocation_line(b))
    finally:
        for d in (a, b):
            if d is not None:
                d.close()


def test(build, folder):
    pki = Pki(f"{folder}/pki", f"http://{A}:{HTTP_PORT}/ca.crl", f"http://{A}:{OCSP_PORT}")
    # Every certificate before the servers start: openssl ocsp reads its index once.
    certs = {name: pki.issue(f"{name}.test", **kw) for name, (kw, _) in CASES.items()}
    b_cert = {"b": pki.issue("b.test", crl=False, ocsp=False)}
    pki.revoke(certs["revoked"][0])
    pki.revoke(certs["crlrevoked"][0])
    os.makedirs(f"{folder}/www", exist_ok=True)
    pki.crl(f"{folder}/www/ca.crl")
    with PrefixPair(NET) as ns:
        servers = []
        try:
            servers.append(http_server(ns.a, f"{folder}/www", A, HTTP_PORT, f"{folder}/http.log"))
            servers.append(ocsp_responder(ns.a, pki, A, OCSP_PORT, f"{folder}/ocsp.log"))
            prefetch(build, folder, ns, pki)
            ike_cases(build, folder, ns, pki, servers, certs, b_cert)
        finally:
            for s in servers:
                s.stop()


if __name__ == "__main__":
    sys.exit(main_wrapper(test, "revocation"))
