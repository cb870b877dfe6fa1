#!/usr/bin/env python3
"""MOBIKE (RFC 4555) live, in namespaces of our own: G (the gateway), C (the client) joined by a
link in 10.99.151.0/24 that also carries 10.99.152.0/24, and a router R for the NAT case
(C 10.99.153.2 -- R 10.99.153.1 | R 10.99.154.2 -- G 10.99.154.1, R masquerading towards G with
nftables). G's inside is 10.99.155.1 (10.99.155.0/26), virtual IPs from 10.99.155.64/26, the
ikeplexd client's inside 10.99.155.129 (10.99.155.128/26).

1. charon (Debian's strongSwan 5.9.8, kernel-libipsec, `vips = 0.0.0.0`, mobike on by default) as
   a road warrior to ikeplexd (userspace data plane). A ping at 20/s runs through the tunnel
   while C's address moves: 10.99.151.2 goes, 10.99.152.2 comes with a route to G via
   10.99.152.1; charon's own address monitor sends UPDATE_SA_ADDRESSES. Then C moves behind R
   (the NAT appears): 10.99.152.2 goes, 10.99.153.2 comes with a route via R. After each move the
   IKE and Child SAs keep their SPIs on both sides and ikeplexd shows the new remote address
   (10.99.152.2, then R's 10.99.154.2 with NAT); the loss of each ping run is printed as
   `mobike loss=N/M`. kernel-libipsec moves its SAs with ipsec_sa_mgr's update_sa (it cannot
   turn UDP encapsulation off, and never needs to: it always encapsulates).
2. ikeplexd <-> ikeplexd (userspace both): the initiator's address moves as in 1; its daemon's
   address monitor hands the new set to the engine, which moves the IKE SA; SPIs kept on both
   sides, the responder shows the new address, the ping stream continues."""
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from lib import PSK, Charon, Failure, GatewayTopology, Ikeplexd, children, ike_sas, main_wrapper, run, run_steps, wait_until  # noqa: E402
from traffic import wait_ping  # noqa: E402

GW, CLIENT = "10.99.151.1", "10.99.151.2"
GW2, CLIENT2 = "10.99.152.1", "10.99.152.2"
R_C, C_NAT = "10.99.153.1", "10.99.153.2"
GW_R, R_G = "10.99.154.1", "10.99.154.2"
INSIDE, INSIDE_NET = "10.99.155.1", "10.99.155.0/26"
POOL = "10.99.155.64/26"
CLIENT_INSIDE, CLIENT_NET = "10.99.155.129", "10.99.155.128/26"
RATE_INTERVAL = "0.05"  # 20 pings a second


class MobikeTopology(GatewayTopology):
    """GatewayTopology (G, C on one link in 10.99.151.0/24) plus G's second address 10.99.152.1
    on that link and a router namespace R between C and G (unused links until C moves there)."""

    def __init__(self, client_inside=None):
        super().__init__("mk", GW, CLIENT, INSIDE, client_inside=client_inside)
        tag = str(os.getpid())
        self.r = f"mkR{tag}"
        self.veth_cr, self.veth_rc = f"mcr{tag}", f"mrc{tag}"
        self.veth_rg, self.veth_gr = f"mrg{tag}", f"mgr{tag}"

    def __enter__(self):
        super().__enter__()
        subprocess.run(["ip", "netns", "del", self.r], capture_output=True)
        for cmd in (
            ["ip", "-n", self.g, "addr", "add", f"{GW2}/24", "dev", self.veth_g],
            ["ip", "netns", "add", self.r],
            ["ip", "-n", self.r, "link", "set", "lo", "up"],
            ["ip", "link", "add", self.veth_cr, "netns", self.c, "type", "veth", "peer", "name", self.veth_rc,
             "netns", self.r],
            ["ip", "link", "add", self.veth_rg, "netns", self.r, "type", "veth", "peer", "name", self.veth_gr,
             "netns", self.g],
            ["ip", "-n", self.r, "addr", "add", f"{R_C}/24", "dev", self.veth_rc],
            ["ip", "-n", self.r, "addr", "add", f"{R_G}/24", "dev", self.veth_rg],
            ["ip", "-n", self.g, "addr", "add", f"{GW_R}/24", "dev", self.veth_gr],
            ["ip", "-n", self.c, "link", "set", self.veth_cr, "up"],
            ["ip", "-n", self.r, "link", "set", self.veth_rc, "up"],
            ["ip", "-n", self.r, "link", "set", self.veth_rg, "up"],
            ["ip", "-n", self.g, "link", "set", self.veth_gr, "up"],
            ["ip", "-n", self.r, "route", "add", f"{GW}/32", "via", GW_R],
            ["ip", "netns", "exec", self.r, "sysctl", "-qw", "net.ipv4.ip_forward=1"],
            ["ip", "netns", "exec", self.r, "nft", "add", "table", "ip", "nat"],
            ["ip", "netns", "exec", self.r, "nft", "add", "chain", "ip", "nat", "post",
             "{ type nat hook postrouting priority 100 ; }"],
            ["ip", "netns", "exec", self.r, "nft", "add", "rule", "ip", "nat", "post", "oifname", self.veth_rg,
             "masquerade"],
        ):
            run(cmd)
        return self

    def down(self):
        super().down()
        subprocess.run(["ip", "netns", "del", getattr(self, "r", "mkR-none")], capture_output=True)

    def move_client(self, old, new, dev, via):
        """C's address `old` goes, `new` (a /24 on `dev`) comes with a route to G via `via`."""
        run(["ip", "-n", self.c, "addr", "del", f"{old}/24", "dev", self.veth_c if old != C_NAT else self.veth_cr])
        run(["ip", "-n", self.c, "addr", "add", f"{new}/24", "dev", dev])
        run(["ip", "-n", self.c, "route", "replace", f"{GW}/32", "via", via, "dev", dev])


class PingStream:
    """ping at 20/s from `src` in `ns` to `dst` for `count` packets (in the background)."""

    def __init__(self, ns, dst, src, count):
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, "ping", "-n", "-q", "-i", RATE_INTERVAL, "-c", str(count), "-W", "1",
             "-I", src, dst], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def result(self, timeout=15):
        """(lost, sent) once ping is done."""
        try:
            out, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise Failure("the ping stream did not end")
        m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
        if not m:
            raise Failure(f"ping printed no summary: {out}")
        sent, got = int(m.group(1)), int(m.group(2))
        return sent - got, sent

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)


def gateway_conf(pools=True, remote_ts="", child_extra=""):
    return f"""connections {{
    rw {{
        local_addrs = {GW}
        remote_addrs = %any
        {"pools = p" if pools else ""}
        local {{ auth = psk
                id = gw.test }}
        remote {{ auth = psk }}
        children {{
            net {{
                local_ts = {INSIDE_NET}
                {remote_ts}
                {child_extra}
                esp_proposals = aes128gcm16
            }}
        }}
        proposals = aes128gcm16-prfsha256-x25519
    }}
}}
pools {{ p {{ addrs = {POOL} }} }}
secrets {{ ike-rw {{ secret = "{PSK}" }} }}
"""


def client_conf(vips=True, local_ts="", child_extra=""):
    return f"""connections {{
    c {{
        remote_addrs = {GW}
        {"vips = 0.0.0.0" if vips else ""}
        local {{ auth = psk
                id = client.test }}
        remote {{ auth = psk
                 id = gw.test }}
        children {{
            c {{
                {local_ts}
                {child_extra}
                remote_ts = {INSIDE_NET}
                esp_proposals = aes128gcm16
            }}
        }}
        proposals = aes128gcm16-prfsha256-x25519
    }}
}}
secrets {{ ike-c {{ secret = "{PSK}" }} }}
"""


def ours_view(d):
    """(IKE SPIs, Child SPIs, remote host, nat-remote) of ikeplexd `d`'s only IKE SA."""
    sas = ike_sas(d.sas())
    if len(sas) != 1:
        return None
    f = sas[0][1]
    kids = sorted((c["spi-in"], c["spi-out"]) for c in children(f) if c["state"] == "INSTALLED")
    return (f["initiator-spi"], f["responder-spi"]), kids, f.get("remote-host"), f.get("nat-remote") == "yes"


def moved_to(d, host, ike_spis, nat=None, kids=None):
    """Polls ikeplexd `d` until its IKE SA (the same SPIs) shows `host` as the peer, with the
    installed Child SAs `kids` (the same SPIs), or one Child SA when `kids` is None."""
    def check():
        v = ours_view(d)
        return v if v and v[2] == host and v[0] == ike_spis and \
            (v[1] == kids if kids is not None else len(v[1]) == 1) and (nat is None or v[3] == nat) else None
    return wait_until(check, 8, f"ikeplexd to show the peer at {host} with the same IKE SPIs")


def charon_spis(charon):
    sas = charon.sas()
    if len(sas) != 1:
        return None
    kids = sorted((c["in"], c["out"]) for c in sas[0]["children"] if c["state"] == "INSTALLED")
    return sas[0]["spi_i"], sas[0]["spi_r"], kids


def roam(topo, stream_src, dst, move, count=80):
    """A 20/s ping stream from `stream_src` in C to `dst` with `move()` a second into it."""
    stream = PingStream(topo.c, dst, stream_src, count)
    try:
        time.sleep(1.0)  # the stream runs before the move (a rate, not a wait for a state)
        move()
        return stream.result()
    finally:
        stream.stop()


def charon_roams(build, topo, folder, log):
    gw = Ikeplexd(build, topo.g, f"{folder}/gw", gateway_conf(), backend="userspace", workers=2)
    charon = None
    try:
        charon = Charon(topo.c, f"{folder}/charon", client_conf(), extra="install_virtual_ip = yes")
        charon.initiate("c")
        charon.data_plane_up(INSIDE_NET)
        wait_until(lambda: (ike_sas(gw.sas())[0][1].get("remote-vips") or [None])[0], 5, "the lease")
        vip = ike_sas(gw.sas())[0][1]["remote-vips"][0]
        wait_ping(topo.c, INSIDE, src=vip)
        before = ours_view(gw)
        assert before[2] == CLIENT and len(before[1]) == 1, before
        ike_spis, theirs = before[0], charon_spis(charon)
        steps = ((CLIENT, CLIENT2, topo.veth_c, GW2, CLIENT2, None), (CLIENT2, C_NAT, topo.veth_cr, R_C, R_G, True))
        for old, new, dev, via, seen_as, nat in steps:
            kids = ours_view(gw)[1]
            lost, sent = roam(topo, vip, INSIDE, lambda: topo.move_client(old, new, dev, via))
            after = moved_to(gw, seen_as, ike_spis, nat=nat)
            wait_ping(topo.c, INSIDE, src=vip)
            now = charon_spis(charon)
            assert now[:2] == theirs[:2], (now, theirs)  # the IKE SA stays (no reauthentication)
            # Our data plane moved the Child SA (UpdateSaAddresses) on the UPDATE_SA_ADDRESSES; charon's
            # kernel-libipsec cannot move SAs (its update_sa answers NOT_SUPPORTED), so charon then rekeys
            # the Child SA: new Child SPIs, as strongSwan does with such a backend.
            gw_log = open(f"{folder}/gw/ikeplexd.log").read()
            out_spi = kids[0][1]
            assert re.search(rf"SA {out_spi} out moved to \S+ -> {re.escape(seen_as)}\[", gw_log), gw_log[-3000:]
            child = "kept" if after[1] == kids else "rekeyed by charon"
            print(f"mobike loss={lost}/{sent} (charon client, {old} -> {new}{' behind a NAT as ' + seen_as if nat else ''}; "
                  f"IKE SPIs kept, Child SA {child})")
            log(f"charon moved {old} -> {new}: same IKE SA on both sides, ikeplexd shows {seen_as}"
                f"{' with NAT' if nat else ''}, traffic flows")
    finally:
        if charon is not None:
            charon.close()
        gw.close()


def ikeplexd_roams(build, topo, folder, log):
    gw = Ikeplexd(build, topo.g, f"{folder}/gw", gateway_conf(pools=False, remote_ts=f"remote_ts = {CLIENT_NET}"),
                  backend="userspace", workers=2)
    ours = None
    try:
        ours = Ikeplexd(build, topo.c, f"{folder}/client", client_conf(vips=False, local_ts=f"local_ts = {CLIENT_NET}"),
                        backend="userspace", workers=2)
        out = ours.cli("initiate", "--child", "c")
        assert "completed successfully" in out, out
        wait_ping(topo.c, INSIDE, src=CLIENT_INSIDE)
        before = ours_view(gw)
        mine = ours_view(ours)
        lost, sent = roam(topo, CLIENT_INSIDE, INSIDE, lambda: topo.move_client(CLIENT, CLIENT2, topo.veth_c, GW2))
        moved_to(gw, CLIENT2, before[0], kids=before[1])
        after = ours_view(ours)
        assert (after[0], after[1]) == (mine[0], mine[1]), (after, mine)
        wait_ping(topo.c, INSIDE, src=CLIENT_INSIDE)
        counters = json.loads(ours.cli("counters", "--json"))
        print(f"mobike loss={lost}/{sent} (ikeplexd client, {CLIENT} -> {CLIENT2})")
        assert int(counters["address-updates"]) >= 2 and counters["address-malformed"] == "0", counters
        log(f"ikeplexd's address monitor moved its IKE SA {CLIENT} -> {CLIENT2}: SPIs kept on both sides")
    finally:
        if ours is not None:
            ours.close()
        gw.close()


def test(build, folder):
    steps = [
        lambda topo: charon_roams(build, topo, f"{folder}/1", print),
        lambda topo: ikeplexd_roams(build, topo, f"{folder}/2", print),
    ]
    run_steps(steps, lambda: MobikeTopology(client_inside=CLIENT_INSIDE), "IKEPLEX_MOBIKE_STEPS")


if __name__ == "__main__":
    try:
        sys.exit(main_wrapper(test, "mobike"))
    except Failure as e:
        print(f"FAIL: {e}")
        sys.exit(1)
