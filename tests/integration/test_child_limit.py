#!/usr/bin/env python3
"""max_child_sas between two ikeplexd in a namespace pair (issue 18): the initiator (its own limit
raised to 5,000) asks for 3,000 more Child SAs on one IKE SA through VICI `initiate` (each repeated
initiate of an existing child on an established IKE SA makes another one); the responder, at the
default limit of 1,024, answers the rest with NO_ADDITIONAL_SAS, counts them (`ikeplex stats`), and
keeps the IKE SA. Its listing — `ikeplex list-sas`, `--json` and Debian's `swanctl --list-sas` —
still shows the IKE SA: with eight selectors a side, 1,024 Child SAs no longer fit one VICI message,
so it comes truncated with its marker ("... N more Child SAs not listed")."""
import json
import os
import re
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from lib import (Failure, Ikeplexd, Namespaces, children, ike_sas, main_wrapper, recv_exact, run,  # noqa: E402
                 swanctl_conf, wait_until)

REQUESTS = 3000   # CREATE_CHILD_SA requests after IKE_AUTH's Child SA
LIMIT = 1024      # the responder's max_child_sas (the default)
# Eight selectors a side make each Child SA's listing long enough (~600 bytes) that 1,024 exceed
# a VICI frame (512 KiB).
TS_A = ",".join(f"10.99.{n}.0/24" for n in range(1, 17, 2))
TS_B = ",".join(f"10.99.{n}.0/24" for n in range(2, 17, 2))


def vici_packet(command, values):
    """A VICI CMD_REQUEST frame: `command` with key/value pairs (strongSwan's vici README)."""
    msg = b"".join(bytes([3, len(k)]) + k.encode() + struct.pack(">H", len(v)) + v.encode()
                   for k, v in values.items())
    body = bytes([0, len(command)]) + command.encode() + msg
    return struct.pack(">I", len(body)) + body


def read_frame(sock):
    return recv_exact(sock, struct.unpack(">I", recv_exact(sock, 4))[0])


def initiate_many(vici_path, n, batch=100):
    """`n` VICI initiate requests for child net that do not wait (timeout -1), pipelined in
    batches; returns how many were answered success = yes."""
    ok = 0
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect(vici_path)
        sent = 0
        while sent < n:
            k = min(batch, n - sent)
            s.sendall(vici_packet("initiate", {"child": "net", "timeout": "-1"}) * k)
            answered = 0
            while answered < k:
                frame = read_frame(s)
                if frame[0] == 1:  # CMD_RESPONSE (events such as control-log are skipped)
                    answered += 1
                    ok += b"\x07success\x00\x03yes" in frame
            sent += k
    return ok


def stats(d):
    return json.loads(d.cli("stats", "--json"))


def only_sa(d):
    sas = ike_sas(d.sas())
    if len(sas) != 1:
        raise Failure(f"expected one IKE SA, listing has {len(sas)}")
    return sas[0][1]


def test(build, folder):
    conf_a = swanctl_conf("10.99.0.1", "10.99.0.2", "a.test", "b.test", TS_A, TS_B)
    conf_b = swanctl_conf("10.99.0.2", "10.99.0.1", "b.test", "a.test", TS_B, TS_A)
    client_conf = f"{folder}/swanctl-client.conf"
    with open(client_conf, "w") as f:
        f.write("swanctl { load = pem pkcs1 pkcs8 x509 pubkey openssl random nonce }\n")
    with Namespaces() as ns:
        a = b = None
        try:
            b = Ikeplexd(build, ns.b, f"{folder}/b", conf_b, window=16)
            a = Ikeplexd(build, ns.a, f"{folder}/a", conf_a, window=16, extra="max_child_sas = 5000")
            out = a.cli("initiate", "--child", "net")
            assert "initiate completed successfully" in out, out
            wait_until(lambda: len(children(only_sa(b))) == 1, 15, "the IKE SA and its first Child SA")

            started = time.time()
            accepted = initiate_many(a.vici, REQUESTS)
            assert accepted == REQUESTS, f"only {accepted} of {REQUESTS} initiates accepted"
            excess = 1 + REQUESTS - LIMIT
            refused = lambda: int(stats(b)["ikesas"]["child-sas-refused"])  # noqa: E731
            wait_until(lambda: refused() >= excess, 60, f"{excess} NO_ADDITIONAL_SAS answers")
            took = time.time() - started
            # The initiator has nothing left to send: its Child SAs are the 1,024 granted.
            fa = wait_until(lambda: (lambda f: f if int(f.get("child-sas-total", len(children(f)))) == LIMIT
                                     else None)(only_sa(a)), 30, "the initiator to settle")
            assert refused() == excess, f"refused {refused()}, expected exactly {excess}"
            print(f"{REQUESTS} CREATE_CHILD_SA requests in {took:.1f} s: {LIMIT} Child SAs, "
                  f"{excess} refused with NO_ADDITIONAL_SAS")
            assert int(stats(a)["ikesas"]["child-sas-refused"]) == 0
            log_a = open(f"{folder}/a/ikeplexd.log", errors="replace").read()
            assert log_a.count("peer answered NO_ADDITIONAL_SAS") == REQUESTS + 1 - LIMIT, \
                "the initiator did not fail each refused Child SA exactly once"
            log_b = open(f"{folder}/b/ikeplexd.log", errors="replace").read()
            logged = log_b.count("refused with NO_ADDITIONAL_SAS")
            assert 0 < logged < excess, f"{logged} refusal lines for {excess} refusals: not rate-limited"
            # A burst says so when it starts being suppressed; a later line says how many were.
            assert "further similar lines suppressed" in log_b or "similar suppressed)" in log_b

            # The IKE SA stays up, listed with its Child SAs, truncated with the marker.
            for d, f in ((b, only_sa(b)), (a, fa)):
                assert f["state"] == "ESTABLISHED", f["state"]
                listed = len(children(f))
                assert f.get("child-sas-truncated") == "yes", f"not truncated at {listed} Child SAs"
                assert int(f["child-sas-total"]) == LIMIT, f["child-sas-total"]
                assert 500 < listed < LIMIT, listed
                table = d.cli("list-sas")
                assert table.startswith("t: #"), table[:200]
                more = f"... {LIMIT - listed} more Child SAs not listed ({listed} of {LIMIT}"
                assert more in table, table[-400:]
            print(f"list-sas: IKE SA listed with {listed} of {LIMIT} Child SAs and the marker")
            assert "Child SAs refused (max_child_sas, NO_ADDITIONAL_SAS): " + str(excess) in b.cli("stats")

            # Debian's swanctl 5.9.8 prints the truncated event like any other.
            env = dict(os.environ, STRONGSWAN_CONF=client_conf)
            r = subprocess.run(["swanctl", "--list-sas", "--uri", f"unix://{b.vici}"], capture_output=True,
                               text=True, timeout=30, env=env)
            assert r.returncode == 0, f"swanctl --list-sas failed ({r.returncode}): {r.stderr}"
            assert re.search(r"^t: #\d+, ESTABLISHED, IKEv2", r.stdout, re.M), r.stdout[:400]
            shown = len(re.findall(r"^  net: #\d+, reqid \d+, INSTALLED", r.stdout, re.M))
            assert shown == len(children(only_sa(b))), f"swanctl shows {shown} Child SAs"
            print(f"swanctl --list-sas: the IKE SA and {shown} Child SAs")

            # A rekey at the limit still goes through on the responder's side.
            victim = children(only_sa(b))[0]["uniqueid"]
            b.cli("rekey", "--child-id", victim)
            wait_until(lambda: all(c["uniqueid"] != victim for c in children(only_sa(b))) and
                       int(only_sa(b)["child-sas-total"]) == LIMIT, 15, "the rekey at the limit")
            assert refused() == excess
            print("a Child SA rekeyed at the limit")
        finally:
            for d in (a, b):
                if d is not None:
                    d.close()


if __name__ == "__main__":
    sys.exit(main_wrapper(test, "child-limit"))
