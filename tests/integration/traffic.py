"""Traffic generation and measurement for the end-to-end tests and benchmarks (G3-G6 in
docs performance-anchors.md §C): iperf3 UDP/TCP between namespaces, optionally several streams
each pinned to a CPU; CPU seconds of given processes over the measured interval; packets per
gateway CPU-second; ping with a reply check.

Python 3.11 standard library only. Every external command has a timeout, every wait is bounded
in count and time, every process started here is stopped on every exit path. Errors raise
TrafficError (a lib.Failure, so the tests' main_wrapper reports them).

Typical use (namespaces from lib.Namespaces, inner addresses 10.99.1.1 in A, 10.99.2.1 in B):

    ping(ns.a, "10.99.2.1", src="10.99.1.1", count=3)
    with CpuSampler({"charon-a": pa, "charon-b": pb}) as cpu:
        r = iperf3(ns.a, ns.b, "10.99.1.1", "10.99.2.1", proto="udp", size=1372, duration=5)
    print(r.pps, r.mbps, r.loss_pct, per_cpu_second(r.rx_packets, cpu.total))
"""
import json
import os
import re
import subprocess
import time

import sys

if os.path.dirname(os.path.abspath(__file__)) not in sys.path:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import Failure  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
IP_UDP_HEADERS = 28  # IPv4 (20) + UDP (8): iperf3 -l N gives inner IPv4 packets of N + 28 bytes
DEFAULT_PORT = 5201


class TrafficError(Failure):
    pass


class SetupError(TrafficError):
    """iperf3 could not set a stream up (its handshake lost in an overloaded tunnel)."""


# iperf3 3.12 messages for failures before any data was measured
SETUP_ERRORS = ("unable to connect", "unable to read from stream socket", "unable to write to stream socket",
                "unable to receive control message", "unable to send control message")


def in_ns(ns, cmd, cpu=None):
    """`cmd` run inside namespace `ns` (None: the current one), optionally pinned with taskset.
    Both `ip netns exec` and `taskset` exec, so a Popen's pid is the command's own pid."""
    pre = ["ip", "netns", "exec", ns] if ns else []
    if cpu is not None:
        pre += ["taskset", "-c", str(cpu)]
    return pre + list(cmd)


def _run(cmd, timeout, what):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise TrafficError(f"{what}: no result within {timeout} s ({' '.join(cmd)})") from None
    except FileNotFoundError as e:
        raise TrafficError(f"{what}: {e.filename} is not installed") from None
    return r


# ---------------------------------------------------------------------------------------------
# ping

def ping(ns, dst, src=None, count=3, timeout=5.0, interval=0.2, size=None, min_replies=None):
    """Sends `count` echo requests from namespace `ns` (from address `src` if given) to `dst` and
    requires at least `min_replies` (default: all) replies within `timeout` seconds in total.
    Returns {"sent", "received", "rtt_avg_ms"}; raises TrafficError otherwise."""
    min_replies = count if min_replies is None else min_replies
    cmd = ["ping", "-n", "-q", "-c", str(count), "-i", str(interval), "-w", str(max(1, int(timeout + 0.999))),
           "-W", "1"]
    if src:
        cmd += ["-I", src]
    if size is not None:
        cmd += ["-s", str(size), "-M", "do"]  # no fragmentation: a too large packet is an error
    r = _run(in_ns(ns, cmd + [dst]), timeout + 5, f"ping {dst} in {ns}")
    m = re.search(r"(\d+) packets transmitted, (\d+) (?:packets )?received", r.stdout)
    if not m:
        raise TrafficError(f"ping {src or ''}->{dst} in {ns}: unreadable output: {r.stdout}{r.stderr}")
    sent, received = int(m.group(1)), int(m.group(2))
    rtt = re.search(r"= [\d.]+/([\d.]+)/", r.stdout)
    out = {"sent": sent, "received": received, "rtt_avg_ms": float(rtt.group(1)) if rtt else None}
    if received < min_replies:
        raise TrafficError(f"ping {src or ''}->{dst} in {ns}: {received} of {sent} replies "
                           f"(wanted {min_replies}): {r.stdout.strip()} {r.stderr.strip()}")
    return out


def wait_ping(ns, dst, src=None, timeout=10.0):
    """Pings once per second until one reply arrives (a tunnel coming up); bounded by `timeout`."""
    deadline = time.monotonic() + timeout
    last = None
    for _ in range(int(timeout) + 2):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            return ping(ns, dst, src=src, count=1, timeout=min(1.0, left))
        except TrafficError as e:
            last = e
    raise TrafficError(f"no ping reply {src or ''}->{dst} in {ns} within {timeout} s (last: {last})")


# ---------------------------------------------------------------------------------------------
# CPU time

def process_cpu_seconds(pid):
    """utime + stime of process `pid`, all its threads (live and exited), in seconds. The kernel
    reports them in clock ticks (10 ms): each reading is up to two ticks short."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        raise TrafficError(f"process {pid} is gone (it exited or was never started)") from None
    fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "; comm may hold spaces
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # fields 14 and 15 of proc(5)


def thread_cpu_ns(pid):
    """{tid: nanoseconds on a CPU} of the live threads of process `pid` (schedstat's first
    field, the scheduler's exact runtime), or None where the kernel has no schedstat."""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except (FileNotFoundError, ProcessLookupError):
        raise TrafficError(f"process {pid} is gone (it exited or was never started)") from None
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                out[int(tid)] = int(f.read().split()[0])
        except FileNotFoundError:
            if not os.path.exists(f"/proc/{pid}/task/{tid}"):
                continue  # the thread exited meanwhile: the caller sees it missing
            return None
        except ProcessLookupError:
            continue
    return out


class _ProcessClock:
    """One process's CPU time at an instant: the exact per-thread runtimes and the tick count
    (which alone also holds threads that exited)."""

    def __init__(self, pid):
        self.threads = thread_cpu_ns(pid)
        self.ticks = process_cpu_seconds(pid)

    def seconds_until(self, later):
        """CPU seconds from this reading to `later`: exact when the live threads account for
        all of it (threads started in between count from zero), else from the ticks, which
        also hold threads that exited (each tick reading is up to 2 ticks short)."""
        ticks = later.ticks - self.ticks
        if self.threads is None or later.threads is None or not set(self.threads) <= set(later.threads):
            return ticks
        exact = sum(ns - self.threads.get(tid, 0) for tid, ns in later.threads.items()) / 1e9
        return exact if abs(exact - ticks) < 2.5 / CLK_TCK else ticks


def process_name(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return "?"


def system_cpu_seconds():
    """(busy, total) CPU seconds of the whole machine, all CPUs, from /proc/stat. Busy excludes
    idle and iowait; it includes softirq work that no process is charged for."""
    with open("/proc/stat") as f:
        parts = f.readline().split()[1:]
    ticks = [int(x) for x in parts[:8]]  # user nice system idle iowait irq softirq steal
    total = sum(ticks)
    busy = total - ticks[3] - ticks[4]
    return busy / CLK_TCK, total / CLK_TCK


class CpuSampler:
    """CPU seconds used by the given processes ({label: pid}) between start() and stop() (or
    the `with` block), plus the machine's busy CPU seconds. Per process from the scheduler's
    exact per-thread runtimes (a 0.2 s measurement in 10 ms ticks is ±10 %), from ticks only
    when a thread exited in between. A process that exits in between is an error: its time
    would be lost."""

    def __init__(self, pids):
        self.pids = dict(pids)
        self.before = self.after = None
        self.sys_before = self.sys_after = None
        self.t0 = self.t1 = None

    def start(self):
        self.before = {k: _ProcessClock(p) for k, p in self.pids.items()}
        self.sys_before = system_cpu_seconds()
        self.t0 = time.monotonic()
        return self

    def stop(self):
        self.t1 = time.monotonic()
        self.sys_after = system_cpu_seconds()
        after = {}
        for k, p in self.pids.items():
            try:
                after[k] = _ProcessClock(p)
            except TrafficError:
                raise TrafficError(f"{k} (pid {p}) exited during the measurement") from None
        self.after = after
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, *_):
        if exc_type is None:
            self.stop()

    @property
    def per_process(self):
        return {k: round(self.before[k].seconds_until(self.after[k]), 3) for k in self.pids}

    @property
    def total(self):
        """CPU seconds of all sampled processes together."""
        return sum(self.before[k].seconds_until(self.after[k]) for k in self.pids)

    @property
    def wall(self):
        return self.t1 - self.t0

    @property
    def system_busy(self):
        return self.sys_after[0] - self.sys_before[0]

    def as_dict(self):
        return {"wall_s": round(self.wall, 3), "gw_cpu_s": round(self.total, 3),
                "gw_cpu_s_by_process": self.per_process, "sys_busy_cpu_s": round(self.system_busy, 3)}


def per_cpu_second(packets, cpu_seconds):
    """Packets per CPU-second (None when no CPU time was measured, e.g. no gateway process)."""
    if not cpu_seconds or cpu_seconds <= 0:
        return None
    return packets / cpu_seconds


def cpu_s_per_mpkt(packets, cpu_seconds):
    """CPU seconds per million packets (None without packets or CPU time)."""
    if not packets or cpu_seconds is None or cpu_seconds <= 0:
        return None
    return cpu_seconds / packets * 1e6


# ---------------------------------------------------------------------------------------------
# interface counters

def link_counters(ns, dev):
    """{"rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "rx_dropped", "tx_dropped"} of `dev`
    in namespace `ns` (GSO super-packets count once, so for offloading devices like veth with
    TCP these are not wire packets)."""
    r = _run(["ip", "-n", ns, "-s", "-j", "link", "show", "dev", dev], 10, f"counters of {dev} in {ns}")
    if r.returncode != 0:
        raise TrafficError(f"counters of {dev} in {ns}: {r.stderr.strip()}")
    st = json.loads(r.stdout)[0]["stats64"]
    return {"rx_packets": st["rx"]["packets"], "tx_packets": st["tx"]["packets"], "rx_bytes": st["rx"]["bytes"],
            "tx_bytes": st["tx"]["bytes"], "rx_dropped": st["rx"]["dropped"], "tx_dropped": st["tx"]["dropped"]}


def counters_delta(before, after):
    return {k: after[k] - before[k] for k in before}


def udp_counters(ns):
    """The UDP counters of namespace `ns` (/proc/net/snmp "Udp:" as read inside it):
    {"InDatagrams", "InErrors", "RcvbufErrors", "SndbufErrors", "MemErrors", ...}. RcvbufErrors
    counts datagrams dropped because a socket's receive buffer was full."""
    r = _run(in_ns(ns, ["cat", "/proc/net/snmp"]), 10, f"/proc/net/snmp in {ns}")
    rows = [line.split()[1:] for line in r.stdout.splitlines() if line.startswith("Udp:")]
    if len(rows) < 2:
        raise TrafficError(f"/proc/net/snmp in {ns}: no Udp counters: {r.stdout[-300:]} {r.stderr}")
    return {k: int(v) for k, v in zip(rows[0], rows[1])}


def socket_drops(ns, port):
    """Datagrams dropped by the UDP sockets of namespace `ns` bound to local `port` (all of them,
    e.g. a daemon's per-worker SO_REUSEPORT group), from `ss -uanm` (skmem d<N>; counts since
    each socket was opened), and their receive buffer sizes: {"drops": N, "rcvbuf": [bytes...]}."""
    r = _run(in_ns(ns, ["ss", "-uanm", f"sport = :{port}"]), 10, f"ss in {ns}")
    drops, bufs = 0, []
    for m in re.finditer(r"skmem:\(([^)]*)\)", r.stdout):
        fields = dict(re.findall(r"([a-z]+)(\d+)", m.group(1)))
        drops += int(fields.get("d", 0))
        bufs.append(int(fields.get("rb", 0)))
    return {"drops": drops, "rcvbuf": bufs}


# ---------------------------------------------------------------------------------------------
# iperf3

class StreamResult:
    """One iperf3 client/server pair. For UDP `packets` are the datagrams sent, `rx_packets` the
    datagrams that arrived (server's bytes / datagram size), `lost` the difference, `seconds` the
    server's receiving time; for TCP packets are estimated from received bytes and the
    connection's MSS (iperf3 reports no segment counts)."""

    def __init__(self, proto, port, cpu, data):
        self.proto, self.port, self.cpu, self.raw = proto, port, cpu, data
        end = data["end"]
        if proto == "udp":
            s = end["sum"]
            recv = end.get("sum_received") or s
            size = data["start"]["test_start"]["blksize"]
            self.seconds = recv["seconds"] or s["seconds"]
            self.packets = s["packets"]
            # iperf3's lost_packets counts sequence gaps only: datagrams still queued (or dropped)
            # behind the last one that arrived are in neither count. Arrivals are the server's
            # received bytes / datagram size; lost = sent - arrived.
            self.iperf3_lost = s["lost_packets"]
            self.rx_bytes = recv["bytes"] if "sum_received" in end else (self.packets - self.iperf3_lost) * size
            self.rx_packets = self.rx_bytes // size
            self.lost = max(0, self.packets - self.rx_packets)
            self.jitter_ms = s["jitter_ms"]
            self.tx_bytes = s["bytes"]
            self.retransmits = None
            # with --get-server-output: the server's one-second intervals (time, datagrams
            # that arrived, sequence gaps), to see when datagrams were lost
            self.server_intervals = [
                {"start": round(i["sum"]["start"], 2), "end": round(i["sum"]["end"], 2),
                 "packets": i["sum"].get("packets"), "lost": i["sum"].get("lost_packets")}
                for i in (data.get("server_output_json") or {}).get("intervals", []) if "sum" in i]
        else:
            sent, recv = end["sum_sent"], end["sum_received"]
            self.seconds = recv["seconds"] or sent["seconds"]
            self.tx_bytes, self.rx_bytes = sent["bytes"], recv["bytes"]
            mss = data["start"].get("tcp_mss_default") or 1448
            self.mss = mss
            self.packets = self.rx_packets = int(self.rx_bytes / mss)
            self.lost = 0
            self.jitter_ms = None
            self.retransmits = sent.get("retransmits")

    @property
    def pps(self):
        return self.rx_packets / self.seconds if self.seconds else 0.0

    @property
    def mbps(self):
        return self.rx_bytes * 8 / self.seconds / 1e6 if self.seconds else 0.0

    def as_dict(self):
        d = {"port": self.port, "cpu": self.cpu, "seconds": round(self.seconds, 3), "packets": self.packets,
             "rx_packets": self.rx_packets, "lost": self.lost, "tx_bytes": self.tx_bytes,
             "rx_bytes": self.rx_bytes, "pps": round(self.pps), "mbps": round(self.mbps, 1)}
        if self.proto == "udp":
            d["jitter_ms"], d["iperf3_lost"] = self.jitter_ms, self.iperf3_lost
            if self.server_intervals:
                d["server_intervals"] = self.server_intervals
        else:
            d["retransmits"], d["mss"] = self.retransmits, self.mss
        return d


class TrafficResult:
    """The streams of one iperf3 run together: rates are sums of the per-stream rates."""

    def __init__(self, proto, size, rate, streams):
        self.proto, self.size, self.rate, self.streams = proto, size, rate, streams
        self.attempts = 1

    packets = property(lambda self: sum(s.packets for s in self.streams))
    rx_packets = property(lambda self: sum(s.rx_packets for s in self.streams))
    lost = property(lambda self: sum(s.lost for s in self.streams))
    rx_bytes = property(lambda self: sum(s.rx_bytes for s in self.streams))
    pps = property(lambda self: sum(s.pps for s in self.streams))
    mbps = property(lambda self: sum(s.mbps for s in self.streams))
    seconds = property(lambda self: max(s.seconds for s in self.streams))

    @property
    def loss_pct(self):
        return 100.0 * self.lost / self.packets if self.packets else 0.0

    @property
    def jitter_ms(self):
        j = [s.jitter_ms for s in self.streams if s.jitter_ms is not None]
        return max(j) if j else None

    @property
    def retransmits(self):
        r = [s.retransmits for s in self.streams if s.retransmits is not None]
        return sum(r) if r else None

    def as_dict(self):
        d = {"proto": self.proto, "size": self.size, "rate_bps": self.rate, "streams": len(self.streams),
             "attempts": self.attempts,
             "seconds": round(self.seconds, 3), "packets": self.packets, "rx_packets": self.rx_packets,
             "lost": self.lost, "loss_pct": round(self.loss_pct, 3), "rx_bytes": self.rx_bytes,
             "pps": round(self.pps), "mbps": round(self.mbps, 1), "per_stream": [s.as_dict() for s in self.streams]}
        if self.proto == "udp":
            d["jitter_ms"] = self.jitter_ms
        else:
            d["retransmits"] = self.retransmits
        return d


def _listening(ns, port):
    r = _run(["ip", "netns", "exec", ns, "ss", "-Htln", f"sport = :{port}"] if ns else
             ["ss", "-Htln", f"sport = :{port}"], 5, "ss")
    return r.returncode == 0 and r.stdout.strip() != ""


def _stop(procs):
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=3)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=3)


def iperf3(client_ns, server_ns, src, dst, proto="udp", size=1372, rate=None, duration=5.0, streams=1,
           client_cpus=None, server_cpus=None, port=DEFAULT_PORT, tcp_window=None, on_start=None, attempts=3,
           server_output=False, udp_buffer=None):
    """Runs `streams` iperf3 client/server pairs at once for `duration` seconds: servers in
    `server_ns` bound to `dst` on ports port, port+1, ...; clients in `client_ns` bound to `src`.
    Separate processes (iperf3 3.12 is single-threaded), so stream i can be pinned: client to
    client_cpus[i % len], server to server_cpus[i % len] (taskset -c).

    proto "udp": datagrams of `size` payload bytes (inner IPv4 packet = size + 28), `rate` in
    bit/s per stream or None for unlimited (-b 0). proto "tcp": `size` is ignored (iperf3's
    128 KiB writes), `rate` None = unlimited.

    `on_start()` is called just before the clients start (e.g. CpuSampler.start; again on a
    retry). When a stream cannot be set up (iperf3's handshakes can be lost when the other
    streams already flood an overloaded tunnel) the whole run is repeated, `attempts` times at
    most; result.attempts says how many it took. server_output: ask each server for its own
    results (iperf3 --get-server-output; for UDP each stream's server_intervals: per second,
    datagrams that arrived and sequence gaps). udp_buffer: socket buffer bytes for UDP (-w, both
    ends; at most net.core.rmem_max). Returns a TrafficResult; raises TrafficError with iperf3's
    own message on failure."""
    last = None
    for attempt in range(1, max(1, attempts) + 1):
        try:
            r = _iperf3_once(client_ns, server_ns, src, dst, proto, size, rate, duration, streams, client_cpus,
                             server_cpus, port, tcp_window if proto == "tcp" else udp_buffer, on_start,
                             server_output)
            r.attempts = attempt
            return r
        except SetupError as e:
            last = e
    raise TrafficError(f"{last} (tried {attempts} times)")


def _iperf3_once(client_ns, server_ns, src, dst, proto, size, rate, duration, streams, client_cpus, server_cpus,
                 port, tcp_window, on_start, server_output=False):
    if proto not in ("udp", "tcp"):
        raise TrafficError(f"iperf3: unknown protocol {proto!r}")
    if streams < 1 or streams > 16:
        raise TrafficError(f"iperf3: {streams} streams (1..16)")
    duration = max(1, int(round(duration)))
    ports = [port + i for i in range(streams)]
    pick = lambda cpus, i: None if not cpus else cpus[i % len(cpus)]
    servers, clients = [], []
    try:
        for i, p in enumerate(ports):
            servers.append(subprocess.Popen(
                in_ns(server_ns, ["iperf3", "-s", "-1", "-B", dst, "-p", str(p), "--json"], pick(server_cpus, i)),
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
        deadline = time.monotonic() + 10
        for i, p in enumerate(ports):
            for _ in range(200):
                if _listening(server_ns, p):
                    break
                if servers[i].poll() is not None:
                    raise TrafficError(f"iperf3 server on {dst}:{p} in {server_ns} exited: "
                                       f"{servers[i].stdout.read()}")
                if time.monotonic() > deadline:
                    raise TrafficError(f"iperf3 server on {dst}:{p} in {server_ns} not listening after 10 s")
                time.sleep(0.05)
        # Clients wait at a barrier (a line on stdin, then exec) so that all of them connect at
        # once: a client started after another one's flood began can lose its TCP handshake in
        # an overloaded tunnel. sh execs iperf3, so each pid is iperf3's.
        for i, p in enumerate(ports):
            cmd = ["iperf3", "-c", dst, "-B", src, "-p", str(p), "-t", str(duration), "--json",
                   "--connect-timeout", "10000"] + (["--get-server-output"] if server_output else [])
            if proto == "udp":
                cmd += ["-u", "-l", str(size), "-b", str(int(rate)) if rate else "0"]
                if tcp_window:
                    cmd += ["-w", str(tcp_window)]
            else:
                cmd += ["-b", str(int(rate)) if rate else "0"]
                if tcp_window:
                    cmd += ["-w", str(tcp_window)]
            clients.append(subprocess.Popen(in_ns(client_ns, ["sh", "-c", 'read _ && exec "$@"', "iperf3-client"] + cmd,
                                                  pick(client_cpus, i)),
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                            text=True))
        if on_start:
            on_start()
        for c in clients:
            try:
                c.stdin.write("go\n")
                c.stdin.flush()
            except BrokenPipeError:
                pass  # it already exited: its output says why
        results = []
        limit = time.monotonic() + duration + 30
        for i, c in enumerate(clients):
            try:
                out, err = c.communicate(timeout=max(1.0, limit - time.monotonic()))
            except subprocess.TimeoutExpired:
                raise TrafficError(f"iperf3 client {src}->{dst}:{ports[i]} did not finish within "
                                   f"{duration + 30} s") from None
            try:
                data = json.loads(out)
            except json.JSONDecodeError:
                raise TrafficError(f"iperf3 client {src}->{dst}:{ports[i]} ({proto}) exit {c.returncode}, "
                                   f"no JSON: {out[-500:]} {err[-500:]}") from None
            if "error" in data:
                kind = SetupError if any(m in data["error"] for m in SETUP_ERRORS) else TrafficError
                raise kind(f"iperf3 client {src}->{dst}:{ports[i]} ({proto}): {data['error']}")
            try:
                results.append(StreamResult(proto, ports[i], pick(client_cpus, i), data))
            except (KeyError, TypeError) as e:
                raise TrafficError(f"iperf3 client {src}->{dst}:{ports[i]}: unexpected JSON (missing {e})") from None
        return TrafficResult(proto, size if proto == "udp" else None, rate, results)
    finally:
        _stop(clients + servers)
        for p in clients + servers:
            for f in (p.stdin, p.stdout, p.stderr):
                if f:
                    f.close()


def udp_payload_for(packet_size):
    """iperf3 -l value that makes inner IPv4 packets of `packet_size` bytes."""
    return packet_size - IP_UDP_HEADERS
