#!/usr/bin/env python3
"""ikeplex's EAP server against Debian's strongSwan 5.9.8 as the EAP peer (its eap-mschapv2 and
eap-md5 plugins), before the IKE integration exists: a strongSwan gateway hands EAP to RADIUS
(eap-radius), and the RADIUS server is this script, which runs ikeplex's EAP server
(tests/interop/eap_server_driver) for each conversation and returns its MSK in
MS-MPPE-Recv-Key (first half) and MS-MPPE-Send-Key (second half), which the gateway
concatenates into its MSK (strongSwan's radius_client.c decrypt_msk: recv | send).

So the IKE SA comes up only if strongSwan's EAP client accepts what our server sends (the
MSCHAPv2 Challenge, its S= in the Success request) and both ends derive the same MSK for the
AUTH payloads: the client from its own eap-mschapv2, the gateway from ours.

  1. EAP-MSCHAPv2, right password: the client's IKE SA and Child SA are established, our server
     reports success for "carol" with a 64-byte MSK.
  2. EAP-MSCHAPv2, wrong password: our server sends E=691; the client fails (strongSwan's peer
     sends no acknowledgement); no IKE SA.
  3. EAP-MD5 (the client Naks MSCHAPv2; the shim restarts our server with MD5): established.
  4. EAP-MSCHAPv2 with a non-ASCII UTF-8 password ("pässwörd"): established, so strongSwan
     hashes the same UTF-16LE as we do.

Namespaces A (client) and B (gateway, shim on 10.99.2.1:1812) from tests/integration/lib.py,
removed on exit. Exit 77 (skip) without root or the plugins.
"""
import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import lib  # noqa: E402
from lib import PSK, Failure, wait_until  # noqa: E402
from radius_lite import (ACCESS_ACCEPT, ACCESS_CHALLENGE, ACCESS_REJECT, MS_MPPE_RECV_KEY,  # noqa: E402
                         MS_MPPE_SEND_KEY, STATE, USER_NAME, RadiusError, attr, eap_attrs, eap_of, first,
                         mppe_encrypt, ms_attr, parse_request, reply)

SHIM_ADDR, SHIM_PORT = "10.99.2.1", 1812
SECRET = "radius-shim-secret-42"
SERVER_USERS = {"carol": "carol-pw-Correct1", "erin": "erin-md5-pw", "dave": "p\u00e4ssw\u00f6rd"}
CLIENT_SECRETS = {"carol": "carol-pw-Correct1", "mallory": "not-what-the-server-has", "erin": "erin-md5-pw",
                  "dave": "p\u00e4ssw\u00f6rd"}
PLUGINS = ("random nonce openssl pem pkcs1 pkcs8 x509 pubkey sha1 sha2 md5 hmac aes gcm kdf kernel-libipsec "
           "kernel-netlink socket-default vici updown eap-identity eap-mschapv2 eap-md5 eap-radius")


# --- the RADIUS shim (runs in namespace B) ----------------------------------------------------

class ServerDriver:
    def __init__(self, binary, method, user, extra=()):
        pw = SERVER_USERS.get(user, "no-such-user-has-this")
        self.proc = subprocess.Popen([binary, "--method", method, "--user", user, "--password", pw, *extra],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def ask(self, line):
        self.proc.stdin.write(line + "\n")
        out = self.proc.stdout.readline().strip()
        if not out:
            raise Failure("server driver exited")
        return out

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def shim(binary, log_path, addr=SHIM_ADDR, tls_args=None):
    """`tls_args`: serve EAP-TLS with these driver options instead of MSCHAPv2/MD5."""
    secret = SECRET.encode()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((addr, SHIM_PORT))
    log = open(log_path, "a", buffering=1)
    log.write("READY\n")
    driver, identity, answered = None, "", {}
    while True:
        data, peer = sock.recvfrom(4096)
        try:
            ident, auth, attrs = parse_request(secret, data)
        except RadiusError as e:
            log.write(f"BAD {e}\n")
            continue
        if (ident, auth) in answered:  # a retransmission: the same answer again
            sock.sendto(answered[(ident, auth)], peer)
            continue
        eap = eap_of(attrs)
        if len(eap) < 5 or eap[0] != 2:
            log.write(f"BAD EAP {eap.hex()}\n")
            continue
        if eap[4] == 1:  # Response/Identity: a new conversation with MSCHAPv2
            identity = eap[5:].decode(errors="replace")
            if driver:
                driver.close()
            driver = ServerDriver(binary, "tls", identity, tls_args) if tls_args else \
                ServerDriver(binary, "mschapv2", identity)
            line = driver.ask(f"START {(eap[1] + 1) % 256} {identity}")
        elif eap[4] == 3 and driver and 4 in eap[5:]:  # Nak proposing MD5
            driver.close()
            driver = ServerDriver(binary, "md5", identity)
            line = driver.ask(f"START {(eap[1] + 1) % 256} {identity}")
        elif driver:
            line = driver.ask(f"RSP {eap.hex()}")
        else:
            line = "FAILURE no conversation"
        log.write(f"{identity} {line}\n")
        word = line.split()[0]
        if word == "REQ":
            out = reply(secret, ACCESS_CHALLENGE, ident, auth,
                        eap_attrs(bytes.fromhex(line.split()[1])) + attr(STATE, b"ikeplex-shim"))
        elif word == "SUCCESS":
            _, msk, who = line.split(maxsplit=2)  # a subject DN may hold spaces
            attrs_out = eap_attrs(bytes([3, eap[1], 0, 4])) + attr(USER_NAME, who.encode())
            if msk != "-":
                key = bytes.fromhex(msk)
                attrs_out += ms_attr(MS_MPPE_RECV_KEY, mppe_encrypt(secret, key[:32], auth))
                attrs_out += ms_attr(MS_MPPE_SEND_KEY, mppe_encrypt(secret, key[32:], auth))
            out = reply(secret, ACCESS_ACCEPT, ident, auth, attrs_out)
        else:
            out = reply(secret, ACCESS_REJECT, ident, auth, eap_attrs(bytes([4, eap[1], 0, 4])))
        answered[(ident, auth)] = out
        sock.sendto(out, peer)


# --- the test ---------------------------------------------------------------------------------

def charon_extra(more=""):
    return f"load = {PLUGINS}\n  {more}"


def gateway_conf():
    return f"""connections {{
    gw {{
        version = 2
        local_addrs = 10.99.0.2
        remote_addrs = 10.99.0.1
        proposals = aes256gcm16-prfsha256-x25519
        local {{ auth = psk
                id = gw.test }}
        remote {{ auth = eap-radius
                 id = %any
                 eap_id = %any }}
        children {{ net {{ local_ts = 10.99.2.0/24
                          remote_ts = 10.99.1.0/24
                          esp_proposals = aes128gcm16 }} }}
    }}
}}
secrets {{ ike-t {{ secret = "{PSK}" }} }}
"""


def client_conf():
    conns, secrets = "", f'ike-t {{ secret = "{PSK}" }}\n'
    for name, method, user in (("good", "eap-mschapv2", "carol"), ("bad", "eap-mschapv2", "mallory"),
                               ("md5", "eap-md5", "erin"), ("latin", "eap-mschapv2", "dave")):
        conns += f"""    {name} {{
        version = 2
        local_addrs = 10.99.0.1
        remote_addrs = 10.99.0.2
        proposals = aes256gcm16-prfsha256-x25519
        local {{ auth = {method}
                id = client.test
                eap_id = {user} }}
        remote {{ auth = psk
                 id = gw.test }}
        children {{ {name} {{ local_ts = 10.99.1.0/24
                          remote_ts = 10.99.2.0/24
                          esp_proposals = aes128gcm16 }} }}
    }}
"""
    for user, pw in CLIENT_SECRETS.items():
        secrets += f'eap-{user} {{ id = {user}\n secret = "{pw}" }}\n'
    return f"connections {{\n{conns}}}\nsecrets {{\n{secrets}}}\n"


def shim_log(folder):
    with open(f"{folder}/shim.log", errors="replace") as f:
        return f.read()


def established(charon):
    return [s for s in charon.sas() if s["state"] == "ESTABLISHED"]


def test(driver, folder):
    with lib.Namespaces() as ns:
        shim_proc = subprocess.Popen(["ip", "netns", "exec", ns.b, sys.executable, __file__, "--shim",
                                      "--driver", driver, "--log", f"{folder}/shim.log"],
                                     stdout=subprocess.DEVNULL, stderr=open(f"{folder}/shim.err", "w"))
        gw = client = None
        try:
            wait_until(lambda: os.path.exists(f"{folder}/shim.log") and "READY" in shim_log(folder), 10,
                       "the RADIUS shim")
            os.makedirs(f"{folder}/gw")
            os.makedirs(f"{folder}/client")
            radius = (f"plugins {{ eap-radius {{ servers {{ shim {{ address = {SHIM_ADDR}\n"
                      f" secret = {SECRET}\n auth_port = {SHIM_PORT} }} }} }} }}")
            gw = lib.Charon(ns.b, f"{folder}/gw", gateway_conf(), extra=charon_extra(radius))
            client = lib.Charon(ns.a, f"{folder}/client", client_conf(), extra=charon_extra())

            out = client.swanctl("--initiate", "--child", "good", timeout=30, check=False)
            if "completed successfully" not in out:
                raise Failure(f"1: MSCHAPv2 with the right password did not come up:\n{out}")
            if len(established(client)) != 1 or len(established(gw)) != 1:
                raise Failure("1: the IKE SA is not established on both sides")
            ok = [ln for ln in shim_log(folder).splitlines() if ln.startswith("carol SUCCESS ")]
            if len(ok) != 1 or len(ok[0].split()[2]) != 128 or ok[0].split()[3] != "carol":
                raise Failure(f"1: our server's success line: {ok}")
            print("1 ok: strongSwan's eap-mschapv2 client and our server: IKE SA established (same MSK)")
            client.swanctl("--terminate", "--ike", "good", timeout=30)
            wait_until(lambda: not established(client) and not established(gw), 15, "the IKE SA to go")

            out = client.swanctl("--initiate", "--child", "bad", timeout=30, check=False)
            if "completed successfully" in out or established(client):
                raise Failure(f"2: a wrong password came up:\n{out}")
            refusals = [ln for ln in shim_log(folder).splitlines() if ln.startswith("mallory REQ ")]
            if not any(bytes.fromhex(ln.split()[2])[5] == 4 and b"E=691 R=1 C=" in bytes.fromhex(ln.split()[2])
                       for ln in refusals):
                raise Failure(f"2: our server sent no E=691 Failure request: {refusals}")
            if "EAP-MS-CHAPv2 failed with error ERROR_AUTHENTICATION_FAILURE" not in client.log():
                raise Failure("2: strongSwan's client did not log our E=691")
            print("2 ok: wrong password: our E=691 made strongSwan's client fail; no IKE SA")

            out = client.swanctl("--initiate", "--child", "md5", timeout=30, check=False)
            if "completed successfully" not in out:
                raise Failure(f"3: MD5 did not come up:\n{out}")
            if not any(ln.startswith("erin SUCCESS - erin") for ln in shim_log(folder).splitlines()):
                raise Failure("3: our MD5 server did not report success")
            print("3 ok: strongSwan's eap-md5 client (after a Nak) and our server: IKE SA established")
            client.swanctl("--terminate", "--ike", "md5", timeout=30)
            wait_until(lambda: not established(client) and not established(gw), 15, "the IKE SA to go")

            out = client.swanctl("--initiate", "--child", "latin", timeout=30, check=False)
            if "completed successfully" not in out:
                raise Failure(f"4: a non-ASCII password did not come up:\n{out}")
            print("4 ok: non-ASCII UTF-8 password: strongSwan hashes the same UTF-16LE as we do")
        except Failure:
            for name, c in (("client", client), ("gateway", gw)):
                if c is not None:
                    print(f"--- {name} charon.log (tail)\n{c.log()[-5000:]}", file=sys.stderr)
            print(f"--- shim.log\n{shim_log(folder)[-3000:]}", file=sys.stderr)
            raise
        finally:
            for c in (client, gw):
                if c is not None:
                    c.close()
            shim_proc.terminate()
            shim_proc.wait(timeout=10)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--driver", required=True)
    ap.add_argument("--shim", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--log", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.shim:
        shim(args.driver, args.log)
        return 0
    plugins = [f"/usr/lib/ipsec/plugins/libstrongswan-{p}.so" for p in ("eap-mschapv2", "eap-md5", "eap-radius")]
    if os.geteuid() != 0 or not all(os.path.exists(p) for p in plugins):
        print("SKIP: needs root (network namespaces) and strongSwan's eap-mschapv2, eap-md5 and eap-radius "
              "(libcharon-extauth-plugins, libcharon-extra-plugins)")
        return 77
    import shutil
    import signal
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    folder = tempfile.mkdtemp(prefix="ikeplex-eapsw-")
    try:
        test(os.path.abspath(args.driver), folder)
        print("PASS")
        return 0
    except (Failure, subprocess.TimeoutExpired) as e:
        print(f"FAIL: {e}")
        return 1
    finally:
        if os.environ.get("IKEPLEX_KEEP") != "1":
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
