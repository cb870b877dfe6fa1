#!/usr/bin/env python3
# vm-timeout: 240
# vm-peers: libreswan
# what: ikeplexd (xfrm, per_cpu_sas = yes) <-> libreswan 4.10 pluto: one regular Child SA, every CPU's ESP, rekeys, deletes, DPD
"""ikeplexd with backend xfrm and `per_cpu_sas = yes` against Debian bookworm's libreswan 4.10
(pluto, which does not implement RFC 9611), both roles. The group degrades to one regular
Child SA ("peer did not answer/send SA_RESOURCE_INFO"), no kernel policy keeps
XFRM_POLICY_CPU_ACQUIRE, and pings pinned to every CPU at once all pass, both ways, as with
per_cpu_sas = no. Then Child SA rekeys from each side, IKE SA rekeys, Child SA and IKE SA
deletes from each side (the other side removes its SAs, in the kernel too) and DPD from each
side against a peer whose link is cut.

pluto runs from the tree unpacked from the .debs (tests/vm/peers.py; never installed on the
host) with its own ipsec.conf, secrets, NSS database and run directory, in namespace B."""
import os
import re
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import vmlib  # noqa: E402
from vmlib import Failure, children, cpus, ike_sas, kernel_sas, wait_until  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "integration"))
from lib import (INNER_A, INNER_B, NET_A, NET_B, OUTER_A, OUTER_B, PSK, Ikeplexd, Namespaces,  # noqa: E402
                 swanctl_conf)

IPSEC = "/usr/libexec/ipsec"
COUNT = 10
# ikeplexd: a group on a trap policy (the first packet starts it); with dpd_delay, a dead peer is
# found 2 s idle + 4 x 1 s (retransmit_timeout 1, retransmit_tries 3, base 1).
OURS_CHILD = "per_cpu_sas = yes\n                start_action = trap"
OURS_EXTRA = "retransmit_base = 1"


def log(msg):
    print(msg, flush=True)


class Pluto:
    """libreswan's pluto in namespace `ns`: --nofork --stderrlog, its own config, secrets, NSS
    database and run directory in `folder`; connection "t" (B's view) loaded at start."""

    def __init__(self, ns, folder, conn_extra=""):
        self.ns, self.dir = ns, folder
        self.ctl = f"{folder}/run/pluto.ctl"
        for d in ("nss", "run"):
            os.makedirs(f"{folder}/{d}", exist_ok=True)
        vmlib.run(["certutil", "-N", "-d", f"sql:{folder}/nss", "--empty-password"], timeout=60)
        with open(f"{folder}/ipsec.conf", "w") as f:
            f.write(f"""config setup
    dnssec-enable=no
conn t
    ikev2=insist
    authby=secret
    left={OUTER_B}
    leftid=@b.test
    leftsubnet={NET_B}
    right={OUTER_A}
    rightid=@a.test
    rightsubnet={NET_A}
    ike=aes_gcm256-sha2_256-dh31
    esp=aes_gcm128-null-dh31
    pfs=yes
    leftupdown=%disabled
    retransmit-interval=500
    retransmit-timeout=6s
    auto=add
{conn_extra}""")
        with open(f"{folder}/ipsec.secrets", "w") as f:
            f.write(f'@b.test @a.test : PSK "{PSK}"\n')
        os.chmod(f"{folder}/ipsec.secrets", 0o600)
        self.log_path = f"{folder}/pluto.log"
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, f"{IPSEC}/pluto", "--config", f"{folder}/ipsec.conf", "--nofork",
             "--stderrlog", "--secretsfile", f"{folder}/ipsec.secrets", "--nssdir", f"{folder}/nss", "--rundir",
             f"{folder}/run", "--ipsecdir", folder, "--dumpdir", folder],
            stdout=self.log_file, stderr=subprocess.STDOUT)
        wait_until(lambda: self.proc.poll() is not None or '"t": added IKEv2 connection' in self.log(), 30,
                   "pluto to load connection t")
        wait_until(lambda: self.proc.poll() is not None or "loading secrets" in self.log(), 30,
                   "pluto to listen and load its secrets")
        if self.proc.poll() is not None:
            raise Failure(f"pluto exited: {self.log()}")

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def whack(self, *args, timeout=30, check=True):
        return vmlib.run([f"{IPSEC}/whack", "--ctlsocket", self.ctl, *args], timeout=timeout, check=check)

    def states(self):
        """{serial: state name} of pluto's states (whack --showstates)."""
        out = {}
        for m in re.finditer(r"#(\d+): \"t\"\S* (STATE_\w+)", self.whack("--showstates")):
            out[int(m.group(1))] = m.group(2)
        return out

    def established(self, kind):
        return sorted(k for k, v in self.states().items() if v == f"STATE_V2_ESTABLISHED_{kind}_SA")

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self.log_file.close()


def ours_conf(conn_extra=""):
    return swanctl_conf(OUTER_A, OUTER_B, "a.test", "b.test", NET_A, NET_B, ike="aes256gcm16-prfsha256-x25519",
                        esp="aes128gcm16-x25519", child_extra=OURS_CHILD, conn_extra=conn_extra)


def spis(build, ns):
    """{SPI: (dst, pcpu, packets)} of the SAs in namespace `ns`'s kernel; SPI 0 (a larval
    acquire state) is left out."""
    return {s["spi"]: (s["dst"], s["pcpu"], s["packets"]) for s in kernel_sas(build, ns) if int(s["spi"], 16)}


def kernel_state(build, nsp):
    """Both kernels' SAs (larval ones too), policies and non-zero XFRM error counters, for a
    failure message."""
    out = []
    for name, ns in (("A (ikeplexd)", nsp.a), ("B (libreswan)", nsp.b)):
        stat = vmlib.run(["ip", "netns", "exec", ns, "cat", "/proc/net/xfrm_stat"], check=False)
        stat = [" ".join(line.split()) for line in stat.splitlines() if line.split()[-1:] != ["0"]]
        pols = vmlib.run(["ip", "-n", ns, "xfrm", "policy", "list"], check=False)
        pols = "\n".join(b for b in re.split(r"\n(?=src )", pols) if " socket " not in b)
        out.append(f"== {name}\nSAs: {kernel_sas(build, ns)}\n{pols}\nxfrm_stat: {', '.join(stat) or '-'}")
    return "\n".join(out)


def agree(build, nsp, ours, pluto, n, timeout=20):
    """Waits until ikeplexd, pluto and both kernels agree on one IKE SA with `n` Child SAs (None:
    no IKE SA): the same SPIs in both kernels, none per-CPU, and no group in ikeplexd. Returns
    ikeplexd's IKE SA fields."""
    def check():
        sas = ike_sas(ours.sas())
        p_ike, p_child = pluto.established("IKE"), pluto.established("CHILD")
        ka, kb = spis(build, nsp.a), spis(build, nsp.b)
        if n is None:
            return not sas and not p_ike and not p_child and not ka and not kb
        if len(sas) != 1 or len(p_ike) != 1 or len(p_child) != n:
            return None
        f = sas[0][1]
        cs = [c for c in children(f) if c["state"] == "INSTALLED"]
        if f.get("state") != "ESTABLISHED" or len(cs) != n or len(children(f)) != n:
            return None
        want = {f"0x{int(c[k], 16):08x}" for c in cs for k in ("spi-in", "spi-out")}
        if set(ka) != want or set(kb) != want:
            return None
        for c in cs:
            if "cpu" in c or "per-cpu-sas" in c:
                raise Failure(f"ikeplexd's Child SA is part of a per-CPU group against libreswan: {c}")
        pcpu = [s for s, v in list(ka.items()) + list(kb.items()) if v[1] is not None]
        if pcpu:
            raise Failure(f"per-CPU SAs in the kernel: {pcpu}")
        return f
    try:
        return wait_until(check, timeout, f"ikeplexd, pluto and the kernels to agree on {n} Child SA(s)")
    except Failure as e:
        raise Failure(f"{e}\nikeplexd: {ours.cli('list-sas', '--json', check=False)}\n"
                      f"pluto: {pluto.states()}\n{kernel_state(build, nsp)}") from e


def agree_until(build, nsp, ours, pluto, pred, what):
    def step():
        f = agree(build, nsp, ours, pluto, 1)
        return f if pred(f) else None
    return wait_until(step, 30, what)


def no_cpu_acquire(build, nsp):
    """ikeplexd's outbound policy asks for no per-CPU acquires (XFRM_POLICY_CPU_ACQUIRE), and no
    larval acquire state (SPI 0) is left in its kernel: either would hold a CPU's packets."""
    flags = vmlib.out_policies_cpu_acquire(nsp.a)
    if not flags or any(flags):
        raise Failure(f"outbound policies with XFRM_POLICY_CPU_ACQUIRE: {flags}\n{kernel_state(build, nsp)}")
    larval = lambda: [s for s in kernel_sas(build, nsp.a) if not int(s["spi"], 16)]  # noqa: E731
    try:
        wait_until(lambda: not larval(), 5, "no larval acquire state in ikeplexd's kernel")
    except Failure as e:
        raise Failure(f"{e}\n{kernel_state(build, nsp)}") from e


def trigger(nsp):
    """One packet from A: the trap's acquire starts the IKE SA or the Child SA. One only: more
    packets while the SA goes in could meet the policy before its per-CPU flag is cleared."""
    vmlib.run(["ip", "netns", "exec", nsp.a, "taskset", "-c", "0", "ping", "-n", "-c", "1", "-W", "1", "-I", INNER_A,
               INNER_B], check=False)


def pings(ns, src, dst, n):
    """Pings from every CPU at once (taskset -c k, COUNT each); every one must get all replies."""
    procs = [subprocess.Popen(["ip", "netns", "exec", ns, "taskset", "-c", str(k), "ping", "-n", "-c", str(COUNT),
                               "-i", "0.05", "-W", "2", "-I", src, dst], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for k in range(n)]
    outs = [p.communicate(timeout=60)[0] for p in procs]
    bad = [f"CPU {k}: {o.strip().splitlines()[-2:]}" for k, o in enumerate(outs) if f" {COUNT} received" not in o]
    if bad:
        raise Failure(f"ping {src} -> {dst} lost packets: {bad}")


def traffic(build, nsp, ours, what):
    """Pings both ways from every CPU at once; the kernel's one SA pair carried them all."""
    n = cpus()
    no_cpu_acquire(build, nsp)
    child = children(ike_sas(ours.sas())[0][1])[0]
    spi_out = f"0x{int(child['spi-out'], 16):08x}"
    before = spis(build, nsp.a)[spi_out][2]
    try:
        pings(nsp.a, INNER_A, INNER_B, n)
        pings(nsp.b, INNER_B, INNER_A, n)
    except Failure as e:
        raise Failure(f"{what}: {e}\n{kernel_state(build, nsp)}") from e
    sent = spis(build, nsp.a)[spi_out][2] - before
    if sent < 2 * n * COUNT:
        raise Failure(f"{what}: the out SA {spi_out} carried {sent} packets, want {2 * n * COUNT}")
    log(f"  {what}: {n} CPUs x {COUNT} pings each way at once, all answered; ikeplexd's out SA {spi_out} "
        f"+{sent} packets, {spis(build, nsp.b)[spi_out][2]} in at libreswan")


def control(ours, *args):
    """An `ikeplex` command; a failure or hang says what ikeplexd held at that moment."""
    try:
        return ours.cli(*args, "--timeout", "10", timeout=20) if args[0] == "terminate" else ours.cli(*args)
    except (Failure, subprocess.TimeoutExpired) as e:
        raise Failure(f"ikeplex {' '.join(args)}: {e}\nlist-sas: {ours.cli('list-sas', '--json', check=False)}\n"
                      f"counters: {ours.cli('counters', check=False)}") from e


def up(build, nsp, ours, pluto, notice):
    f = agree(build, nsp, ours, pluto, 1)
    wait_until(lambda: notice in open(f"{ours.dir}/ikeplexd.log").read(), 10, f"ikeplexd to log '{notice}'")
    log(f"  up: IKE SA {f['initiator-spi']}_i {f['responder-spi']}_r; ikeplexd: '{notice}'")
    traffic(build, nsp, ours, "regular Child SA, no per-CPU acquires on its policy")
    return f


def rekey_child(build, nsp, ours, pluto, f, by):
    old = children(f)[0]["spi-in"]
    if by == "ikeplexd":
        control(ours, "rekey", "--child", "net")
    else:
        pluto.whack("--rekey-ipsec", "--name", "t")
    f = agree_until(build, nsp, ours, pluto, lambda g: children(g)[0]["spi-in"] != old, f"{by}'s Child SA rekey")
    traffic(build, nsp, ours, f"Child SA rekeyed by {by} ({old} -> {children(f)[0]['spi-in']})")
    return f


def rekey_ike(build, nsp, ours, pluto, f, by):
    old = f["initiator-spi"]
    if by == "ikeplexd":
        control(ours, "rekey", "--ike", "t")
    else:
        pluto.whack("--rekey-ike", "--name", "t")
    f = agree_until(build, nsp, ours, pluto, lambda g: g["initiator-spi"] != old, f"{by}'s IKE SA rekey")
    traffic(build, nsp, ours, f"IKE SA rekeyed by {by} ({old}_i -> {f['initiator-spi']}_i)")
    return f


def ikeplexd_initiates(build, nsp, folder):
    log("ikeplexd initiates (trap), libreswan responds")
    pluto = Pluto(nsp.b, f"{folder}/pluto")
    ours = None
    try:
        ours = Ikeplexd(build, nsp.a, f"{folder}/ours", ours_conf("dpd_delay = 2s"), extra=OURS_EXTRA,
                        workers=cpus(), backend="xfrm")
        flags = wait_until(lambda: vmlib.out_policies_cpu_acquire(nsp.a), 10, "ikeplexd's trap policy")
        log(f"  trap policy installed; asks for per-CPU acquires: {flags}")
        trigger(nsp)
        f = up(build, nsp, ours, pluto, "peer did not answer SA_RESOURCE_INFO")
        f = rekey_child(build, nsp, ours, pluto, f, "ikeplexd")
        f = rekey_child(build, nsp, ours, pluto, f, "libreswan")
        rekey_ike(build, nsp, ours, pluto, f, "ikeplexd")

        control(ours, "terminate", "--child", "net")
        agree(build, nsp, ours, pluto, 0)
        log("  Child SA deleted by ikeplexd: gone in libreswan and both kernels, the IKE SA stays")
        control(ours, "terminate", "--ike", "t")
        agree(build, nsp, ours, pluto, None)
        log("  IKE SA deleted by ikeplexd: libreswan has no state left, no SA in either kernel")

        trigger(nsp)
        agree(build, nsp, ours, pluto, 1)
        no_cpu_acquire(build, nsp)
        nsp.block(nsp.b)
        wait_until(lambda: not ike_sas(ours.sas()) and not spis(build, nsp.a), 30,
                   "ikeplexd's DPD to remove the IKE SA and its kernel SAs")
        unblock(nsp, nsp.b)
        if "giving up after" not in open(f"{ours.dir}/ikeplexd.log").read():
            raise Failure("ikeplexd removed the IKE SA without a failed liveness check")
        log("  DPD: ikeplexd noticed the cut link and removed the IKE SA and its kernel SAs")
    finally:
        if ours is not None:
            ours.close()
        pluto.close()


def libreswan_initiates(build, nsp, folder):
    log("libreswan initiates, ikeplexd responds (its trap policy installed)")
    pluto = Pluto(nsp.b, f"{folder}/pluto", "    dpddelay=2\n    dpdtimeout=6\n    dpdaction=clear\n")
    ours = None
    try:
        ours = Ikeplexd(build, nsp.a, f"{folder}/ours", ours_conf(), extra=OURS_EXTRA, workers=cpus(),
                        backend="xfrm")
        wait_until(lambda: vmlib.out_policies_cpu_acquire(nsp.a), 10, "ikeplexd's trap policy")
        pluto.whack("--initiate", "--name", "t", "--asynchronous")
        f = up(build, nsp, ours, pluto, "peer did not send SA_RESOURCE_INFO")
        f = rekey_child(build, nsp, ours, pluto, f, "ikeplexd")
        rekey_ike(build, nsp, ours, pluto, f, "libreswan")

        child = pluto.established("CHILD")[0]
        pluto.whack("--deletestate", str(child))
        agree(build, nsp, ours, pluto, 0)
        log(f"  Child SA #{child} deleted by libreswan: gone in ikeplexd and both kernels, the IKE SA stays")
        pluto.whack("--terminate", "--name", "t")
        agree(build, nsp, ours, pluto, None)
        log("  IKE SA deleted by libreswan: ikeplexd has no IKE SA left, no SA in either kernel")

        pluto.whack("--initiate", "--name", "t", "--asynchronous")
        agree(build, nsp, ours, pluto, 1)
        nsp.block(nsp.a)
        # 2 s idle, then the liveness check retransmitted for retransmit-timeout (6 s).
        wait_until(lambda: not pluto.established("IKE") and not pluto.established("CHILD") and not spis(build, nsp.b),
                   30, "libreswan's DPD to remove its IKE SA and kernel SAs")
        unblock(nsp, nsp.a)
        if "liveness action - clearing connection" not in pluto.log():
            raise Failure("libreswan removed its SAs without a failed liveness check")
        log("  DPD: libreswan noticed the cut link and removed its states and kernel SAs")
    finally:  # pluto first: it re-initiates (the connection was brought up) when ikeplexd deletes
        pluto.close()
        if ours is not None:
            ours.close()


def unblock(nsp, ns):
    """Undoes Namespaces.block: the link up again and the plain routes (gone with the link)."""
    nsp.block(ns, False)
    nsp.plain_routes()


def test(build, folder):
    with Namespaces("ls") as nsp:
        nsp.plain_routes()  # pluto runs no updown script; on A the trap needs a route to send on
        ikeplexd_initiates(build, nsp, f"{folder}/1")
        libreswan_initiates(build, nsp, f"{folder}/2")


if __name__ == "__main__":
    sys.exit(vmlib.main(test, "libreswan"))
