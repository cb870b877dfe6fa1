#!/usr/bin/env python3
"""Debian's swanctl 5.9.8 as a client of ikeplexd (--uri): --load-all from a PSK swanctl.conf
(which also sends get-keys, get-shared, load-shared, get-authorities, get-pools, get-conns and
load-conn), --list-conns, --initiate (streams control-log), --list-sas, --list-pols, --rekey,
--stats, --counters, --reload-settings, --terminate, and --load-all of an emptied file
(unload-conn, unload-shared), against strongSwan 5.9.8 as the peer; --monitor-sa (ike-updown,
child-updown, child-rekey events) and --log (log events) running throughout. What swanctl
prints must match the daemon's own state. Last, a CA that does not load (`ikeplex load-all`):
refused with the reason, counted and logged."""
import json
import os
import re
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(__file__))
from lib import Charon, Ikeplexd, Namespaces, children, ike_sas, main_wrapper, run, side_conf, wait_until  # noqa: E402


class Follower:
    """A command whose standard output is read as it comes (a thread collects it), so a test can
    wait for a line with a deadline instead of sleeping."""

    def __init__(self, cmd, env):
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    def text(self):
        return "".join(self.lines)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self.reader.join(timeout=10)


def test(build, folder):
    os.makedirs(f"{folder}/client", exist_ok=True)
    client_conf = f"{folder}/client/strongswan.conf"
    with open(client_conf, "w") as f:
        f.write("swanctl { load = pem pkcs1 pkcs8 x509 pubkey openssl random nonce }\n")
    with open(f"{folder}/client/swanctl.conf", "w") as f:
        f.write(side_conf("a"))
    for sub in ("x509", "x509ca", "private"):
        os.makedirs(f"{folder}/client/{sub}", exist_ok=True)
    with Namespaces() as ns:
        charon = Charon(ns.b, f"{folder}/charon", side_conf("b"))
        ours = None
        followers = []
        try:
            ours = Ikeplexd(build, ns.a, f"{folder}/ours", "", preload=False)
            env = dict(os.environ, STRONGSWAN_CONF=client_conf)

            def swanctl(*args, timeout=30):
                return run(["swanctl", *args, "--uri", f"unix://{ours.vici}"], timeout=timeout, env=env)

            def follow(*args):
                # line-buffered: swanctl's stdio would hold a pipe's output until it exits
                followers.append(Follower(["stdbuf", "-oL", "swanctl", *args, "--uri", f"unix://{ours.vici}"], env))
                return followers[-1]

            monitor, logger = follow("--monitor-sa"), follow("--log")
            # Both registered before anything happens (swanctl 5.9.8's --monitor-sa registers
            # ike-updown and child-updown among others, --log the log event).
            wanted = ["ike-updown", "child-updown", "log"]

            def registered():
                c = json.loads(ours.cli("counters", "--json"))
                return all(int(c.get(f"vici-listeners-{e}", 0)) >= 1 for e in wanted) or None
            wait_until(registered, 20, "swanctl --monitor-sa and --log to register their events")

            out = swanctl("--load-all", "--file", f"{folder}/client/swanctl.conf")
            assert "loaded ike secret 'ike-t'" in out, out
            assert "successfully loaded 1 connections, 0 unloaded" in out, out
            print("swanctl --load-all: secret and connection loaded")

            out = swanctl("--list-conns")
            assert re.search(r"^t: IKEv2", out, re.M) and "net: TUNNEL" in out and "10.99.1.0/24" in out, out
            print("swanctl --list-conns shows the connection")

            out = swanctl("--initiate", "--child", "net")
            assert "IKE_SA t[1] established" in out and "initiate completed successfully" in out, out
            print("swanctl --initiate streamed our control log and succeeded")

            sas = ike_sas(ours.sas())
            assert len(sas) == 1
            f = sas[0][1]
            out = swanctl("--list-sas")
            assert f"{f['initiator-spi']}_i* {f['responder-spi']}_r" in out, out
            child = children(f)[0]
            assert f"in  {child['spi-in']}" in out and f"out {child['spi-out']}" in out, out
            assert "ESTABLISHED" in out and "INSTALLED" in out and "TUNNEL-in-UDP" in out, out
            # ...and strongSwan, the peer, agrees.
            theirs = charon.sas()
            assert theirs and theirs[0]["children"][0]["in"] == child["spi-out"], theirs
            print("swanctl --list-sas matches ikeplexd's state and the peer's")

            out = swanctl("--list-pols")
            assert "t/net, TUNNEL" in out and "local:  10.99.1.0/24" in out and "remote: 10.99.2.0/24" in out, out
            print("swanctl --list-pols shows the child's policy")

            out = swanctl("--rekey", "--child", "net")
            assert "rekey completed successfully" in out, out
            wait_until(lambda: children(ike_sas(ours.sas())[0][1])[0]["spi-in"] != child["spi-in"], 10,
                       "the rekey")
            out = swanctl("--list-sas")
            assert child["spi-in"] not in out, out
            print("swanctl --rekey --child: new SPIs listed")

            out = swanctl("--stats")
            assert "IKE_SAs: 1 total, 0 half-open" in out and "uptime:" in out, out
            out = swanctl("--version", "--daemon")
            assert "ikeplexd" in out, out
            print("swanctl --stats and --version --daemon answered")
            out = swanctl("--counters")
            assert re.search(r"vici-requests\s+: [1-9]", out) and "ike-init-in-req" in out, out
            swanctl("--reload-settings")
            print("swanctl --counters and --reload-settings answered")

            out = swanctl("--terminate", "--ike", "t")
            assert "terminate completed successfully" in out, out
            wait_until(lambda: not ike_sas(ours.sas()) and not charon.sas(), 10, "both sides empty")
            print("swanctl --terminate --ike: gone on both sides")

            # What the monitors saw: the SA up, the rekey, the old Child SA going, the IKE SA going
            # (described as it was, never with missing fields).
            wait_until(lambda: re.search(r"^t: #1, DELETING, IKEv2", monitor.text(), re.M), 20,
                       "swanctl --monitor-sa to print the IKE SA going")
            monitor.stop()
            logger.stop()
            seen, logged = monitor.text(), logger.text()
            assert "(null)" not in seen, seen
            assert re.search(r"^t: #1, ESTABLISHED, IKEv2", seen, re.M), seen
            assert re.search(r"net: #1, reqid \d+, INSTALLED, TUNNEL", seen), seen
            assert re.search(r"net: #2, reqid \d+, INSTALLED, TUNNEL", seen), seen  # the rekey
            assert re.search(r"net: #2, reqid \d+, DELETED, TUNNEL-in-UDP", seen), seen
            assert re.search(r"^t: #1, DELETING, IKEv2", seen, re.M), seen
            assert "[IKE] IKE_SA t[1] established" in logged and "[ENC] generating CREATE_CHILD_SA" in logged, logged
            print("swanctl --monitor-sa saw the SAs come, rekey and go; swanctl --log followed the log")

            # An emptied file unloads the connection and the secret.
            with open(f"{folder}/client/swanctl.conf", "w") as f:
                f.write("")
            out = swanctl("--load-all", "--file", f"{folder}/client/swanctl.conf")
            assert "no connections found, 1 unloaded" in out, out
            assert "t:" not in swanctl("--list-conns")
            with open(f"{folder}/client/swanctl.conf", "w") as f:
                f.write(side_conf("a").split("secrets")[0])
            swanctl("--load-conns", "--file", f"{folder}/client/swanctl.conf")
            r = subprocess.run(["swanctl", "--initiate", "--child", "net", "--uri", f"unix://{ours.vici}"], env=env,
                               capture_output=True, text=True, timeout=30)
            assert r.returncode != 0 and "no shared key" in r.stdout, r.stdout
            print("swanctl --load-all of an emptied file: connection and secret unloaded")

            # A CA that does not load is refused with the reason, counted and logged, never
            # dropped without a word (load-cert with flag CA, from `ikeplex load-all`'s x509ca).
            os.makedirs(f"{folder}/badca/x509ca", exist_ok=True)
            with open(f"{folder}/badca/swanctl.conf", "w") as f:
                f.write("")
            bad = f"{folder}/badca/x509ca/bad.pem"
            with open(bad, "w") as f:
                f.write("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n")
            r = subprocess.run([f"{build}/apps/ikeplex", "--uri", f"unix://{ours.vici}", "load-all", "--file",
                                f"{folder}/badca/swanctl.conf"], capture_output=True, text=True, timeout=30)
            why = "cannot load the certificate: certificate: not a PEM X.509 certificate"
            assert r.returncode != 0 and f"loading '{bad}' failed: {why}" in r.stderr, r.stdout + r.stderr
            counters = json.loads(ours.cli("counters", "--json"))
            assert int(counters.get("vici-ca-refused", 0)) == 1, counters
            wait_until(lambda: f"CA certificate refused: {why}" in open(f"{ours.dir}/ikeplexd.log").read(), 10,
                       "the refused CA in ikeplexd's log")
            print("a CA that does not load: refused with the reason, counted (vici-ca-refused) and logged")
        finally:
            for f in followers:
                f.stop()
            if ours is not None:
                ours.close()
            charon.close()


if __name__ == "__main__":
    sys.exit(main_wrapper(test, "swanctl-client"))
