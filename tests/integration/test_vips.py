#!/usr/bin/env python3
"""Virtual IPs and configuration payloads (RFC 7296 §2.19, §3.15) against Debian's strongSwan
5.9.8 (kernel-libipsec), in namespaces of our own (10.99.122.0/24 outside, 10.99.123.0/24 the
gateway's inside, pool 10.99.126.0/24):

1. charon as the client (`vips = 0.0.0.0`, its resolve plugin writing a temporary file) against
   ikeplexd (userspace data plane) with a pool: the virtual IP arrives, a ping flows from it to
   the gateway's inside, the DNS attribute lands in charon's file, ikeplexd lists the lease
   (list-sas remote-vips, list-pools --leases, swanctl --list-pools), and it goes offline when
   the IKE SA does.
2. ikeplexd as the client against charon with a pool: the address on ikeplexd's TUN device,
   ping through it, the DNS server in ikeplexd's resolve file; both removed on terminate.
3. A pool of 4 addresses and 5 clients (one charon, five connections with distinct identities):
   four get addresses, the fifth is refused with INTERNAL_ADDRESS_FAILURE and no Child SA; the
   gateway's pool is loaded by Debian's swanctl --load-all (VICI load-pool).
In 1, swanctl --reload-settings with new attributes keeps the online lease, and with other
addresses the pool is not replaced while its lease is online."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lib import PSK, Charon, Failure, GatewayTopology, Ikeplexd, ike_sas, main_wrapper, run, wait_until  # noqa: E402
from traffic import ping, wait_ping  # noqa: E402

GW, CLIENT = "10.99.122.1", "10.99.122.2"
INSIDE, INSIDE_NET = "10.99.123.1", "10.99.123.0/24"
POOL, DNS = "10.99.126.0/24", "10.99.126.53"



def Topology():
    return GatewayTopology("vp", GW, CLIENT, INSIDE)


def gateway_conf(pool_addrs=POOL):
    return f"""connections {{
    rw {{
        local_addrs = {GW}
        remote_addrs = %any
        pools = p
        local {{ auth = psk
                id = gw.test }}
        remote {{ auth = psk }}
        children {{
            net {{
                local_ts = {INSIDE_NET}
                esp_proposals = aes128gcm16
            }}
        }}
        proposals = aes128gcm16-prfsha256-x25519
    }}
}}
pools {{
    p {{
        addrs = {pool_addrs}
        dns = {DNS}
    }}
}}
secrets {{ ike-rw {{ secret = "{PSK}" }} }}
"""


def client_conf(names=("c1",)):
    conns = "".join(f"""
    {n} {{
        local_addrs = {CLIENT}
        remote_addrs = {GW}
        vips = 0.0.0.0
        local {{ auth = psk
                id = {n}.client.test }}
        remote {{ auth = psk
                 id = gw.test }}
        children {{
            {n} {{
                remote_ts = {INSIDE_NET}
                esp_proposals = aes128gcm16
            }}
        }}
        proposals = aes128gcm16-prfsha256-x25519
    }}""" for n in names)
    return f"connections {{{conns}\n}}\nsecrets {{ ike-c {{ secret = \"{PSK}\" }} }}\n"


def resolv_file(folder):
    os.makedirs(folder, exist_ok=True)
    path = f"{folder}/resolv.conf"
    with open(path, "w") as f:
        f.write("# test resolv.conf\n")
    return path


def read(path):
    with open(path) as f:
        return f.read()


def charon_client(build, topo, folder, log):
    resolv = resolv_file(folder)
    gw = Ikeplexd(build, topo.g, f"{folder}/gw", gateway_conf(), backend="userspace", workers=2)
    charon = None
    try:
        # install_virtual_ip = yes (lib.Charon says no): kernel-libipsec routes the gateway's
        # inside from the virtual IP, which must be on a device for that.
        charon = Charon(topo.c, f"{folder}/charon", client_conf(), plugins_extra="resolve",
                        extra=f"install_virtual_ip = yes\n  plugins {{ resolve {{ file = {resolv} }} }}")
        charon.initiate("c1")
        charon.data_plane_up(INSIDE_NET)
        ping(topo.c, INSIDE, src="10.99.126.1", count=3)
        wait_until(lambda: f"nameserver {DNS}" in read(resolv), 10, "the DNS server in charon's file")
        sa = ike_sas(gw.sas())[0][1]
        assert sa.get("remote-vips") == ["10.99.126.1"], sa
        pools = json.loads(gw.cli("list-pools", "--leases", "--json"))
        lease = pools["p"]["leases"]["0"]
        assert pools["p"]["online"] == "1" and lease["address"] == "10.99.126.1" and \
            lease["identity"] == "c1.client.test" and lease["status"] == "online", pools
        text = gw.cli("list-pools", "--leases")
        assert "10.99.126.0" in text and "1 / 0 / 254" in text and "'c1.client.test'" in text, text
        listing = run(["swanctl", "--list-pools", "--leases", "--uri", f"unix://{gw.vici}"])
        assert "10.99.126.1" in listing and "online" in listing and "c1.client.test" in listing, listing
        log(f"charon as client: virtual IP 10.99.126.1, ping through it, DNS {DNS} in its resolve file; "
            "swanctl --list-pools against ikeplexd:\n" + listing.strip())
        # A reload (swanctl --reload-settings) with the pool's addresses unchanged but another DNS
        # server keeps the online lease; one with other addresses is refused while it is online.
        for pool_addrs in (POOL, "10.99.127.0/24"):
            with open(f"{folder}/gw/swanctl.conf", "w") as f:
                f.write(gateway_conf(pool_addrs).replace(DNS, "10.99.126.54"))
            run(["swanctl", "--reload-settings", "--uri", f"unix://{gw.vici}"], check=False)
            pools = json.loads(gw.cli("list-pools", "--leases", "--json"))
            assert pools["p"]["base"] == "10.99.126.0" and pools["p"]["online"] == "1" and \
                pools["p"]["leases"]["0"]["address"] == "10.99.126.1", pools
        gw_log = read(f"{folder}/gw/ikeplexd.log")
        assert "updated vici pool p: 10.99.126.0, 254 entries" in gw_log and \
            "vici pool p has 1 online leases, unable to replace" in gw_log, gw_log[-2000:]
        ping(topo.c, INSIDE, src="10.99.126.1", count=2)
        log("reloads keep the online lease (new attributes taken, other addresses refused)")
        charon.swanctl("--terminate", "--ike", "c1", timeout=30)
        wait_until(lambda: json.loads(gw.cli("list-pools", "--json"))["p"]["offline"] == "1", 10,
                   "the lease to go offline")
        wait_until(lambda: f"nameserver {DNS}" not in read(resolv), 10, "charon to remove the DNS server")
        log("charon as client: the lease went offline with the IKE SA")
    finally:
        if charon is not None:
            charon.close()
        gw.close()


def ikeplexd_client(build, topo, folder, log):
    resolv = resolv_file(folder)
    charon_gw = f"""connections {{
    rw {{
        local_addrs = {GW}
        remote_addrs = %any
        pools = p
        local {{ auth = psk
                id = gw.test }}
        remote {{ auth = psk }}
        children {{ net {{ local_ts = {INSIDE_NET}
                          esp_proposals = aes128gcm16 }} }}
        proposals = aes128gcm16-prfsha256-x25519
    }}
}}
pools {{ p {{ addrs = {POOL}
             dns = {DNS} }} }}
secrets {{ ike-rw {{ secret = "{PSK}" }} }}
"""
    charon = Charon(topo.g, f"{folder}/charon", charon_gw)
    ours = None
    try:
        ours = Ikeplexd(build, topo.c, f"{folder}/ours", client_conf(), backend="userspace", workers=2,
                        extra=f"resolve {{ file = {resolv} }}")
        out = ours.cli("initiate", "--child", "c1")
        assert "completed successfully" in out, out
        sa = ike_sas(ours.sas())[0][1]
        assert sa.get("local-vips") == ["10.99.126.1"], sa
        listing = ours.cli("list-sas")
        assert "virtual IPs: local [10.99.126.1], remote []" in listing, listing
        addrs = run(["ip", "-n", topo.c, "-o", "addr", "show"])
        assert "10.99.126.1/32" in addrs, addrs
        assert f"nameserver {DNS}" in read(resolv), read(resolv)
        charon.data_plane_up("10.99.126.1")  # ip route prints a host route without /32
        wait_ping(topo.c, INSIDE, src="10.99.126.1")
        ping(topo.c, INSIDE, count=3)  # the route through the TUN device has the address as source
        log("ikeplexd as client: 10.99.126.1 on its TUN device, ping through it, DNS server in its file")
        ours.cli("terminate", "--ike", "c1")
        wait_until(lambda: f"nameserver {DNS}" not in read(resolv), 10, "the DNS line to go")
        wait_until(lambda: "10.99.126.1/32" not in run(["ip", "-n", topo.c, "-o", "addr", "show"]), 10,
                   "the address to go")
        assert read(resolv) == "# test resolv.conf\n", read(resolv)
        log("ikeplexd as client: address and DNS line removed with the IKE SA")
    finally:
        if ours is not None:
            ours.close()
        charon.close()


def exhaustion(build, topo, folder, log):
    names = [f"c{i}" for i in range(1, 6)]
    # The gateway's configuration arrives by Debian's swanctl --load-all (load-pool, load-conn).
    gw = Ikeplexd(build, topo.g, f"{folder}/gw", gateway_conf("10.99.126.1-10.99.126.4"), preload=False)
    charon = None
    try:
        out = run(["swanctl", "--load-all", "--file", f"{folder}/gw/swanctl.conf", "--uri", f"unix://{gw.vici}"])
        assert "loaded pool 'p'" in out and "successfully loaded 1 pools, 0 unloaded" in out, out
        charon = Charon(topo.c, f"{folder}/charon", client_conf(names), extra="install_virtual_ip = yes")
        for n in names:
            charon.swanctl("--initiate", "--child", n, timeout=30, check=False)
        pools = json.loads(gw.cli("list-pools", "--leases", "--json"))
        assert pools["p"]["online"] == "4" and pools["p"]["size"] == "4", pools
        got = sorted(v["address"] for v in pools["p"]["leases"].values())
        assert got == [f"10.99.126.{i}" for i in range(1, 5)], got
        refused = [f for _, f in ike_sas(gw.sas()) if "remote-vips" not in f]
        assert len(refused) == 1 and refused[0]["remote-id"] == "c5.client.test", refused
        assert "INTERNAL_ADDRESS_FAILURE" in charon.log() or "INT_ADDR_FAIL" in charon.log(), "charon saw no refusal"
        log("pool of 4, 5 clients: four leases, the fifth refused with INTERNAL_ADDRESS_FAILURE")
    finally:
        if charon is not None:
            charon.close()
        gw.close()


def test(build, folder):
    with Topology() as topo:
        charon_client(build, topo, f"{folder}/1", print)
    with Topology() as topo:
        ikeplexd_client(build, topo, f"{folder}/2", print)
    with Topology() as topo:
        exhaustion(build, topo, f"{folder}/3", print)


if __name__ == "__main__":
    try:
        sys.exit(main_wrapper(test, "vips"))
    except Failure as e:
        print(f"FAIL: {e}")
        sys.exit(1)
