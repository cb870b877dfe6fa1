#!/usr/bin/env python3
"""Where CRLs and authorities come from (issue 24), against one ikeplexd and Debian's swanctl
5.9.8: a CRL made by openssl(1) in swanctl.conf's x509crl/ folder and an `authorities` section
with a file:// and an http crl_uri and an ocsp_uri are loaded at start (`ikeplexd --check` counts
them); `swanctl --list-certs --type x509crl` decodes our CRL (issuer, revoked serial) and
`swanctl --list-authorities` shows the URIs; `swanctl --load-authorities` loads an authority with
URIs over VICI; `swanctl --load-creds` sends a newer CRL of the CA (x509crl/, load-cert type
x509crl), which replaces the older; `ikeplex list-certs --type X509_CRL` and `ikeplex
list-authorities` show the same. One daemon, no peer: about 2 s."""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lib import Ikeplexd, Namespaces, install_credentials, main_wrapper, make_certs, run, side_conf  # noqa: E402

CA_SUBJECT = "O=ikeplex test, CN=ikeplex test CA"


def make_crl(pki, revoke, out):
    """A CRL of the test CA revoking each certificate of `revoke` (openssl ca's database keeps
    what earlier calls revoked; each CRL gets the next cRLNumber)."""
    cnf = f"{pki}/ca.cnf"
    if not os.path.exists(cnf):
        open(f"{pki}/index.txt", "w").close()
        with open(f"{pki}/crlnumber", "w") as f:
            f.write("01\n")
        with open(cnf, "w") as f:
            f.write(f"[ca]\ndefault_ca = d\n[d]\ndatabase = {pki}/index.txt\ncrlnumber = {pki}/crlnumber\n"
                    "default_md = sha256\ndefault_crl_days = 7\n")
    common = ["-config", cnf, "-keyfile", f"{pki}/ca.key", "-cert", f"{pki}/ca.pem"]
    for cert in revoke:
        run(["openssl", "ca", *common, "-revoke", cert], timeout=30)
    run(["openssl", "ca", *common, "-gencrl", "-out", out], timeout=30)


def serial_of(cert):
    out = run(["openssl", "x509", "-in", cert, "-noout", "-serial"], timeout=10)
    return out.strip().split("=", 1)[1].lower()


def test(build, folder):
    pki = f"{folder}/pki"
    certs, ca = make_certs(pki)
    make_crl(pki, [certs["b"][0]], f"{pki}/ca.crl")
    ours_dir = f"{folder}/ours"
    install_credentials(ours_dir, "a", certs, ca)
    os.makedirs(f"{ours_dir}/x509crl", exist_ok=True)
    shutil.copy(f"{pki}/ca.crl", f"{ours_dir}/x509crl/ca.crl")
    conf = side_conf("a", auth="pubkey", certs="a.pem") + f"""authorities {{
  test-ca {{
    cacert = ca.pem
    crl_uris = file://{pki}/ca.crl, http://10.99.0.2/ca.crl
    ocsp_uris = http://10.99.0.2:8080
  }}
}}
"""
    with open(f"{ours_dir}/swanctl.conf", "w") as f:
        f.write(conf)
    examples = os.path.join(os.path.dirname(__file__), "../../examples/ikeplexd.conf")
    checked = run([f"{build}/apps/ikeplexd", "--check", "-c", examples, "--swanctl-conf",
                   f"{ours_dir}/swanctl.conf"], timeout=20)
    assert "note: 1 CRL(s), 1 authority" in checked and "0 error(s), 0 warning(s)" in checked, checked
    print("ikeplexd --check: the folder's CRL and the authority's file:// CRL (one issuer: one held)")

    client = f"{folder}/client"
    os.makedirs(f"{client}/x509ca", exist_ok=True)
    client_conf = f"{client}/strongswan.conf"
    with open(client_conf, "w") as f:
        f.write("swanctl { load = pem pkcs1 pkcs8 x509 revocation pubkey openssl random nonce }\n")
    env = dict(os.environ, STRONGSWAN_CONF=client_conf, SWANCTL_DIR=client)
    b_serial = serial_of(certs["b"][0])
    with Namespaces() as ns:
        ours = Ikeplexd(build, ns.a, ours_dir, conf)
        try:
            def swanctl(*args):
                return run(["swanctl", *args, "--uri", f"unix://{ours.vici}"], timeout=20, env=env)

            out = swanctl("--list-certs", "--type", "x509crl")
            assert "List of X.509 CRLs" in out and f'issuer:   "{CA_SUBJECT}"' in out, out
            assert re.search(r"serial:\s+01\b", out), out
            assert b_serial in out.replace(":", "").lower(), (b_serial, out)
            print("swanctl --list-certs --type x509crl: our CRL decoded (issuer, number 01, b revoked)")

            out = swanctl("--list-authorities")
            assert re.search(rf"^test-ca:\n  cacert: {CA_SUBJECT}\n  crl_uris:  file://{pki}/ca.crl\n"
                             r"\s+http://10.99.0.2/ca.crl\n  ocsp_uris: http://10.99.0.2:8080$", out, re.M), out
            print("swanctl --list-authorities: swanctl.conf's authority with its CRL and OCSP URIs")

            shutil.copy(ca, f"{client}/x509ca/vici-ca.pem")
            with open(f"{client}/swanctl.conf", "w") as f:
                f.write("authorities { vici-ca { cacert = vici-ca.pem\n"
                        "  crl_uris = http://10.99.0.2/vici.crl\n  ocsp_uris = http://10.99.0.2:8081 } }\n")
            out = swanctl("--load-authorities", "--file", f"{client}/swanctl.conf")
            assert "loaded authority 'vici-ca'" in out, out
            out = swanctl("--list-authorities")
            assert re.search(r"^vici-ca:\n  cacert: .*\n  crl_uris:  http://10.99.0.2/vici.crl\n"
                             r"  ocsp_uris: http://10.99.0.2:8081$", out, re.M), out
            print("swanctl --load-authorities: an authority with URIs over VICI, listed")

            # A newer CRL (number 02, a revoked too) through swanctl's x509crl/ folder.
            make_crl(pki, [certs["a"][0]], f"{pki}/newer.crl")
            os.makedirs(f"{client}/x509crl", exist_ok=True)
            shutil.copy(f"{pki}/newer.crl", f"{client}/x509crl/newer.crl")
            os.remove(f"{client}/x509ca/vici-ca.pem")
            out = swanctl("--load-creds", "--file", f"{client}/swanctl.conf")
            assert "loaded certificate from" in out and "newer.crl" in out, out
            out = swanctl("--list-certs", "--type", "x509crl")
            assert out.count("issuer:") == 1 and re.search(r"serial:\s+02\b", out), out
            print("swanctl --load-creds: x509crl/newer.crl loaded, the older CRL replaced")

            out = ours.cli("list-certs", "--type", "X509_CRL")
            assert "X.509 CRLs:" in out and f"issuer:   {CA_SUBJECT}\n" in out, out
            assert "serial:   02\n" in out and "revoked:  2 certificates\n" in out, out
            assert re.search(r"update:   this \d{4}-\d\d-\d\d .* UTC\n            next \d{4}-", out), out
            out = ours.cli("list-authorities")
            assert f"test-ca:\n  cacert: {CA_SUBJECT}\n  crl_uris: file://{pki}/ca.crl http://10.99.0.2/ca.crl\n" \
                   "  ocsp_uris: http://10.99.0.2:8080\n" in out and "vici-ca:" in out, out
            print("ikeplex list-certs --type X509_CRL, list-authorities: the same")
        finally:
            ours.close()


if __name__ == "__main__":
    sys.exit(main_wrapper(test, "crl_store"))
