#!/usr/bin/env python3
"""`vici_swanctl_socket = yes`: ikeplexd also serves VICI on strongSwan's default socket
(unix:///var/run/charon.vici), so Debian's swanctl works without --uri. Runs in a private mount
namespace with its own tmpfs on /run, so it never meets a real charon's socket (or leaves one):
- swanctl --list-conns and --stats, without --uri, answer from ikeplexd; the own socket still works;
- a second ikeplexd with the option refuses to start ("in use"), and the first keeps the socket;
- a socket file left by a killed daemon is replaced; SIGTERM removes the socket file;
- with the option off (the default), no charon.vici appears."""
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lib import Failure, Ikeplexd, Namespaces, main_wrapper, run, side_conf, wait_until  # noqa: E402

CHARON_VICI = "/var/run/charon.vici"
MARK = "IKEPLEX_PRIVATE_RUN"


def swanctl(*args):
    """Debian's swanctl with no --uri (its plugin loader's complaints dropped)."""
    r = subprocess.run(["swanctl", *args], capture_output=True, text=True, timeout=20)
    if r.returncode != 0:
        raise Failure(f"swanctl {' '.join(args)} failed ({r.returncode}): {r.stdout}{r.stderr}")
    return r.stdout


def test(build, folder):
    if not os.path.exists("/usr/sbin/swanctl"):
        raise Failure("swanctl is not installed (scripts/setup-deps.sh installs it)")
    if os.path.exists(CHARON_VICI):
        raise Failure(f"{CHARON_VICI} exists in the private /run: the mount namespace did not work")
    on = "vici_swanctl_socket = yes"
    with Namespaces() as ns:
        off = Ikeplexd(build, ns.b, f"{folder}/off", side_conf("b"))
        try:
            if os.path.exists(CHARON_VICI):
                raise Failure("the option is off, yet ikeplexd created charon.vici")
        finally:
            off.stop()

        a = Ikeplexd(build, ns.a, f"{folder}/a", side_conf("a"), extra=on)
        try:
            wait_until(lambda: os.path.exists(CHARON_VICI), 10, "charon.vici")
            conns = swanctl("--list-conns")
            if "t:" not in conns and "t " not in conns.split("\n")[0]:
                raise Failure(f"swanctl --list-conns without --uri does not show connection t: {conns}")
            if "ikeplex-engine" not in swanctl("--stats"):
                raise Failure("swanctl --stats without --uri does not show ikeplex-engine")
            a.cli("list-conns")  # the daemon's own socket serves as well
            print("swanctl without --uri: --list-conns and --stats answered by ikeplexd", flush=True)

            # A second daemon with the option must not take the socket over.
            os.makedirs(f"{folder}/second", exist_ok=True)
            with open(f"{folder}/second/ikeplexd.conf", "w") as f:
                f.write(f"ikeplexd {{\n vici = unix://{folder}/second/ikeplexd.vici\n backend = none\n"
                        f" port = 1500\n port_nat_t = 14500\n {on}\n}}\n")
            r = subprocess.run(["ip", "netns", "exec", ns.b, f"{build}/apps/ikeplexd", "-c",
                                f"{folder}/second/ikeplexd.conf"], capture_output=True, text=True, timeout=20)
            out = r.stdout + r.stderr
            if r.returncode == 0 or "in use" not in out:
                raise Failure(f"a second daemon started on a live charon.vici (rc {r.returncode}): {out}")
            if "ikeplex-engine" not in swanctl("--stats"):
                raise Failure("after the second daemon gave up, charon.vici no longer reaches the first")
            print("a second daemon refused to take the live socket over", flush=True)

            # SIGKILL leaves the socket file: the next start replaces it.
            a.stop(signal.SIGKILL)
            if not os.path.exists(CHARON_VICI):
                raise Failure("SIGKILL removed the socket file (the test cannot show the stale case)")
            a.start()
            wait_until(lambda: "ikeplex-engine" in swanctl("--stats"), 10, "swanctl through the replaced socket")
            print("a stale charon.vici left by SIGKILL was replaced", flush=True)
        finally:
            a.stop()
        if os.path.exists(CHARON_VICI):
            raise Failure("SIGTERM left charon.vici behind")
        print("SIGTERM removed charon.vici", flush=True)


def private_run():
    """Re-runs this script in a new mount namespace with a tmpfs on /run (returns its exit code),
    or, inside it, mounts the tmpfs and returns None."""
    if os.environ.get(MARK) != "1":
        if os.geteuid() != 0:
            return None  # main_wrapper skips
        env = {**os.environ, MARK: "1"}
        return subprocess.run(["unshare", "--mount", "--propagation", "private", "--", sys.executable,
                               *sys.argv], env=env, timeout=280).returncode
    run(["mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", "/run"])
    return None


if __name__ == "__main__":
    rc = private_run()
    if rc is not None:
        sys.exit(rc)
    sys.exit(main_wrapper(test, "vici_default_socket"))
