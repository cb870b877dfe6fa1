#!/usr/bin/env python3
"""Records what iproute2's `ip xfrm` sends to the kernel (and, with --seeds, what the kernel
answers) so that tests/unit/xfrm/golden_test.cc can compare ikeplex's XFRM codec with it.

Every command runs inside a network namespace of its own making (xfrmB-cap-<pid>), deleted in
a finally block, under
    strace -f -e trace=sendmsg,sendto -e write=all -xx -s 8000 ip xfrm ...
strace's `write=all` hex dump gives the exact bytes of each netlink request; the script keeps
the one XFRM message of the expected type and writes <name>.hex: the nlmsghdr type and flags,
then the body (everything after the 16-byte nlmsghdr, whose seq/pid are the only per-run values).

With --seeds DIR it also records kernel -> user datagrams for the fuzz corpus
(tests/fuzz/corpus/xfrm) with `-e trace=recvmsg -e read=all`: one raw file per datagram.

With --xfrm-test PATH (the built tests/unit/xfrm xfrm_test) it also records what ikeplex's own
socket receives (record_test_seeds).

Usage (root): tests/vectors/xfrm/capture.py [--out DIR] [--seeds DIR [--xfrm-test PATH]]
"""

import argparse
import datetime
import os
import re
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# Fixed keys (not secret: test vectors).
KEY_CBC128 = "0x000102030405060708090a0b0c0d0e0f"
KEY_SHA256 = "0x202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
KEY_GCM128 = "0x404142434445464748494a4b4c4d4e4f50515253"  # 16 key + 4 salt

XFRM_MSG = {
    "NEWSA": 16, "DELSA": 17, "GETSA": 18, "NEWPOLICY": 19, "DELPOLICY": 20,
    "GETPOLICY": 21, "ALLOCSPI": 22, "ACQUIRE": 23, "UPDPOLICY": 25, "UPDSA": 26,
}

# name, expected message type, ip arguments (after `ip xfrm`), comment
CAPTURES = [
    ("newpolicy_out_tunnel", "NEWPOLICY",
     "policy add src 10.99.1.0/24 dst 10.99.2.0/24 dir out priority 100 "
     "tmpl src 10.99.0.1 dst 10.99.0.2 proto esp reqid 7 mode tunnel",
     "OUT policy, IPv4 subnets, one ESP tunnel template (iproute2 sets aalgos/ealgos/calgos "
     "to ~0 and the byte/packet limits of the policy lifetime to XFRM_INF)"),
    ("newpolicy_out_cpu_acquire", "NEWPOLICY",
     "policy add src 10.99.3.0/24 dst 10.99.4.0/24 dir out priority 110 flag 0x4 "
     "tmpl src 10.99.0.1 dst 10.99.0.2 proto esp reqid 12 mode tunnel",
     "OUT policy with flags = 4 (XFRM_POLICY_CPU_ACQUIRE, Linux 6.13; iproute2 6.1 has no name "
     "for it but takes a hex number after `flag`)"),
    ("updpolicy_out_tunnel", "UPDPOLICY",
     "policy update src 10.99.1.0/24 dst 10.99.2.0/24 dir out priority 101 "
     "tmpl src 10.99.0.1 dst 10.99.0.2 proto esp reqid 7 mode tunnel",
     "UPDPOLICY of the OUT policy with another priority"),
    ("newpolicy_in_transport", "NEWPOLICY",
     "policy add src 10.99.0.2 dst 10.99.0.1 proto tcp dport 443 dir in priority 200 "
     "tmpl proto esp reqid 9 mode transport",
     "IN policy, host to host, TCP destination port 443, ESP transport template without "
     "addresses"),
    ("newpolicy_fwd_tunnel_v6", "NEWPOLICY",
     "policy add src fd00:99:2::/48 dst fd00:99:1::/48 dir fwd priority 300 "
     "tmpl src fd00:99::2 dst fd00:99::1 proto esp reqid 10 mode tunnel",
     "FWD policy, IPv6 subnets, ESP tunnel template"),
    ("delpolicy", "DELPOLICY",
     "policy delete src 10.99.1.0/24 dst 10.99.2.0/24 dir out",
     "DELPOLICY by selector and direction (struct xfrm_userpolicy_id)"),
    ("dump_policy", "GETPOLICY", "policy list", "GETPOLICY dump"),
    ("newsa_cbc_sha256_tunnel", "NEWSA",
     "state add src 10.99.0.1 dst 10.99.0.2 proto esp spi 0xc0000101 reqid 7 mode tunnel "
     "replay-window 32 enc cbc(aes) " + KEY_CBC128 + " auth-trunc hmac(sha256) " + KEY_SHA256 +
     " 128 sel src 0.0.0.0/0 dst 0.0.0.0/0",
     "tunnel-mode SA, AES-CBC-128 + HMAC-SHA2-256-128, 32-packet window (the kernel rejects it "
     "without ESP: EPROTONOSUPPORT, but ip sends it)"),
    ("newsa_gcm_encap", "NEWSA",
     "state add src 10.99.0.1 dst 10.99.0.2 proto esp spi 0xc0000102 reqid 8 mode tunnel "
     "replay-window 32 aead rfc4106(gcm(aes)) " + KEY_GCM128 + " 128 "
     "encap espinudp 4500 4500 0.0.0.0 sel src 0.0.0.0/0 dst 0.0.0.0/0",
     "tunnel-mode SA, AES-GCM-128 (rfc4106, ICV 128), UDP encapsulation 4500 -> 4500"),
    ("newsa_esn", "NEWSA",
     "state add src 10.99.0.1 dst 10.99.0.2 proto esp spi 0xc0000103 reqid 9 mode tunnel "
     "flag esn replay-window 128 aead rfc4106(gcm(aes)) " + KEY_GCM128 + " 128 "
     "limit time-soft 3300 limit time-hard 3600 limit byte-soft 1000000 "
     "limit byte-hard 2000000 limit packet-soft 10000 limit packet-hard 20000 "
     "sel src 0.0.0.0/0 dst 0.0.0.0/0",
     "ESN SA with a 128-packet window (XFRMA_REPLAY_ESN_VAL, bmp_len 4) and lifetimes"),
    ("newsa_tunnel_v6", "NEWSA",
     "state add src fd00:99::1 dst fd00:99::2 proto esp spi 0xc0000105 reqid 10 mode tunnel "
     "replay-window 32 aead rfc4106(gcm(aes)) " + KEY_GCM128 + " 128 "
     "sel src ::/0 dst ::/0",
     "IPv6 tunnel-mode SA, AES-GCM-128"),
    ("updsa", "UPDSA",
     "state update src 10.99.0.1 dst 10.99.0.2 proto esp spi 0xc0000104 reqid 11 "
     "mode transport replay-window 32 enc cbc(aes) " + KEY_CBC128 + " auth-trunc hmac(sha256) " +
     KEY_SHA256 + " 128 sel src 10.99.0.1/32 dst 10.99.0.2/32",
     "UPDSA (what completes an ALLOCSPI'd larval SA): transport mode, host selector"),
    ("delsa", "DELSA",
     "state delete dst 10.99.0.2 proto esp spi 0xc0000101",
     "DELSA by (daddr, spi, proto); no src (that would add XFRMA_SRCADDR)"),
    ("getsa", "GETSA",
     "state get dst 10.99.0.2 proto esp spi 0xc0000101",
     "GETSA by (daddr, spi, proto)"),
    ("allocspi", "ALLOCSPI",
     "state allocspi src 10.99.0.1 dst 10.99.0.2 proto esp reqid 11 "
     "min 0xc0000000 max 0xcfffffff",
     "ALLOCSPI of a larval SA, SPI range 0xc0000000-0xcfffffff, reqid 11"),
    ("dump_sa", "GETSA", "state list", "GETSA dump"),
]

HEXLINE = re.compile(r"^(?:\[pid\s+\d+\]\s+)?\s*\|\s([0-9a-f]{5})\s\s")
CALL = re.compile(r"^(?:\[pid\s+\d+\]\s+)?(sendmsg|sendto|recvmsg|recvfrom)\(")


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def parse_strace(text):
    """(call, line, bytes) per syscall, with the bytes of strace's write=/read= hex dump."""
    calls = []
    for line in text.splitlines():
        m = CALL.match(line)
        if m:
            calls.append([m.group(1), line, bytearray()])
            continue
        m = HEXLINE.match(line)
        if m and calls:
            start = m.end()
            for tok in line[start:start + 49].split():
                calls[-1][2].append(int(tok, 16))
    return calls


def messages(data):
    """Splits a netlink datagram: (type, flags, whole message)."""
    out = []
    at = 0
    while at + 16 <= len(data):
        n = int.from_bytes(data[at:at + 4], "little")
        if n < 16 or at + n > len(data):
            raise ValueError("bad nlmsg_len")
        out.append((int.from_bytes(data[at + 4:at + 6], "little"),
                    int.from_bytes(data[at + 6:at + 8], "little"), bytes(data[at:at + n])))
        at += (n + 3) & ~3
    return out


class Netns:
    """A named network namespace; use in_netns(), which deletes it in a finally block."""

    def __init__(self, name):
        self.name = name

    def cmd(self, argv):
        return ["ip", "netns", "exec", self.name] + argv


def in_netns(name, fn):
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        ns = Netns(name)
        subprocess.run(ns.cmd(["ip", "link", "set", "lo", "up"]), check=True)
        fn(ns)
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def strace_ip(ns, args, trace, dump):
    argv = ns.cmd(["strace", "-f", "-e", "trace=" + trace, "-e", dump + "=all", "-xx", "-s",
                   "8000", "ip", "xfrm"] + args.split())
    r = run(argv)
    return r, parse_strace(r.stderr)


def capture_requests(ns, outdir, stamp):
    for name, typ, args, comment in CAPTURES:
        r, calls = strace_ip(ns, args, "sendmsg,sendto", "write")
        found = []
        for _, _, data in calls:
            for t, f, msg in messages(data):
                if t == XFRM_MSG[typ]:
                    found.append((t, f, msg))
        if len(found) != 1:
            raise SystemExit(f"{name}: expected one {typ}, found {len(found)}\n{r.stderr}")
        t, f, msg = found[0]
        body = msg[16:]
        ip_err = [ln for ln in r.stderr.splitlines() if ln.startswith(("Error", "RTNETLINK"))]
        with open(os.path.join(outdir, name + ".hex"), "w") as fp:
            fp.write(f"# {comment}\n")
            fp.write(f"# command: ip xfrm {args}\n")
            fp.write(f"# {stamp}\n")
            fp.write(f"# ip exit status {r.returncode}" +
                     (f" ({ip_err[-1]})" if ip_err else "") + "\n")
            fp.write(f"# nlmsghdr: len {len(msg)} type {t} flags 0x{f:04x}; the body below "
                     f"is the {len(body)} bytes after it\n")
            fp.write(f"type {t}\n")
            fp.write(f"flags 0x{f:04x}\n")
            for i in range(0, len(body), 32):
                fp.write(body[i:i + 32].hex() + "\n")
        print(f"{name}: type {t} flags 0x{f:04x} body {len(body)} bytes, ip rc {r.returncode}")


def record_replies(ns, args, seeds, prefix, want=None):
    """Writes every datagram `ip xfrm <args>` receives (MSG_PEEK calls skipped)."""
    r, calls = strace_ip(ns, args, "recvmsg,recvfrom", "read")
    n = 0
    for call, line, data in calls:
        if "MSG_PEEK" in line or not data:
            continue
        msgs = messages(data)
        if want is not None and not any(t == want for t, _, _ in msgs):
            continue
        with open(os.path.join(seeds, f"{prefix}-{n}"), "wb") as fp:
            fp.write(bytes(data))
        print(f"seed {prefix}-{n}: {len(data)} bytes, types {[t for t, _, _ in msgs]}")
        n += 1
    return r


def record_seeds(ns, seeds):
    os.makedirs(seeds, exist_ok=True)
    run(ns.cmd(["ip", "xfrm", "policy", "flush"]))
    run(ns.cmd(["ip", "xfrm", "state", "flush"]))
    for a in [
        "policy add src 10.99.1.0/24 dst 10.99.2.0/24 dir out priority 100 "
        "tmpl src 10.99.0.1 dst 10.99.0.2 proto esp reqid 7 mode tunnel",
        "policy add src 10.99.2.0/24 dst 10.99.1.0/24 dir in priority 100 "
        "tmpl src 10.99.0.2 dst 10.99.0.1 proto esp reqid 7 mode tunnel",
        "policy add src fd00:99:2::/48 dst fd00:99:1::/48 dir fwd priority 300 flag 0x4 "
        "tmpl src fd00:99::2 dst fd00:99::1 proto esp reqid 10 mode tunnel",
    ]:
        run(ns.cmd(["ip", "xfrm"] + a.split()), check=True)
    record_replies(ns, "policy list", seeds, "policy-dump", XFRM_MSG["NEWPOLICY"])
    record_replies(ns, "state allocspi src 10.99.0.1 dst 10.99.0.2 proto esp reqid 11 "
                   "min 0xc0000000 max 0xcfffffff", seeds, "allocspi-reply", XFRM_MSG["NEWSA"])
    record_replies(ns, "state list", seeds, "sa-dump", XFRM_MSG["NEWSA"])
    # An error acknowledgement with extended ack text ("Requested type not found" without
    # ESP, or the text the kernel gives for this SA).
    record_replies(ns, "state add src 10.99.0.1 dst 10.99.0.2 proto esp spi 0xc0000101 reqid 7 "
                   "mode tunnel enc cbc(aes) " + KEY_CBC128 + " auth-trunc hmac(sha256) " +
                   KEY_SHA256 + " 128", seeds, "error-ack", 2)
    # A real ACQUIRE: trap policy 10.99.7.1 -> 10.99.8.0/24 (routed via lo), one UDP datagram
    # to 10.99.8.5:9; `ip xfrm monitor acquire` records what the kernel multicasts.
    # Loopback has disable_xfrm = 1 (no policy lookup for its routes) unless told otherwise.
    run(ns.cmd(["sysctl", "-qw", "net.ipv4.conf.lo.disable_xfrm=0"]), check=True)
    run(ns.cmd(["ip", "addr", "add", "10.99.7.1/24", "dev", "lo"]), check=True)
    run(ns.cmd(["ip", "route", "add", "10.99.8.0/24", "dev", "lo"]), check=True)
    run(ns.cmd(["ip", "xfrm", "policy", "add", "src", "10.99.7.1/32", "dst", "10.99.8.0/24",
                "dir", "out", "priority", "100", "tmpl", "src", "10.99.7.1", "dst", "10.99.7.2",
                "proto", "esp", "reqid", "42", "mode", "tunnel"]), check=True)
    mon = subprocess.Popen(ns.cmd(["strace", "-f", "-e", "trace=recvmsg", "-e", "read=all",
                                   "-xx", "-s", "8000", "ip", "xfrm", "monitor", "acquire"]),
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.0)
        send = ("import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                "s.bind(('10.99.7.1',0))\ns.setblocking(False)\n"
                "try:\n s.sendto(b'x',('10.99.8.5',9))\nexcept OSError:\n pass\n")
        run(ns.cmd([sys.executable, "-c", send]))
        time.sleep(1.0)
    finally:
        mon.terminate()
        _, err = mon.communicate(timeout=10)
    n = 0
    for call, line, data in parse_strace(err):
        if "MSG_PEEK" in line or not data:
            continue
        if any(t == XFRM_MSG["ACQUIRE"] for t, _, _ in messages(data)):
            with open(os.path.join(seeds, f"acquire-{n}"), "wb") as fp:
                fp.write(bytes(data))
            print(f"seed acquire-{n}: {len(data)} bytes")
            n += 1
    if n == 0:
        raise SystemExit("no ACQUIRE recorded")


def record_test_seeds(xfrm_test, seeds):
    """Seeds from ikeplex's own socket (NETLINK_CAP_ACK + NETLINK_EXT_ACK): the kernel tests
    write the ALLOCSPI/GETSA answers with XFRMA_SA_PCPU and an ACQUIRE
    (IKEPLEX_WRITE_XFRM_SEEDS), and strace records the capped error acknowledgements with
    extended-ack text of NewSaPcpuWithoutDirectionRefused. The tests make their own
    namespaces (unshare), so nothing is left behind."""
    os.makedirs(seeds, exist_ok=True)
    env = dict(os.environ, IKEPLEX_WRITE_XFRM_SEEDS=seeds)
    r = run([xfrm_test, "--gtest_filter=XfrmKernel.AllocSpiWithPcpu:"
             "XfrmAcquire.TrapPolicySendsAcquire"], env=env)
    if r.returncode != 0:
        raise SystemExit("xfrm_test failed:\n" + r.stdout)
    r = run(["strace", "-f", "-e", "trace=recvmsg,recvfrom", "-e", "read=all", "-xx", "-s",
             "8000", xfrm_test, "--gtest_filter=XfrmSa.NewSaPcpuWithoutDirectionRefused"])
    n = 0
    for call, line, data in parse_strace(r.stderr):
        if "MSG_PEEK" in line or len(data) < 20:
            continue
        for t, f, msg in messages(data):
            if t == 2 and int.from_bytes(msg[16:20], "little", signed=True) != 0:
                with open(os.path.join(seeds, f"error-ack-capped-{n}"), "wb") as fp:
                    fp.write(bytes(data))
                print(f"seed error-ack-capped-{n}: {len(data)} bytes")
                n += 1
                break
    if n == 0:
        raise SystemExit("no error acknowledgement recorded")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--seeds", default=None)
    ap.add_argument("--xfrm-test", default=None,
                    help="with --seeds: also record through this xfrm_test binary")
    a = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("needs root (network namespaces)")
    ipv = run(["ip", "-V"]).stdout.strip()
    stamp = (f"{ipv}; kernel {os.uname().release}; strace "
             f"{run(['strace', '-V']).stdout.splitlines()[0].split()[-1]}; "
             f"{datetime.date.today().isoformat()}")
    print(stamp)
    in_netns(f"xfrmB-cap-{os.getpid()}", lambda ns: capture_requests(ns, a.out, stamp))
    if a.seeds:
        in_netns(f"xfrmB-seed-{os.getpid()}", lambda ns: record_seeds(ns, a.seeds))
        if a.xfrm_test:
            record_test_seeds(a.xfrm_test, a.seeds)


if __name__ == "__main__":
    main()
