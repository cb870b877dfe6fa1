#!/usr/bin/env python3
"""Live interop of the ikeplex IKE engine with Debian's strongSwan 5.9.8.

Our side is tests/interop/ike_driver (the engine behind real UDP sockets) in namespace A;
strongSwan's charon (kernel-libipsec, as ../shared/docs/interop.md §3 and §3b describe) runs
in namespace B. In both roles the script brings up the IKE SA and its first Child SA, rekeys
the Child SA and the IKE SA (from either side), and deletes them, and after every step it
compares what the driver reports with strongSwan's own `swanctl --list-sas`: the same IKE
SPIs, the Child SA's SPIs crossed, the states ESTABLISHED and INSTALLED, and nothing left
after a delete.

Everything lives in namespaces and a temporary folder named after this process, with
10.99.0.0/16 addresses only, and is removed on exit (also on failure or a signal).
"""
import argparse
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import lib  # noqa: E402  (the integration tests' namespaces, charon and helpers)
from lib import CHARON, PSK, Failure, Namespaces, run, swanctl_conf  # noqa: E402
PROPOSALS = [
    # (ours, strongSwan's): AEAD with Curve25519, then CBC + HMAC with MODP-2048.
    ("aes256gcm16-prfsha256-x25519", "aes256gcm16-prfsha256-x25519", "aes128gcm16"),
    ("aes128-sha256-modp2048", "aes128-sha256-modp2048", "aes128-sha256"),
]


def Charon(ns, folder, ike, esp):
    """strongSwan in namespace B with connection t / child net (no rekeying of its own)."""
    return lib.Charon(ns, folder, swanctl_conf("10.99.0.2", "10.99.0.1", "b.test", "a.test", "10.99.2.0/24",
                                               "10.99.1.0/24", ike=ike, esp=esp, conn_extra="rekey_time = 0",
                                               child_extra="rekey_time = 0"))


class Driver:
    """Our engine in namespace A, driven over stdin/stdout."""

    def __init__(self, binary, ns, folder, ike, esp, extra=()):
        self.log = open(f"{folder}/driver.log", "w")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, binary, "--local", "10.99.0.1", "--remote", "10.99.0.2", "--psk", PSK,
             "--local-id", "a.test", "--remote-id", "b.test", "--local-ts", "10.99.1.0/24",
             "--remote-ts", "10.99.2.0/24", "--ike", ike, "--esp", esp, *extra],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True, bufsize=1)
        self.lines = queue.Queue()
        self.events = []
        threading.Thread(target=self._read, daemon=True).start()
        self._expect(lambda l: l == "READY", 10, "driver start")

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def _expect(self, pred, timeout, what):
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            if left <= 0:
                raise Failure(f"timed out waiting for {what}")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                raise Failure(f"timed out waiting for {what}")
            if line is None:
                raise Failure(f"driver exited while waiting for {what}")
            if line.startswith("EVENT "):
                self.events.append(line)
            if line.startswith("ERR "):
                raise Failure(f"driver: {line}")
            if pred(line):
                return line

    def send(self, cmd):
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()

    def wait_event(self, kind, timeout=15):
        # An event may already have arrived while waiting for something else.
        for i, e in enumerate(self.events):
            if e.startswith(f"EVENT {kind} "):
                del self.events[i]
                return e
        line = self._expect(lambda l: l.startswith(f"EVENT {kind} "), timeout, f"event {kind}")
        self.events.remove(line)
        return line

    def sas(self):
        self.send("list")
        sas = []
        while True:
            line = self._expect(lambda l: l.startswith(("SA ", "CHILD ", "END")), 10, "list")
            if line == "END":
                return sas
            parts = line.split()
            if parts[0] == "SA":
                sas.append({"id": int(parts[1][4:]), "spi_i": parts[2], "spi_r": parts[3], "state": parts[4],
                            "children": []})
            else:
                fields = dict(p.split("=") for p in parts[1:5])
                sas[-1]["children"].append({"id": int(fields["id"]), "in": fields["in"], "out": fields["out"],
                                            "state": parts[5], "kind": parts[6]})

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.send("quit")
                self.proc.wait(timeout=5)
            except Exception:
                self.proc.kill()
        self.log.close()


def agree(driver, charon, children, timeout=10):
    """Both sides show one established IKE SA with the same SPIs and `children` Child SAs
    installed with crossed SPIs (or no IKE SA at all when children is None)."""
    deadline = time.time() + timeout
    last = ""
    while time.time() < deadline:
        ours, theirs = driver.sas(), charon.sas()
        if children is None:
            if not ours and not theirs:
                return None
            last = f"expected nothing, ours={ours} theirs={theirs}"
        elif len(ours) == 1 and len(theirs) == 1:
            o, t = ours[0], theirs[0]
            oc = sorted((c["in"], c["out"]) for c in o["children"] if c["state"] == "INSTALLED")
            tc = sorted((c["out"], c["in"]) for c in t["children"] if c["state"] == "INSTALLED")
            if (o["state"], t["state"]) == ("ESTABLISHED", "ESTABLISHED") and (o["spi_i"], o["spi_r"]) == (
                    t["spi_i"], t["spi_r"]) and oc == tc and len(oc) == children and \
                    len(o["children"]) == children and len(t["children"]) == children:
                return o
            last = f"ours={ours} theirs={theirs}"
        else:
            last = f"ours={ours} theirs={theirs}"
        time.sleep(0.2)
    raise Failure(f"the two sides do not agree: {last}")


def scenario(binary, ns, folder, we_initiate, ike, their_ike, esp, log):
    charon = Charon(ns.b, f"{folder}/charon", their_ike, esp)
    driver = None
    try:
        driver = Driver(binary, ns.a, folder, ike, esp)
        role = "initiator" if we_initiate else "responder"
        t0 = time.time()
        step = lambda what: log(f"[{role} {ike}] {time.time() - t0:5.1f}s {what}")
        if we_initiate:
            driver.send("initiate")
        else:
            charon.swanctl("--initiate", "--child", "net", timeout=30)
        driver.wait_event("ike-up")
        driver.wait_event("child-up")
        sa = agree(driver, charon, 1)
        step(f"IKE SA {sa['spi_i']}_i {sa['spi_r']}_r and Child SA {sa['children'][0]['in']}_i up on both sides")

        # Child SA rekey, by us and by strongSwan.
        old = sa["children"][0]
        driver.send(f"rekey-child {old['id']}")
        driver.wait_event("child-rekey")
        sa = agree(driver, charon, 1)
        assert sa["children"][0]["in"] != old["in"], "the Child SA kept its SPI"
        step(f"Child SA rekeyed by us: {old['in']}_i -> {sa['children'][0]['in']}_i")
        old = sa["children"][0]
        charon.swanctl("--rekey", "--child", "net")
        driver.wait_event("child-rekey")
        sa = agree(driver, charon, 1)
        assert sa["children"][0]["in"] != old["in"]
        step(f"Child SA rekeyed by strongSwan: {old['in']}_i -> {sa['children'][0]['in']}_i")

        # IKE SA rekey, by us and by strongSwan; the Child SA moves along.
        old_ike = sa
        driver.send(f"rekey-ike {sa['id']}")
        driver.wait_event("ike-rekey")
        sa = agree(driver, charon, 1)
        assert sa["spi_i"] != old_ike["spi_i"] and sa["children"][0]["in"] == old_ike["children"][0]["in"]
        step(f"IKE SA rekeyed by us: {old_ike['spi_i']}_i -> {sa['spi_i']}_i, Child SA kept")
        old_ike = sa
        charon.swanctl("--rekey", "--ike", "t")
        driver.wait_event("ike-rekey")
        sa = agree(driver, charon, 1)
        assert sa["spi_i"] != old_ike["spi_i"]
        step(f"IKE SA rekeyed by strongSwan: {old_ike['spi_i']}_i -> {sa['spi_i']}_i")

        # Deletes: the Child SA by one side, the IKE SA by the other.
        if we_initiate:
            driver.send(f"delete-child {sa['children'][0]['id']}")
        else:
            charon.swanctl("--terminate", "--child", "net", timeout=30)
        driver.wait_event("child-down")
        sa = agree(driver, charon, 0)
        step("Child SA deleted, IKE SA kept on both sides")
        if we_initiate:
            charon.swanctl("--terminate", "--ike", "t", timeout=30)
        else:
            driver.send(f"delete-ike {sa['id']}")
        driver.wait_event("ike-down")
        agree(driver, charon, None)
        step("IKE SA deleted on both sides")
    finally:
        if driver is not None:
            driver.stop()
        charon.close()


def rfc9611_scenario(binary, ns, folder, we_initiate, log):
    """RFC 9611 with a peer that does not implement it (5.9.8 ignores SA_RESOURCE_INFO): our
    per-CPU config yields one regular Child SA, and acquires for CPUs request nothing."""
    ike, esp = "aes256gcm16-prfsha256-x25519", "aes128gcm16"
    charon = Charon(ns.b, f"{folder}/charon", ike, esp)
    driver = None
    try:
        driver = Driver(binary, ns.a, folder, ike, esp, ("--per-cpu", "yes", "--resources", "4", "--window", "4"))
        role = "initiator" if we_initiate else "responder"
        step = lambda what: log(f"[RFC 9611, {role}] {what}")
        if we_initiate:
            driver.send("initiate")
        else:
            charon.swanctl("--initiate", "--child", "net", timeout=30)
        driver.wait_event("child-up")
        sa = agree(driver, charon, 1)
        assert sa["children"][0]["kind"] == "regular", sa
        with open(f"{folder}/charon/charon.log") as f:
            charon_log = f.read()
        if we_initiate:
            assert "N((16444))" in charon_log, "strongSwan did not see our SA_RESOURCE_INFO"
        step("one regular Child SA (strongSwan 5.9.8 ignored SA_RESOURCE_INFO)")
        for cpu in range(4):
            driver.send(f"acquire {cpu}")
        time.sleep(1.5)
        sa = agree(driver, charon, 1)
        assert sa["children"][0]["kind"] == "regular"
        with open(f"{folder}/charon/charon.log") as f:
            assert "CREATE_CHILD_SA request" not in f.read(), "a member was requested anyway"
        step("acquires for CPUs 0-3 requested no member")
        driver.send(f"delete-ike {sa['id']}")
        driver.wait_event("ike-down")
        agree(driver, charon, None)
    finally:
        if driver is not None:
            driver.stop()
        charon.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--driver", required=True)
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    args = p.parse_args()
    if os.geteuid() != 0:
        print("SKIP: network namespaces need root")
        return 77
    if not os.path.exists(CHARON) or shutil.which("swanctl") is None:
        print("FAIL: strongSwan is not installed (scripts/setup-deps.sh installs it)")
        return 1
    ns = Namespaces()
    folder = tempfile.mkdtemp(prefix="ikeplex-interop-")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    ok = False
    try:
        ns.__enter__()
        for we_initiate in (True, False):
            for ike, their_ike, esp in PROPOSALS:
                sub = f"{folder}/{'ini' if we_initiate else 'res'}-{esp}"
                os.makedirs(sub)
                scenario(args.driver, ns, sub, we_initiate, ike, their_ike, esp, print)
            sub = f"{folder}/rfc9611-{'ini' if we_initiate else 'res'}"
            os.makedirs(sub)
            rfc9611_scenario(args.driver, ns, sub, we_initiate, print)
        ok = True
        print("PASS: strongSwan 5.9.8 agreed at every step, in both roles")
    except (Failure, AssertionError, subprocess.TimeoutExpired) as e:
        print(f"FAIL: {e}")
        for root, _, files in os.walk(folder):
            for name in files:
                if name.endswith((".log", ".out")):
                    path = os.path.join(root, name)
                    print(f"----- {path} (last 60 lines)")
                    with open(path, errors="replace") as f:
                        print("".join(f.readlines()[-60:]))
    finally:
        ns.down()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
