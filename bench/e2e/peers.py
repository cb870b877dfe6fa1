"""Gateway pairs for the end-to-end benchmark (bench/e2e/e2e.py). Each starter takes a Topology
(two fresh namespaces from lib.Namespaces plus a private folder) and returns a running Gateways;
the driver pings through it, measures, and calls close() on every exit path.

To add a peer, write a function taking a Topology and returning Gateways (see plain() and
strongswan_libipsec() below) and register it in e2e.PEERS / e2e.OPTIONAL_PEERS or in
gates.CONFIGS. ikeplex_userspace() (ikeplexd, backend = userspace; per-CPU group or one shared
Child SA; offloads on or off) and ikeplex_relay() (the G3 baseline: the same I/O code without
ESP) need --build DIR.
"""
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))
import lib  # noqa: E402
from traffic import TrafficError, counters_delta, link_counters, ping  # noqa: E402

IKE_PROPOSAL = "aes128gcm16-prfsha256-x25519"
ESP_PROPOSAL = "aes128gcm16"


class Topology:
    """One namespace pair (lib.Namespaces: A = 10.99.0.1 with 10.99.1.1 on lo, B = 10.99.0.2 with
    10.99.2.1 on lo), a folder for the peer's files and the driver's parsed arguments."""

    def __init__(self, ns, folder, args):
        self.ns, self.folder, self.args = ns, folder, args
        os.makedirs(folder, exist_ok=True)


class Gateways:
    """Running gateways of one kind.
    pids: {label: pid} of the processes whose CPU time is the gateway cost (empty: the kernel);
    devices: {"a": dev, "b": dev} carrying the inner traffic (counters are checked to prove the
      traffic took the tunnel);
    note: printed on every report line of this peer; info: anything for the JSON file;
    close: callables run in order by close(), each even if an earlier one failed."""

    def __init__(self, name, pids=None, devices=None, note="", info=None, close=()):
        self.name, self.pids, self.devices = name, dict(pids or {}), dict(devices or {})
        self.note, self.info = note, dict(info or {})
        self._close = list(close)
        # ikeplexd peers: {"a": lib.Ikeplexd, "b": ...} and a function returning both daemons'
        # SA and worker counters (ikeplex_snapshot); None for the others
        self.daemons = None
        self.snapshot = None

    def close(self):
        errors = []
        while self._close:
            fn = self._close.pop(0)
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - keep closing the rest
                errors.append(f"{getattr(fn, '__qualname__', fn)}: {e}")
        if errors:
            raise lib.Failure(f"{self.name}: cleanup: {'; '.join(errors)}")


def _terminate(p, log):
    """Stops a gateway process (SIGTERM, then SIGKILL after 5 s) and closes its log."""
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5)
    log.close()


def _started(starters, closers):
    """Runs starter steps; if one fails, runs the closers collected so far (newest first)."""
    try:
        return starters()
    except BaseException:
        for fn in reversed(closers):
            try:
                fn()
            except Exception:  # noqa: BLE001
                pass
        raise


# ---------------------------------------------------------------------------------------------

def plain(topo):
    """No tunnel: the kernel routes each inner network over the veth (orientation only)."""
    topo.ns.plain_routes()
    return Gateways("plain-kernel", devices={"a": topo.ns.veth_a, "b": topo.ns.veth_b},
                    note="no tunnel, kernel routing over veth")


def strongswan_libipsec(topo):
    """Debian's strongSwan 5.9.8 charon with kernel-libipsec on both sides, PSK, IKE
    aes128gcm16-prfsha256-x25519, ESP aes128gcm16, ESP-in-UDP (forced by 5.9.8). A initiates."""
    closers = []

    def start():
        quiet = {"default": 0, "ike": 1, "cfg": 1}  # nothing per packet in the log
        a = lib.Charon(topo.ns.a, f"{topo.folder}/a", lib.side_conf("a", ike=IKE_PROPOSAL, esp=ESP_PROPOSAL),
                       log_levels=quiet)
        closers.append(a.close)
        b = lib.Charon(topo.ns.b, f"{topo.folder}/b", lib.side_conf("b", ike=IKE_PROPOSAL, esp=ESP_PROPOSAL),
                       log_levels=quiet)
        closers.append(b.close)
        a.initiate("net")
        dev_a = a.data_plane_up(lib.NET_B)
        dev_b = b.data_plane_up(lib.NET_A)
        sas = a.sas()
        if not sas or sas[0]["state"] != "ESTABLISHED" or not sas[0]["children"]:
            raise lib.Failure(f"charon A: no established CHILD_SA: {sas}")
        version = lib.run(["dpkg-query", "-W", "-f=${Version}", "strongswan-charon"], check=False).strip()
        return Gateways("strongswan-libipsec", pids={"charon-a": a.pid, "charon-b": b.pid},
                        devices={"a": dev_a, "b": dev_b},
                        note="strongSwan 5.9.8 kernel-libipsec, ESP-in-UDP aes128gcm16",
                        info={"version": version, "ike": IKE_PROPOSAL, "esp": ESP_PROPOSAL, "encap": "udp/4500",
                              "child_sa": sas[0]["children"][0]},
                        close=[b.close, a.close])
    return _started(start, closers)


WG_PORT = 51820


def _wg_version():
    r = subprocess.run(["wireguard-go", "--version"], capture_output=True, text=True, timeout=10)
    m = re.search(r"v(\d[\w.]*)", r.stdout)
    return m.group(1) if m else "unknown"


def wireguard_go(topo):
    """Debian's wireguard-go on both sides (its own TUN device, default MTU 1420), keys and peers
    set with wg(8) over the UAPI socket, routes to the other inner network via the device."""
    closers = []
    tag = topo.ns.a[3:]  # lib.Namespaces names are ipA<tag>/ipB<tag>
    version = _wg_version()

    def start():
        procs, devs, keys = {}, {}, {}
        for side, ns in (("a", topo.ns.a), ("b", topo.ns.b)):
            dev = f"wg{side}{tag}"[:15]
            if os.path.exists(f"/var/run/wireguard/{dev}.sock"):
                raise lib.Failure(f"wireguard-go: /var/run/wireguard/{dev}.sock exists (another run?)")
            priv = lib.run(["wg", "genkey"]).strip()
            keys[side] = (priv, lib.run(["wg", "pubkey"], input=priv + "\n").strip())
            with open(f"{topo.folder}/{side}.key", "w") as f:
                os.fchmod(f.fileno(), 0o600)
                f.write(priv + "\n")
            log = open(f"{topo.folder}/wireguard-go-{side}.log", "w")
            p = subprocess.Popen(["ip", "netns", "exec", ns, "wireguard-go", "-f", dev], stdout=log,
                                 stderr=subprocess.STDOUT, env=dict(os.environ, LOG_LEVEL="error"))

            def stop(p=p, log=log, dev=dev):
                _terminate(p, log)
                try:
                    os.unlink(f"/var/run/wireguard/{dev}.sock")
                except FileNotFoundError:
                    pass
            closers.append(stop)
            procs[side], devs[side] = p, dev
            lib.wait_until(lambda: os.path.exists(f"/var/run/wireguard/{dev}.sock") or p.poll() is not None,
                           10, f"wireguard-go's UAPI socket for {dev}")
            if p.poll() is not None:
                raise lib.Failure(f"wireguard-go {dev} exited: {open(f'{topo.folder}/wireguard-go-{side}.log').read()}")
        for side, ns, other, endpoint, allowed in (("a", topo.ns.a, "b", lib.OUTER_B, lib.NET_B),
                                                    ("b", topo.ns.b, "a", lib.OUTER_A, lib.NET_A)):
            lib.run(["ip", "netns", "exec", ns, "wg", "set", devs[side], "listen-port", str(WG_PORT),
                     "private-key", f"{topo.folder}/{side}.key", "peer", keys[other][1],
                     "allowed-ips", allowed, "endpoint", f"{endpoint}:{WG_PORT}"])
            lib.run(["ip", "-n", ns, "link", "set", devs[side], "up"])
            topo.ns.route_via(ns, devs[side])
        mtu = lib.run(["ip", "-n", topo.ns.a, "-o", "link", "show", devs["a"]])
        m = re.search(r"mtu (\d+)", mtu)
        return Gateways("wireguard-go", pids={"wireguard-go-a": procs["a"].pid, "wireguard-go-b": procs["b"].pid},
                        devices=devs,
                        note=f"wireguard-go {version} (Debian; predates wireguard-go's GSO/GRO and TUN offload work)",
                        info={"version": version, "mtu": int(m.group(1)) if m else None},
                        close=list(reversed(closers)))
    return _started(start, closers)


# ikeplexd (backend = userspace) and ikeplex-relay --------------------------------------------

PER_CPU_GROUP = "per_cpu_sas = yes\n                per_cpu_sas_start = all"
RELAY_PORT = 4600


def _build_dir(topo, what):
    build = getattr(topo.args, "build", None) if topo.args is not None else None
    if not build:
        raise lib.Failure(f"{what} needs --build DIR (apps/ikeplexd, apps/ikeplex, apps/ikeplex-relay)")
    return os.path.abspath(build)


def ikeplex_children(d):
    """{cpu: fields} of daemon `d`'s INSTALLED Child SAs ("-" = the fallback or the one shared SA;
    several SAs of one CPU, e.g. during a rekey, are listed as "<cpu>#<uniqueid>" beyond the
    first). None unless exactly one IKE SA exists."""
    sas = lib.ike_sas(d.sas())
    if len(sas) != 1:
        return None
    out = {}
    for c in lib.children(sas[0][1]):
        if c.get("state") != "INSTALLED":
            continue
        k = c.get("cpu", "-")
        out[k if k not in out else f"{k}#{c.get('uniqueid')}"] = c
    return out


def ikeplex_workers(d):
    """{worker index: {tx-packets, rx-packets, fallback-tx-packets, dropped-<reason>, ...}} from
    `ikeplex stats --json` (ints)."""
    data = json.loads(d.cli("stats", "--json"))
    out = {}
    for name, body in (data.get("dataplane") or {}).items():
        if name.startswith("worker-") and isinstance(body, dict):
            out[int(name[7:])] = {k: int(v) for k, v in body.items() if str(v).isdigit()}
    return out


SA_FIELDS = ("packets-in", "packets-out", "bytes-in", "bytes-out", "dropped-replay-in", "dropped-integrity-in")


def ikeplex_snapshot(daemons):
    """Counters of both daemons: {side: {"sas": {cpu: {field: int, "spi-out", "uniqueid"}},
    "workers": {...}}}; taken before and after a measurement (ikeplex_delta)."""
    snap = {}
    for side, d in daemons.items():
        sas = {}
        for k, c in (ikeplex_children(d) or {}).items():
            sas[k] = {f: int(c.get(f, 0)) for f in SA_FIELDS}
            sas[k].update({"spi-out": c.get("spi-out"), "spi-in": c.get("spi-in"), "uniqueid": c.get("uniqueid")})
        snap[side] = {"sas": sas, "workers": ikeplex_workers(d)}
    return snap


def ikeplex_delta(before, after):
    """Per side: SA counter deltas for SAs present in both snapshots with the same SPIs (a
    rekeyed SA is reported under "replaced"), and worker counter deltas."""
    out = {}
    for side in after:
        b, a = before.get(side, {}), after[side]
        sas, replaced = {}, []
        for k, fa in a["sas"].items():
            fb = b.get("sas", {}).get(k)
            if fb is None or fb["spi-out"] != fa["spi-out"] or fb["spi-in"] != fa["spi-in"]:
                replaced.append(k)
                continue
            sas[k] = {f: fa[f] - fb[f] for f in SA_FIELDS}
        workers = {}
        for w, ca in a["workers"].items():
            cb = b.get("workers", {}).get(w, {})
            workers[w] = {f: v - cb.get(f, 0) for f, v in ca.items()}
        out[side] = {"sas": sas, "replaced": replaced, "workers": workers}
    return out


def ikeplex_userspace(topo, workers=2, per_cpu=True, offloads=True, name=None, child_extra=None):
    """ikeplexd with backend = userspace on both sides (needs --build), PSK, IKE
    aes128gcm16-prfsha256-x25519, ESP aes128gcm16 (ESP in UDP on 4500), `workers` data-plane
    workers (one per CPU, pinned). per_cpu: per_cpu_sas = yes + per_cpu_sas_start = all (the
    fallback plus one Child SA per worker right after IKE_AUTH, RFC 9611); else one Child SA
    shared by all workers. offloads: yes = TSO/USO on the TUN + UDP GSO/GRO on the ESP sockets,
    no = per-packet I/O. The daemon routes the remote traffic selector via its TUN device.
    After bring-up, a ping from each CPU must show up in the SA counters of both daemons (the
    traffic takes the tunnel, and with per_cpu each CPU's on its own SA)."""
    build = _build_dir(topo, "ikeplexd")
    name = name or f"ikeplex-{'pcpu' if per_cpu else 'shared'}-{'batched' if offloads else 'pp'}"
    child_extra = child_extra if child_extra is not None else (PER_CPU_GROUP if per_cpu else "")
    closers = []

    def start():
        ds = {}
        for side, ns in (("b", topo.ns.b), ("a", topo.ns.a)):  # responder first
            d = lib.Ikeplexd(build, ns, f"{topo.folder}/{side}",
                             lib.side_conf(side, ike=IKE_PROPOSAL, esp=ESP_PROPOSAL, child_extra=child_extra),
                             workers=workers, window=4, backend="userspace",
                             extra=f"offloads = {'yes' if offloads else 'no'}\n    mtu = 1400\n    tun = ikeplex0")
            closers.append(d.close)
            ds[side] = d
        out = ds["a"].cli("initiate", "--child", "net")
        if "completed successfully" not in out:
            raise lib.Failure(f"{name}: ikeplexd A: initiate failed: {out}")
        want = ["-"] + ([str(k) for k in range(workers)] if per_cpu else [])

        def complete():
            gs = {s: ikeplex_children(d) for s, d in ds.items()}
            return gs if all(g is not None and sorted(g) == sorted(want) for g in gs.values()) else None
        groups = lib.wait_until(complete, 15, f"{name}: Child SAs {want} installed on both sides")
        devs = {}
        for side, ns, net in (("a", topo.ns.a, lib.NET_B), ("b", topo.ns.b, lib.NET_A)):
            def routed(ns=ns, net=net):
                r = lib.run(["ip", "-n", ns, "route", "show", "table", "all", net], check=False)
                m = re.search(r"dev (\S+)", r)
                return m.group(1) if m else None
            devs[side] = lib.wait_until(routed, 10, f"ikeplexd's route to {net} in {ns}")
        # The traffic takes the tunnel: a ping from each CPU appears on A's outbound and B's
        # inbound counters (with per-CPU SAs: on that CPU's member, nothing on the fallback).
        for cpu in range(workers):
            before = ikeplex_snapshot(ds)
            lib.run(["ip", "netns", "exec", topo.ns.a, "taskset", "-c", str(cpu), "ping", "-n", "-q", "-c", "3",
                     "-i", "0.05", "-W", "2", "-I", lib.INNER_A, lib.INNER_B], timeout=15)
            d = ikeplex_delta(before, ikeplex_snapshot(ds))
            key = str(cpu) if per_cpu else "-"
            out_a = d["a"]["sas"].get(key, {}).get("packets-out", 0)
            in_b = d["b"]["sas"].get(key, {}).get("packets-in", 0)
            if out_a < 3 or in_b < 3:
                raise lib.Failure(f"{name}: a ping from CPU {cpu} did not show on SA {key}: A out +{out_a}, "
                                  f"B in +{in_b} ({d})")
            if per_cpu and d["a"]["sas"].get("-", {}).get("packets-out", 0) != 0:
                raise lib.Failure(f"{name}: a ping from CPU {cpu} used the fallback SA ({d})")
        gw = Gateways(name, pids={"ikeplexd-a": ds["a"].proc.pid, "ikeplexd-b": ds["b"].proc.pid},
                      devices=devs,
                      note=f"ikeplexd userspace, {workers} workers, "
                           f"{f'{workers} per-CPU SAs + fallback' if per_cpu else 'one shared SA'}, "
                           f"{'offloads (TSO/USO TUN, UDP GSO/GRO)' if offloads else 'per-packet I/O'}, "
                           f"ESP-in-UDP aes128gcm16",
                      info={"build": build, "workers": workers, "per_cpu": per_cpu, "offloads": offloads,
                            "child_sas": {s: sorted(g) for s, g in groups.items()}},
                      close=list(reversed(closers)))
        gw.daemons = ds
        gw.snapshot = lambda: ikeplex_snapshot(ds)
        return gw
    return _started(start, closers)


def ikeplex_relay(topo, workers=2, offloads=True, name=None):
    """build/apps/ikeplex-relay in both namespaces: the data plane's I/O code (TUN queues,
    workers pinned per CPU, UDP sockets, batching) forwarding inner packets as plain UDP payloads
    to the other relay (port 4600), no ESP: the G3 baseline. The relay routes the other inner
    network via its TUN device (ikerelay0) itself. SIGTERM stops it; its per-worker counters
    land in info["final_counters"]."""
    build = _build_dir(topo, "ikeplex-relay")
    binary = f"{build}/apps/ikeplex-relay"
    if not os.access(binary, os.X_OK):
        raise lib.Failure(f"{binary} is missing (cmake --build {build} --target ikeplex-relay)")
    name = name or f"relay-{'batched' if offloads else 'pp'}"
    closers = []
    info = {"build": build, "workers": workers, "offloads": offloads, "final_counters": {}}

    def start():
        procs = {}
        for side, ns, local, peer, net, src in (("a", topo.ns.a, lib.OUTER_A, lib.OUTER_B, lib.NET_B, lib.INNER_A),
                                                ("b", topo.ns.b, lib.OUTER_B, lib.OUTER_A, lib.NET_A, lib.INNER_B)):
            path = f"{topo.folder}/relay-{side}.log"
            log = open(path, "w")
            cmd = ["ip", "netns", "exec", ns, binary, "--local", f"{local}:{RELAY_PORT}",
                   "--peer", f"{peer}:{RELAY_PORT}", "--route", net, "--src", src, "--workers", str(workers),
                   "--tun", "ikerelay0"] + ([] if offloads else ["--no-offloads"])
            p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)

            def stop(p=p, log=log, path=path, side=side):
                _terminate(p, log)
                with open(path, errors="replace") as f:
                    info["final_counters"][side] = re.findall(r"^worker \d+: .*$", f.read(), re.M)
            closers.append(stop)
            procs[side] = p

            def ready(p=p, path=path):
                with open(path, errors="replace") as f:
                    return "ikeplex-relay:" in f.read() or p.poll() is not None
            lib.wait_until(ready, 10, f"ikeplex-relay in {ns}")
            if p.poll() is not None:
                with open(path, errors="replace") as f:
                    raise lib.Failure(f"ikeplex-relay in {ns} exited: {f.read()[-1000:]}")
        for ns, net in ((topo.ns.a, lib.NET_B), (topo.ns.b, lib.NET_A)):
            r = lib.run(["ip", "-n", ns, "route", "show", net])
            if "dev ikerelay0" not in r:
                raise lib.Failure(f"ikeplex-relay: no route to {net} via ikerelay0 in {ns}: {r}")
        # the traffic takes the relay: A's TUN receives the pings, B's TUN delivers them
        before = {s: link_counters(ns, "ikerelay0") for s, ns in (("a", topo.ns.a), ("b", topo.ns.b))}
        ping(topo.ns.a, lib.INNER_B, src=lib.INNER_A, count=3, timeout=5, interval=0.05)
        d = {s: counters_delta(before[s], link_counters(ns, "ikerelay0")) for s, ns in (("a", topo.ns.a),
                                                                                         ("b", topo.ns.b))}
        if d["a"]["tx_packets"] < 3 or d["b"]["rx_packets"] < 3:
            raise lib.Failure(f"{name}: pings did not go through ikerelay0: {d}")
        return Gateways(name, pids={"relay-a": procs["a"].pid, "relay-b": procs["b"].pid},
                        devices={"a": "ikerelay0", "b": "ikerelay0"},
                        note=f"ikeplex-relay, {workers} workers, plain UDP (no ESP), "
                             f"{'offloads (TSO/USO TUN, UDP GSO/GRO)' if offloads else 'per-packet I/O'}",
                        info=info, close=list(reversed(closers)))
    return _started(start, closers)


def check_tools(names):
    """Raises a clear error for the first missing program."""
    for n in names:
        dirs = os.environ.get("PATH", "").split(":") + ["/usr/lib/ipsec"]
        if not any(os.access(os.path.join(d, n), os.X_OK) for d in dirs):
            raise TrafficError(f"{n} is not installed (scripts/setup-deps.sh installs it)")


def settle(seconds=0.5):
    """A short pause between bring-up and measurement (bounded; lets ARP and routes settle)."""
    time.sleep(seconds)
