#!/usr/bin/env python3
"""What an operator reads (issue 20): ikeplexd with certificates loaded from swanctl.conf's
folders and an `authorities` section, listed by Debian's swanctl 5.9.8 (--list-certs with and
without filters, --list-authorities, --list-conns --raw for the IKE ports) and by
`ikeplex list-certs`, `list-authorities` and `list-conns`; an authority loaded over VICI
(swanctl --load-authorities) is listed and unloaded again; and `ikeplex lsit-sas` names the
command it did not know, suggests the nearest, lists the commands and exits 2. One daemon, no
peer: about 3 s."""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lib import Ikeplexd, Namespaces, install_credentials, main_wrapper, make_certs, run, side_conf  # noqa: E402

CA_SUBJECT = "O=ikeplex test, CN=ikeplex test CA"


def unknown_command(build):
    r = subprocess.run([f"{build}/apps/ikeplex", "lsit-sas"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    first = r.stderr.splitlines()[0] if r.stderr else ""
    assert first == "ikeplex: unknown command 'lsit-sas' (did you mean 'list-sas'?)", r.stderr
    for cmd in ("list-sas", "list-conns", "list-certs", "list-authorities", "initiate", "load-all"):
        assert re.search(rf"^  {cmd}\s", r.stderr, re.M), r.stderr
    print("ikeplex lsit-sas: unknown command named, list-sas suggested, commands listed, exit 2")


def swanctl_lists(swanctl):
    out = swanctl("--list-certs")
    for subject in ("O=ikeplex test, CN=a.test", "O=ikeplex test, CN=b.test", CA_SUBJECT):
        assert f'subject:  "{subject}"' in out, out
    assert out.count("has private key") == 1, out  # a's key is loaded, b's is not
    assert "List of X.509 End Entity Certificates" in out and "List of X.509 CA Certificates" in out, out
    assert f'issuer:   "{CA_SUBJECT}"' in out, out
    print("swanctl --list-certs: both certificates (a's with its key) and the CA")

    out = swanctl("--list-certs", "--subject", "b.test")
    assert "CN=b.test" in out and "CN=a.test" not in out and "CA Certificates" not in out, out
    out = swanctl("--list-certs", "--type", "x509", "--flag", "ca")
    assert CA_SUBJECT in out and "CN=a.test" not in out, out
    print("swanctl --list-certs --subject / --type --flag: filtered")

    out = swanctl("--list-authorities")
    assert re.search(rf"^test-ca:\n  cacert: {CA_SUBJECT}$", out, re.M), out
    print("swanctl --list-authorities: swanctl.conf's authority")

    out = swanctl("--list-conns", "--raw")
    assert "local_port=500" in out and "remote_port=500" in out, out
    print("swanctl --list-conns --raw: local_port and remote_port")


def ikeplex_lists(ours):
    out = ours.cli("list-certs")
    assert "X.509 end entity certificates:" in out and "X.509 CA certificates:" in out, out
    for subject in ("O=ikeplex test, CN=a.test", "O=ikeplex test, CN=b.test", CA_SUBJECT):
        assert f"subject:  {subject}\n" in out, out
    assert out.count("key:      ECDSA 256 bits, has private key") == 1, out
    assert f"issuer:   {CA_SUBJECT}" in out and "altNames: a.test" in out, out
    assert re.search(r"validity: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \.\. \d{4}-", out), out
    assert re.search(r"serial:   [0-9a-f]{2}(:[0-9a-f]{2})*\n", out), out
    out = ours.cli("list-certs", "--type", "X509", "--flag", "CA")
    assert CA_SUBJECT in out and "CN=a.test" not in out, out
    print("ikeplex list-certs: subject, issuer, validity, serial, names, key, private key")

    out = ours.cli("list-authorities")
    assert f"test-ca:\n  cacert: {CA_SUBJECT}\n" in out, out
    out = ours.cli("list-conns")
    assert "t: IKEv2, 10.99.0.1[500] ... 10.99.0.2[500]" in out, out
    print("ikeplex list-authorities, list-conns (with ports)")


def vici_authority(swanctl, folder, ca):
    client = f"{folder}/client"
    os.makedirs(f"{client}/x509ca", exist_ok=True)
    shutil.copy(ca, f"{client}/x509ca/vici-ca.pem")
    with open(f"{client}/swanctl.conf", "w") as f:
        f.write("authorities { vici-ca { cacert = vici-ca.pem } }\n")
    out = swanctl("--load-authorities", "--file", f"{client}/swanctl.conf")
    assert "loaded authority 'vici-ca'" in out, out
    out = swanctl("--list-authorities")
    assert "vici-ca:" in out and "test-ca:" in out, out
    with open(f"{client}/swanctl.conf", "w") as f:
        f.write("authorities { }\n")
    out = swanctl("--load-authorities", "--file", f"{client}/swanctl.conf")
    assert "1 unloaded" in out, out
    out = swanctl("--list-authorities")
    assert "vici-ca:" not in out and "test-ca:" in out, out
    print("swanctl --load-authorities: listed, then unloaded")


def test(build, folder):
    unknown_command(build)
    certs, ca = make_certs(f"{folder}/pki")
    ours_dir = f"{folder}/ours"
    install_credentials(ours_dir, "a", certs, ca)
    shutil.copy(certs["b"][0], f"{ours_dir}/x509/b.pem")  # a peer's certificate, no key
    conf = side_conf("a", auth="pubkey", certs="a.pem") + "authorities { test-ca { cacert = ca.pem } }\n"
    client_conf = f"{folder}/client/strongswan.conf"
    os.makedirs(f"{folder}/client", exist_ok=True)
    with open(client_conf, "w") as f:
        f.write("swanctl { load = pem pkcs1 pkcs8 x509 pubkey openssl random nonce }\n")
    env = dict(os.environ, STRONGSWAN_CONF=client_conf)
    with Namespaces() as ns:
        ours = Ikeplexd(build, ns.a, ours_dir, conf)
        try:
            def swanctl(*args):
                return run(["swanctl", *args, "--uri", f"unix://{ours.vici}"], timeout=20, env=env)

            swanctl_lists(swanctl)
            ikeplex_lists(ours)
            vici_authority(swanctl, folder, ca)
        finally:
            ours.close()


if __name__ == "__main__":
    sys.exit(main_wrapper(test, "cli_listings"))
