"""Building blocks of the integration tests (design.md §8): a namespace pair, ikeplexd and
Debian's strongSwan 5.9.8 charon inside it, certificates, and polling helpers.

Everything is named after the test's process id, uses only 10.99.0.0/16 inside the test's own
namespaces, puts a timeout on every external command and is removed on exit. Traffic and CPU
measurement helpers (iperf3, ping, CPU seconds) are in traffic.py.
"""
import argparse
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

CHARON = "/usr/lib/ipsec/charon"
PSK = "interop-test-psk-0123456789"

# The shared end-to-end topology (Namespaces): outer veth 10.99.0.1 (A) <-> 10.99.0.2 (B); inner
# networks 10.99.1.0/24 behind A (10.99.1.1 on A's lo) and 10.99.2.0/24 behind B (10.99.2.1 on
# B's lo). Traffic between the inner addresses, sent from inside the gateway namespaces, goes
# through whatever tunnel device routes the other inner network.
OUTER_A, OUTER_B = "10.99.0.1", "10.99.0.2"
INNER_A, INNER_B = "10.99.1.1", "10.99.2.1"
NET_A, NET_B = "10.99.1.0/24", "10.99.2.0/24"


class Failure(Exception):
    pass


def run(cmd, timeout=20, check=True, env=None, input=None):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, input=input)
    if check and r.returncode != 0:
        raise Failure(f"{' '.join(cmd)} failed ({r.returncode}): {r.stdout}{r.stderr}")
    return r.stdout


def wait_until(pred, timeout, what):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = pred()
            if last:
                return last
        except Failure as e:
            last = e
        time.sleep(0.1)
    raise Failure(f"timed out waiting for {what} (last: {last})")


def start_tcpdump(ns, path, args, timeout=10):
    """tcpdump -U -n -w `path` `args...` in namespace `ns`, returned once it captures: tcpdump
    prints "listening on" to stderr after its capture is open (the pcap file exists earlier)."""
    err_path = f"{path}.stderr"
    with open(err_path, "w") as err:
        proc = subprocess.Popen(["ip", "netns", "exec", ns, "tcpdump", "-U", "-n", "-w", path, *args],
                                stdout=subprocess.DEVNULL, stderr=err)

    def said():
        with open(err_path, errors="replace") as f:
            return f.read()
    try:
        wait_until(lambda: proc.poll() is not None or "listening on" in said(), timeout,
                   f"tcpdump in {ns} to capture")
    except Failure:
        proc.kill()
        proc.wait(timeout=5)
        raise
    if proc.poll() is not None:
        raise Failure(f"tcpdump in {ns} exited: {said()}")
    return proc


def stop_process(proc, sig=signal.SIGTERM, timeout=5):
    """Sends `sig` to a running `proc` and waits up to `timeout` s for it; then kills it and
    reaps it. False when it had to be killed, True otherwise."""
    if proc.poll() is not None:
        return True
    proc.send_signal(sig)
    try:
        proc.wait(timeout=timeout)
        return True
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
        return False


def stop_tcpdump(proc, timeout=10):
    """Stops a capture with SIGINT (tcpdump then writes what it holds) and waits for it."""
    stop_process(proc, signal.SIGINT, timeout)


def recv_exact(sock, n, what="VICI connection closed"):
    """Exactly `n` bytes from a stream socket; Failure(`what`) if it closes first."""
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise Failure(what)
        data += chunk
    return data


class Namespaces:
    """Two namespaces joined by a veth pair: A = 10.99.0.1 and fd00:99::1, B = 10.99.0.2 and
    fd00:99::2 (unique local IPv6, no duplicate address detection)."""

    def __init__(self, tag=None):
        tag = tag or str(os.getpid())
        self.a, self.b = f"ipA{tag}", f"ipB{tag}"
        self.veth_a, self.veth_b = f"va{tag}", f"vb{tag}"

    def __enter__(self):
        self.down()
        for cmd in (
            ["ip", "netns", "add", self.a],
            ["ip", "netns", "add", self.b],
            ["ip", "link", "add", self.veth_a, "type", "veth", "peer", "name", self.veth_b],
            ["ip", "link", "set", self.veth_a, "netns", self.a],
            ["ip", "link", "set", self.veth_b, "netns", self.b],
            ["ip", "-n", self.a, "addr", "add", "10.99.0.1/24", "dev", self.veth_a],
            ["ip", "-n", self.b, "addr", "add", "10.99.0.2/24", "dev", self.veth_b],
            ["ip", "-n", self.a, "addr", "add", "fd00:99::1/64", "dev", self.veth_a, "nodad"],
            ["ip", "-n", self.b, "addr", "add", "fd00:99::2/64", "dev", self.veth_b, "nodad"],
            ["ip", "-n", self.a, "link", "set", "lo", "up"],
            ["ip", "-n", self.b, "link", "set", "lo", "up"],
            ["ip", "-n", self.a, "link", "set", self.veth_a, "up"],
            ["ip", "-n", self.b, "link", "set", self.veth_b, "up"],
            # the "inside" addresses (kernel-libipsec routes to them through its TUN device)
            ["ip", "-n", self.a, "addr", "add", "10.99.1.1/32", "dev", "lo"],
            ["ip", "-n", self.b, "addr", "add", "10.99.2.1/32", "dev", "lo"],
            ["ip", "-n", self.a, "addr", "add", "fd00:1::1/128", "dev", "lo"],
            ["ip", "-n", self.b, "addr", "add", "fd00:2::1/128", "dev", "lo"],
        ):
            run(cmd)
        return self

    def __exit__(self, *exc):
        self.down()

    def down(self):
        for ns in (self.a, self.b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)

    def block(self, ns, on=True):
        """Drops every packet leaving `ns` (a dead peer for DPD)."""
        veth = self.veth_a if ns == self.a else self.veth_b
        run(["ip", "-n", ns, "link", "set", veth, "down" if on else "up"])

    def plain_routes(self):
        """Routes each inner network in clear over the veth (the no-tunnel baseline)."""
        run(["ip", "-n", self.a, "route", "replace", NET_B, "via", OUTER_B, "src", INNER_A])
        run(["ip", "-n", self.b, "route", "replace", NET_A, "via", OUTER_A, "src", INNER_B])

    def route_via(self, ns, dev, net=None):
        """Routes the other side's inner network through `dev` (a tunnel device) in `ns`."""
        if ns == self.a:
            run(["ip", "-n", ns, "route", "replace", net or NET_B, "dev", dev, "src", INNER_A])
        else:
            run(["ip", "-n", ns, "route", "replace", net or NET_A, "dev", dev, "src", INNER_B])


class GatewayTopology:
    """Two namespaces joined by a veth pair: G (the gateway: `gw` on the link, `inside` as a /32 on
    lo, the network behind it) and C (a client: `client`; `client_inside`, if given, a /32 on its
    lo). The link is a /`plen`. Names carry `prefix` and the pid; both namespaces go on exit (and
    any left by an earlier run of the same pid first)."""

    def __init__(self, prefix, gw, client, inside, client_inside=None, plen=24):
        tag = str(os.getpid())
        self.g, self.c = f"{prefix}G{tag}", f"{prefix}C{tag}"
        self.veth_g, self.veth_c = f"{prefix[0]}g{tag}", f"{prefix[0]}c{tag}"
        self.gw, self.client, self.inside = gw, client, inside
        self.client_inside, self.plen = client_inside, plen

    def __enter__(self):
        self.down()
        for cmd in (
            ["ip", "netns", "add", self.g],
            ["ip", "netns", "add", self.c],
            ["ip", "link", "add", self.veth_g, "type", "veth", "peer", "name", self.veth_c],
            ["ip", "link", "set", self.veth_g, "netns", self.g],
            ["ip", "link", "set", self.veth_c, "netns", self.c],
            ["ip", "-n", self.g, "addr", "add", f"{self.gw}/{self.plen}", "dev", self.veth_g],
            ["ip", "-n", self.c, "addr", "add", f"{self.client}/{self.plen}", "dev", self.veth_c],
            ["ip", "-n", self.g, "link", "set", "lo", "up"],
            ["ip", "-n", self.c, "link", "set", "lo", "up"],
            ["ip", "-n", self.g, "link", "set", self.veth_g, "up"],
            ["ip", "-n", self.c, "link", "set", self.veth_c, "up"],
            ["ip", "-n", self.g, "addr", "add", f"{self.inside}/32", "dev", "lo"],
        ):
            run(cmd)
        if self.client_inside:
            run(["ip", "-n", self.c, "addr", "add", f"{self.client_inside}/32", "dev", "lo"])
        return self

    def __exit__(self, *exc):
        self.down()

    def down(self):
        for ns in (self.g, self.c):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def swanctl_conf(local, remote, local_id, remote_id, local_ts, remote_ts, ike="aes256gcm16-prfsha256-x25519",
                 esp="aes128gcm16", auth="psk", child_extra="", conn_extra="", certs=None):
    """A swanctl.conf with connection `t` and child `net` (also valid for charon)."""
    local_auth = f"auth = {auth}\n                id = {local_id}"
    remote_auth = f"auth = {auth}\n                 id = {remote_id}"
    if auth == "pubkey":
        local_auth += f"\n                certs = {certs}"
    secrets = f'secrets {{ ike-t {{ secret = "{PSK}" }} }}' if auth == "psk" else ""
    return f"""connections {{
    t {{
        version = 2
        local_addrs = {local}
        remote_addrs = {remote}
        proposals = {ike}
        {conn_extra}
        local {{ {local_auth} }}
        remote {{ {remote_auth} }}
        children {{
            net {{
                local_ts = {local_ts}
                remote_ts = {remote_ts}
                esp_proposals = {esp}
                mode = tunnel
                {child_extra}
            }}
        }}
    }}
}}
{secrets}
"""


class PrefixPair(Namespaces):
    """Two namespaces joined by a veth pair in a /24 of the test's own: A = <net>.1, B = <net>.2
    (`net` e.g. "10.99.156"). `local_prefix`: routed to B's lo (B owns every address of it, as a
    load generator's sources) and from A via B."""

    def __init__(self, net, local_prefix=None):
        tag = str(os.getpid())
        self.net, self.local_prefix = net, local_prefix
        self.a, self.b = f"ppA{tag}", f"ppB{tag}"
        self.veth_a, self.veth_b = f"pa{tag}", f"pb{tag}"

    def __enter__(self):
        self.down()
        a, b, va, vb = self.a, self.b, self.veth_a, self.veth_b
        cmds = [["ip", "netns", "add", a], ["ip", "netns", "add", b],
                ["ip", "link", "add", va, "type", "veth", "peer", "name", vb],
                ["ip", "link", "set", va, "netns", a], ["ip", "link", "set", vb, "netns", b],
                ["ip", "-n", a, "addr", "add", f"{self.net}.1/24", "dev", va],
                ["ip", "-n", b, "addr", "add", f"{self.net}.2/24", "dev", vb]]
        cmds += [["ip", "-n", ns, "link", "set", dev, "up"] for ns, dev in ((a, "lo"), (b, "lo"), (a, va), (b, vb))]
        if self.local_prefix:
            cmds += [["ip", "-n", b, "route", "add", "local", self.local_prefix, "dev", "lo"],
                     ["ip", "-n", a, "route", "add", self.local_prefix, "via", f"{self.net}.2"]]
        for cmd in cmds:
            run(cmd)
        return self


def load_responder_conf(child_extra="", ike="aes128gcm16-prfsha256-x25519", esp="aes128gcm16"):
    """swanctl.conf of a responder for ikeplex-load (ikeplexd or charon): any identity from any
    address (ikeplexd's remote_addrs takes addresses only, so %any), PSK, selectors
    10.97.0.0/16 === 10.98.0.0/16 (ikeplex-load's defaults, seen from the other side)."""
    return swanctl_conf("10.99.0.1", "%any", "responder.test", "%any", "10.97.0.0/16", "10.98.0.0/16",
                        ike=ike, esp=esp, child_extra=child_extra)


def side_conf(side, **kw):
    """swanctl.conf for side "a" (10.99.0.1, a.test, 10.99.1.0/24) or "b"."""
    if side == "a":
        return swanctl_conf("10.99.0.1", "10.99.0.2", "a.test", "b.test", "10.99.1.0/24", "10.99.2.0/24", **kw)
    return swanctl_conf("10.99.0.2", "10.99.0.1", "b.test", "a.test", "10.99.2.0/24", "10.99.1.0/24", **kw)


def make_certs(folder, names=None):
    """An EC CA and certificates for a.test and b.test (or `names`: {side: DNS name}; the
    subjectAltName) with openssl(1). Returns {side: (cert_pem_path, key_pem_path)} and the CA
    path."""
    names = names or {"a": "a.test", "b": "b.test"}
    os.makedirs(folder, exist_ok=True)

    def sh(*args):
        run(["openssl", *args], timeout=30)

    sh("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f"{folder}/ca.key")
    sh("req", "-x509", "-new", "-key", f"{folder}/ca.key", "-subj", "/O=ikeplex test/CN=ikeplex test CA",
       "-days", "30", "-out", f"{folder}/ca.pem")
    out = {}
    for side, name in names.items():
        sh("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f"{folder}/{side}.key")
        sh("req", "-new", "-key", f"{folder}/{side}.key", "-subj", f"/O=ikeplex test/CN={name}",
           "-out", f"{folder}/{side}.csr")
        with open(f"{folder}/{side}.ext", "w") as f:
            f.write(f"subjectAltName=DNS:{name}\n")
        sh("x509", "-req", "-in", f"{folder}/{side}.csr", "-CA", f"{folder}/ca.pem", "-CAkey", f"{folder}/ca.key",
           "-CAcreateserial", "-days", "30", "-extfile", f"{folder}/{side}.ext", "-out", f"{folder}/{side}.pem")
        # PKCS#8 for the key folders (both daemons read it)
        sh("pkcs8", "-topk8", "-nocrypt", "-in", f"{folder}/{side}.key", "-out", f"{folder}/{side}.p8.pem")
        out[side] = (f"{folder}/{side}.pem", f"{folder}/{side}.p8.pem")
    return out, f"{folder}/ca.pem"


def install_credentials(conf_dir, side, certs, ca):
    """swanctl's folders beside swanctl.conf: x509/<side>.pem, x509ca/ca.pem, private/<side>.pem."""
    for sub in ("x509", "x509ca", "private"):
        os.makedirs(f"{conf_dir}/{sub}", exist_ok=True)
    shutil.copy(certs[side][0], f"{conf_dir}/x509/{side}.pem")
    shutil.copy(ca, f"{conf_dir}/x509ca/ca.pem")
    shutil.copy(certs[side][1], f"{conf_dir}/private/{side}.pem")


class Ikeplexd:
    """ikeplexd in a namespace, with its own folder, swanctl.conf and VICI socket. `backend`:
    "none" (IKE only, the default for the IKE tests) or "userspace" (the ESP data plane).
    `nofile`: its RLIMIT_NOFILE (soft and hard); `env`: extra environment variables."""

    def __init__(self, build, ns, folder, swanctl, extra="", workers=4, window=1, preload=True, backend="none",
                 log_levels=None, nofile=None, env=None):
        self.build, self.ns, self.dir = build, ns, folder
        self.nofile, self.env = nofile, env
        levels = log_levels if log_levels is not None else {"default": 1, "ike": 2}
        level_lines = "\n          ".join(f"{k} = {v}" for k, v in levels.items())
        os.makedirs(folder, exist_ok=True)
        self.vici = f"{folder}/ikeplexd.vici"
        with open(f"{folder}/swanctl.conf", "w") as f:
            f.write(swanctl)
        with open(f"{folder}/ikeplexd.conf", "w") as f:
            f.write(f"""ikeplexd {{
    vici = unix://{self.vici}
    {"swanctl_conf = " + folder + "/swanctl.conf" if preload else ""}
    backend = {backend}
    workers = {workers}
    window_size = {window}
    retransmit_timeout = 1
    retransmit_tries = 3
    {extra}
    log {{ {level_lines} }}
}}
""")
        self.log = open(f"{folder}/ikeplexd.log", "w")
        self.proc = None
        self.start()

    def start(self):
        def limits():
            if self.nofile is not None:
                resource.setrlimit(resource.RLIMIT_NOFILE, (self.nofile, self.nofile))
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, f"{self.build}/apps/ikeplexd", "-c", f"{self.dir}/ikeplexd.conf"],
            stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=limits,
            env={**os.environ, **self.env} if self.env else None)
        wait_until(lambda: os.path.exists(self.vici) or self.proc.poll() is not None, 15, "ikeplexd's socket")
        if self.proc.poll() is not None:
            raise Failure(f"ikeplexd exited: {open(self.dir + '/ikeplexd.log').read()}")

    def cli(self, *args, timeout=30, check=True):
        return run([f"{self.build}/apps/ikeplex", "--uri", f"unix://{self.vici}", *args], timeout=timeout,
                   check=check)

    def sas(self):
        return json.loads(self.cli("list-sas", "--json"))

    def stop(self, sig=signal.SIGTERM):
        if self.proc is not None and not stop_process(self.proc, sig, timeout=15):
            raise Failure("ikeplexd did not stop on SIGTERM")
        self.proc = None

    def close(self):
        self.stop()
        self.log.close()


def ike_sas(listing):
    """[(name, fields)] of `ikeplex list-sas --json` (one dict per IKE SA; connections waiting to
    retry, state WAITING, are left out)."""
    out = []
    for ev in listing:
        for name, fields in ev.items():
            if fields.get("state") != "WAITING":
                out.append((name, fields))
    return out


def children(fields):
    return list(fields.get("child-sas", {}).values())


def group(d):
    """{cpu: child fields} of the installed Child SAs of ikeplexd `d`'s only IKE SA ("-" = the
    fallback); None without exactly one IKE SA."""
    sas = ike_sas(d.sas())
    if len(sas) != 1:
        return None
    out = {}
    for c in children(sas[0][1]):
        if c["state"] == "INSTALLED":
            key = c.get("cpu", "-")
            if key in out:
                raise Failure(f"two installed Child SAs for CPU {key}: {out[key]} and {c}")
            out[key] = c
    return out


class Charon:
    """strongSwan 5.9.8 in a namespace, with its own /run (the PID file path is compiled in).

    data_plane:
      "kernel-libipsec" (default): kernel-libipsec is loaded before kernel-netlink (the first
          kernel-ipsec backend registered wins; kernel-netlink stays as the kernel-net part).
          charon creates the TUN device ipsec0 in `ns`, installs a route to the remote traffic
          selector through it in table 220 (also with install_routes = no) and does ESP in
          userspace, always as ESP-in-UDP on port 4500 (5.9.8 fakes a NAT to force it). Traffic
          from the inner address goes through the tunnel: see data_plane_up().
      "none": kernel-netlink only (IKE only: the CHILD_SA install fails on this kernel, the
          responder answers N(NO_PROPOSAL_CHOSEN) and keeps the IKE SA).
    log_levels: filelog levels replacing the defaults (e.g. {"default": 0, "ike": 1} for
      benchmarks); extra: more lines inside charon { } of strongswan.conf; load: run
      `swanctl --load-all` at once (default); plugins_extra: more plugins to load (e.g.
      "eap-identity eap-md5")."""

    def __init__(self, ns, folder, swanctl, dpd=False, data_plane="kernel-libipsec", log_levels=None, extra="",
                 load=True, plugins_extra=""):
        if data_plane not in ("kernel-libipsec", "none"):
            raise Failure(f"Charon: unknown data_plane {data_plane!r}")
        self.ns, self.dir = ns, folder
        self.data_plane = data_plane
        plugins = "random nonce openssl pem pkcs1 pkcs8 x509 pubkey sha1 sha2 hmac aes gcm kdf " + \
            ("kernel-libipsec " if data_plane == "kernel-libipsec" else "") + \
            "kernel-netlink socket-default vici updown" + (f" {plugins_extra}" if plugins_extra else "")
        levels = {"default": 1, "ike": 2, "cfg": 2} if log_levels is None else dict(log_levels)
        level_lines = "\n".join(f"                   {k} = {v}" for k, v in levels.items())
        extra_lines = f"  {extra}\n" if extra else ""
        os.makedirs(f"{folder}/run", exist_ok=True)
        for sub in ("x509", "x509ca", "private"):
            os.makedirs(f"{folder}/{sub}", exist_ok=True)
        self.conf = f"{folder}/strongswan.conf"
        self.vici = f"{folder}/charon.vici"
        with open(self.conf, "w") as f:
            f.write(f"""charon {{
  load = {plugins}
  install_routes = no
  install_virtual_ip = no
  retransmit_timeout = 1
  retransmit_tries = 2
  delete_rekeyed_delay = 0
{extra_lines}  filelog {{ main {{ path = {folder}/charon.log
                   time_format = %T
{level_lines}
                   flush_line = yes }} }}
  syslog {{ daemon {{ default = -1 }} }}
  plugins {{ vici {{ socket = unix://{self.vici} }} }}
}}
swanctl {{ load = pem pkcs1 pkcs8 x509 pubkey openssl random nonce }}
""")
        with open(f"{folder}/swanctl.conf", "w") as f:
            f.write(swanctl)
        self.out = open(f"{folder}/charon.out", "w")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, "unshare", "-m", "sh", "-c",
             f"mount --make-rprivate / && mount --bind {folder}/run /run && exec {CHARON}"],
            stdout=self.out, stderr=subprocess.STDOUT, env=dict(os.environ, STRONGSWAN_CONF=self.conf))
        try:
            wait_until(lambda: os.path.exists(self.vici) or self.proc.poll() is not None, 15, "charon's socket")
            if self.proc.poll() is not None:
                raise Failure(f"charon did not start: {open(folder + '/charon.out').read()}")
            if load:
                self.swanctl("--load-all", "--file", f"{folder}/swanctl.conf")
        except BaseException:
            self.close()  # nobody else holds this charon yet: stop it rather than leak it
            raise

    @property
    def pid(self):
        """charon's own pid (ip netns exec, unshare and sh all exec into it)."""
        return self.proc.pid

    def initiate(self, child="net", timeout=30):
        out = self.swanctl("--initiate", "--child", child, timeout=timeout)
        if "completed successfully" not in out:
            raise Failure(f"charon: initiating {child} failed: {out}")
        return out

    def tun_device(self, timeout=10):
        """Name of kernel-libipsec's TUN device in the namespace (ipsec0), once it exists."""
        if self.data_plane != "kernel-libipsec":
            raise Failure("charon runs without kernel-libipsec: no TUN device")

        def find():
            out = run(["ip", "-n", self.ns, "-o", "link", "show", "type", "tun"], check=False)
            m = re.search(r"^\d+: (ipsec\d+)[:@]", out, re.M)
            return m.group(1) if m else None
        return wait_until(find, timeout, f"kernel-libipsec's TUN device in {self.ns}")

    def data_plane_up(self, remote_net, timeout=10):
        """Waits until the route to `remote_net` through the TUN device exists (table 220): after
        this, traffic to the remote inner network goes through kernel-libipsec."""
        dev = self.tun_device(timeout)

        def routed():
            out = run(["ip", "-n", self.ns, "route", "show", "table", "220"], check=False)
            return dev if re.search(rf"^{re.escape(remote_net)} dev {dev}\b", out, re.M) else None
        return wait_until(routed, timeout, f"charon's route to {remote_net} via {dev} in {self.ns}")

    def swanctl(self, *args, timeout=20, check=True):
        return run(["swanctl", *args, "--uri", f"unix://{self.vici}"], timeout=timeout, check=check,
                   env=dict(os.environ, STRONGSWAN_CONF=self.conf))

    def sas(self):
        """[{spi_i, spi_r, state, children: [{state, in, out}]}] from `swanctl --list-sas`."""
        out = self.swanctl("--list-sas")
        sas, child = [], None
        for line in out.splitlines():
            m = re.match(r"^\S+: #\d+, (\w+), IKEv2, ([0-9a-f]{16})_i\*? ([0-9a-f]{16})_r\*?", line)
            if m:
                sas.append({"state": m.group(1), "spi_i": m.group(2), "spi_r": m.group(3), "children": []})
                continue
            m = re.match(r"^\s+\S+: #\d+, reqid \d+, (\w+),", line)
            if m and sas:
                child = {"state": m.group(1), "in": None, "out": None}
                sas[-1]["children"].append(child)
                continue
            m = re.match(r"^\s+(in|out)\s+([0-9a-f]{8})", line)
            if m and child is not None:
                child[m.group(1)] = m.group(2)
        return sas

    def log(self):
        with open(f"{self.dir}/charon.log", errors="replace") as f:
            return f.read()

    def close(self):
        stop_process(self.proc)
        self.out.close()


def agree(ours, charon, children_expected, timeout=10):
    """ikeplexd and charon each show one established IKE SA with the same SPIs and
    `children_expected` installed Child SAs with crossed SPIs (None: no IKE SA at all)."""
    def check():
        o = ike_sas(ours.sas())
        t = charon.sas()
        if children_expected is None:
            return "none" if not o and not t else None
        if len(o) != 1 or len(t) != 1:
            return None
        name, f = o[0]
        tt = t[0]
        oc = sorted((c["spi-in"], c["spi-out"]) for c in children(f) if c["state"] == "INSTALLED")
        tc = sorted((c["out"], c["in"]) for c in tt["children"] if c["state"] == "INSTALLED")
        # strongSwan keeps a deleted Child SA listed as DELETED for a moment; nothing else may
        # linger on either side.
        settled = len(children(f)) == len(oc) and all(c["state"] in ("INSTALLED", "DELETED") for c in tt["children"])
        if f["state"] == "ESTABLISHED" and tt["state"] == "ESTABLISHED" and \
                (f["initiator-spi"], f["responder-spi"]) == (tt["spi_i"], tt["spi_r"]) and \
                oc == tc and len(oc) == children_expected and settled:
            return f
        return None
    return wait_until(check, timeout, f"ikeplexd and strongSwan to agree on {children_expected} Child SA(s)")


def main_wrapper(test, name):
    """A test script's main: parses `--build DIR` and runs `test(build, folder)` with cleanup and
    a readable failure report; exit codes as ctest wants (77 = skipped)."""
    p = argparse.ArgumentParser(description=f"ikeplex integration test: {name}")
    p.add_argument("--build", required=True, help="the build tree (apps/ikeplexd, apps/ikeplex)")
    build = p.parse_args().build
    if os.geteuid() != 0:
        print(f"SKIP: {name} needs root (network namespaces)")
        return 77
    folder = tempfile.mkdtemp(prefix=f"ikeplex-{name}-")
    keep = os.environ.get("IKEPLEX_KEEP") == "1"
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        test(build, folder)
        print(f"PASS: {name}")
        return 0
    except (Failure, AssertionError, subprocess.TimeoutExpired) as e:
        print(f"FAIL: {name}: {e}")
        for root, _, files in os.walk(folder):
            for f in files:
                if f.endswith((".log", ".out")):
                    path = os.path.join(root, f)
                    print(f"----- {path} (last 80 lines)")
                    with open(path, errors="replace") as fh:
                        print("".join(fh.readlines()[-80:]))
        return 1
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


def run_steps(steps, topology, env):
    """Runs each step (a function of a fresh `topology()`) in order; the environment variable
    `env` ("1,3") picks some of them."""
    only = os.environ.get(env)
    for i, step in enumerate(steps, 1):
        if only and str(i) not in only.split(","):
            continue
        with topology() as topo:
            step(topo)
