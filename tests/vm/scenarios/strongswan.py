#!/usr/bin/env python3
# vm-timeout: 400
# what: ikeplexd (backend xfrm, per_cpu_sas = yes) <-> strongSwan 5.9.8 charon (kernel-netlink) on real ESP, both roles
"""Debian's strongSwan 5.9.8 charon with kernel-netlink (the kernel's ESP) against ikeplexd with
backend xfrm, in the VM. strongSwan 5.9.8 has no RFC 9611: with per_cpu_sas = yes ikeplexd gets
one regular Child SA and traffic must flow exactly as with per_cpu_sas = no — from every CPU at
once, which the outbound policy's per-CPU acquires (XFRM_POLICY_CPU_ACQUIRE) used to break.
Variants: we initiate (per_cpu_sas_start = all), charon initiates, and a trap policy whose
first packet starts everything (per_cpu_sas_start = acquire). In each: pings both ways from
every CPU, Child SA and IKE SA rekeys from each side with traffic checked after each, a delete
from each side. Then DPD against a vanished peer.

Variant vip: charon as gateway with a pool, ikeplexd (backend xfrm, vips = 0.0.0.0) as client:
the address appears as /32 on the interface towards charon, the table-220 route to charon's
inside network has it as source, pings from it go through ESP; it goes with the IKE SA.

Arguments: variants (initiator, responder, trap, dpd, vip); none = all."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import vmlib  # noqa: E402
from vmlib import Failure, cpus, wait_until  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "integration"))
from lib import Charon, Ikeplexd, Namespaces, agree, children, ike_sas, side_conf  # noqa: E402

COUNT = 10
ESP = "aes128gcm16"
EXTRA = {
    "initiator": "per_cpu_sas = yes\n                per_cpu_sas_start = all",
    "responder": "per_cpu_sas = yes",
    "trap": "per_cpu_sas = yes\n                per_cpu_sas_start = acquire\n                start_action = trap",
}


def ping_all_cpus(ns, what):
    """COUNT pings from each CPU, both ways: every one must be answered."""
    for cpu in range(cpus()):
        for side, src, dst in ((ns.a, "10.99.1.1", "10.99.2.1"), (ns.b, "10.99.2.1", "10.99.1.1")):
            out = vmlib.run(["ip", "netns", "exec", side, "taskset", "-c", str(cpu), "ping", "-n", "-q", "-c",
                             str(COUNT), "-i", "0.05", "-W", "2", "-I", src, dst], timeout=30, check=False)
            if f"{COUNT} received" not in out:
                raise Failure(f"{what}: ping {src} -> {dst} on CPU {cpu}: {out.strip()}")


def no_per_cpu_acquire(ns):
    """Our outbound policy asks for no per-CPU acquires (XFRM_POLICY_CPU_ACQUIRE)."""
    flags = vmlib.out_policies_cpu_acquire(ns.a)
    if not flags or any(flags):
        raise Failure(f"outbound policies with XFRM_POLICY_CPU_ACQUIRE: {flags}: "
                      f"{vmlib.run(['ip', '-n', ns.a, 'xfrm', 'policy', 'list'])}")


def child_in(sa):
    return children(sa)[0]["spi-in"]


def lifecycle(build, folder, variant, log):
    with Namespaces(f"s{variant[:3]}") as ns:
        ns.plain_routes()  # charon installs no routes; ikeplexd's table 220 wins on A
        charon = Charon(ns.b, f"{folder}/charon", side_conf("b", esp=ESP, conn_extra="dpd_delay = 2s"),
                        data_plane="none")
        ours = None
        try:
            ours = Ikeplexd(build, ns.a, f"{folder}/ours", side_conf("a", esp=ESP, child_extra=EXTRA[variant]),
                            workers=cpus(), window=4, backend="xfrm")
            if variant == "initiator":
                out = ours.cli("initiate", "--child", "net")
                assert "completed successfully" in out, out
            elif variant == "responder":
                charon.initiate()
            else:
                wait_until(lambda: "dir out" in vmlib.run(["ip", "-n", ns.a, "xfrm", "policy", "list"]), 10,
                           "the trap policy")
                # The first packet raises the kernel's acquire; it may be lost while the SA comes up.
                vmlib.run(["ip", "netns", "exec", ns.a, "ping", "-n", "-c", "1", "-W", "1", "-I", "10.99.1.1",
                           "10.99.2.1"], check=False)
            sa = agree(ours, charon, 1, timeout=20)
            wait_until(lambda: "did not answer SA_RESOURCE_INFO" in open(f"{folder}/ours/ikeplexd.log").read() or
                       "did not send SA_RESOURCE_INFO" in open(f"{folder}/ours/ikeplexd.log").read(), 5,
                       "ikeplexd to see that strongSwan 5.9.8 has no RFC 9611")
            assert "per-cpu-sas" not in children(sa)[0], children(sa)[0]
            no_per_cpu_acquire(ns)
            ping_all_cpus(ns, f"{variant}: up")
            agree(ours, charon, 1)  # no member was requested by the traffic
            log(f"[{variant}] one regular Child SA; {COUNT} pings each way from each of {cpus()} CPUs")

            spi = child_in(sa)
            ours.cli("rekey", "--child", "net")
            sa = wait_until(lambda: (lambda f: f if child_in(f) != spi else None)(agree(ours, charon, 1)), 20,
                            "our Child SA rekey")
            ping_all_cpus(ns, f"{variant}: after our Child SA rekey")
            spi = child_in(sa)
            charon.swanctl("--rekey", "--child", "net")
            sa = wait_until(lambda: (lambda f: f if child_in(f) != spi else None)(agree(ours, charon, 1)), 20,
                            "strongSwan's Child SA rekey")
            ping_all_cpus(ns, f"{variant}: after strongSwan's Child SA rekey")
            ike_spi = sa["initiator-spi"]
            ours.cli("rekey", "--ike", "t")
            sa = wait_until(lambda: (lambda f: f if f["initiator-spi"] != ike_spi else None)(agree(ours, charon, 1)),
                            20, "our IKE SA rekey")
            ike_spi = sa["initiator-spi"]
            charon.swanctl("--rekey", "--ike", "t")
            sa = wait_until(lambda: (lambda f: f if f["initiator-spi"] != ike_spi else None)(agree(ours, charon, 1)),
                            20, "strongSwan's IKE SA rekey")
            no_per_cpu_acquire(ns)
            ping_all_cpus(ns, f"{variant}: after the IKE SA rekeys")
            log(f"[{variant}] Child SA and IKE SA rekeyed by each side, traffic from every CPU after each")

            ours.cli("terminate", "--child", "net")
            agree(ours, charon, 0)
            charon.swanctl("--terminate", "--ike", "t", timeout=30)
            agree(ours, charon, None)
            log(f"[{variant}] Child SA deleted by us, the IKE SA by strongSwan")
        finally:
            if ours is not None:
                ours.close()
            charon.close()


def dpd(build, folder, log):
    """Our DPD notices a peer that vanished (its link cut) and removes everything, kernel too."""
    with Namespaces("sdpd") as ns:
        ns.plain_routes()
        charon = Charon(ns.b, f"{folder}/charon", side_conf("b", esp=ESP), data_plane="none")
        ours = None
        try:
            ours = Ikeplexd(build, ns.a, f"{folder}/ours", side_conf("a", esp=ESP, conn_extra="dpd_delay = 2s"),
                            backend="xfrm")
            ours.cli("initiate", "--child", "net")
            agree(ours, charon, 1)
            ns.block(ns.b)
            wait_until(lambda: not ike_sas(ours.sas()), 40, "DPD to remove the IKE SA")
            states = vmlib.kernel_sas(build, ns.a)
            if any(int(s["spi"], 16) != 0 for s in states):
                raise Failure(f"SAs left in the kernel after DPD: {states}")
            ns.block(ns.b, False)
            log("[dpd] the vanished peer was detected; IKE SA, Child SA and kernel SAs are gone")
        finally:
            if ours is not None:
                ours.close()
            charon.close()


VIP_GATEWAY = """connections {
    rw {
        local_addrs = 10.99.0.2
        remote_addrs = %%any
        pools = p
        proposals = aes256gcm16-prfsha256-x25519
        local { auth = psk
                id = b.test }
        remote { auth = psk }
        children { net { local_ts = 10.99.2.0/24
                         esp_proposals = aes128gcm16 } }
    }
}
pools { p { addrs = 10.99.126.0/28 } }
secrets { ike-t { secret = "%s" } }
"""


def vip(build, folder, log):
    """ikeplexd (backend xfrm) gets a virtual IP from charon's pool and uses it as the source."""
    from lib import PSK
    with Namespaces("svip") as ns:
        # Replies to the pool go to A (then into charon's ESP policy); A gets no plain route.
        vmlib.run(["ip", "-n", ns.b, "route", "replace", "10.99.126.0/24", "via", "10.99.0.1"])
        charon = Charon(ns.b, f"{folder}/charon", VIP_GATEWAY % PSK, data_plane="none")
        ours = None
        try:
            conf = side_conf("a", esp=ESP, conn_extra="vips = 0.0.0.0").replace(
                "local_ts = 10.99.1.0/24", "local_ts = dynamic")
            ours = Ikeplexd(build, ns.a, f"{folder}/ours", conf, backend="xfrm")
            out = ours.cli("initiate", "--child", "net")
            assert "completed successfully" in out, out
            addrs = vmlib.run(["ip", "-n", ns.a, "-o", "addr", "show", "dev", ns.veth_a])
            if "10.99.126.1/32" not in addrs:
                raise Failure(f"virtual IP not on {ns.veth_a}: {addrs}")
            route = vmlib.run(["ip", "-n", ns.a, "route", "get", "10.99.2.1"])
            if "src 10.99.126.1" not in route:
                raise Failure(f"route to the inside network without the virtual IP as source: {route}")
            out = vmlib.run(["ip", "netns", "exec", ns.a, "ping", "-n", "-q", "-c", "3", "-i", "0.2", "-W", "2",
                             "10.99.2.1"], timeout=30, check=False)
            if "3 received" not in out:
                raise Failure(f"ping from the virtual IP: {out.strip()}")
            log(f"[vip] 10.99.126.1/32 on {ns.veth_a}, route src, 3 pings through ESP")
            ours.cli("terminate", "--ike", "t")
            wait_until(lambda: "10.99.126.1" not in vmlib.run(["ip", "-n", ns.a, "-o", "addr", "show"]), 10,
                       "the virtual IP to go")
            log("[vip] the address went with the IKE SA")
        finally:
            if ours is not None:
                ours.close()
            charon.close()


def test(build, folder, *variants):
    for v in variants or ("initiator", "responder", "trap", "dpd", "vip"):
        if v == "dpd":
            dpd(build, f"{folder}/dpd", print)
        elif v == "vip":
            vip(build, f"{folder}/vip", print)
        elif v in EXTRA:
            lifecycle(build, f"{folder}/{v}", v, print)
        else:
            raise Failure(f"unknown variant {v}")


if __name__ == "__main__":
    sys.exit(vmlib.main(test, "strongswan"))
