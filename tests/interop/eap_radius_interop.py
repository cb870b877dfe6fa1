#!/usr/bin/env python3
"""ikeplex's EAP peer against a real EAP server: Debian's FreeRADIUS 3.2 (rlm_eap_mschapv2,
rlm_eap_md5), reached over RADIUS (RFC 2865/3579) from this script, which plays the NAS.

Our side is tests/interop/eap_peer_driver (eap::make_peer behind stdin/stdout). Scenarios:
  1. EAP-MSCHAPv2, ASCII password: Access-Accept, our peer verified S= and its MSK starts with
     FreeRADIUS's MS-MPPE-Recv-Key | MS-MPPE-Send-Key (RFC 2548), as strongSwan's eap-radius
     builds the MSK from them, then 32 zero bytes (strongSwan's eap-mschapv2 layout).
  2. EAP-MSCHAPv2, a non-ASCII UTF-8 password: accepted (our UTF-16LE matches FreeRADIUS's).
  3. EAP-MSCHAPv2, wrong password: FreeRADIUS's Failure request (E=691), our acknowledgement,
     Access-Reject; our peer never reports success.
  4. EAP-MSCHAPv2 with the Success request's S= altered on the way: our peer refuses it.
  5. EAP-MD5 (our peer Naks FreeRADIUS's default MSCHAPv2): Access-Accept.
  6. EAP-TLS over TLS 1.3 (RFC 9190; rlm_eap_tls with tls_max_version = "1.3", our peer with
     --tls-max 1.3): Access-Accept after FreeRADIUS's commitment message; our MSK (RFC 9190's
     exporter) equals FreeRADIUS's MS-MPPE-Recv-Key | MS-MPPE-Send-Key.
  7. EAP-TLS over TLS 1.2 (our default): the same, with RFC 5216's MSK.

radiusd runs with its own configuration (tests/integration/raddb.py writes it) in a namespace
named after this process, listening on 10.99.231.1 (lo); everything is removed on exit. Exit 77 (skip) without root or freeradius.
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from raddb import start_radiusd, write_raddb  # noqa: E402
from lib import make_certs  # noqa: E402
from radius_lite import (ACCESS_ACCEPT, ACCESS_CHALLENGE, ACCESS_REJECT, MICROSOFT, MS_MPPE_RECV_KEY,  # noqa: E402
                         MS_MPPE_SEND_KEY, STATE, access_request, check_reply, eap_of, first, mppe_decrypt,
                         vendor_attrs)

ADDR = "10.99.231.1"
PORT = 1812
SECRET = b"radius-test-secret-0123"
USERS = {  # name: (password as configured, UTF-8)
    "carol": "s3cret-pw",
    "dave": "p\u00e4ssw\u00f6rd\u20ac",
    "erin": "md5-secret",
}

class Failure(Exception):
    pass


def run(cmd, timeout=20):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise Failure(f"{' '.join(cmd)}: {r.stdout}{r.stderr}")
    return r.stdout


class Driver:
    def __init__(self, binary, method, user, password, extra=()):
        self.proc = subprocess.Popen([binary, "--method", method, "--identity", user, "--password", password,
                                      *extra],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def ask(self, eap):
        self.proc.stdin.write(eap.hex() + "\n")
        line = self.proc.stdout.readline().strip()
        if not line:
            raise Failure("driver exited")
        return line

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def conversation(binary, method, user, password, tamper_success=False, extra=()):
    """Runs one EAP conversation; returns (RADIUS outcome, driver's last line, MPPE keys).
    `extra`: more driver options (EAP-TLS credentials)."""
    d = Driver(binary, method, user, password, extra)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(3)
    try:
        hello = d.ask(bytes([1, 0, 0, 5, 1]))  # as if the NAS had sent Request/Identity
        if not hello.startswith("RSP "):
            raise Failure(f"identity: {hello}")
        eap, state, ident = bytes.fromhex(hello[4:]), None, 0
        for _ in range(20):  # bounded: MSCHAPv2 takes 3 round trips, MD5 with a Nak 3
            ident = (ident + 1) % 256
            pkt, auth = access_request(SECRET, ident, user, eap, state)
            sock.sendto(pkt, (ADDR, PORT))
            code, attrs = check_reply(SECRET, sock.recv(4096), auth)
            server_eap = eap_of(attrs)
            state = first(attrs, STATE)
            if code == ACCESS_ACCEPT:  # EAP-Success inside
                ms = vendor_attrs(attrs, MICROSOFT)
                keys = None
                if MS_MPPE_RECV_KEY in ms and MS_MPPE_SEND_KEY in ms:
                    keys = (mppe_decrypt(SECRET, ms[MS_MPPE_RECV_KEY], auth),
                            mppe_decrypt(SECRET, ms[MS_MPPE_SEND_KEY], auth))
                return "accept", d.ask(server_eap), keys
            if code == ACCESS_REJECT:  # EAP-Failure inside
                return "reject", d.ask(server_eap) if server_eap else "", None
            if code != ACCESS_CHALLENGE:
                raise Failure(f"RADIUS code {code}")
            if tamper_success and server_eap[4] == 26 and server_eap[5] == 3:
                i = server_eap.index(b"S=") + 2
                server_eap = server_eap[:i] + (b"0" if server_eap[i:i + 1] != b"0" else b"1") + server_eap[i + 1:]
            line = d.ask(server_eap)
            if not line.startswith("RSP "):
                return "peer-stopped", line, None
            eap = bytes.fromhex(line[4:])
        raise Failure("no end after 20 round trips")
    finally:
        sock.close()
        d.close()


def tls_scenario(binary, pki, version, number):
    """EAP-TLS with our peer limited to `version`: accepted, our MSK = FreeRADIUS's MPPE keys."""
    extra = ("--cert", f"{pki}/client.pem", "--key", f"{pki}/client.p8.pem", "--ca", f"{pki}/ca.pem",
             "--server-name", "radius.test", "--tls-max", version)
    outcome, line, keys = conversation(binary, "tls", "client.test", "", extra=extra)
    if outcome != "accept" or not line.startswith("SUCCESS ") or keys is None:
        raise Failure(f"{number}: {outcome} {line}")
    msk = bytes.fromhex(line.split()[1])
    recv, send = keys
    if len(msk) != 64 or msk[:32] != recv or msk[32:] != send:
        raise Failure(f"{number}: MSK {msk.hex()} vs Recv {recv.hex()} Send {send.hex()}")
    print(f"{number} ok: EAP-TLS over TLS {version} accepted; MSK = MS-MPPE-Recv-Key | MS-MPPE-Send-Key")


def client(binary, pki):
    """Inside the namespace: the scenarios."""
    outcome, line, keys = conversation(binary, "mschapv2", "carol", USERS["carol"])
    if outcome != "accept" or not line.startswith("SUCCESS ") or keys is None:
        raise Failure(f"1: {outcome} {line}")
    msk = bytes.fromhex(line.split()[1])
    recv, send = keys
    if len(msk) != 64 or msk[:16] != recv or msk[16:32] != send or msk[32:] != bytes(32):
        raise Failure(f"1: MSK {msk.hex()} vs Recv {recv.hex()} Send {send.hex()}")
    print("1 ok: MSCHAPv2 accepted; MSK = MS-MPPE-Recv-Key | MS-MPPE-Send-Key | 32 zeros")

    outcome, line, _ = conversation(binary, "mschapv2", "dave", USERS["dave"])
    if outcome != "accept" or not line.startswith("SUCCESS "):
        raise Failure(f"2: {outcome} {line}")
    print("2 ok: non-ASCII UTF-8 password accepted")

    outcome, line, _ = conversation(binary, "mschapv2", "carol", "not-the-password")
    if outcome != "reject" or line != "EAPFAILURE":
        raise Failure(f"3: {outcome} {line}")
    print("3 ok: wrong password: E=691 acknowledged, Access-Reject")

    outcome, line, _ = conversation(binary, "mschapv2", "carol", USERS["carol"], tamper_success=True)
    if outcome != "peer-stopped" or not line.startswith("FAIL "):
        raise Failure(f"4: {outcome} {line}")
    print("4 ok: altered S= refused:", line)

    outcome, line, _ = conversation(binary, "md5", "erin", USERS["erin"])
    if outcome != "accept" or line.split() != ["SUCCESS"]:  # MD5 makes no MSK
        raise Failure(f"5: {outcome} {line!r}")
    print("5 ok: MD5 accepted")

    tls_scenario(binary, pki, "1.3", 6)
    tls_scenario(binary, pki, "1.2", 7)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--driver", required=True)
    ap.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--pki", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.client:
        client(args.driver, args.pki)
        return 0
    if os.geteuid() != 0 or not shutil.which("freeradius"):
        print("skip: needs root and freeradius")
        return 77
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # ctest's timeout: clean up first
    ns = f"ikeplex-eaprad-{os.getpid()}"
    folder = tempfile.mkdtemp(prefix="ikeplex-eaprad-")
    radiusd = None
    try:
        run(["ip", "netns", "add", ns])
        run(["ip", "-n", ns, "link", "set", "lo", "up"])
        run(["ip", "-n", ns, "addr", "add", f"{ADDR}/32", "dev", "lo"])
        # FreeRADIUS offers MSCHAPv2 first (scenario 5's peer Naks it for MD5); EAP-TLS with
        # TLS 1.2 and 1.3 (scenarios 6, 7).
        make_certs(f"{folder}/pki", {"server": "radius.test", "client": "client.test"})
        write_raddb(folder, secret=SECRET.decode(), server=ADDR, net=f"{ADDR}/32",
                    users="".join(f'{user} Cleartext-Password := "{pw}"\n' for user, pw in USERS.items()),
                    default_eap="mschapv2", tls_pki=f"{folder}/pki")
        os.chmod(folder, 0o755)
        radiusd, _ = start_radiusd(ns, folder, folder)
        r = subprocess.run(["ip", "netns", "exec", ns, sys.executable, __file__, "--client", "--driver", args.driver,
                            "--pki", f"{folder}/pki"],
                           capture_output=True, text=True, timeout=90)
        print(r.stdout, end="")
        if r.returncode != 0:
            print(r.stderr, file=sys.stderr)
            print(open(f"{folder}/radiusd.log", errors="replace").read()[-6000:], file=sys.stderr)
            return 1
        # Step 6 ran TLS 1.3 and took FreeRADIUS's commitment message (our peer's log, stderr).
        for line in ("EAP-TLS: TLSv1.3 with", "EAP-TLS: TLS 1.3 commitment message received"):
            if line not in r.stderr:
                print(f"our peer never logged '{line}':\n{r.stderr[-4000:]}", file=sys.stderr)
                return 1
        print("6 ok: TLS 1.3 negotiated, FreeRADIUS's commitment message received")
        print("PASS")
        return 0
    finally:
        if radiusd is not None:
            radiusd.terminate()
            try:
                radiusd.wait(timeout=10)
            except subprocess.TimeoutExpired:
                radiusd.kill()
                radiusd.wait(timeout=10)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=20)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
