#!/usr/bin/env python3
"""Every configuration in examples/ passes `ikeplexd --check` with no error and no warning (the
certificate example with real certificates made for the test in swanctl's folders), a typo
in one is reported with its file and line, a PSK connection without its secret is warned
about, and so are a bad pool range and a connection naming a pool that is not defined."""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from lib import make_certs  # noqa: E402

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")


def check(ikeplexd, swanctl):
    r = subprocess.run([ikeplexd, "--check", "-c", f"{EXAMPLES}/ikeplexd.conf", "--swanctl-conf", swanctl],
                       capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout + r.stderr


def expect_clean(ikeplexd, swanctl, summary):
    rc, out = check(ikeplexd, swanctl)
    if rc != 0 or "0 error(s), 0 warning(s)" not in out or summary not in out:
        raise AssertionError(f"{swanctl}: rc {rc}, expected '{summary}':\n{out}")
    print(f"ok: {os.path.basename(swanctl)}: {out.strip().splitlines()[-1].split(': ', 1)[1]}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build", required=True)
    ikeplexd = f"{p.parse_args().build}/apps/ikeplexd"
    with tempfile.TemporaryDirectory(prefix="ikeplex-examples-") as tmp:
        expect_clean(ikeplexd, f"{EXAMPLES}/swanctl/site-to-site-psk.conf", "1 connection(s), 1 child(ren), 1 shared key(s)")
        expect_clean(ikeplexd, f"{EXAMPLES}/swanctl/per-cpu.conf", "1 connection(s), 1 child(ren), 1 shared key(s)")

        # The certificate example in a folder with swanctl's layout.
        certs, ca = make_certs(f"{tmp}/pki", {"a": "moon.example.org"})
        conf = f"{tmp}/swanctl"
        for sub in ("x509", "x509ca", "private"):
            os.makedirs(f"{conf}/{sub}")
        shutil.copy(certs["a"][0], f"{conf}/x509/moon.pem")
        shutil.copy(certs["a"][1], f"{conf}/private/moon.pem")
        shutil.copy(ca, f"{conf}/x509ca/ca.pem")
        shutil.copy(f"{EXAMPLES}/swanctl/certificates.conf", f"{conf}/swanctl.conf")
        expect_clean(ikeplexd, f"{conf}/swanctl.conf", "1 certificate(s) with key, 1 CA certificate(s)")
        # The road-warrior gateway (certificate, EAP users, pools) in the same folder.
        shutil.copy(f"{EXAMPLES}/swanctl/road-warrior.conf", f"{conf}/swanctl.conf")
        expect_clean(ikeplexd, f"{conf}/swanctl.conf",
                     "2 connection(s), 2 child(ren), 0 shared key(s), 1 certificate(s) with key, "
                     "1 CA certificate(s), 2 pool(s)")

        # A pool with a bad range (in the folder with the example's certificates) is an error
        # at its line; a connection naming an undefined pool is warned about.
        with open(f"{EXAMPLES}/swanctl/road-warrior.conf") as f:
            lines = f.read().splitlines()
        n = next(i for i, line in enumerate(lines) if "addrs = 10.3.0.0/24" in line)
        lines[n] = lines[n].replace("10.3.0.0/24", "10.3.0.9-10.3.0.1")
        with open(f"{conf}/badpool.conf", "w") as f:
            f.write("\n".join(lines) + "\n")
        rc, out = check(ikeplexd, f"{conf}/badpool.conf")
        want = f"{conf}/badpool.conf:{n + 1}: pools.rw-v4.addrs: '10.3.0.9-10.3.0.1': invalid IP address range"
        if rc != 1 or want not in out or "names pool 'rw-v4', which the file does not define" not in out:
            raise AssertionError(f"bad pool: rc {rc}, expected '{want}':\n{out}")
        print(f"ok: a bad pool is reported: {want}")

        # A typo is an error naming file and line, and --check fails.
        with open(f"{EXAMPLES}/swanctl/per-cpu.conf") as f:
            lines = f.read().splitlines()
        n = next(i for i, line in enumerate(lines) if "per_cpu_sas_max =" in line)
        lines[n] = lines[n].replace("per_cpu_sas_max", "per_cpu_sa_max")
        with open(f"{tmp}/typo.conf", "w") as f:
            f.write("\n".join(lines) + "\n")
        rc, out = check(ikeplexd, f"{tmp}/typo.conf")
        want = f"{tmp}/typo.conf:{n + 1}: connections.moon-sun.children.net.per_cpu_sa_max: unknown key"
        if rc != 1 or want not in out:
            raise AssertionError(f"typo: rc {rc}, expected '{want}':\n{out}")
        print(f"ok: a typo is reported: {want}")

        # A PSK connection without its secret: a warning at the connection (charon would fail
        # at run time with "no shared key found"), and --check still exits 0.
        with open(f"{EXAMPLES}/swanctl/site-to-site-psk.conf") as f:
            text = f.read()
        n = text[:text.index("moon-sun {")].count("\n") + 1
        with open(f"{tmp}/nosecret.conf", "w") as f:
            f.write(text[:text.index("secrets {")])
        rc, out = check(ikeplexd, f"{tmp}/nosecret.conf")
        want = (f"warning: {tmp}/nosecret.conf:{n}: connection 'moon-sun' uses auth = psk but no secret "
                "matches ids 'moon.example.org' - 'sun.example.org'")
        if rc != 0 or want not in out:
            raise AssertionError(f"no secret: rc {rc}, expected '{want}':\n{out}")
        print(f"ok: a PSK connection without a secret is warned about: {want}")
    print("PASS: examples")
    return 0


if __name__ == "__main__":
    sys.exit(main())
