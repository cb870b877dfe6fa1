#!/usr/bin/env python3
"""The VM runner (tests/vm/README.md): boots Debian unstable's cloud kernel (ESP, per-CPU SAs)
under qemu with the current build, runs named scenarios inside one boot and returns their
verdicts. Always ends: a boot timeout, a timeout per scenario (inside the guest and again on the
host), and qemu is killed on any overrun.

  vm.py --build build/ci [--smp 2] scenario[:arg,arg] ...   run scenarios (tests/vm/scenarios/)
  vm.py kernel                                              fetch or reuse the kernel, print it

Exit status: 0 when every scenario passed, 1 when one failed or timed out, 2 on a set-up failure
(no kernel, no qemu), printed in one line starting with "vm: set-up failed:".
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import guest  # noqa: E402
import kernel  # noqa: E402
import peers  # noqa: E402

SCENARIOS = os.path.join(HERE, "scenarios")
# Where guest-init.sh mounts file systems of its own (the image's files there are hidden).
GUEST_MOUNTS = ("/proc", "/sys", "/dev", "/run", "/var/tmp", "/var/run")
BOOT_TIMEOUT = 60  # seconds from qemu's start to "@@VM ready" (about 6 s idle under TCG)
BOOT_TRIES = 3
# tsc=unstable: under TCG the kernel otherwise marks sched_clock stable 1.2 s into the boot, a
# static-key flip patched into sched_clock_cpu() while the other vCPU runs it; multi-threaded
# TCG then sometimes executes the transient int3 ("Oops: int3" in sched_clock_cpu, seen 1 in
# about 10 boots). Without a stable TSC there is no flip (the clock source is the HPET).
CMDLINE = "console=ttyS0 panic=-1 oops=panic tsc=unstable quiet loglevel=4 rw"
# A guest kernel in trouble: the run stops at once instead of waiting for a deadline.
TROUBLE = r"\[ *\d+\.\d+\] (Oops:|Kernel panic|BUG: |general protection fault)"


def log(msg):
    print(msg, flush=True)


def scenario_command(spec, build):
    """(name, timeout, command) of a scenario spec "name" or "name:arg,arg"."""
    name, _, args = spec.partition(":")
    path = next((p for p in (os.path.join(SCENARIOS, name + ext) for ext in (".py", ".sh")) if os.path.exists(p)), None)
    if path is None:
        raise SystemExit(f"vm: no scenario {name} in {SCENARIOS}")
    with open(path) as f:
        m = re.search(r"^# vm-timeout:\s*(\d+)", f.read(), re.M)
    limit = int(m.group(1)) if m else 120
    argv = " ".join(a for a in args.split(",") if a)
    runner = "python3" if path.endswith(".py") else "bash"
    return spec.replace(" ", "_"), limit, f"{runner} {path} --build {build} {argv}".strip()


def kvm_works(vmlinuz, initrd):
    """True when KVM boots a guest here (on nested-virtualised machines it fails with an
    emulation failure). Probed once per host kernel and remembered in the cache."""
    if not os.path.exists("/dev/kvm") or os.environ.get("IKEPLEX_VM_KVM") == "0":
        return False
    mark = os.path.join(kernel.cache_dir(), f"kvm-probe-{os.uname().release}")
    if os.path.exists(mark):
        with open(mark) as f:
            return f.read().strip() == "yes"
    try:
        r = subprocess.run(["qemu-system-x86_64", "-accel", "kvm", "-cpu", "host", "-m", "512", "-smp", "1",
                            "-display", "none", "-monitor", "none", "-serial", "stdio", "-nic", "none",
                            "-no-reboot", "-kernel", vmlinuz, "-initrd", initrd,
                            "-append", "console=ttyS0 panic=-1 quiet rdinit=/probe"],
                           capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
        ok = "@@KVM ok" in r.stdout
    except subprocess.TimeoutExpired:
        ok = False
    with open(mark, "w") as f:
        f.write("yes\n" if ok else "no\n")
    return ok


class Console:
    """Reads the guest's serial console line by line on a thread; the runner waits on markers."""

    def __init__(self, proc, echo):
        self.proc = proc
        self.lines = []
        self.cond = threading.Condition()
        self.echo = echo
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode(errors="replace").replace("\r", "").rstrip("\n")
            line = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1bc", "", line)
            if self.echo:
                print(f"  | {line}", flush=True)
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()
        with self.cond:
            self.lines.append(None)  # end of output
            self.cond.notify_all()

    def wait_marker(self, start, pattern, deadline):
        """Index and match of the first line from `start` matching `pattern`; None on timeout or
        end of output."""
        i = start
        with self.cond:
            while True:
                while i < len(self.lines):
                    line = self.lines[i]
                    if line is None:
                        return None, None
                    m = re.match(pattern, line)
                    if m:
                        return i, m
                    i += 1
                left = deadline - time.time()
                if left <= 0:
                    return None, None
                self.cond.wait(min(left, 1.0))


def boot_once(qemu, skip, plan, echo, results):
    """Boots once and runs plan[skip:]; fills `results`. Returns (status, number of scenarios
    finished): status "done", "boot" (no ready marker), "oops" (guest kernel trouble during a
    scenario, which is not counted as finished) or "timeout"."""
    cmdline = CMDLINE + (f" ikeplex.skip={skip}" if skip else "")
    proc = subprocess.Popen(qemu + ["-append", cmdline], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    con = Console(proc, echo)
    ran = 0
    try:
        boot0 = time.time()
        at, m = con.wait_marker(0, r"@@VM ready (\S+) cpus=(\d+)|" + TROUBLE, time.time() + BOOT_TIMEOUT)
        if m is None or not m.group(0).startswith("@@VM ready"):
            return "boot", 0
        log(f"vm: booted {m.group(1)} with {m.group(2)} CPUs in {time.time() - boot0:.1f} s")
        for name, limit, _ in plan[skip:]:
            at, m = con.wait_marker(at, rf"@@VM begin {re.escape(name)}$|" + TROUBLE, time.time() + 60)
            if m is None or not m.group(0).startswith("@@VM"):
                results[name] = "NOT RUN" if m is None else "GUEST KERNEL OOPS"
                return ("timeout" if m is None else "oops"), ran
            s0 = time.time()
            at, m = con.wait_marker(at, rf"@@VM end {re.escape(name)} rc=(\d+) secs=(\d+)|" + TROUBLE,
                                    time.time() + limit + 30)
            if m is None:
                results[name] = f"TIMEOUT (host, {time.time() - s0:.0f} s)"
                return "timeout", ran
            if not m.group(0).startswith("@@VM"):
                results[name] = "GUEST KERNEL OOPS"
                return "oops", ran
            rc = int(m.group(1))
            results[name] = "PASS" if rc == 0 else ("TIMEOUT" if rc in (124, 137) else f"FAIL rc={rc}")
            results[name] += f" ({m.group(2)} s)"
            ran += 1
        con.wait_marker(at, r"@@VM done", time.time() + 30)
        return "done", ran
    finally:
        if proc.poll() is None:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        con.thread.join(timeout=5)


def run(build, specs, smp, mem, keep, echo):
    for path in (build, SOURCE):
        hidden = [m for m in GUEST_MOUNTS if (path + "/").startswith(m + "/")]
        if hidden:  # the guest mounts its own file systems there, which would hide them
            raise kernel.SetupError(f"{path}: the checkout and the build cannot live under {hidden[0]}")
    version, kdir = kernel.ensure_kernel(log)
    plan = [scenario_command(s, build) for s in specs]
    trees, files = peers.ensure(peers.needed(specs, SCENARIOS), log)  # e.g. libreswan, never installed here
    if shutil.which("qemu-system-x86_64") is None:
        raise kernel.SetupError("qemu-system-x86_64 is not installed (scripts/setup-deps.sh)")
    work = tempfile.mkdtemp(prefix="run-", dir=kernel.cache_dir())
    results = {}
    try:
        t0 = time.time()
        tree = guest.stage(os.path.join(work, "root"), version, kdir, build, SOURCE, extra_trees=trees,
                           extra_files=files)
        with open(os.path.join(tree.root, "vm", "plan"), "w") as f:
            for name, limit, cmd in plan:
                f.write(f"{name} {limit} {cmd}\n")
        with open(os.path.join(tree.root, "vm", "env"), "w") as f:
            f.write(f"IKEPLEX_BUILD={build}\nIKEPLEX_SOURCE={SOURCE}\nIKEPLEX_VM=1\nIKEPLEX_VM_SMP={smp}\n"
                    f"IKEPLEX_VM_KERNEL={version}\nPYTHONDONTWRITEBYTECODE=1\nHOME=/root\n")
        image = os.path.join(work, "root.img")
        size = guest.make_image(tree.root, image)
        shutil.rmtree(tree.root)
        initrd = os.path.join(work, "initrd.cpio")
        guest.make_initramfs(work, version, kdir, initrd)
        accel = ["-accel", "kvm", "-cpu", "host"] if kvm_works(os.path.join(kdir, "vmlinuz"), initrd) else \
            ["-accel", "tcg,thread=multi", "-cpu", "max"]
        log(f"vm: guest image {size} MB built in {time.time() - t0:.1f} s; booting kernel {version} with -smp {smp} "
            f"({accel[1].split(',')[0]}): {', '.join(n for n, _, _ in plan)}")
        qemu = ["qemu-system-x86_64", *accel, "-smp", str(smp), "-m", str(mem), "-display", "none",
                "-monitor", "none", "-serial", "stdio", "-nic", "none", "-no-reboot",
                "-kernel", os.path.join(kdir, "vmlinuz"), "-initrd", initrd,
                "-drive", f"file={image},format=raw,if=virtio,cache=unsafe"]
        skip, boots, oops_retried = 0, 0, False
        while skip < len(plan):
            boots += 1
            status, ran = boot_once(qemu, skip, plan, echo, results)
            if status == "boot":
                if boots < BOOT_TRIES:
                    log(f"vm: boot {boots} failed; booting again")
                    continue
                log(f"vm: FAIL the guest did not boot in {BOOT_TRIES} tries")
                break
            skip += ran
            if status == "oops" and not oops_retried:
                # The guest kernel failed under TCG: the scenario it interrupted runs again once,
                # in a new boot, and the rest after it. A second oops fails the run.
                oops_retried = True
                log(f"vm: the guest kernel failed during {plan[skip][0]}; running it and the rest in a new boot")
                continue
            if status != "done":
                break
    finally:
        if keep:
            log(f"vm: kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    for name, _, _ in plan:
        results.setdefault(name, "NOT RUN")
    return 0 if all(v.startswith("PASS") for v in results.values()) else 1, results


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", help="build directory (its binaries run in the guest)")
    ap.add_argument("--smp", type=int, default=2)
    ap.add_argument("--mem", type=int, default=2048, help="guest memory in MB")
    ap.add_argument("--keep", action="store_true", help="keep the guest image and initramfs")
    ap.add_argument("--quiet", action="store_true", help="do not echo the guest console")
    ap.add_argument("scenarios", nargs="+", help="'kernel', or scenario names (tests/vm/scenarios)")
    a = ap.parse_args()
    try:
        if a.scenarios == ["kernel"]:
            kernel.ensure_kernel(log)
            return 0
        if not a.build:
            ap.error("--build is required to run scenarios")
        if os.geteuid() != 0:
            log("vm: skipped: needs root (the guest image keeps root's ownership)")
            return 77
        rc, results = run(os.path.abspath(a.build), a.scenarios, a.smp, a.mem, a.keep, not a.quiet)
    except kernel.SetupError as e:
        log(f"vm: set-up failed: {e}")
        return 2
    log("vm: results")
    for name, verdict in results.items():
        log(f"vm:   {name:40s} {verdict}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
