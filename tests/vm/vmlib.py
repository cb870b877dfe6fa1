"""Building blocks of the VM scenarios (tests/vm/README.md), on top of the integration tests'
lib.py: the kernel's SAs through ikeplex's own netlink codec (tests/vm/tools/xfrm_sas), the
group of a Child SA as `ikeplex list-sas` shows it, the address plans of the matrix (tunnel or
transport mode, IPv4 or IPv6, ESP in UDP or raw ESP), and the scenarios' main."""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from lib import Failure, children, group, ike_sas, run, swanctl_conf, wait_until  # noqa: E402,F401


def cpus():
    return os.cpu_count() or 1


class Plan:
    """Addresses of one variant on the lib.Namespaces topology: outer (IKE, ESP) and the traffic
    endpoints (inner addresses in tunnel mode, the outer ones in transport mode)."""

    def __init__(self, mode="tunnel", family=4, encap="raw"):
        self.mode, self.family, self.encap = mode, int(family), encap
        if self.family == 4:
            self.outer = {"a": "10.99.0.1", "b": "10.99.0.2"}
            inner = {"a": "10.99.1.1", "b": "10.99.2.1"}
            nets = {"a": "10.99.1.0/24", "b": "10.99.2.0/24"}
            host = "/32"
        else:
            self.outer = {"a": "fd00:99::1", "b": "fd00:99::2"}
            inner = {"a": "fd00:1::1", "b": "fd00:2::1"}
            nets = {"a": "fd00:1::/64", "b": "fd00:2::/64"}
            host = "/128"
        if mode == "tunnel":
            self.ends, self.ts = inner, nets
        else:
            self.ends = dict(self.outer)
            self.ts = {s: a + host for s, a in self.outer.items()}

    def name(self):
        return f"{self.mode}/ipv{self.family}/{'udp' if self.encap == 'udp' else 'esp'}"

    def conf(self, side, child_extra="", conn_extra="", esp="aes128gcm16"):
        other = "b" if side == "a" else "a"
        ce = f"mode = {self.mode}\n                {child_extra}"
        xe = ("encap = yes\n        " if self.encap == "udp" else "") + conn_extra
        text = swanctl_conf(self.outer[side], self.outer[other], f"{side}.test", f"{other}.test", self.ts[side],
                            self.ts[other], esp=esp, child_extra=ce, conn_extra=xe)
        return text.replace("mode = tunnel\n                mode = ", "mode = ")


def kernel_sas(build, ns):
    """Every SA in the kernel of namespace `ns`: dicts of tests/vm/tools/xfrm_sas."""
    out = run(["ip", "netns", "exec", ns, f"{build}/tests/vm/xfrm_sas"], timeout=20)
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def out_policies_cpu_acquire(ns):
    """For each outbound policy of namespace `ns`: whether it has XFRM_POLICY_CPU_ACQUIRE (4).
    iproute2 6.1 prints the flags it does not know in hex after 'flag' ("flag 4")."""
    pols = run(["ip", "-n", ns, "xfrm", "policy", "list"])
    out = []
    for m in re.finditer(r"^src [^\n]*\n(?:\s[^\n]*\n?)*", pols, re.M):
        block = m.group(0)
        if "dir out" not in block:
            continue
        flags = re.search(r"flag ([^\n]*)", block)
        hexes = re.findall(r"\b([0-9a-f]+)\b", flags.group(1)) if flags else []
        out.append(any(int(h, 16) & 4 for h in hexes))
    return out


def full_group(d, n):
    g = group(d)
    return g if g is not None and sorted(g) == sorted(["-"] + [str(k) for k in range(n)]) else None


def spis(child):
    """(inbound SPI, outbound SPI) of a list-sas child as integers."""
    return int(child["spi-in"], 16), int(child["spi-out"], 16)


def main(test, name):
    """A scenario's main: `--build DIR` and positional arguments; runs `test(build, folder,
    *args)`; exit 0 on success, 1 on failure (with the last lines of every log)."""
    p = argparse.ArgumentParser(description=f"ikeplex VM scenario: {name}")
    p.add_argument("--build", required=True)
    p.add_argument("args", nargs="*")
    a = p.parse_args()
    folder = tempfile.mkdtemp(prefix=f"vm-{name}-")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        test(a.build, folder, *a.args)
        print(f"PASS: {name} {' '.join(a.args)}".strip(), flush=True)
        return 0
    except (Failure, AssertionError, subprocess.TimeoutExpired) as e:
        print(f"FAIL: {name} {' '.join(a.args)}: {e}", flush=True)
        for root, _, files in os.walk(folder):
            for f in sorted(files):
                if f.endswith((".log", ".out")):
                    path = os.path.join(root, f)
                    print(f"----- {path} (last 60 lines)")
                    with open(path, errors="replace") as fh:
                        print("".join(fh.readlines()[-60:]), flush=True)
        return 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)
