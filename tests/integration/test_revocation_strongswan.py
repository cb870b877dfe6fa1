#!/usr/bin/env python3
"""Revocation (issue 24) with Debian's strongSwan 5.9.8 as the peer: charon (kernel-libipsec)
initiates to ikeplexd (userspace data plane), which checks charon's certificates under
`remote.revocation`. The PKI, the CRL (python3 -m http.server) and the OCSP responder
(`openssl ocsp`) are revocation_pki.py's, run in charon's namespace; a "silent" responder (a
socket that accepts and never answers) stands for an OCSP server that hangs. Our
`revocation_timeout = 2`.
  - good (OCSP good), strict: up, ping both ways;
  - revoked (OCSP revoked), strict: charon gets AUTHENTICATION_FAILED;
  - silentstrict (OCSP URI of the silent responder only), strict: refused after ~2 s;
  - silentrelaxed (the same), relaxed: up after ~2 s;
  - crlrevoked (CDP only, revoked in the CRL), strict: refused (last: once the CA's CRL is
    cached it answers for every certificate of the CA).
Namespaces in 10.99.201.0/24 (ours = .1, charon with the servers = .2); inner addresses
10.99.202.n (ours) and 10.99.203.n (charon's). A few seconds."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from lib import Failure, Charon, Ikeplexd, PrefixPair, ike_sas, main_wrapper, run, wait_until  # noqa: E402
from revocation_pki import Pki, http_server, ocsp_responder  # noqa: E402
from test_revocation import conn as revocation_conn, install  # noqa: E402

NET = "10.99.201"
OURS, THEIRS = f"{NET}.1", f"{NET}.2"
HTTP_PORT, OCSP_PORT, SILENT_PORT = 8080, 8888, 8889

# case -> (issue() arguments, our mode, expected up, what our log says); in the order they run
CASES = {
    "good": (dict(crl=False), "strict", True, "CN=good.test,O=ikeplex test is good"),
    "revoked": (dict(crl=False), "strict", False, "'CN=revoked.test,O=ikeplex test' is revoked"),
    "silentstrict": (dict(crl=False, silent=True), "strict", False,
                     "no revocation status (revocation = strict), sending AUTHENTICATION_FAILED"),
    "silentrelaxed": (dict(crl=False, silent=True), "relaxed", True,
                      "no revocation status, accepted (revocation = relaxed)"),
    "crlrevoked": (dict(ocsp=False), "strict", False, "'CN=crlrevoked.test,O=ikeplex test' is revoked"),
}


def conn(name, n, ours, mode=None):
    """Connection `name` as ikeplexd (ours=True) or charon writes it."""
    ts = (f"10.99.202.{n}/32", f"10.99.203.{n}/32")
    if ours:
        return revocation_conn(name, n, OURS, THEIRS, "ours.test", f"{name}.test", "ours.pem", mode, ts)
    return revocation_conn(name, n, THEIRS, OURS, f"{name}.test", "ours.test", f"{name}.pem", mode, ts[::-1])


def silent_responder(ns, addr, port):
    """A TCP socket in `ns` that listens and never answers (accepted connections stay open)."""
    code = ("import socket\n"
            f"s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('{addr}', {port}))\n"
            "s.listen(16); held=[]\n"
            "while True: held.append(s.accept())\n")
    proc = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", code])
    wait_until(lambda: proc.poll() is not None or
               run(["ip", "netns", "exec", ns, "ss", "-Hltn", f"sport = :{port}"], check=False).strip(), 10,
               "the silent responder")
    if proc.poll() is not None:
        raise Failure("the silent responder exited")
    return proc


def ping(ns, src, dst):
    out = run(["ip", "netns", "exec", ns, "ping", "-c", "2", "-i", "0.05", "-W", "1", "-I", src, dst],
              check=False, timeout=10)
    if " 0% packet loss" not in out:
        raise Failure(f"ping {src} -> {dst}: {out}")


def attempt(ours, charon, name, expect_up, n):
    t0 = time.time()
    out = charon.swanctl("--initiate", "--ike", name, "--child", "net", check=False, timeout=20)
    took = time.time() - t0
    ok = "completed successfully" in out
    established = any(f.get("state") == "ESTABLISHED" for c, f in ike_sas(ours.sas()) if c == name)
    if expect_up:
        if not ok or not established:
            raise Failure(f"{name}: not up: {out}")
    else:
        if ok or established:
            raise Failure(f"{name}: established although it should be refused: {out}")
        if charon.log().count("received AUTHENTICATION_FAILED notify error") != n:
            raise Failure(f"{name}: charon did not get AUTHENTICATION_FAILED")
    print(f"{name}: {'up' if expect_up else 'refused (AUTHENTICATION_FAILED)'} as expected ({took:.1f} s)")
    return took


def test(build, folder):
    pki = Pki(f"{folder}/pki", f"http://{THEIRS}:{HTTP_PORT}/ca.crl", f"http://{THEIRS}:{OCSP_PORT}")
    certs = {}
    for name, (kw, *_) in CASES.items():
        kw = dict(kw)
        pki.ocsp_uri = f"http://{THEIRS}:{SILENT_PORT if kw.pop('silent', False) else OCSP_PORT}"
        certs[name] = pki.issue(f"{name}.test", **kw)
    ours_cert = {"ours": pki.issue("ours.test", crl=False, ocsp=False)}
    pki.revoke(certs["revoked"][0])
    pki.revoke(certs["crlrevoked"][0])
    os.makedirs(f"{folder}/www", exist_ok=True)
    pki.crl(f"{folder}/www/ca.crl")
    ours_conf = "connections {\n" + "".join(
        conn(name, i + 1, True, mode) for i, (name, (_, mode, *_)) in enumerate(CASES.items())) + "}\n"
    charon_conf = "connections {\n" + "".join(conn(name, i + 1, False) for i, name in enumerate(CASES)) + "}\n"
    with PrefixPair(NET) as ns:
        for n in range(1, len(CASES) + 1):  # charon installs a route from its inner address
            run(["ip", "-n", ns.a, "addr", "add", f"10.99.202.{n}/32", "dev", "lo"])
            run(["ip", "-n", ns.b, "addr", "add", f"10.99.203.{n}/32", "dev", "lo"])
        servers, silent, charon, ours = [], None, None, None
        try:
            servers.append(http_server(ns.b, f"{folder}/www", THEIRS, HTTP_PORT, f"{folder}/http.log"))
            servers.append(ocsp_responder(ns.b, pki, THEIRS, OCSP_PORT, f"{folder}/ocsp.log"))
            silent = silent_responder(ns.b, THEIRS, SILENT_PORT)
            install(f"{folder}/charon", pki, certs)
            charon = Charon(ns.b, f"{folder}/charon", charon_conf)
            install(f"{folder}/ours", pki, ours_cert)
            ours = Ikeplexd(build, ns.a, f"{folder}/ours", ours_conf, extra="revocation_timeout = 2",
                            backend="userspace", log_levels={"default": 1, "ike": 2, "cfg": 2})
            refused = 0
            for name, (_, _, expect_up, said) in CASES.items():
                refused += not expect_up
                took = attempt(ours, charon, name, expect_up, refused)
                with open(f"{folder}/ours/ikeplexd.log", errors="replace") as f:
                    if said not in f.read():
                        raise Failure(f"{name}: ikeplexd's log does not say {said!r}")
                if name == "good":
                    charon.data_plane_up("10.99.202.1")  # a /32 route shows without the length
                    ping(ns.b, "10.99.203.1", "10.99.202.1")
                    ping(ns.a, "10.99.202.1", "10.99.203.1")
                    print("good: ping both ways")
                if name.startswith("silent") and not 1.5 < took < 6:
                    raise Failure(f"{name}: took {took:.1f} s, not about revocation_timeout (2 s)")
        finally:
            for d in (ours, charon):
                if d is not None:
                    d.close()
            if silent is not None:
                silent.kill()
                silent.wait(timeout=5)
            for s in servers:
                s.stop()


if __name__ == "__main__":
    sys.exit(main_wrapper(test, "revocation_strongswan"))
