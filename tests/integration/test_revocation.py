#!/usr/bin/env python3
"""Live revocation (issue 24), the daemon's fetcher against servers the test runs in a namespace:
ikeplexd (b) with an authority whose crl_uris name a CRL over HTTP (python3 -m http.server in
a's namespace) and a port where nothing listens. At start b prefetches both: the CRL is fetched,
its signature checked and cached, the silent URI counts as failed (`ikeplex stats`), and b stops
at once on SIGTERM (the fetcher thread joined).

Namespaces in 10.99.200.0/24 (a = .1 with the servers, b = .2). About 2 s."""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from lib import Ikeplexd, PrefixPair, main_wrapper, wait_until  # noqa: E402
from revocation_pki import Pki, http_server  # noqa: E402

NET = "10.99.200"
A, B = f"{NET}.1", f"{NET}.2"
HTTP_PORT, OCSP_PORT = 8080, 8888


def install(folder, pki, certs):
    for sub in ("x509", "x509ca", "private"):
        os.makedirs(f"{folder}/{sub}", exist_ok=True)
    os.link(pki.ca, f"{folder}/x509ca/ca.pem")
    for name, (cert, key) in certs.items():
        os.link(cert, f"{folder}/x509/{name}.pem")
        os.link(key, f"{folder}/private/{name}.pem")


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


def test(build, folder):
    pki = Pki(f"{folder}/pki", f"http://{A}:{HTTP_PORT}/ca.crl", f"http://{A}:{OCSP_PORT}")
    os.makedirs(f"{folder}/www", exist_ok=True)
    pki.crl(f"{folder}/www/ca.crl")
    with PrefixPair(NET) as ns:
        servers = []
        try:
            servers.append(http_server(ns.a, f"{folder}/www", A, HTTP_PORT, f"{folder}/http.log"))
            prefetch(build, folder, ns, pki)
        finally:
            for s in servers:
                s.stop()


if __name__ == "__main__":
    sys.exit(main_wrapper(test, "revocation"))
