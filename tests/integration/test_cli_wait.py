#!/usr/bin/env python3
"""`ikeplex initiate` and `rekey` wait for the daemon's outcome (issue 19), two ikeplexd in a
namespace pair, short retransmissions (one exchange gives up 3.5 s after its first try),
keyingtries = 3, retries after 1 s and 2 s (plus up to half of that):

1. B is down: `ikeplex initiate` (default timeout: the daemon's, which covers the three attempts
   and their back-off) streams each retry ("attempt 1 failed, next attempt in ...") and fails
   with rc 1 after the third attempt ("giving up after 3 attempts"); meanwhile `ikeplex list-sas`
   (and --json) shows the connection waiting to retry, and a VICI client registered for ike-heal
   sees the retry and give-up events.
2. `--timeout 0`: B starts while A waits to retry; initiate follows the retry to success.
3. `ikeplex rekey --child net` and `--ike t` succeed once the rekey is done; with B killed, a rekey
   fails (rc 1) with the reason once the retransmissions give up.
Every wait polls with a deadline; about 30 s."""
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from lib import Failure, Ikeplexd, Namespaces, recv_exact, side_conf, main_wrapper, wait_until  # noqa: E402

SETTINGS = "retransmit_timeout = 0.5\n    retransmit_tries = 2\n    retransmit_base = 2\n" \
           "    restart_delay = 1\n    restart_delay_max = 2"
CONN = "keyingtries = 3"


def vici_events(path, name):
    """A VICI client registered for event `name`; returns its socket."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    body = bytes([3, len(name)]) + name.encode()  # EVENT_REGISTER
    s.sendall(struct.pack(">I", len(body)) + body)
    length = struct.unpack(">I", recv_exact(s, 4))[0]
    if recv_exact(s, length)[0] != 5:  # EVENT_CONFIRM
        raise Failure(f"VICI: {name} not confirmed")
    return s


def read_events(s, until):
    """Key/values of the events received on `s` until `until` (seconds since the epoch)."""
    out = []
    s.settimeout(0.2)
    while time.time() < until:
        try:
            length = struct.unpack(">I", recv_exact(s, 4))[0]
        except (socket.timeout, TimeoutError):
            continue
        pkt = recv_exact(s, length)
        if pkt[0] != 7:  # EVENT
            continue
        pos = 2 + pkt[1]
        kv = {}
        while pos < len(pkt):
            t = pkt[pos]
            if t == 3:  # KEY_VALUE
                klen = pkt[pos + 1]
                key = pkt[pos + 2:pos + 2 + klen].decode()
                vlen = struct.unpack(">H", pkt[pos + 2 + klen:pos + 4 + klen])[0]
                kv[key] = pkt[pos + 4 + klen:pos + 4 + klen + vlen].decode()
                pos += 4 + klen + vlen
            elif t in (1, 4):  # SECTION_START, LIST_START
                pos += 2 + pkt[pos + 1]
            elif t == 5:  # LIST_ITEM
                pos += 3 + struct.unpack(">H", pkt[pos + 1:pos + 3])[0]
            else:
                pos += 1
        out.append(kv)
        if kv.get("action") == "give-up":
            break
    return out


def cli_async(d, *args):
    return subprocess.Popen([f"{d.build}/apps/ikeplex", "--uri", f"unix://{d.vici}", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test(build, folder):
    with Namespaces() as ns:
        a = b = None
        try:
            a = Ikeplexd(build, ns.a, f"{folder}/a", side_conf("a", conn_extra=CONN), extra=SETTINGS)
            heal = vici_events(a.vici, "ike-heal")

            # 1. Nobody answers: three attempts, then the answer.
            t0 = time.time()
            p = cli_async(a, "initiate", "--child", "net")
            waiting = wait_until(lambda: (lambda t: t if "t: waiting to retry (attempt 1 failed, next in" in t
                                          else None)(a.cli("list-sas")), 10, "list-sas: waiting to retry")
            listing = json.loads(a.cli("list-sas", "--json"))
            entry = next(e["t"] for e in listing if "t" in e)
            assert entry["state"] == "WAITING" and entry["attempt"] == "1" and entry["children"] == ["net"], listing
            assert float(entry["next-attempt-in"]) <= 1.5, entry
            print(f"list-sas while waiting: {waiting.strip()}")
            out, _ = p.communicate(timeout=40)
            took = time.time() - t0
            assert p.returncode == 1, (p.returncode, out)
            for line in ("t: attempt 1 failed, next attempt in", "t: attempt 2 failed, next attempt in",
                         "initiate failed:", "giving up after 3 attempts"):
                assert line in out, f"{line!r} not in:\n{out}"
            assert "sending packet" in out or "IKE_SA_INIT" in out, out  # the attempts' own log lines
            assert 3 * 3.5 <= took <= 3 * 3.5 + 4.5 + 8, took
            print(f"initiate against a peer that is down: rc 1 after {took:.1f} s, retries streamed")
            events = read_events(heal, time.time() + 5)
            actions = [(e.get("action"), e.get("attempt")) for e in events]
            assert actions == [("retry", "1"), ("retry", "2"), ("give-up", "3")], events
            assert all(e.get("conn") == "t" for e in events) and float(events[0]["next-attempt-in"]) >= 1, events
            heal.close()
            assert "waiting" not in a.cli("list-sas")
            print(f"VICI ike-heal events: {actions}")

            # 2. --timeout 0: B comes up while A waits for its second attempt.
            p = cli_async(a, "initiate", "--child", "net", "--timeout", "0")
            wait_until(lambda: "waiting to retry" in a.cli("list-sas"), 10, "the first retry")
            b = Ikeplexd(build, ns.b, f"{folder}/b", side_conf("b", conn_extra=CONN), extra=SETTINGS)
            out, _ = p.communicate(timeout=30)
            assert p.returncode == 0 and "initiate completed successfully" in out, out
            assert "t: attempt 1 failed" in out, out
            print("initiate --timeout 0 followed the retry to success")

            # 3. Rekeys wait for their outcome.
            out = a.cli("rekey", "--child", "net")
            assert "rekey completed successfully (1 SA(s))" in out, out
            out = a.cli("rekey", "--ike", "t")
            assert "rekey completed successfully (1 SA(s))" in out, out
            print("rekey --child and --ike: completed")
            b.proc.send_signal(signal.SIGKILL)
            b.proc.wait(timeout=10)
            t0 = time.time()
            r = subprocess.run([f"{build}/apps/ikeplex", "--uri", f"unix://{a.vici}", "rekey", "--child", "net"],
                               capture_output=True, text=True, timeout=30)
            took = time.time() - t0
            assert r.returncode == 1, (r.returncode, r.stdout)
            assert "rekey failed:" in r.stdout and "went away before" in r.stdout, r.stdout
            assert 3 <= took <= 10, took
            print(f"rekey with the peer gone: rc 1 after {took:.1f} s: {r.stdout.strip().splitlines()[-1]}")
        finally:
            for d in (a, b):
                if d is not None:
                    d.close()


if __name__ == "__main__":
    sys.exit(main_wrapper(test, "cli_wait"))
