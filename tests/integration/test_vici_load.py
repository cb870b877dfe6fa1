#!/usr/bin/env python3
"""The VICI server under hostile load (issue 18), against a real ikeplexd:

(a) out of descriptors: ikeplexd runs with RLIMIT_NOFILE = 128 and vici_max_clients above it;
    300 clients connect, so accept() fails with EMFILE (the daemon logs it). Once they leave,
    the daemon accepts again by itself: `ikeplex stats` answers within a deadline, and the
    failures are counted (vici-accept-errors).
(b) a client that pipelines 5,000 `list-conns` requests (40 connections loaded: about 100 MB
    of answers if all were queued) and never reads, and a `log` subscriber that never reads
    while another client drives a stream of log lines (each VICI request logs one at vci = 2):
    the daemon's RSS stays within RSS_BOUND_MB of what it was before, `ikeplex stats` answers
    throughout (each within CLI_DEADLINE s), the pipelining client is held back (vici-throttled)
    and the subscriber's events are dropped and counted (vici-events-dropped).

The daemon is the ASan build: freed memory waits in ASan's quarantine (256 MB by default) before
reuse, which would make RSS follow churn rather than what the daemon holds; the daemon runs with
a 4 MB quarantine.
"""
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from lib import Failure, Ikeplexd, Namespaces, main_wrapper, run, wait_until  # noqa: E402
from lib import recv_exact as lib_recv_exact  # noqa: E402

NOFILE = 128
CLIENTS = 300
CONNS = 40
PIPELINED = 5000
RSS_BOUND_MB = 50
CLI_DEADLINE = 5
FLOOD_SECONDS = 8


def many_conns(n):
    """A swanctl.conf with `n` connections (for large list-conns answers)."""
    blocks = []
    for i in range(n):
        blocks.append(f"""    t{i} {{
        version = 2
        local_addrs = 10.99.0.1
        remote_addrs = 10.99.{100 + i // 200}.{i % 200 + 1}
        proposals = aes256gcm16-prfsha256-x25519
        local {{
            auth = psk
            id = a{i}.test
        }}
        remote {{
            auth = psk
            id = b{i}.test
        }}
        children {{
            net {{
                local_ts = 10.99.1.0/24
                remote_ts = 10.98.{i}.0/24
                esp_proposals = aes128gcm16
            }}
        }}
    }}""")
    return "connections {\n" + "\n".join(blocks) + "\n}\n"


def packet(ptype, name=b""):
    body = bytes([ptype]) + (bytes([len(name)]) + name if name else b"")
    return struct.pack(">I", len(body)) + body


CMD_REQUEST, EVENT_REGISTER, EVENT_CONFIRM = 0, 3, 5


def connect(path, timeout=5):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise Failure(f"no VmRSS for {pid}")


def stats_within(ours, deadline):
    """`ikeplex stats`, which must answer within `deadline` seconds; its output."""
    start = time.time()
    try:
        out = ours.cli("stats", timeout=deadline)
    except subprocess.TimeoutExpired:
        raise Failure(f"ikeplex stats did not answer within {deadline} s")
    assert "IKE SAs:" in out, out
    return time.time() - start


def counters(ours):
    return json.loads(ours.cli("counters", "--json", timeout=CLI_DEADLINE))


def emfile(ours):
    # Served before: this also takes the daemon once through a client's whole life (connect,
    # command, hang-up). UBSan checks a virtual call the first time it sees its types by reading
    # memory through a pipe; with no descriptor left it would report a false "invalid vptr".
    stats_within(ours, CLI_DEADLINE)
    clients = []
    try:
        for _ in range(CLIENTS):
            clients.append(connect(ours.vici))  # the backlog takes them even when accept fails
        wait_until(lambda: "vici: accept failed" in open(f"{ours.dir}/ikeplexd.log").read(), 20,
                   "ikeplexd to log a failed accept (EMFILE)")
    finally:
        for s in clients:
            s.close()
    start = time.time()

    def answers():
        try:
            return "IKE SAs:" in ours.cli("stats", timeout=3)
        except subprocess.TimeoutExpired:
            return False
    wait_until(answers, 20, "ikeplex stats to answer after the clients left")
    c = counters(ours)
    assert int(c["vici-accept-errors"]) >= 1, c
    print(f"EMFILE: {CLIENTS} clients against {NOFILE} descriptors; {c['vici-accept-errors']} failed accepts, "
          f"answering again {time.time() - start:.1f} s after they left")


def flood(ours, stop, errors):
    """Requests from a well-behaved client, as fast as it goes: each logs a line."""
    try:
        s = connect(ours.vici)
        req = packet(CMD_REQUEST, b"version")
        while not stop.is_set():
            s.sendall(req)
            length = struct.unpack(">I", recv_exact(s, 4))[0]
            recv_exact(s, length)
        s.close()
    except Exception as e:  # noqa: BLE001 (reported by the main thread)
        errors.append(e)


def recv_exact(s, n):
    return lib_recv_exact(s, n, "the daemon closed a well-behaved client")


def hostile_clients(ours):
    pid = ours.proc.pid
    ours.cli("list-conns", timeout=CLI_DEADLINE)  # warm up what a listing allocates
    base = rss_mb(pid)
    # The stalled subscriber: registers for log, reads the confirmation, then nothing.
    sub = connect(ours.vici)
    sub.sendall(packet(EVENT_REGISTER, b"log"))
    confirm = recv_exact(sub, 5)
    assert confirm[4] == EVENT_CONFIRM, confirm
    # The pipelining client: 5,000 requests in one go (100 KB: the socket takes them), no reads.
    pipe = connect(ours.vici)
    pipe.setblocking(False)
    data = packet(CMD_REQUEST, b"list-conns") * PIPELINED
    sent = 0
    deadline = time.time() + 10
    while sent < len(data) and time.time() < deadline:
        try:
            sent += pipe.send(data[sent:])
        except BlockingIOError:
            time.sleep(0.05)  # the daemon holds us back: it reads only what it may answer
    stop, errors = threading.Event(), []
    driver = threading.Thread(target=flood, args=(ours, stop, errors))
    driver.start()
    peak, slowest = base, 0.0
    try:
        end = time.time() + FLOOD_SECONDS
        while time.time() < end:
            slowest = max(slowest, stats_within(ours, CLI_DEADLINE))
            peak = max(peak, rss_mb(pid))
            assert peak <= base + RSS_BOUND_MB, f"RSS {peak:.0f} MB, over {base:.0f} + {RSS_BOUND_MB} MB"
            time.sleep(0.2)  # pacing of the samples, not a wait for readiness
    finally:
        stop.set()
        driver.join(timeout=30)
    if errors:
        raise Failure(f"the well-behaved client failed: {errors[0]}")
    c = counters(ours)
    assert int(c["vici-throttled"]) >= 1, c
    assert int(c["vici-events-dropped"]) >= 1, c
    pipe.close()
    sub.close()
    wait_until(lambda: int(counters(ours)["vici-clients"]) == 1, 20, "the hostile clients to be gone")
    after = rss_mb(pid)
    assert after <= base + RSS_BOUND_MB, f"RSS after they left {after:.0f} MB, over {base:.0f} + {RSS_BOUND_MB} MB"
    print(f"pipelining ({sent // len(packet(CMD_REQUEST, b'list-conns'))} of {PIPELINED} requests written) and a "
          f"stalled log subscriber: RSS {base:.0f} MB -> peak {peak:.0f} MB (bound +{RSS_BOUND_MB}), "
          f"{after:.0f} MB after they left; stats answered within {slowest:.2f} s; "
          f"{c['vici-events-dropped']} events dropped, throttled {c['vici-throttled']} times, "
          f"{c['vici-requests']} requests served")


def test(build, folder):
    with Namespaces() as ns:
        ours = None
        try:
            asan = os.environ.get("ASAN_OPTIONS", "")
            ours = Ikeplexd(build, ns.a, f"{folder}/ours", many_conns(CONNS),
                            extra="vici_max_clients = 1024", nofile=NOFILE,
                            log_levels={"default": 1, "vci": 2},
                            env={"ASAN_OPTIONS": f"{asan}:quarantine_size_mb=4".lstrip(":")})
            emfile(ours)
            hostile_clients(ours)
        finally:
            if ours is not None:
                ours.close()


if __name__ == "__main__":
    sys.exit(main_wrapper(test, "vici_load"))
