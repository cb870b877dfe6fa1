#!/usr/bin/env python3
"""ikeplexd under systemd and its logs (issue 20), the build's ikeplexd only:

1. Start-up: `-c FILE` that does not exist is an error; a start-up failure (UDP port taken, a
   log file that cannot be opened) is printed on stderr whatever the log target and level, and
   sends no READY=1.
2. File logs carry the date ("%Y-%m-%d %H:%M:%S.mmm" by default) or `log { time_format,
   time_add_ms }`.
3. `log { target = journald }`: in a private mount namespace whose /run/systemd is a folder of
   the test, the native journal protocol datagrams at /run/systemd/journal/socket carry MESSAGE,
   PRIORITY, SYSLOG_IDENTIFIER and the IKEPLEX_* fields.
4. sd_notify: NOTIFY_SOCKET and WATCHDOG_USEC set for one of a namespace pair; READY=1 once VICI
   accepts, STATUS= with the SA counts once a Child SA is up, WATCHDOG=1 every WATCHDOG_USEC/2,
   RELOADING=1 then READY=1 on SIGHUP and on VICI's reload-settings, STOPPING=1 on SIGTERM.
Parts 1-3 run on loopback with ports the test picks; part 4 in its own namespaces. About 5 s."""
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from lib import Failure, Ikeplexd, Namespaces, side_conf, swanctl_conf, main_wrapper, run, wait_until  # noqa: E402


def free_udp_ports(n):
    """`n` UDP ports free on 127.0.0.1 now (the kernel's choice)."""
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def loopback_conf(folder, name, log, extra=""):
    """An ikeplexd.conf on 127.0.0.1 with free ports, backend none, VICI in `folder`."""
    port, natt = free_udp_ports(2)
    path = f"{folder}/{name}.conf"
    with open(path, "w") as f:
        f.write(f"""ikeplexd {{
    listen = 127.0.0.1
    port = {port}
    port_nat_t = {natt}
    vici = unix://{folder}/{name}.vici
    backend = none
    workers = 1
    {extra}
    log {{
        {log}
    }}
}}
""")
    return path, port, natt


def notify_socket(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(0.1)
    return s


def drain(sock):
    out = []
    while True:
        try:
            out.append(sock.recv(65536))
        except (socket.timeout, TimeoutError, BlockingIOError):
            return out


def run_daemon(build, conf, env=None, timeout=15):
    return subprocess.run([f"{build}/apps/ikeplexd", "-c", conf], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def startup(build, folder):
    r = run_daemon(build, f"{folder}/missing.conf")
    assert r.returncode == 1 and "missing.conf: no such file" in r.stderr, r
    r = subprocess.run([f"{build}/apps/ikeplexd", "--check", "-c", f"{folder}/missing.conf"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1 and "no such file" in r.stderr, r
    if not os.path.exists("/etc/ikeplexd.conf"):
        r = subprocess.run([f"{build}/apps/ikeplexd", "--check"], capture_output=True, text=True, timeout=10)
        assert r.returncode == 0 and "built-in defaults" in r.stdout, r
    print("-c FILE that does not exist: rc 1 and said; without -c a missing default is built-in defaults")

    sock = notify_socket(f"{folder}/fail.notify")
    for target, level in (("file", 1), ("stderr", -1), ("journald", 1)):
        log_path = f"{folder}/fail-{target}.log"
        conf, port, _ = loopback_conf(folder, f"fail-{target}", f"default = {level}\n        target = "
                                      + (log_path if target == "file" else target))
        taken = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        taken.bind(("127.0.0.1", port))
        try:
            r = run_daemon(build, conf, env={"NOTIFY_SOCKET": f"{folder}/fail.notify"})
        finally:
            taken.close()
        assert r.returncode == 1, r
        assert "cannot start" in r.stderr and str(port) in r.stderr, (target, r.stderr)
        if target == "file":
            assert "cannot start" in open(log_path).read()
        sent = drain(sock)
        assert not any(b"READY=1" in m for m in sent), sent
    sock.close()
    open(f"{folder}/plain-file", "w").close()  # spdlog makes missing folders: a file's "folder"
    conf, _, _ = loopback_conf(folder, "badlog", f"target = {folder}/plain-file/x.log")
    r = run_daemon(build, conf)
    assert r.returncode == 1 and "log target" in r.stderr, r
    print("start-up failures (port taken; file, stderr at level -1, journald; a log file that cannot "
          "be opened) are on stderr, and no READY=1")


def start_and_stop(build, conf, vici, prefix=None, env=None):
    """Runs ikeplexd (`prefix`: a command in front of it) until its VICI socket is there, then
    SIGTERM; its stderr."""
    p = subprocess.Popen([*(prefix or []), f"{build}/apps/ikeplexd", "-c", conf], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, env={**os.environ, **(env or {})})
    try:
        wait_until(lambda: os.path.exists(vici) or p.poll() is not None, 15, "ikeplexd's VICI socket")
        assert p.poll() is None, p.communicate()[0]
        return p
    except BaseException:
        p.kill()
        p.wait(timeout=5)
        raise


def stop(p):
    p.send_signal(signal.SIGTERM)
    out, _ = p.communicate(timeout=15)
    assert p.returncode == 0, (p.returncode, out)
    return out


def file_times(build, folder):
    for name, keys, pattern in (
            ("date", "", r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \[DMN\] ikeplexd started"),
            ("custom", 'time_format = "%b %e %T"\n        time_add_ms = no',
             r"[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \[DMN\] ikeplexd started")):
        log_path = f"{folder}/{name}.log"
        conf, _, _ = loopback_conf(folder, name, f"target = {log_path}\n        {keys}")
        p = start_and_stop(build, conf, f"{folder}/{name}.vici")
        wait_until(lambda: "ikeplexd started" in open(log_path).read(), 10, "the started line")
        stop(p)
        text = open(log_path).read()
        assert re.search("^" + pattern, text, re.M), text
        print(f"file log, {name} time: {text.splitlines()[0][:60]}")


def parse_journal(data):
    """Fields of one native journal protocol datagram: KEY=VALUE\\n, or KEY\\n<le64><value>\\n."""
    fields, pos = {}, 0
    while pos < len(data):
        nl = data.index(b"\n", pos)
        line = data[pos:nl]
        if b"=" in line:
            k, v = line.split(b"=", 1)
            pos = nl + 1
        else:
            k = line
            n = struct.unpack("<Q", data[nl + 1:nl + 9])[0]
            v = data[nl + 9:nl + 9 + n]
            assert data[nl + 9 + n:nl + 10 + n] == b"\n", data
            pos = nl + 10 + n
        fields[k.decode()] = v.decode()
    return fields


def journald(build, folder):
    run_dir = f"{folder}/run-systemd"  # becomes /run/systemd for ikeplexd
    os.makedirs(f"{run_dir}/journal")
    sock = notify_socket(f"{run_dir}/journal/socket")
    swanctl = f"{folder}/j-swanctl.conf"
    with open(swanctl, "w") as f:  # a peer that does not answer: IKE SA lines with name[id]
        f.write(swanctl_conf("127.0.0.1", "127.0.0.2", "a.test", "b.test", "10.99.1.0/24", "10.99.2.0/24",
                             child_extra="start_action = start"))
    conf, _, _ = loopback_conf(folder, "j", "target = journald\n        default = 1",
                               extra=f"swanctl_conf = {swanctl}")
    mkdir = "mkdir -p /run/systemd && " if not os.path.isdir("/run/systemd") else ""
    prefix = ["unshare", "-m", "--propagation", "private", "sh", "-c",
              f'{mkdir}mount --bind "{run_dir}" /run/systemd && exec "$0" "$@"']
    p = start_and_stop(build, conf, f"{folder}/j.vici", prefix=prefix)
    entries = []

    def have(pred):
        entries.extend(parse_journal(m) for m in drain(sock))
        return next((e for e in entries if pred(e)), None)
    started = wait_until(lambda: have(lambda e: "ikeplexd started" in e.get("MESSAGE", "")), 10,
                         "the started entry")
    ike = wait_until(lambda: have(lambda e: e.get("IKEPLEX_IKE_SA_NAME") == "t"), 10, "an IKE SA's entry")
    stop(p)
    sock.close()
    assert started["PRIORITY"] == "6" and started["SYSLOG_IDENTIFIER"] == "ikeplexd", started
    assert started["IKEPLEX_SUBSYS"] == "DMN" and started["IKEPLEX_LEVEL"] == "1", started
    assert started["MESSAGE"].startswith("[DMN] ikeplexd started"), started
    assert re.fullmatch(r"\d+", ike["IKEPLEX_IKE_SA_ID"]) and ike["IKEPLEX_SUBSYS"] in ("IKE", "ENC", "CFG"), ike
    assert ike["MESSAGE"].startswith(f"[{ike['IKEPLEX_SUBSYS']}] t[{ike['IKEPLEX_IKE_SA_ID']}] "), ike
    print(f"journald: {len(entries)} entries, e.g. {sorted(ike.items())}")


def notify(build, folder):
    path = f"{folder}/notify.sock"
    sock = notify_socket(path)
    got = []

    def seen(what):
        got.extend(m.decode() for m in drain(sock))
        return [m for m in got if what in m]

    with Namespaces() as ns:
        a = b = None
        try:
            b = Ikeplexd(build, ns.b, f"{folder}/b", side_conf("b"))
            a = Ikeplexd(build, ns.a, f"{folder}/a", side_conf("a"),
                         env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "300000"})
            ready = wait_until(lambda: seen("READY=1"), 10, "READY=1")
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            probe.connect(a.vici)  # READY=1 only once VICI accepts
            probe.close()
            assert got[0] == ready[0] and "STATUS=0 IKE SAs, 0 Child SAs" in ready[0], got
            a.cli("initiate", "--child", "net")
            wait_until(lambda: seen("STATUS=1 IKE SA, 1 Child SA"), 5, "STATUS= with the SAs")
            n = len(seen("WATCHDOG=1"))
            wait_until(lambda: len(seen("WATCHDOG=1")) >= n + 3, 3, "three more WATCHDOG=1")
            before = len(got)
            a.proc.send_signal(signal.SIGHUP)
            wait_until(lambda: seen("") and [m for m in got[before:] if m.startswith("READY=1")], 5,
                       "READY=1 after the reload")
            states = [m.split("\n")[0] for m in got[before:] if m.split("\n")[0] in ("RELOADING=1", "READY=1")]
            assert states == ["RELOADING=1", "READY=1"], got[before:]
            assert re.search(r"MONOTONIC_USEC=\d+", next(m for m in got[before:] if "RELOADING" in m)), got
            # VICI's reload-settings (swanctl --reload-settings) reloads the same way.
            before = len(got)
            run(["swanctl", "--reload-settings", "--uri", f"unix://{a.vici}"])
            wait_until(lambda: seen("") and [m for m in got[before:] if m.startswith("READY=1")], 5,
                       "READY=1 after reload-settings")
            states = [m.split("\n")[0] for m in got[before:] if m.split("\n")[0] in ("RELOADING=1", "READY=1")]
            assert states == ["RELOADING=1", "READY=1"], got[before:]
            before = len(got)
            a.stop()
            seen("")
            after = [m for m in got[before:] if "WATCHDOG" not in m]
            assert after and after[0] == "STOPPING=1", got[before:]
            assert not [m for m in after[1:] if "READY" in m or "STATUS" in m], after
            print(f"sd_notify: {len(got)} messages; READY=1, STATUS=, {len(seen('WATCHDOG=1'))} WATCHDOG=1, "
                  "RELOADING=1/READY=1 on SIGHUP and on reload-settings, STOPPING=1")
        finally:
            for d in (a, b):
                if d is not None:
                    d.close()
            sock.close()


def test(build, folder):
    t0 = time.time()
    startup(build, folder)
    file_times(build, folder)
    journald(build, folder)
    notify(build, folder)
    print(f"took {time.time() - t0:.1f} s")


if __name__ == "__main__":
    sys.exit(main_wrapper(test, "systemd"))
