#!/usr/bin/env python3
"""The RADIUS client (daemon/radius_client.h) against Debian's FreeRADIUS 3.2 (`freeradius`,
radiusd) in a namespace pair, driven by tests/tools/radius_probe from the other namespace.

radiusd runs with its own minimal configuration (raddb.py writes it: radiusd.conf with a client for
10.99.121.0/24 that must send Message-Authenticator, the files module with a users file, the
eap module with md5 and mschapv2, the detail module writing into the temporary folder) on
10.99.121.2 in namespace rdS<pid>; the probe runs in rdC<pid> (10.99.121.1).

1. EAP-MD5 (Identity, then an MD5-Challenge the probe answers with MD5(id | password |
   challenge)): Access-Accept with EAP-Success; the users file gives Framed-IP-Address and
   MS-MPPE-Recv/Send-Key, which radiusd encrypts (RFC 2548) and the client decrypts into the
   MSK as Recv-Key | Send-Key. (EAP-MD5 makes no keys of its own; the keys here come from the
   users file.) EAP-MSCHAPv2 with the probe's own peer (MD4 and DES from OpenSSL's legacy
   provider; checked first against RFC 2759 §9.2's NT-Response): radiusd's MPPE keys, derived
   from the exchange, arrive as the MSK Recv | Send, equal to RFC 3079's server receive | send
   keys that the probe derives from its side; a wrong password is rejected.
2. A wrong password: Access-Reject with EAP-Failure. A 250-byte identity (its EAP packet in two
   EAP-Message attributes, RFC 3579 §3.1) is accepted. The same over IPv6.
3. A wrong shared secret: radiusd drops the request (bad Message-Authenticator); the client
   retransmits and gives up (timeouts = 1).
4. Accounting Start, Interim-Update and Stop: acknowledged, and in radiusd's detail file with
   the session's attributes.
5. Failover: a first server (higher preference) at 10.99.121.3 that never answers (a static
   neighbour entry sends its packets to no one): the request and retransmit_tries = 2
   retransmits go there (sent = 3 before the failover), then the second server accepts; the
   same for accounting.
Needs root (namespaces); skipped (77) without radiusd.
"""
import os
import re
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lib import Failure, main_wrapper, run, wait_until  # noqa: E402
from raddb import RADIUSD, start_radiusd, write_raddb  # noqa: E402

CLIENT, SERVER, SILENT = "10.99.121.1", "10.99.121.2", "10.99.121.3"
CLIENT6, SERVER6 = "fd00:99:121::1", "fd00:99:121::2"
SECRET = "radius-test-secret-121"
RECV_KEY = bytes(range(0x00, 0x20)).hex()
SEND_KEY = bytes(range(0x40, 0x60)).hex()
# An identity whose EAP-Response/Identity (5 + 250 bytes) spans two EAP-Message attributes.
LONG_USER = "long-" + "x" * 245


USERS = f"""\
alice Cleartext-Password := "alice-password"
\tFramed-IP-Address = 10.99.121.77,
\tMS-MPPE-Recv-Key = 0x{RECV_KEY},
\tMS-MPPE-Send-Key = 0x{SEND_KEY}
{LONG_USER} Cleartext-Password := "long-password"
bob Cleartext-Password := "bob-password"
"""


def probe_conf(servers, accounting=True):
    blocks = "".join(
        f"""                {name} {{
                    address = {addr}
                    secret = {secret}
                    preference = {pref}
                }}
""" for name, addr, secret, pref in servers)
    return f"""ikeplexd {{
    plugins {{
        eap-radius {{
            accounting = {"yes" if accounting else "no"}
            retransmit_timeout = 0.3
            retransmit_base = 1.4
            retransmit_tries = 2
            servers {{
{blocks}            }}
        }}
    }}
}}
"""


def parse(out):
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line and not line.startswith("["))


def test(build, folder):
    probe = f"{build}/tests/radius_probe"
    tag = str(os.getpid())
    ns_s, ns_c = f"rdS{tag}", f"rdC{tag}"
    veth_s, veth_c = f"rs{tag}", f"rc{tag}"
    raddb = f"{folder}/raddb"
    write_raddb(raddb, secret=SECRET, server=SERVER, net="10.99.121.0/24", users=USERS,
                server6=SERVER6, net6="fd00:99:121::/64")

    def conf(name, servers, **kw):
        path = f"{folder}/{name}.conf"
        with open(path, "w") as f:
            f.write(probe_conf(servers, **kw))
        return path

    def run_probe(cfg, *args, nas=CLIENT):
        out = run(["ip", "netns", "exec", ns_c, probe, "-c", cfg, "--nas", nas, *args], timeout=60)
        with open(f"{folder}/probe.out", "a") as f:
            f.write(f"$ radius_probe {' '.join(args)}\n{out}\n")
        return parse(out)

    radiusd = None
    try:
        for cmd in (["ip", "netns", "add", ns_s], ["ip", "netns", "add", ns_c],
                    ["ip", "link", "add", veth_s, "type", "veth", "peer", "name", veth_c],
                    ["ip", "link", "set", veth_s, "netns", ns_s],
                    ["ip", "link", "set", veth_c, "netns", ns_c],
                    ["ip", "-n", ns_s, "addr", "add", f"{SERVER}/24", "dev", veth_s],
                    ["ip", "-n", ns_c, "addr", "add", f"{CLIENT}/24", "dev", veth_c],
                    ["ip", "-n", ns_s, "addr", "add", f"{SERVER6}/64", "dev", veth_s, "nodad"],
                    ["ip", "-n", ns_c, "addr", "add", f"{CLIENT6}/64", "dev", veth_c, "nodad"],
                    ["ip", "-n", ns_s, "link", "set", "lo", "up"],
                    ["ip", "-n", ns_c, "link", "set", "lo", "up"],
                    ["ip", "-n", ns_s, "link", "set", veth_s, "up"],
                    ["ip", "-n", ns_c, "link", "set", veth_c, "up"],
                    # the silent server: its packets leave for a MAC no one has
                    ["ip", "-n", ns_c, "neigh", "replace", SILENT, "lladdr", "02:00:00:99:01:21",
                     "dev", veth_c, "nud", "permanent"]):
            run(cmd)
        radiusd, radiusd_log = start_radiusd(ns_s, raddb, folder)

        good = conf("good", [("fr", SERVER, SECRET, 0)])
        # 1. EAP-MD5 accepted; the MSK from the users file's MPPE keys, Recv-Key first
        r = run_probe(good, "md5", "alice", "alice-password")
        if r.get("result") != "accept" or r.get("eap_code") != "3" or r.get("rounds") != "2":
            raise Failure(f"EAP-MD5 with the right password: {r}")
        if r.get("framed_ip") != "10.99.121.77":
            raise Failure(f"Framed-IP-Address: {r}")
        if r.get("msk") != RECV_KEY + SEND_KEY:
            raise Failure(f"MSK is not MS-MPPE-Recv-Key | MS-MPPE-Send-Key: {r.get('msk')}")
        if r.get("dropped") != "0" or r.get("retransmits") != "0":
            raise Failure(f"counters: {r}")
        print("ok: EAP-MD5 accepted (EAP-Success), Framed-IP-Address, MSK = Recv-Key | Send-Key")

        # 2. the wrong password
        r = run_probe(good, "md5", "alice", "not-her-password")
        if r.get("result") != "reject" or r.get("eap_code") != "4" or r.get("msk") != "":
            raise Failure(f"EAP-MD5 with a wrong password: {r}")
        print("ok: a wrong password is rejected (Access-Reject with EAP-Failure)")

        # the EAP-Message of a long identity spans two attributes; radiusd joins them, matches
        # the identity against User-Name and the users file, and accepts
        r = run_probe(good, "md5", LONG_USER, "long-password")
        if r.get("result") != "accept" or r.get("eap_code") != "3":
            raise Failure(f"EAP-MD5 with a 250-byte identity: {r}")
        print("ok: a 255-byte EAP-Response/Identity in two EAP-Message attributes is accepted")

        # EAP-MSCHAPv2 (the probe's own peer: a Nak to MD5, Challenge/Response, Success): radiusd
        # derives MPPE keys from the exchange (RFC 3079); the MSK (Recv | Send) equals the keys
        # the probe derives from its side of the exchange, and a wrong password is rejected
        out = run([probe, "selftest"], timeout=20)
        if "selftest=ok" not in out:
            raise Failure(f"the probe's MSCHAPv2 against RFC 2759 §9.2: {out}")
        r = run_probe(good, "mschapv2", "bob", "bob-password")
        if r.get("result") != "accept" or r.get("eap_code") != "3" or r.get("rounds") != "4":
            raise Failure(f"EAP-MSCHAPv2 with the right password: {r}")
        if len(r.get("msk", "")) != 64 or r.get("msk") != r.get("msk_rfc3079"):
            raise Failure(f"EAP-MSCHAPv2 MSK is not RFC 3079's receive | send key: {r}")
        r = run_probe(good, "mschapv2", "bob", "not-his-password")
        if r.get("result") != "reject" or r.get("eap_code") != "4":
            raise Failure(f"EAP-MSCHAPv2 with a wrong password: {r}")
        print("ok: EAP-MSCHAPv2 accepted, MSK = MS-MPPE-Recv-Key | -Send-Key = RFC 3079's server "
              "receive | send key (32 bytes); a wrong password rejected")

        # over IPv6: NAS-IPv6-Address and the IPv6 socket
        r = run_probe(conf("v6", [("fr6", SERVER6, SECRET, 0)]), "md5", "alice", "alice-password",
                      nas=CLIENT6)
        if r.get("result") != "accept" or r.get("msk") != RECV_KEY + SEND_KEY:
            raise Failure(f"EAP-MD5 over IPv6: {r}")
        wait_until(lambda: f"NAS-IPv6-Address = {CLIENT6}" in radiusd_log(), 10,
                   "radiusd to log our NAS-IPv6-Address")
        print("ok: the same over IPv6 (NAS-IPv6-Address)")

        # 3. the wrong secret: radiusd discards the request; we retransmit and give up
        wrong = conf("wrong", [("fr", SERVER, "not-the-secret", 0)])
        r = run_probe(wrong, "md5", "alice", "alice-password")
        if r.get("result") != "error" or r.get("timeouts") != "1" or r.get("retransmits") != "2":
            raise Failure(f"a wrong shared secret: {r}")
        wait_until(lambda: "with invalid Message-Authenticator" in radiusd_log(), 10,
                   "radiusd to report the bad Message-Authenticator")
        print("ok: with a wrong secret radiusd drops the request; 2 retransmits, then a timeout")

        # 4. accounting Start and Stop, in radiusd's detail file
        r = run_probe(good, "acct", "sess-121", "alice")
        if r.get("start") != "ok" or r.get("interim") != "ok" or r.get("stop") != "ok":
            raise Failure(f"accounting: {r}")
        detail = f"{raddb}/radacct/detail"

        def records(session):
            if not os.path.exists(detail):
                return None
            with open(detail) as f:
                text = f.read()
            return [b for b in text.split("\n\n") if f'Acct-Session-Id = "{session}"' in b]
        recs = wait_until(lambda: (lambda x: x if x and len(x) >= 3 else None)(records("sess-121")), 10,
                          "Start, Interim-Update and Stop in radiusd's detail file")
        start, interim, stop = recs[0], recs[1], recs[2]
        for want in ("Acct-Status-Type = Interim-Update", "Acct-Input-Octets = 1000", "Acct-Session-Time = 21"):
            if want not in interim:
                raise Failure(f"the Interim-Update record lacks {want!r}:\n{interim}")
        for want in ("Acct-Status-Type = Start", 'User-Name = "alice"', "NAS-Port-Type = Virtual",
                     "Service-Type = Framed-User", f"NAS-IP-Address = {CLIENT}",
                     f'Called-Station-Id = "{CLIENT}[4500]"', "Framed-IP-Address = 10.99.121.77",
                     'NAS-Identifier = "ikeplex"'):
            if want not in start:
                raise Failure(f"the Start record lacks {want!r}:\n{start}")
        for want in ("Acct-Status-Type = Stop", "Acct-Input-Octets = 123456", "Acct-Output-Octets = 654321",
                     "Acct-Output-Gigawords = 2", "Acct-Input-Packets = 100", "Acct-Output-Packets = 200",
                     "Acct-Session-Time = 42", "Acct-Terminate-Cause = User-Request"):
            if want not in stop:
                raise Failure(f"the Stop record lacks {want!r}:\n{stop}")
        print("ok: Accounting Start, Interim-Update and Stop acknowledged and recorded in radiusd's detail file")

        # 5. failover: the silent server first (preference), retransmitted, then the working one
        fo = conf("failover", [("silent", SILENT, SECRET, 10), ("fr", SERVER, SECRET, 0)])
        r = run_probe(fo, "md5", "alice", "alice-password")
        if r.get("result") != "accept" or r.get("server") != "fr":
            raise Failure(f"failover: {r}")
        # round 1: 1 + 2 retransmits to the silent server, then 1 to fr; round 2 stays on fr
        if r.get("failovers") != "1" or r.get("retransmits") != "2" or r.get("sent") != "5":
            raise Failure(f"failover counters: {r}")
        print("ok: a silent first server gets the request and 2 retransmits, then the second "
              "server accepts (failovers=1, sent=5)")
        # accounting on its own retransmissions: Start to the silent server and 2 retransmits,
        # then to fr; Interim-Update and Stop straight to fr (the silent one is demoted)
        r = run_probe(fo, "acct", "sess-fo", "alice")
        if (r.get("start"), r.get("interim"), r.get("stop")) != ("ok", "ok", "ok") or \
                r.get("retransmits") != "2" or r.get("failovers") != "1" or r.get("sent") != "6":
            raise Failure(f"accounting failover: {r}")
        wait_until(lambda: (lambda x: x if x and len(x) >= 3 else None)(records("sess-fo")), 10,
                   "the failed-over accounting records in radiusd's detail file")
        print("ok: accounting fails over too (Start retransmitted twice, then recorded by the second server)")
        if not re.search(r"Sent Access-Accept", radiusd_log()):
            raise Failure("radiusd's log shows no Access-Accept")
    finally:
        if radiusd is not None and radiusd.poll() is None:
            radiusd.send_signal(signal.SIGTERM)
            try:
                radiusd.wait(timeout=10)
            except subprocess.TimeoutExpired:
                radiusd.kill()
                radiusd.wait(timeout=5)
        for ns in (ns_s, ns_c):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


if __name__ == "__main__":
    if not os.path.exists(RADIUSD):
        print("SKIP: radius needs Debian's freeradius (scripts/setup-deps.sh)")
        sys.exit(77)
    sys.exit(main_wrapper(test, "radius"))
