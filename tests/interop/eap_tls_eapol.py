#!/usr/bin/env python3
"""ikeplex's EAP-TLS server against an independent EAP peer: wpa_supplicant 2.10's eapol_test
(Debian's eapoltest; hostap, BSD-licensed; only run here, nothing taken from it). eapol_test
speaks RADIUS to the shim of eap_strongswan_radius.py, which runs our server
(tests/interop/eap_server_driver --method tls) and returns our MSK as MS-MPPE-Recv-Key |
MS-MPPE-Send-Key; eapol_test compares them with the MSK it derived itself ("MPPE keys OK").

  1. TLS 1.3 (RFC 9190; eapol_test with phase1 "tls_disable_tlsv1_3=0", our server allowing
     1.3): SUCCESS, MPPE keys OK (its RFC 9190 MSK = ours), our server logged TLSv1.3 and
     eapol_test saw the commitment message as its success indication.
  2. TLS 1.2 (RFC 5216): the same.

One namespace of this test's own with the shim on 10.99.137.250 (lo), removed on exit. Exit 77
(skip) without root or eapol_test (package eapoltest).
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from eap_strongswan_radius import SECRET, SHIM_PORT, shim, shim_log  # noqa: E402
from lib import Failure, make_certs, run, wait_until  # noqa: E402

ADDR = "10.99.137.250"
NETWORK = """network={{
    key_mgmt=IEEE8021X
    eap=TLS
    identity="client.test"
    ca_cert="{pki}/ca.pem"
    client_cert="{pki}/client.pem"
    private_key="{pki}/client.key"
    phase1="{phase1}"
}}
"""


def one(ns, folder, pki, version, phase1, number):
    conf = f"{folder}/eapol-{version}.conf"
    with open(conf, "w") as f:
        f.write(NETWORK.format(pki=pki, phase1=phase1))
    r = subprocess.run(["ip", "netns", "exec", ns, "eapol_test", "-c", conf, "-a", ADDR, "-p", str(SHIM_PORT),
                        "-s", SECRET, "-t", "20"], capture_output=True, text=True, timeout=60)
    out = r.stdout + r.stderr
    with open(f"{folder}/eapol-{version}.log", "w") as f:
        f.write(out)
    if r.returncode != 0 or "MPPE keys OK: 1  mismatch: 0" not in out or not out.rstrip().endswith("SUCCESS"):
        raise Failure(f"{number}: eapol_test over TLS {version}:\n{out[-4000:]}")
    if f"Using TLS version TLSv{version}" not in out:
        raise Failure(f"{number}: eapol_test did not report TLS {version}:\n{out[-3000:]}")
    if version == "1.3" and "EAP-TLS: ACKing Commitment Message" not in out:
        raise Failure(f"{number}: eapol_test did not see our commitment message:\n{out[-3000:]}")
    print(f"{number} ok: eapol_test (wpa_supplicant 2.10) over TLS {version}: SUCCESS, MPPE keys OK"
          + (", our commitment message acknowledged" if version == "1.3" else ""))


def test(driver, folder):
    ns = f"ikeplex-eapol-{os.getpid()}"
    certs, ca = make_certs(f"{folder}/pki", {"server": "radius.test", "client": "client.test"})
    pki = f"{folder}/pki"
    tls_args = ["--cert", certs["server"][0], "--key", certs["server"][1], "--ca", ca, "--tls-max", "1.3"]
    shim_proc = None
    try:
        run(["ip", "netns", "add", ns])
        run(["ip", "-n", ns, "link", "set", "lo", "up"])
        run(["ip", "-n", ns, "addr", "add", f"{ADDR}/32", "dev", "lo"])
        shim_proc = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, __file__, "--shim", "--driver",
                                      driver, "--log", f"{folder}/shim.log", *tls_args],
                                     stdout=subprocess.DEVNULL, stderr=open(f"{folder}/shim.err", "w"))
        wait_until(lambda: os.path.exists(f"{folder}/shim.log") and "READY" in shim_log(folder), 10,
                   "the RADIUS shim")
        one(ns, folder, pki, "1.3", "tls_disable_tlsv1_3=0", 1)
        err = open(f"{folder}/shim.err", errors="replace").read()
        if "EAP-TLS: TLSv1.3 with" not in err:
            raise Failure(f"1: our server did not log TLS 1.3:\n{err[-3000:]}")
        one(ns, folder, pki, "1.2", "tls_disable_tlsv1_3=1", 2)
    finally:
        if shim_proc is not None:
            shim_proc.terminate()
            shim_proc.wait(timeout=10)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=20)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--driver", required=True)
    ap.add_argument("--shim", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--log", help=argparse.SUPPRESS)
    args, rest = ap.parse_known_args()
    if args.shim:
        shim(args.driver, args.log, addr=ADDR, tls_args=rest)
        return 0
    if os.geteuid() != 0 or not shutil.which("eapol_test"):
        print("SKIP: needs root (a network namespace) and eapol_test (package eapoltest)")
        return 77
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    folder = tempfile.mkdtemp(prefix="ikeplex-eapol-")
    try:
        test(os.path.abspath(args.driver), folder)
        print("PASS")
        return 0
    except (Failure, AssertionError, subprocess.TimeoutExpired) as e:
        print(f"FAIL: {e}")
        return 1
    finally:
        if os.environ.get("IKEPLEX_KEEP") != "1":
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
