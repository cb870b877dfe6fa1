#!/usr/bin/env python3
"""Bad input against a running ikeplexd: broken configuration files (refused with
`file:line: message`, nothing started), garbage and oversized frames on the VICI socket (the
client is dropped, others are served), and a flood of IKE_SA_INIT requests from many spoofed
SPIs (COOKIEs and the half-open limit; the daemon keeps answering VICI and a real peer still
gets its IKE SA)."""
import json
import os
import random
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from lib import Failure, Ikeplexd, Namespaces, ike_sas, main_wrapper, run, side_conf, wait_until  # noqa: E402


def bad_configs(build, folder):
    cases = {
        "unknown key": ("ikeplexd {\n    vici = unix:///tmp/x.vici\n    frobnicate = 1\n}\n",
                        "ikeplexd.conf:3: ikeplexd.frobnicate: unknown key"),
        "syntax": ("ikeplexd {\n    workers = 2\n", "ikeplexd.conf:1: unterminated section 'ikeplexd'"),
        "bad value": ("ikeplexd {\n    retransmit_tries = lots\n}\n", "ikeplexd.conf:2: ikeplexd.retransmit_tries"),
    }
    for name, (text, expected) in cases.items():
        path = f"{folder}/{name.replace(' ', '-')}/ikeplexd.conf"
        os.makedirs(os.path.dirname(path))
        with open(path, "w") as f:
            f.write(text)
        r = subprocess.run([f"{build}/apps/ikeplexd", "-c", path], capture_output=True, text=True, timeout=30)
        assert r.returncode != 0, f"{name}: ikeplexd started with a bad file"
        assert path.replace("ikeplexd.conf", "") + expected.split(":", 1)[0] in r.stderr or expected in r.stderr, \
            f"{name}: expected '{expected}' in: {r.stderr}"
    print("bad ikeplexd.conf files: refused with file:line messages")


def vici_garbage(ours):
    def attempt(payload):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect(ours.vici)
        s.sendall(payload)
        try:
            data = s.recv(100)  # the daemon closes the connection (b"") or answers CMD_UNKNOWN
        except socket.timeout:
            data = None
        s.close()
        return data

    # A frame claiming 1 MiB (over the 512 KiB limit): dropped at once.
    assert attempt(struct.pack(">I", 1 << 20) + b"x" * 100) == b"", "oversized frame not dropped"
    # A packet with an unknown type, then a truncated message.
    assert attempt(struct.pack(">I", 1) + b"\x09") == b""
    assert attempt(struct.pack(">I", 12) + b"\x00\x05stats\x03\x05abc") == b""
    # Random bytes.
    rnd = random.Random(7)
    for _ in range(20):
        junk = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 300)))
        attempt(struct.pack(">I", len(junk)) + junk)
    out = ours.cli("stats")
    assert "IKE SAs:" in out, out
    print("VICI garbage: bad clients dropped, the daemon still answers")


def ike_sa_init(spi):
    """A well-formed IKE_SA_INIT request (AES-GCM-256, PRF-SHA256, X25519) from SPI `spi`."""
    def transform(ttype, tid, keylen=None):
        attrs = struct.pack(">HH", 0x800E, keylen) if keylen else b""
        return (ttype, tid, attrs)
    transforms = [transform(1, 20, 256), transform(2, 5), transform(4, 31)]
    body = b""
    for i, (ttype, tid, attrs) in enumerate(transforms):
        last = 0 if i == len(transforms) - 1 else 3
        body += struct.pack(">BBHBBH", last, 0, 8 + len(attrs), ttype, 0, tid) + attrs
    proposal = struct.pack(">BBHBBBB", 0, 0, 8 + len(body), 1, 1, 0, len(transforms)) + body
    sa = struct.pack(">BBH", 34, 0, 4 + len(proposal)) + proposal                 # next: KE
    ke_data = os.urandom(32)
    ke = struct.pack(">BBHHH", 40, 0, 8 + 32, 31, 0) + ke_data                    # next: Nonce
    nonce = struct.pack(">BBH", 0, 0, 4 + 32) + os.urandom(32)
    payloads = sa + ke + nonce
    header = struct.pack(">QQBBBBII", spi, 0, 33, 0x20, 34, 0x08, 0, 28 + len(payloads))
    return header + payloads


def flood(ns, ours, folder, build, n=3000):
    # From b's namespace, at a's port 500, as fast as Python goes.
    script = f"""
import os, socket, struct, sys
sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})
from test_robustness import ike_sa_init
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.99.0.2", 0))
import time
for i in range({n}):
    s.sendto(ike_sa_init(int.from_bytes(os.urandom(8), "big") | 1), ("10.99.0.1", 500))
    if i % 500 == 499:
        time.sleep(0.02)
"""
    start = time.time()
    run(["ip", "netns", "exec", ns.b, sys.executable, "-c", script], timeout=120)
    sent_for = time.time() - start
    # Most of it gets through the socket buffer (the kernel may drop some of a burst).
    counters = wait_until(lambda: (lambda c: c if int(c["ike-init-in-req"]) >= n // 2 else None)(
        json.loads(ours.cli("counters", "--json"))), 60, "the daemon to read the flood")
    time.sleep(1)
    counters = json.loads(ours.cli("counters", "--json"))
    # 10 half-open SAs were allowed, then COOKIEs (the spoofed initiators never return them).
    assert int(counters["ike-cookies-sent"]) >= int(counters["ike-init-in-req"]) - 10, counters
    stats = ours.cli("stats")
    assert "IKE SAs:" in stats, stats
    print(f"IKE_SA_INIT flood: {n} requests sent in {sent_for:.1f} s; {counters['ike-init-in-req']} read, "
          f"{counters['ike-cookies-sent']} answered with a COOKIE; the daemon still answers VICI")


def test(build, folder):
    bad_configs(build, f"{folder}/bad")
    with Namespaces() as ns:
        ours = peer = None
        try:
            ours = Ikeplexd(build, ns.a, f"{folder}/ours", side_conf("a"),
                            extra="cookie_threshold = 10\n    block_threshold = 100\n    half_open_timeout = 5")
            vici_garbage(ours)
            flood(ns, ours, folder, build)
            # The half-open SAs the flood made time out; a real peer gets through meanwhile
            # (it answers our COOKIE).
            peer = Ikeplexd(build, ns.b, f"{folder}/peer", side_conf("b"))
            out = peer.cli("initiate", "--child", "net", timeout=60)
            assert "completed successfully" in out, out
            wait_until(lambda: len(ike_sas(ours.sas())) >= 1, 20, "the real peer's IKE SA")
            counters = run([f"{build}/apps/ikeplex", "--uri", f"unix://{ours.vici}", "list-sas"], timeout=30)
            print("a real peer established its IKE SA after the flood")
            wait_until(lambda: len(ike_sas(ours.sas())) == 1, 30, "the flood's half-open SAs to time out")
            print("the flood's half-open SAs timed out; one IKE SA left")
        finally:
            for d in (ours, peer):
                if d is not None:
                    d.close()


if __name__ == "__main__":
    sys.exit(main_wrapper(test, "robustness"))
