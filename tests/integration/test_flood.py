#!/usr/bin/env python3
"""Hostile load on ikeplexd (issue 18), with ikeplex-flood in namespace B and the responder in A.

1. A real address (10.99.0.3) sends IKE_SA_INIT at 1,500/s for 30 s and echoes every COOKIE.
   Meanwhile Debian's charon and another ikeplexd (10.99.0.2) each set up their IKE SA within
   2 s and within 3x their set-up time without the flood (medians of three, measured in this
   test); the flooder's half-open SAs stay at block_threshold (5).
2. Spoofed sources (10.99.128.0/17, a raw socket; no default route anywhere) flood IKE_SA_INIT
   as fast as the flooder goes for 30 s: the responder writes at most 50 log lines per second on
   average, its RSS grows by at most 20 MB, and a legitimate peer establishes meanwhile.

The responder runs with its default DoS settings and log levels. Every wait polls with a
deadline."""
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from lib import (Charon, Failure, Ikeplexd, Namespaces, ike_sas, main_wrapper, run, side_conf,  # noqa: E402
                 swanctl_conf, wait_until)

FLOOD_S = 30
FLOODER = "10.99.0.3"
SPOOFED = "10.99.128.0/17"
BLOCK_THRESHOLD = 5  # ikeplexd's default, as charon's
ROUNDS = 3
IKE = "aes256gcm16-prfsha256-x25519"  # swanctl_conf's default: the flood's requests match


def counters(d):
    return json.loads(d.cli("counters", "--json"))


def half_open(d):
    return int(json.loads(d.cli("stats", "--json"))["ikesas"]["half-open"])


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def log_lines(d):
    with open(f"{d.dir}/ikeplexd.log", errors="replace") as f:
        return sum(1 for _ in f)


class Flood:
    """ikeplex-flood in the background; its `flood key=value` line once it ends."""

    def __init__(self, build, ns, args):
        self.proc = subprocess.Popen(["ip", "netns", "exec", ns, f"{build}/apps/ikeplex-flood", "--target",
                                      "10.99.0.1", "--duration", str(FLOOD_S), "--ike", IKE, *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.started = time.time()

    def running(self):
        return self.proc.poll() is None

    def result(self):
        out, _ = self.proc.communicate(timeout=FLOOD_S + 30)
        if self.proc.returncode != 0:
            raise Failure(f"ikeplex-flood failed: {out}")
        line = next((l for l in out.splitlines() if l.startswith("flood ")), None)
        if line is None:
            raise Failure(f"ikeplex-flood printed no result: {out}")
        print(line)
        return dict(kv.split("=", 1) for kv in line.split()[1:])

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def gone(responder):
    """Waits until the responder holds no IKE SA of the legitimate peer (10.99.0.2; the
    flooder's half-open ones stay)."""
    wait_until(lambda: all(f.get("remote-host") != "10.99.0.2" for _, f in ike_sas(responder.sas())), 20,
               "the responder to forget the legitimate peer's IKE SA")


def setup_ikeplexd(peer, responder):
    start = time.time()
    out = peer.cli("initiate", "--child", "net", timeout=30)
    took = time.time() - start
    if "completed successfully" not in out:
        raise Failure(f"ikeplexd: initiate failed: {out}")
    peer.cli("terminate", "--ike", "t", timeout=30)
    gone(responder)
    return took


def setup_charon(peer, responder):
    start = time.time()
    peer.initiate("net", timeout=30)
    took = time.time() - start
    peer.swanctl("--terminate", "--ike", "t", timeout=30)
    gone(responder)
    return took


def median_setup(how, peer, responder):
    return statistics.median(how(peer, responder) for _ in range(ROUNDS))


def check_setup(name, quiet, flooded):
    print(f"{name}: set-up {quiet * 1000:.0f} ms without the flood, {flooded * 1000:.0f} ms during it "
          f"(x{flooded / quiet:.2f})")
    if flooded > 2.0 or flooded > 3 * quiet:
        raise Failure(f"{name}: set-up took {flooded:.3f} s during the flood, {quiet:.3f} s without "
                      "(limits: 2 s and 3x)")


def cookie_echo_flood(build, ns, folder, responder):
    # Set-up times without the flood: ikeplexd first, then charon (both are "b" at 10.99.0.2).
    peer = Ikeplexd(build, ns.b, f"{folder}/peer", side_conf("b"))
    try:
        quiet_ours = median_setup(setup_ikeplexd, peer, responder)
    finally:
        peer.close()
    charon = Charon(ns.b, f"{folder}/charon", side_conf("b"))
    try:
        quiet_charon = median_setup(setup_charon, charon, responder)
        before = counters(responder)
        flood = Flood(build, ns.b, ["--mode", "cookie-echo", "--rate", "1500", "--source", FLOODER])
        most = [0]
        watching = threading.Event()

        def watch():
            while not watching.is_set() and flood.running():
                most[0] = max(most[0], half_open(responder))
                time.sleep(0.2)
        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            # Let the flood reach its steady state: its half-open SAs at the limit.
            wait_until(lambda: int(counters(responder)["ike-init-blocked"]) > int(before["ike-init-blocked"]),
                       10, "the flooder to be blocked")
            flooded_charon = median_setup(setup_charon, charon, responder)
        finally:
            charon.close()
        peer = Ikeplexd(build, ns.b, f"{folder}/peer2", side_conf("b"))
        try:
            flooded_ours = median_setup(setup_ikeplexd, peer, responder)
        finally:
            peer.close()
        if not flood.running():
            raise Failure("the flood ended before the measurements did")
        result = flood.result()
        watching.set()
        watcher.join(timeout=10)
    finally:
        charon.close()
    after = counters(responder)
    check_setup("charon", quiet_charon, flooded_charon)
    check_setup("ikeplexd", quiet_ours, flooded_ours)
    sent, half_opened = int(result["sent"]), int(result["half_open"])
    blocked = int(after["ike-init-blocked"]) - int(before["ike-init-blocked"])
    print(f"flooder: {sent} new IKE_SA_INITs, {result['echoed']} echoed COOKIEs, {half_opened} half-open SAs "
          f"granted, {blocked} ignored (block_threshold); most half-open SAs seen: {most[0]}")
    if sent < 1500 * FLOOD_S * 0.9:
        raise Failure(f"the flooder sent only {sent} requests")
    # Half-open SAs time out after 30 s: the flooder gets block_threshold of them per timeout.
    if half_opened > 2 * BLOCK_THRESHOLD:
        raise Failure(f"the flooder got {half_opened} half-open SAs")
    if most[0] > BLOCK_THRESHOLD + 1:  # + a legitimate peer's, while it sets up
        raise Failure(f"{most[0]} half-open SAs during the flood")
    if blocked < sent // 2:
        raise Failure(f"only {blocked} of the flooder's {sent} requests were ignored")


def spoofed_flood(build, ns, folder, responder):
    run(["ip", "-n", ns.a, "route", "add", SPOOFED, "via", "10.99.0.2"])  # answers go back to B
    start_rss, start_lines = rss_kb(responder.proc.pid), log_lines(responder)
    before = counters(responder)
    flood = Flood(build, ns.b, ["--mode", "init", "--rate", "0", "--spoof", SPOOFED])
    most_rss = start_rss
    peer = None
    try:
        wait_until(lambda: int(counters(responder)["ike-cookies-sent"]) > int(before["ike-cookies-sent"]) + 1000,
                   10, "the responder to answer the flood with COOKIEs")
        # A legitimate peer on a lossy path: the flood fills the responder's socket and the
        # veth queues, and the kernel drops whatever does not fit, whoever sent it (on a loaded
        # 2-core machine most of it). So the peer retransmits every 0.2 s, for up to 20 s per
        # exchange, as a peer configured for a lossy link would.
        peer = Ikeplexd(build, ns.b, f"{folder}/legit", side_conf("b"),
                        extra="retransmit_tries = 100\n    retransmit_timeout = 0.2\n    retransmit_base = 1.0")
        started = time.time()
        try:
            out = peer.cli("initiate", "--child", "net", timeout=FLOOD_S, check=False)
        except subprocess.TimeoutExpired:
            out = f"no answer within {FLOOD_S} s"
        took = time.time() - started
        if "completed successfully" not in out:
            read = int(counters(responder)["ike-init-in-req"]) - int(before["ike-init-in-req"])
            raise Failure(f"the legitimate peer did not get through the flood ({read / took:.0f} IKE_SA_INIT/s "
                          f"read by the responder): {out}")
        print(f"a legitimate peer established during the spoofed flood in {took:.2f} s")
        while flood.running():
            most_rss = max(most_rss, rss_kb(responder.proc.pid))
            time.sleep(0.5)
        result = flood.result()
    finally:
        flood.kill()
        if peer is not None:
            peer.close()
    after = counters(responder)
    lines = log_lines(responder) - start_lines
    read = int(after["ike-init-in-req"]) - int(before["ike-init-in-req"])
    cookies = int(after["ike-cookies-sent"]) - int(before["ike-cookies-sent"])
    growth_mb = (max(most_rss, rss_kb(responder.proc.pid)) - start_rss) / 1024
    seconds = float(result["seconds"])
    print(f"spoofed flood: {result['sent']} sent in {seconds:.1f} s, {read} read by the responder "
          f"({read / seconds:.0f}/s), {cookies} COOKIEs sent; {lines} log lines ({lines / seconds:.1f}/s, "
          f"{after['log-suppressed']} suppressed); RSS +{growth_mb:.1f} MB")
    if lines / seconds > 50:
        raise Failure(f"{lines} log lines in {seconds:.0f} s")
    if growth_mb > 20:
        raise Failure(f"RSS grew by {growth_mb:.1f} MB")
    if cookies < read // 2:
        raise Failure("the spoofed requests were not answered with COOKIEs")


def test(build, folder):
    with Namespaces() as ns:
        run(["ip", "-n", ns.b, "addr", "add", f"{FLOODER}/24", "dev", ns.veth_b])
        # A gateway that serves any address (so a flood from anywhere gets half-open SAs).
        conf = swanctl_conf("10.99.0.1", "%any", "a.test", "b.test", "10.99.1.0/24", "10.99.2.0/24")
        responder = Ikeplexd(build, ns.a, f"{folder}/responder", conf, log_levels={},
                             env={"ASAN_OPTIONS": (os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=4").lstrip(":")})
        try:
            cookie_echo_flood(build, ns, folder, responder)
            spoofed_flood(build, ns, folder, responder)
        finally:
            responder.close()


if __name__ == "__main__":
    sys.exit(main_wrapper(test, "flood"))
