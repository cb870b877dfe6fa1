#!/usr/bin/env python3
"""A concentrator: 1,000 road-warrior clients with virtual IPs against one ikeplexd (backend none,
`remote_addrs = %any`, a pool of 1,022 addresses), set up by ikeplex-load --vips from 100 source
addresses. Every client gets a distinct virtual IP (the generator counts them); during the hold
`ikeplex list-pools` and `swanctl --list-pools` (over VICI) show 1,000 leases online and
`ikeplex list-sas` shows each client's Child SA with its virtual IP as the remote selector; after
the deletes every lease is back (online 0) and no IKE SA is left.

Addresses: responder 10.99.156.1, generator 10.99.156.2, sources 10.99.160.0/20 (the first 100),
pool 10.99.168.0/22."""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from lib import (PSK, Failure, Ikeplexd, PrefixPair, children, ike_sas, main_wrapper, run,  # noqa: E402
                 wait_until)
from test_load import figures  # noqa: E402

CLIENTS = 1000
SOURCES = "10.99.160.0/20"
POOL = "10.99.168.0/22"  # 1,022 usable addresses


def gateway_conf():
    return f"""connections {{
    rw {{
        version = 2
        local_addrs = 10.99.156.1
        remote_addrs = %any
        proposals = aes128gcm16-prfsha256-x25519
        pools = rw
        unique = replace
        local {{ auth = psk
                id = responder.test }}
        remote {{ auth = psk
                 id = %any }}
        children {{
            c {{
                local_ts = 10.97.0.0/16
                esp_proposals = aes128gcm16
                mode = tunnel
            }}
        }}
    }}
}}
pools {{ rw {{ addrs = {POOL} }} }}
secrets {{ ike-rw {{ secret = "{PSK}" }} }}
"""


def pool(d):
    return json.loads(d.cli("list-pools", "--json"))["rw"]


def check_listing(d):
    """Each client's IKE SA: one Child SA whose remote selector is its virtual IP (a /32 of the
    pool), distinct across clients."""
    sas = ike_sas(d.sas())
    assert len(sas) == CLIENTS, f"{len(sas)} IKE SAs listed"
    vips = set()
    for name, fields in sas:
        vip = fields.get("remote-vips")
        assert name == "rw" and vip and len(vip) == 1, (name, fields)
        kids = children(fields)
        assert len(kids) == 1 and kids[0]["state"] == "INSTALLED", fields
        assert kids[0]["remote-ts"] == [f"{vip[0]}/32"], kids[0]
        assert kids[0]["local-ts"] == ["10.97.0.0/16"], kids[0]
        vips.add(vip[0])
    assert len(vips) == CLIENTS, f"{len(vips)} distinct virtual IPs"


def test(build, folder):
    with PrefixPair("10.99.156", SOURCES) as p:
        d = Ikeplexd(build, p.a, f"{folder}/gw", gateway_conf(), workers=2,
                     log_levels={"default": 1, "ike": 1}, nofile=4096)
        gen = None
        try:
            cmd = ["ip", "netns", "exec", p.b, f"{build}/apps/ikeplex-load", "--remote", "10.99.156.1",
                   "--sources", SOURCES, "--addresses", "100", "--sas", str(CLIENTS), "--psk", PSK,
                   "--remote-id", "responder.test", "--vips", "--concurrency", "64", "--hold", "60",
                   "--timeout", "60", "--responder-pid", str(d.proc.pid)]
            start = time.monotonic()
            gen = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            wait_until(lambda: gen.poll() is not None or pool(d)["online"] == str(CLIENTS), 60,
                       f"{CLIENTS} leases online")
            if gen.poll() is not None:
                raise Failure(f"ikeplex-load ended early: {gen.stdout.read()}")
            up = time.monotonic() - start
            p_up = pool(d)
            assert p_up["size"] == "1022" and p_up["base"] == "10.99.168.0", p_up
            listing = run(["swanctl", "--list-pools", "--uri", f"unix://{d.vici}"])
            assert f"{CLIENTS} / 0 / 1022" in listing or (str(CLIENTS) in listing and "1022" in listing), listing
            check_listing(d)
            gen.send_signal(signal.SIGUSR1)  # end the hold: delete them all
            out, _ = gen.communicate(timeout=90)
            print(out, end="")
            f = figures(out)
            assert gen.returncode == 0, f"ikeplex-load exit code {gen.returncode}"
            assert f.get("established") == str(CLIENTS) and f.get("vips") == str(CLIENTS), f
            assert f.get("vips_missing") == "0" and f.get("vips_duplicate") == "0", f
            assert f.get("deleted") == str(CLIENTS) and f.get("remaining") == "0", f
            wait_until(lambda: pool(d)["online"] == "0", 10, "every lease returned")
            p_end = pool(d)
            assert p_end["offline"] == str(CLIENTS), p_end
            if ike_sas(d.sas()):
                raise Failure("the responder still has IKE SAs")
            print(f"{CLIENTS} clients with distinct virtual IPs: listed online after {up:.1f} s "
                  f"(set-up {f['setup_s']} s), all returned after the deletes ({f['delete_s']} s); "
                  f"swanctl --list-pools: {listing.strip()}")
        finally:
            if gen is not None and gen.poll() is None:
                gen.kill()
                gen.wait()
            d.close()


if __name__ == "__main__":
    sys.exit(main_wrapper(test, "concentrator"))
