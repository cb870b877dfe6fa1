#!/usr/bin/env python3
"""RFC 5685 redirect, live: a client namespace C joined to gateway A (10.99.158.0/24) and to
gateway B (10.99.159.0/24) by two veth pairs; A and B protect the same inside network (each
10.99.159.129 on lo) and share the identity gw.test.

1. Debian's strongSwan 5.9.8 (kernel-libipsec) initiates to A; A's ikeplexd.conf rule redirects
   it in IKE_SA_INIT to B (A keeps no state); the tunnel comes up at B and a ping passes.
2. strongSwan is up at A; `swanctl --redirect` against A's VICI sends it an INFORMATIONAL
   REDIRECT; strongSwan moves to B (ping) and A's IKE SA goes.
3. ikeplexd as the client: redirected by A's rule in IKE_SA_INIT to B (REDIRECTED_FROM), up
   there with a ping both ways; `ikeplex initiate` follows the redirect to its outcome.
4. ikeplexd as the client, redirected in IKE_AUTH by A's rule with remote_id: it deletes the
   IKE SA at A and comes up at B.
5. ikeplexd as the client, up at A; `ikeplex redirect --peer-id` on A moves it to B (and the
   client's own `ikeplex redirect` is refused: only the original responder redirects).
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lib import Charon, Ikeplexd, children, ike_sas, main_wrapper, run, run_steps, wait_until  # noqa: E402
from traffic import wait_ping  # noqa: E402

C_A, A = "10.99.158.1", "10.99.158.2"
C_B, B = "10.99.159.1", "10.99.159.2"
IN_C, IN_G = "10.99.158.129", "10.99.159.129"
NET_C, NET_G = "10.99.158.128/25", "10.99.159.128/25"
PSK = "redirect-test-psk-0123456789"


class Trio:
    """C, A and B (names carry the pid); everything goes on exit."""

    def __init__(self):
        tag = str(os.getpid())
        self.c, self.a, self.b = f"rdC{tag}", f"rdA{tag}", f"rdB{tag}"
        self.links = [(self.a, f"rda{tag}", f"rcA{tag}", A, C_A), (self.b, f"rdb{tag}", f"rcB{tag}", B, C_B)]

    def __enter__(self):
        self.down()
        for ns in (self.c, self.a, self.b):
            run(["ip", "netns", "add", ns])
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
        for ns, gw_if, c_if, gw, client in self.links:
            run(["ip", "link", "add", gw_if, "type", "veth", "peer", "name", c_if])
            run(["ip", "link", "set", gw_if, "netns", ns])
            run(["ip", "link", "set", c_if, "netns", self.c])
            run(["ip", "-n", ns, "addr", "add", f"{gw}/26", "dev", gw_if])
            run(["ip", "-n", self.c, "addr", "add", f"{client}/26", "dev", c_if])
            run(["ip", "-n", ns, "link", "set", gw_if, "up"])
            run(["ip", "-n", self.c, "link", "set", c_if, "up"])
            run(["ip", "-n", ns, "addr", "add", f"{IN_G}/32", "dev", "lo"])
        run(["ip", "-n", self.c, "addr", "add", f"{IN_C}/32", "dev", "lo"])
        return self

    def __exit__(self, *exc):
        self.down()

    def down(self):
        for ns in (self.c, self.a, self.b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def conf(addrs, me, peer, mine, theirs):
    """swanctl.conf with connection t (PSK) and child net; `addrs`: its local_addrs or
    remote_addrs line."""
    return f"""connections {{
    t {{
        version = 2
        {addrs}
        proposals = aes128gcm16-prfsha256-x25519
        local {{ auth = psk
                id = {me} }}
        remote {{ auth = psk
                 id = {peer} }}
        children {{
            net {{
                local_ts = {mine}
                remote_ts = {theirs}
                esp_proposals = aes128gcm16
            }}
        }}
    }}
}}
secrets {{ ike-t {{ secret = "{PSK}" }} }}
"""


def client_conf():
    """The client's connection t: to A, any local address (the route picks it)."""
    return conf(f"remote_addrs = {A}", "client.test", "gw.test", NET_C, NET_G)


def gateway_conf(me):
    return conf(f"local_addrs = {me}", "gw.test", "client.test", NET_G, NET_C)


REDIRECT_TO_B = f"redirect {{ to-b {{ gateway = {B}\n remote_addrs = 10.99.158.0/24 }} }}"


def one_sa(d):
    sas = ike_sas(d.sas())
    if len(sas) != 1 or sas[0][1].get("state") != "ESTABLISHED":
        return None
    return sas[0][1] if any(c["state"] == "INSTALLED" for c in children(sas[0][1])) else None


def gateways(build, topo, folder, rule_a):
    a = Ikeplexd(build, topo.a, f"{folder}/a", gateway_conf(A), extra=rule_a, backend="userspace", workers=1)
    b = Ikeplexd(build, topo.b, f"{folder}/b", gateway_conf(B), backend="userspace", workers=1)
    return a, b


def settled_at_b(topo, a, b):
    """The IKE SA is at B with its Child SA, A holds none, and C's inside reaches B's."""
    wait_until(lambda: one_sa(b), 10, "the IKE SA at B")
    wait_until(lambda: not ike_sas(a.sas()), 10, "the IKE SA at A to go")
    wait_ping(topo.c, IN_G, src=IN_C, timeout=10)


def close_all(*procs):
    for x in procs:
        if x is not None:
            x.close()


def log_of(d):
    with open(f"{d.dir}/ikeplexd.log", errors="replace") as f:
        return f.read()


def strongswan_init_redirect(build, topo, folder, log):
    a = b = charon = None
    try:
        a, b = gateways(build, topo, folder, REDIRECT_TO_B)
        charon = Charon(topo.c, f"{folder}/charon", client_conf())
        charon.initiate()
        sa = wait_until(lambda: one_sa(b), 10, "the IKE SA at B")
        assert sa["remote-host"] == C_B, sa
        assert not ike_sas(a.sas()), a.sas()
        charon.data_plane_up(NET_G)
        wait_ping(topo.c, IN_G, src=IN_C, timeout=10)
        assert f"redirecting it to gateway {B}" in log_of(a), log_of(a)[-2000:]
        # strongSwan announced support to A, and named A to B (REDIRECTED_FROM).
        assert "N(REDIR_SUP)" in charon.log() and "N(REDIR_FROM)" in charon.log(), charon.log()[-3000:]
        log("[1] strongSwan 5.9.8 redirected by A's rule in IKE_SA_INIT: up at B, ping passes")
    finally:
        close_all(charon, a, b)


def swanctl_redirect(charon, d, *args):
    """Debian's `swanctl --redirect ARGS` against ikeplexd `d`: (exit status, stdout + stderr)."""
    r = subprocess.run(["swanctl", "--redirect", *args, "--uri", f"unix://{d.vici}"], capture_output=True,
                       text=True, timeout=20, env=dict(os.environ, STRONGSWAN_CONF=charon.conf))
    return r.returncode, r.stdout + r.stderr


def strongswan_vici_redirect(build, topo, folder, log):
    a = b = charon = None
    try:
        a, b = gateways(build, topo, folder, "")
        charon = Charon(topo.c, f"{folder}/charon", client_conf())
        charon.initiate()
        wait_until(lambda: one_sa(a), 10, "the IKE SA at A")
        charon.data_plane_up(NET_G)
        wait_ping(topo.c, IN_G, src=IN_C, timeout=10)
        # Debian's swanctl --redirect against our VICI (strongSwan's message and answer).
        rc, out = swanctl_redirect(charon, a, "--peer-ip", C_A, "--gateway", B)
        assert rc == 0 and "redirect completed successfully" in out, out
        settled_at_b(topo, a, b)
        rc, out = swanctl_redirect(charon, a, "--peer-ip", "10.99.157.1", "--gateway", B)
        assert rc != 0 and "redirect failed" in out and "no matching IKE_SA" in out, out
        log("[2] swanctl --redirect on A's VICI moved strongSwan's established IKE SA to B: ping passes")
    finally:
        close_all(charon, a, b)


def ikeplexd_client(build, topo, folder, log):
    a = b = c = None
    try:
        a, b = gateways(build, topo, folder, REDIRECT_TO_B)
        c = Ikeplexd(build, topo.c, f"{folder}/c", client_conf(), backend="userspace", workers=1)
        out = c.cli("initiate", "--child", "net")
        assert "completed successfully" in out, out
        sa = wait_until(lambda: one_sa(c), 10, "the client's IKE SA")
        assert sa["remote-host"] == B, sa
        settled_at_b(topo, a, b)
        wait_ping(topo.b, IN_C, src=IN_G, timeout=10)
        assert f"redirected to gateway {B} in IKE_SA_INIT" in log_of(c), log_of(c)[-2000:]
        log("[3] ikeplexd client redirected by ikeplexd A to ikeplexd B: up, ping both ways")
    finally:
        close_all(c, a, b)


def ikeplexd_client_auth_and_cli(build, topo, folder, log):
    """4: A's IKE_AUTH rule by identity; 5: `ikeplex redirect` on A moves an established one."""
    by_id = f"redirect {{ by-id {{ gateway = {B}\n remote_id = *.test }} }}"
    for n, rule in ((4, by_id), (5, "")):
        a = b = c = None
        try:
            a, b = gateways(build, topo, f"{folder}/{n}", rule)
            c = Ikeplexd(build, topo.c, f"{folder}/{n}/c", client_conf(), backend="userspace", workers=1)
            out = c.cli("initiate", "--child", "net")
            assert "completed successfully" in out, out
            if n == 5:
                wait_until(lambda: one_sa(a), 10, "the IKE SA at A")
                wait_ping(topo.c, IN_G, src=IN_C, timeout=10)
                out = c.cli("redirect", "--ike", "t", "--gateway", A, check=False)
                assert "only the original responder" in out, out
                out = a.cli("redirect", "--peer-id", "client.test", "--gateway", B)
                assert "redirect completed successfully" in out, out
            sa = wait_until(lambda: (lambda f: f if f and f["remote-host"] == B else None)(one_sa(c)), 10,
                            "the client's IKE SA at B")
            settled_at_b(topo, a, b)
            if n == 4:
                assert "redirected to gateway 10.99.159.2 in IKE_AUTH" in log_of(c), log_of(c)[-2000:]
                log("[4] ikeplexd client redirected in IKE_AUTH by A's remote_id rule: deleted at A, up at B, ping")
            else:
                assert "redirected to gateway 10.99.159.2 in INFORMATIONAL" in log_of(c), log_of(c)[-2000:]
                log(f"[5] `ikeplex redirect` on A moved the ikeplexd client's IKE SA {sa['uniqueid']} to B: ping")
        finally:
            close_all(c, a, b)


def test(build, folder):
    steps = [
        lambda t: strongswan_init_redirect(build, t, f"{folder}/1", print),
        lambda t: strongswan_vici_redirect(build, t, f"{folder}/2", print),
        lambda t: ikeplexd_client(build, t, f"{folder}/3", print),
        lambda t: ikeplexd_client_auth_and_cli(build, t, f"{folder}/4", print),
    ]
    run_steps(steps, Trio, "IKEPLEX_REDIRECT_STEPS")


if __name__ == "__main__":
    sys.exit(main_wrapper(test, "redirect"))
