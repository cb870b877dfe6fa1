#!/usr/bin/env python3
"""Tunnels that heal themselves (issue 19), live: start_action = start, dpd_action = restart,
keyingtries = 0 on both sides, short DPD and retransmissions.

1. Two ikeplexd (backend userspace, 2 workers, an RFC 9611 group: fallback + one member per
   CPU): B killed with SIGKILL and restarted, then A, then the link cut (veth down) for longer
   than DPD and restored.
2. Reauthentication (reauth_time 40 s, make-before-break) of the pair under ping: no gap.
3. ikeplexd <-> Debian's strongSwan 5.9.8 (kernel-libipsec): charon killed and restarted, then
   ikeplexd.

Meanwhile A pings B's inner address 20 times a second. After each fault the tunnel (and the
group) must be back within dpd_delay + the retransmission sequence + the longest retry back-off
with its jitter (plus a set-up), with exactly one IKE SA on each side; the test prints the
outage and the loss of each fault. Every wait polls with a deadline."""
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from lib import (Charon, Failure, Ikeplexd, Namespaces, group, ike_sas, main_wrapper, run,  # noqa: E402
                 side_conf, wait_until)

CPUS = 2
DPD_S = 2
# ikeplexd.conf: a request and 2 retransmits 0.5 s and 1 s later, given up 2 s after the last:
# 3.5 s per attempt; retries after 1, 2, 4, 4 ... s plus up to half of that.
RETRANSMIT = "retransmit_timeout = 0.5\n    retransmit_tries = 2\n    retransmit_base = 2\n" \
             "    restart_delay = 1\n    restart_delay_max = 4"
ATTEMPT_S = 0.5 + 1 + 2
LONGEST_WAIT_S = 4 * 1.5
SETUP_S = 3  # IKE_SA_INIT, IKE_AUTH and the group on a loaded machine (ASan build)
BOUND_S = DPD_S + ATTEMPT_S + LONGEST_WAIT_S + SETUP_S
CHILD = ("start_action = start\n                dpd_action = restart\n"
         "                per_cpu_sas = yes\n                per_cpu_sas_start = all")
CONN = f"dpd_delay = {DPD_S}s\n        keyingtries = 0"
REAUTH_S = 40  # above the 30 s within which two IKE SAs of a connection count as duplicates
# Make-before-break moves the traffic to the new Child SAs as they are installed: nothing is
# lost; the bound leaves a few ping intervals for a loaded machine.
REAUTH_GAP_S = 0.5


class Pinger:
    """ping -D at 20/s from A's inner address to B's, in the background; a thread collects the
    times of the answers."""

    def __init__(self, ns):
        self.proc = subprocess.Popen(["ip", "netns", "exec", ns, "ping", "-D", "-n", "-i", "0.05", "-W", "1",
                                      "-I", "10.99.1.1", "10.99.2.1"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.times, self.lines = [], []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        wait_until(lambda: len(self.times) >= 3, 10, "ping's first answers through the tunnel")

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)
            m = re.match(r"^\[(\d+\.\d+)\] \d+ bytes from", line)
            if m:
                self.times.append(float(m.group(1)))

    def stop(self):
        """(sent, received, longest gap between two answers in seconds)."""
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.reader.join(timeout=10)
        out = "".join(self.lines)
        m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
        if not m:
            raise Failure(f"ping printed no summary: {out[-500:]}")
        gap = max((b - a for a, b in zip(self.times, self.times[1:])), default=0.0)
        return int(m.group(1)), int(m.group(2)), gap


def answers(ns, timeout):
    """Waits until one ping through the tunnel is answered."""
    def once():
        return "1 received" in run(["ip", "netns", "exec", ns, "ping", "-c", "1", "-W", "1", "-I", "10.99.1.1",
                                    "10.99.2.1"], timeout=10, check=False)
    wait_until(once, timeout, "an answer through the tunnel")


def full_group(d):
    try:
        g = group(d)
    except Failure:
        return None  # two members for a CPU for a moment (a duplicate IKE SA going away)
    return g if g is not None and sorted(g) == ["-"] + [str(k) for k in range(CPUS)] else None


def kill_ikeplexd(d):
    d.proc.kill()
    d.proc.wait(timeout=10)
    d.proc = None


def start_again(d):
    """The same daemon again (the kill left its socket file behind)."""
    if os.path.exists(d.vici):
        os.unlink(d.vici)
    d.start()


def ike_spis(d):
    return {f.get("initiator-spi") for _, f in ike_sas(d.sas())}


def counters(d):
    return json.loads(d.cli("counters", "--json"))


def check_after(name, ns, started, fault_s, pinger, sides):
    """The tunnel and each side's group are back; report outage and loss."""
    deadline = fault_s + BOUND_S
    wait_until(lambda: all(check() for check in sides), max(deadline - (time.time() - started), 1),
               f"{name}: the tunnel and its group back within {deadline:.1f} s of the fault")
    answers(ns, 10)
    sent, received, gap = pinger.stop()
    print(f"{name}: outage {gap:.1f} s (fault {fault_s:.1f} s, bound {deadline:.1f} s), "
          f"{sent - received} of {sent} pings lost")
    if gap > deadline:
        raise Failure(f"{name}: no answer for {gap:.1f} s (bound {deadline:.1f} s)")


def one_ike_sa(d, not_spis=()):
    """Exactly one IKE SA, not one of `not_spis` (the one from before a fault), with its group."""
    sas = ike_sas(d.sas())
    return len(sas) == 1 and sas[0][1].get("initiator-spi") not in not_spis and full_group(d) is not None


def start_pair(build, ns, folder, a_conn=CONN):
    """Two ikeplexd (userspace data plane, a group per CPU), both starting the connection; returns
    (b, a) once each holds one IKE SA with its whole group. A daemon that started is closed
    if the other one fails."""
    b = Ikeplexd(build, ns.b, f"{folder}/b", side_conf("b", child_extra=CHILD, conn_extra=CONN),
                 workers=CPUS, window=4, backend="userspace", extra=RETRANSMIT)
    try:
        a = Ikeplexd(build, ns.a, f"{folder}/a", side_conf("a", child_extra=CHILD, conn_extra=a_conn),
                     workers=CPUS, window=4, backend="userspace", extra=RETRANSMIT)
    except BaseException:
        b.close()
        raise
    try:
        wait_until(lambda: one_ike_sa(a) and one_ike_sa(b), 30, "the tunnel and its group")
    except BaseException:
        a.close()
        b.close()
        raise
    return b, a


def ikeplexd_pair(build, folder):
    with Namespaces() as ns:
        a = b = None
        try:
            # Both start the connection when loaded; one IKE SA remains.
            b, a = start_pair(build, ns, folder)
            answers(ns.a, 10)
            print("ikeplexd pair: up with the group", sorted(full_group(a)))
            for name, victim, survivor in (("B", b, a), ("A", a, b)):
                # Down until the survivor's DPD gives it up and restarts (then retries, with
                # back-off, until the victim is back; the victim starts the connection too).
                pinger = Pinger(ns.a)
                old = ike_spis(survivor)
                before = int(counters(survivor)["restarts"])
                started = time.time()
                kill_ikeplexd(victim)
                wait_until(lambda: int(counters(survivor)["restarts"]) > before, DPD_S + ATTEMPT_S + 10,
                           "the survivor's DPD to give the peer up and restart")
                start_again(victim)
                check_after(f"ikeplexd pair, {name} killed and restarted", ns.a, started, time.time() - started,
                            pinger, [lambda: one_ike_sa(a, old), lambda: one_ike_sa(b, old)])
            pinger = Pinger(ns.a)
            started = time.time()
            before = int(counters(a)["restarts"])
            ns.block(ns.a)
            # Until A's DPD has given the peer up and restarted (B's does the same meanwhile).
            wait_until(lambda: int(counters(a)["restarts"]) > before, DPD_S + ATTEMPT_S + 10,
                       "A's DPD to give up the peer and restart")
            ns.block(ns.a, on=False)
            check_after("ikeplexd pair, link cut and restored", ns.a, started, time.time() - started, pinger,
                        [lambda: one_ike_sa(a), lambda: one_ike_sa(b)])
            for side, d in (("A", a), ("B", b)):
                c = counters(d)
                print(f"{side}: restarts {c['restarts']}, retries {c['retries']}, "
                      f"duplicates deleted {c['duplicates-deleted']}")
        finally:
            for d in (a, b):
                if d is not None:
                    d.close()


def reauthentication(build, folder):
    """reauth_time on A (make_before_break, the default): the new IKE SA and its group come up
    beside the old one, which goes afterwards; the ping must not notice."""
    reauth = f"{CONN}\n        reauth_time = {REAUTH_S}s\n        rand_time = 0\n        over_time = 30s"
    with Namespaces() as ns:
        a = b = None
        try:
            b, a = start_pair(build, ns, folder, a_conn=reauth)
            old = ike_spis(a)
            pinger = Pinger(ns.a)
            started = time.time()
            wait_until(lambda: int(counters(a)["reauths"]) >= 1, REAUTH_S + 15, "A's reauthentication")
            wait_until(lambda: one_ike_sa(a, old) and one_ike_sa(b, old), 20,
                       "the new IKE SA with its group, and the old one gone")
            sent, received, gap = pinger.stop()
            took = time.time() - started
            print(f"reauthentication (make-before-break) after {took:.1f} s: longest gap between answers "
                  f"{gap * 1000:.0f} ms, {sent - received} of {sent} pings lost")
            if gap > REAUTH_GAP_S:
                raise Failure(f"reauthentication: no answer for {gap:.2f} s (bound {REAUTH_GAP_S} s)")
            if int(counters(a)["reauth-failures"]) != 0:
                raise Failure("reauthentication: the new IKE SA failed")
        finally:
            for d in (a, b):
                if d is not None:
                    d.close()


def with_strongswan(build, folder):
    charon_extra = ("retransmit_timeout = 0.5\n  retransmit_tries = 2\n  retransmit_base = 2")
    child = "start_action = start\n                dpd_action = restart"
    with Namespaces() as ns:
        a = charon = None
        try:
            a = Ikeplexd(build, ns.a, f"{folder}/a", side_conf("a", child_extra=child, conn_extra=CONN),
                         workers=CPUS, backend="userspace", extra=RETRANSMIT)

            def start_charon():
                for stale in (f"{folder}/b/charon.vici", f"{folder}/b/run/charon.pid"):
                    if os.path.exists(stale):
                        os.unlink(stale)
                return Charon(ns.b, f"{folder}/b", side_conf("b", child_extra=child, conn_extra=CONN),
                              extra=charon_extra)

            def charon_up():
                sas = charon.sas()
                return len(sas) == 1 and sas[0]["state"] == "ESTABLISHED" and \
                    any(c["state"] == "INSTALLED" for c in sas[0]["children"])

            def ours_up(not_spis=()):
                sas = ike_sas(a.sas())
                if len(sas) != 1 or sas[0][1].get("initiator-spi") in not_spis:
                    return False
                try:
                    g = group(a)  # once: the group can go between two listings
                except Failure:
                    return False  # two members for a CPU for a moment (a duplicate going away)
                return g is not None and "-" in g

            charon = start_charon()
            wait_until(lambda: ours_up() and charon_up(), 30, "the tunnel with charon")
            charon.data_plane_up("10.99.1.0/24")
            answers(ns.a, 10)
            print("ikeplexd <-> strongSwan 5.9.8: up")

            pinger = Pinger(ns.a)
            old = ike_spis(a)
            before = int(counters(a)["restarts"])
            started = time.time()
            charon.proc.kill()
            charon.proc.wait(timeout=10)
            charon.out.close()
            wait_until(lambda: int(counters(a)["restarts"]) > before, DPD_S + ATTEMPT_S + 10,
                       "ikeplexd's DPD to give charon up and restart")
            charon = start_charon()
            check_after("ikeplexd <-> charon, charon killed and restarted", ns.a, started, time.time() - started,
                        pinger, [lambda: ours_up(old), charon_up,
                                 lambda: charon.data_plane_up("10.99.1.0/24", timeout=1)])

            pinger = Pinger(ns.a)
            log_before = len(charon.log())
            started = time.time()
            kill_ikeplexd(a)
            wait_until(lambda: "giving up after" in charon.log()[log_before:], DPD_S + ATTEMPT_S + 10,
                       "charon's DPD to give ikeplexd up")
            start_again(a)
            check_after("ikeplexd <-> charon, ikeplexd killed and restarted", ns.a, started, time.time() - started,
                        pinger, [ours_up, charon_up])
        finally:
            if a is not None:
                a.close()
            if charon is not None:
                charon.close()


def test(build, folder):
    ikeplexd_pair(build, f"{folder}/pair")
    reauthentication(build, f"{folder}/reauth")
    with_strongswan(build, f"{folder}/strongswan")


if __name__ == "__main__":
    sys.exit(main_wrapper(test, "heal"))
