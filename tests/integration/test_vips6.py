#!/usr/bin/env python3
"""IPv6 virtual IPs (RFC 7296 §2.19, §3.15.1 INTERNAL_IP6_ADDRESS / INTERNAL_IP6_DNS) from an
ikeplexd pool, IKE over IPv4, in namespaces of our own (10.99.136.0/26 outside, 10.99.136.65 and
fd99:136::1:1 the gateway's inside, pools 10.99.136.128/26 and fd99:136::/120):

1. Debian's strongSwan 5.9.8 as the client with `vips = ::`: it gets fd99:136::1, pings the
   gateway's inside from it, its resolve plugin writes the IPv6 DNS server; then a connection
   with `vips = 0.0.0.0, ::` gets one address of each family and pings through both.
2. ikeplexd <-> ikeplexd with `vips = ::` (userspace backend): the client puts the address on
   the interface `install_virtual_ip_on` names (lo, not the TUN device), pings through it, and removes
   it with the IKE SA; with `install_virtual_ip = no` it installs nothing (the operator's
   address on lo serves) and the ping still flows."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lib import PSK, Charon, Failure, GatewayTopology, Ikeplexd, ike_sas, main_wrapper, run, wait_until  # noqa: E402
from traffic import ping, wait_ping  # noqa: E402

GW, CLIENT = "10.99.136.1", "10.99.136.2"
INSIDE, INSIDE_NET = "10.99.136.65", "10.99.136.64/26"
INSIDE6, INSIDE6_NET = "fd99:136::1:1", "fd99:136::1:0/112"
POOL4, POOL6, DNS6 = "10.99.136.128/26", "fd99:136::/120", "fd99:136::1:53"
VIP4, VIP6 = "10.99.136.129", "fd99:136::1"


def topology():
    return GatewayTopology("v6", GW, CLIENT, INSIDE, plen=26)


def gateway_conf():
    return f"""connections {{
    rw {{
        local_addrs = {GW}
        remote_addrs = %any
        pools = p4, p6
        local {{ auth = psk
                id = gw.test }}
        remote {{ auth = psk }}
        children {{ net {{ local_ts = {INSIDE_NET}, {INSIDE6_NET}
                          esp_proposals = aes128gcm16 }} }}
        proposals = aes128gcm16-prfsha256-x25519
    }}
}}
pools {{
    p4 {{ addrs = {POOL4} }}
    p6 {{ addrs = {POOL6}
         dns = {DNS6} }}
}}
secrets {{ ike-rw {{ secret = "{PSK}" }} }}
"""


def client_conf(conns):
    """`conns`: {name: (vips, remote_ts)}."""
    body = "".join(f"""
    {n} {{
        local_addrs = {CLIENT}
        remote_addrs = {GW}
        vips = {vips}
        local {{ auth = psk
                id = {n}.client.test }}
        remote {{ auth = psk
                 id = gw.test }}
        children {{ {n} {{ remote_ts = {ts}
                          esp_proposals = aes128gcm16 }} }}
        proposals = aes128gcm16-prfsha256-x25519
    }}""" for n, (vips, ts) in conns.items())
    return f"connections {{{body}\n}}\nsecrets {{ ike-c {{ secret = \"{PSK}\" }} }}\n"


def read(path):
    with open(path) as f:
        return f.read()


def addrs(ns, dev=None):
    return run(["ip", "-n", ns, "-o", "addr", "show"] + (["dev", dev] if dev else []))


def lease_sets(gw):
    return sorted(tuple(sorted(f.get("remote-vips", []))) for _, f in ike_sas(gw.sas()))


def charon_client(build, topo, folder, log):
    os.makedirs(folder, exist_ok=True)
    resolv = f"{folder}/resolv.conf"
    with open(resolv, "w") as f:
        f.write("# test resolv.conf\n")
    gw = Ikeplexd(build, topo.g, f"{folder}/gw", gateway_conf(), backend="userspace", workers=2)
    charon = None
    try:
        conns = {"c6": ("::", INSIDE6_NET), "c46": ("0.0.0.0, ::", f"{INSIDE_NET}, {INSIDE6_NET}")}
        charon = Charon(topo.c, f"{folder}/charon", client_conf(conns), plugins_extra="resolve",
                        extra=f"install_virtual_ip = yes\n  plugins {{ resolve {{ file = {resolv} }} }}")
        charon.swanctl("--initiate", "--child", "c6", timeout=30)
        wait_ping(topo.c, INSIDE6, src=VIP6, timeout=10)
        ping(topo.c, INSIDE6, src=VIP6, count=3)
        wait_until(lambda: f"nameserver {DNS6}" in read(resolv), 10, "the IPv6 DNS server in charon's file")
        wait_until(lambda: lease_sets(gw) == [(VIP6,)], 10, f"one IKE SA with {VIP6} on the gateway")
        log(f"strongSwan vips = ::  -> {VIP6} from pool {POOL6}, ping {INSIDE6} through it, DNS {DNS6} written")
        charon.swanctl("--terminate", "--ike", "c6", timeout=30)
        charon.swanctl("--initiate", "--child", "c46", timeout=30)
        vip6b = "fd99:136::2"  # c6's lease stays offline for its identity
        wait_ping(topo.c, INSIDE6, src=vip6b, timeout=10)
        wait_ping(topo.c, INSIDE, src=VIP4, timeout=10)
        ping(topo.c, INSIDE6, src=vip6b, count=3)
        ping(topo.c, INSIDE, src=VIP4, count=3)
        wait_until(lambda: lease_sets(gw) == [tuple(sorted((VIP4, vip6b)))], 10,
                   f"one IKE SA with {VIP4} and {vip6b} on the gateway")
        log(f"strongSwan vips = 0.0.0.0, ::  -> {VIP4} and {vip6b}, ping through both")
    finally:
        if charon is not None:
            charon.close()
        gw.close()


def ikeplexd_client(build, topo, folder, log):
    dev = "lo"  # not the TUN device (this kernel has no dummy devices)
    gw = Ikeplexd(build, topo.g, f"{folder}/gw", gateway_conf(), backend="userspace", workers=2)
    conns = {"c6": ("::", INSIDE6_NET)}
    ours = None
    try:
        os.makedirs(folder, exist_ok=True)
        resolv = f"{folder}/resolv.conf"
        open(resolv, "w").close()
        ours = Ikeplexd(build, topo.c, f"{folder}/on", client_conf(conns), backend="userspace", workers=2,
                        extra=f"install_virtual_ip_on = {dev}\n  resolve {{ file = {resolv} }}")
        out = ours.cli("initiate", "--child", "c6")
        assert "completed successfully" in out, out
        assert f"{VIP6}/128" in addrs(topo.c, dev), addrs(topo.c)
        wait_ping(topo.c, INSIDE6, src=VIP6, timeout=10)
        ping(topo.c, INSIDE6, count=3)  # the route through the TUN device has the address as source
        assert f"nameserver {DNS6}" in read(resolv), read(resolv)
        log(f"ikeplexd <-> ikeplexd vips = ::  -> {VIP6} on {dev} (install_virtual_ip_on), ping through it")
        ours.cli("terminate", "--ike", "c6")
        wait_until(lambda: VIP6 not in addrs(topo.c), 10, "the address to go with the IKE SA")
        ours.close()
        ours = None
        # install_virtual_ip = no: the operator's address on lo serves, ikeplexd adds none.
        run(["ip", "-n", topo.c, "addr", "add", f"{VIP6}/128", "dev", dev, "nodad"])
        ours = Ikeplexd(build, topo.c, f"{folder}/no", client_conf(conns), backend="userspace", workers=2,
                        extra=f"install_virtual_ip = no\n  resolve {{ file = {resolv} }}")
        out = ours.cli("initiate", "--child", "c6")
        assert "completed successfully" in out, out
        assert ike_sas(ours.sas())[0][1].get("local-vips") == [VIP6], ours.sas()
        wait_ping(topo.c, INSIDE6, src=VIP6, timeout=10)
        text = read(f"{folder}/no/ikeplexd.log")
        assert f"virtual IP {VIP6} not installed (install_virtual_ip = no)" in text, text[-2000:]
        assert addrs(topo.c).count(f"{VIP6}/128") == 1, addrs(topo.c)
        ours.cli("terminate", "--ike", "c6")
        wait_until(lambda: not ike_sas(ours.sas()), 10, "the IKE SA to go")
        assert f"{VIP6}/128" in addrs(topo.c, dev), "ikeplexd removed an address it did not install"
        log("install_virtual_ip = no: nothing installed or removed, ping through the operator's address")
    finally:
        if ours is not None:
            ours.close()
        gw.close()


def test(build, folder):
    with topology() as topo:
        run(["ip", "-n", topo.g, "addr", "add", f"{INSIDE6}/128", "dev", "lo"])
        charon_client(build, topo, f"{folder}/1", print)
    with topology() as topo:
        run(["ip", "-n", topo.g, "addr", "add", f"{INSIDE6}/128", "dev", "lo"])
        ikeplexd_client(build, topo, f"{folder}/2", print)


if __name__ == "__main__":
    try:
        sys.exit(main_wrapper(test, "vips6"))
    except Failure as e:
        print(f"FAIL: {e}")
        sys.exit(1)
