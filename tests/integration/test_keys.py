#!/usr/bin/env python3
"""Keys and chains as operators have them (issue 24): ikeplexd (userspace data plane) initiates
to Debian's strongSwan 5.9.8 (kernel-libipsec) with pubkey authentication both ways. Our
certificate a.test is issued by an intermediate CA that charon does not hold: charon trusts only
the root, so ikeplexd must send the intermediate after its certificate (RFC 7296 §3.6), and not
the root. Two cases, each a fresh ikeplexd that reads its swanctl.conf and folders at start:
  1. an EC key as encrypted PKCS#8 in private/ opened by secrets { private-a { file, secret } },
     the intermediate in x509ca/ beside the root;
  2. an RSA key signing with RSASSA-PSS (RFC 7427), key, certificate, intermediate and root in
     one PKCS#12 bundle made with `openssl pkcs12 -legacy` (RC2-40/3DES: opened through the
     private legacy context) in pkcs12/, opened by secrets { pkcs12-a { file, secret } }.
Each time charon's log shows the intermediate it was given and the signature scheme, and ping
passes through the tunnel both ways. Addresses: 10.99.194.1/.2 outside, 10.99.195.1 (ours) and
10.99.196.1 (charon's) inside."""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lib import (Charon, Failure, Ikeplexd, PrefixPair, ike_sas, main_wrapper, run, swanctl_conf,  # noqa: E402
                 wait_until)

OURS_NET, THEIRS_NET = "10.99.195.0/24", "10.99.196.0/24"
OURS_IN, THEIRS_IN = "10.99.195.1", "10.99.196.1"
PASS = "open sesame"


def openssl(*args):
    run(["openssl", *args], timeout=30)


def make_pki(d):
    """root (EC) -> intermediate (EC) -> a.test (EC key a.key, RSA key a-rsa.key); root -> b.test."""
    os.makedirs(d, exist_ok=True)
    with open(f"{d}/ca.ext", "w") as f:
        f.write("basicConstraints=critical,CA:TRUE\nkeyUsage=keyCertSign,cRLSign\n"
                "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
    for name in ("a", "b"):
        with open(f"{d}/{name}.ext", "w") as f:
            f.write(f"subjectAltName=DNS:{name}.test\nauthorityKeyIdentifier=keyid\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", f"{d}/root.key", "-out", f"{d}/root.pem", "-days", "30",
            "-subj", "/O=ikeplex test/CN=Root CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=keyCertSign,cRLSign")

    def issue(name, key_args, ca, serial, ext):
        openssl("req", *key_args, "-keyout", f"{d}/{name}.key", "-out", f"{d}/{name}.csr",
                "-subj", f"/O=ikeplex test/CN={name}")
        openssl("x509", "-req", "-in", f"{d}/{name}.csr", "-CA", f"{d}/{ca}.pem", "-CAkey", f"{d}/{ca}.key",
                "-set_serial", serial, "-days", "30", "-extfile", f"{d}/{ext}.ext", "-out", f"{d}/{name}.pem")
    issue("im", ec, "root", "2", "ca")
    issue("a", ec, "im", "3", "a")
    issue("b", ec, "root", "4", "b")
    # the same identity with an RSA key, for the PKCS#12 case
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{d}/a-rsa.key", "-out", f"{d}/a-rsa.csr",
            "-subj", "/O=ikeplex test/CN=a.test")
    openssl("x509", "-req", "-in", f"{d}/a-rsa.csr", "-CA", f"{d}/im.pem", "-CAkey", f"{d}/im.key",
            "-set_serial", "5", "-days", "30", "-extfile", f"{d}/a.ext", "-out", f"{d}/a-rsa.pem")


def conf(side, secrets="", certs=True):
    local, remote = ("10.99.194.1", "10.99.194.2") if side == "ours" else ("10.99.194.2", "10.99.194.1")
    ids = ("a.test", "b.test") if side == "ours" else ("b.test", "a.test")
    ts = (OURS_NET, THEIRS_NET) if side == "ours" else (THEIRS_NET, OURS_NET)
    text = swanctl_conf(local, remote, *ids, *ts, auth="pubkey", certs=f"{ids[0][0]}.pem")
    if not certs:
        text = text.replace("\n                certs = a.pem", "")
    return text + secrets


def ping(ns, src, dst):
    out = run(["ip", "netns", "exec", ns, "ping", "-c", "3", "-i", "0.05", "-W", "1", "-I", src, dst],
              check=False, timeout=10)
    if " 0% packet loss" not in out:
        raise Failure(f"ping {src} -> {dst}: {out}")


def case(build, ns, charon, folder, name, files, secrets, certs, scheme, seen):
    """A fresh ikeplexd with `files` ({sub/name: source}) beside its swanctl.conf."""
    for sub_name, src in files.items():
        os.makedirs(os.path.dirname(f"{folder}/{sub_name}"), exist_ok=True)
        shutil.copy(src, f"{folder}/{sub_name}")
    ours = Ikeplexd(build, ns.a, folder, conf("ours", secrets, certs), workers=2, backend="userspace")
    try:
        out = run([f"{build}/apps/ikeplexd", "--check", "-c", f"{folder}/ikeplexd.conf"], check=False)
        assert "0 error(s), 0 warning(s)" in out, out
        out = ours.cli("initiate", "--child", "net")
        assert "completed successfully" in out, out
        charon.data_plane_up(OURS_NET)
        ping(ns.a, OURS_IN, THEIRS_IN)
        ping(ns.b, THEIRS_IN, OURS_IN)
        log = charon.log()
        assert log.count('using untrusted intermediate certificate "O=ikeplex test, CN=im"') == seen, \
            "charon was not given the intermediate"
        assert f"authentication of 'a.test' with {scheme} successful" in log, f"charon did not verify {scheme}"
        with open(f"{folder}/ikeplexd.log", errors="replace") as f:
            text = f.read()
        sent = [line for line in text.splitlines() if "sending issuer cert" in line]
        assert len(sent) == 1 and "CN=im" in sent[0], f"ikeplexd sent not just the intermediate: {sent}"
        print(f"{name}: charon verified our chain through the intermediate ({scheme}), ping both ways")
        ours.cli("terminate", "--ike", "t")
        wait_until(lambda: not ike_sas(ours.sas()) and not charon.sas(), 10, "the IKE SA to go")
    finally:
        ours.close()


def test(build, folder):
    pki = f"{folder}/pki"
    make_pki(pki)
    openssl("pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", f"{pki}/a.key", "-passout", f"pass:{PASS}",
            "-out", f"{pki}/a-enc.pem")
    with open(f"{pki}/chain.pem", "w") as f:
        f.write(open(f"{pki}/im.pem").read() + open(f"{pki}/root.pem").read())
    openssl("pkcs12", "-export", "-legacy", "-inkey", f"{pki}/a-rsa.key", "-in", f"{pki}/a-rsa.pem", "-certfile",
            f"{pki}/chain.pem", "-passout", f"pass:{PASS}", "-out", f"{pki}/a.p12")
    with PrefixPair("10.99.194") as ns:
        run(["ip", "-n", ns.a, "addr", "add", f"{OURS_IN}/32", "dev", "lo"])
        run(["ip", "-n", ns.b, "addr", "add", f"{THEIRS_IN}/32", "dev", "lo"])
        os.makedirs(f"{folder}/charon/x509ca", exist_ok=True)
        for sub, src in (("x509ca/root.pem", "root.pem"), ("x509/b.pem", "b.pem")):
            os.makedirs(os.path.dirname(f"{folder}/charon/{sub}"), exist_ok=True)
            shutil.copy(f"{pki}/{src}", f"{folder}/charon/{sub}")
        os.makedirs(f"{folder}/charon/private", exist_ok=True)
        shutil.copy(f"{pki}/b.key", f"{folder}/charon/private/b.pem")
        charon = Charon(ns.b, f"{folder}/charon", conf("theirs"))
        try:
            case(build, ns, charon, f"{folder}/ours1", "encrypted PKCS#8 key, intermediate in x509ca/",
                 {"x509/a.pem": f"{pki}/a.pem", "x509ca/root.pem": f"{pki}/root.pem",
                  "x509ca/im.pem": f"{pki}/im.pem", "private/a.pem": f"{pki}/a-enc.pem"},
                 f'secrets {{ private-a {{ file = a.pem\n secret = "{PASS}" }} }}\n', True,
                 "ECDSA_WITH_SHA256_DER", 1)
            case(build, ns, charon, f"{folder}/ours2", "RSA-PSS from a -legacy PKCS#12 bundle with the chain",
                 {"pkcs12/a.p12": f"{pki}/a.p12"},
                 f'secrets {{ pkcs12-a {{ file = a.p12\n secret = "{PASS}" }} }}\n', False,
                 "RSA_EMSA_PSS_SHA2_256_SALT_32", 2)
        finally:
            charon.close()


if __name__ == "__main__":
    sys.exit(main_wrapper(test, "keys"))
