#!/usr/bin/env python3
"""EAP-RADIUS end to end (issue 21): ikeplexd as the gateway with `remote { auth = eap-radius }`
and a pool, Debian's FreeRADIUS 3.2 (radiusd, with test_radius.py's configuration and users
file format) as the AAA server, Debian's strongSwan 5.9.8 charon as the client
(`auth = eap-mschapv2`, `vips = 0.0.0.0`).

Namespace G: ikeplexd on 10.99.127.1, radiusd on 10.99.127.3 (lo), the inside 10.99.127.129
(lo); namespace C: charon on 10.99.127.2. Virtual IPs from 10.99.129.0/24.

1. `ikeplexd --check` refuses `auth = eap-radius` when ikeplexd.conf names no RADIUS server.
2. carol with the right password: EAP-MSCHAPv2 through radiusd (its MS-MPPE keys are the MSK
   that the AUTH payloads use); `pools = radius, p`: the virtual IP is the Access-Accept's
   Framed-IP-Address 10.99.130.7 (strongSwan's eap-radius rule), not one of pool p; ping from
   it to the inside.
3. Accounting: a Start with User-Name carol and Framed-IP-Address 10.99.130.7 in radiusd's
   detail file, with the Access-Accept's Class echoed; Interim-Updates every second
   (accounting_interval = 1s) whose Acct-Input/Output-Packets count the pings; after charon
   terminates, the Stop of the same Acct-Session-Id with the traffic counters (at least the
   pings, both ways), Acct-Session-Time and Acct-Terminate-Cause = User-Request.
4. A wrong password: radiusd rejects, charon gets EAP-Failure, no IKE SA stays on ikeplexd.
   EAP-MD5 (charon's eap-md5): radiusd's Access-Accept carries no MS-MPPE keys, so no MSK;
   both sides key AUTH with SK_p (strongSwan's rule) and the IKE SA comes up.
5. A gateway with a wrong RADIUS secret: radiusd drops its requests, the RADIUS client times
   out, charon gets EAP-Failure, ikeplexd logs it and keeps running.
6. Reload: while a conversation with the wrong secret is in flight, ikeplexd.conf gets the
   right one and ikeplexd a SIGHUP: the conversation in flight finishes on the old client
   (EAP-Failure from its timeout, well before the engine's 10 s eap_backend_timeout; no crash
   under ASan), the next one uses the new secret and comes up.
Needs root (namespaces); skipped (77) without radiusd.
"""
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from lib import Charon, Failure, Ikeplexd, ike_sas, main_wrapper, make_certs, run, wait_until  # noqa: E402
from test_eap import client_auth, credentials  # noqa: E402
from raddb import RADIUSD, start_radiusd, write_raddb  # noqa: E402
from traffic import ping  # noqa: E402

GW, CLIENT, RADIUS = "10.99.127.1", "10.99.127.2", "10.99.127.3"
RADIUS6 = "fd00:99:127::3"
INSIDE, INSIDE_NET = "10.99.127.129", "10.99.127.128/25"
POOL, VIP = "10.99.129.0/24", "10.99.130.7"  # VIP: the Access-Accept's Framed-IP-Address
SECRET = "radius-test-secret-127"
PASSWORD = "carol-radius-password"
CLASS = b"ikeplex-class-127".hex()  # the Access-Accept's Class, echoed in accounting


def gateway_conf():
    return f"""connections {{
    rw {{
        local_addrs = {GW}
        remote_addrs = %any
        pools = radius, p
        proposals = aes128gcm16-prfsha256-x25519
        local {{
            auth = pubkey
            id = a.test
            certs = a.pem
        }}
        remote {{
            auth = eap-radius
            eap_id = %any
        }}
        children {{
            net {{
                local_ts = {INSIDE_NET}
                esp_proposals = aes128gcm16
            }}
        }}
    }}
}}
pools {{
    p {{ addrs = {POOL} }}
}}
"""


def client_conf(password, method="mschapv2"):
    local, remote = client_auth(method, "b", "a")
    return f"""connections {{
    c {{
        local_addrs = {CLIENT}
        remote_addrs = {GW}
        vips = 0.0.0.0
        proposals = aes128gcm16-prfsha256-x25519
        local {{
            {local}
        }}
        remote {{
            {remote}
        }}
        children {{
            net {{
                remote_ts = {INSIDE_NET}
                esp_proposals = aes128gcm16
            }}
        }}
    }}
}}
secrets {{
    eap-carol {{
        id = carol
        secret = "{password}"
    }}
}}
"""


def radius_plugin(secret=SECRET, tries=4):
    return f"""plugins {{
        eap-radius {{
            accounting = yes
            accounting_interval = 1s
            retransmit_timeout = 0.5
            retransmit_tries = {tries}
            servers {{
                fr {{
                    address = {RADIUS}
                    secret = {secret}
                }}
            }}
        }}
    }}"""


def test(build, folder):
    if not os.path.exists("/usr/lib/ipsec/plugins/libstrongswan-eap-mschapv2.so"):
        raise Failure("strongSwan's eap-mschapv2 plugin is missing (libcharon-extra-plugins)")
    tag = str(os.getpid())
    ns_g, ns_c = f"erG{tag}", f"erC{tag}"
    veth_g, veth_c = f"eg{tag}", f"ec{tag}"
    raddb = f"{folder}/raddb"
    write_raddb(raddb, secret=SECRET, server=RADIUS, net="10.99.127.0/24", server6=RADIUS6,
                net6="fd00:99:127::/64",
                users=f'carol Cleartext-Password := "{PASSWORD}"\n\tClass = 0x{CLASS},\n'
                      f'\tFramed-IP-Address = {VIP}\n')
    certs, ca = make_certs(f"{folder}/pki")
    radiusd = gw = charon = None
    try:
        for cmd in (["ip", "netns", "add", ns_g], ["ip", "netns", "add", ns_c],
                    ["ip", "link", "add", veth_g, "type", "veth", "peer", "name", veth_c],
                    ["ip", "link", "set", veth_g, "netns", ns_g],
                    ["ip", "link", "set", veth_c, "netns", ns_c],
                    ["ip", "-n", ns_g, "addr", "add", f"{GW}/24", "dev", veth_g],
                    ["ip", "-n", ns_c, "addr", "add", f"{CLIENT}/24", "dev", veth_c],
                    ["ip", "-n", ns_g, "link", "set", "lo", "up"],
                    ["ip", "-n", ns_c, "link", "set", "lo", "up"],
                    ["ip", "-n", ns_g, "link", "set", veth_g, "up"],
                    ["ip", "-n", ns_c, "link", "set", veth_c, "up"],
                    ["ip", "-n", ns_g, "addr", "add", f"{INSIDE}/32", "dev", "lo"],
                    ["ip", "-n", ns_g, "addr", "add", f"{RADIUS}/32", "dev", "lo"],
                    ["ip", "-n", ns_g, "addr", "add", f"{RADIUS6}/128", "dev", "lo", "nodad"]):
            run(cmd)
        radiusd, radiusd_log = start_radiusd(ns_g, raddb, folder)

        # 1. --check without RADIUS servers.
        credentials(f"{folder}/check", "a", certs, ca)
        with open(f"{folder}/check/swanctl.conf", "w") as f:
            f.write(gateway_conf())
        with open(f"{folder}/check/ikeplexd.conf", "w") as f:
            f.write(f"ikeplexd {{\n    swanctl_conf = {folder}/check/swanctl.conf\n}}\n")
        out = subprocess.run([f"{build}/apps/ikeplexd", "-c", f"{folder}/check/ikeplexd.conf", "--check"],
                             capture_output=True, text=True, timeout=20)
        if out.returncode == 0 or "eap-radius needs RADIUS servers in ikeplexd.conf" not in out.stdout:
            raise Failure(f"--check without RADIUS servers: {out.returncode} {out.stdout} {out.stderr}")
        print("ok: --check refuses auth = eap-radius without RADIUS servers")

        # 2. The right password: up, virtual IP, ping.
        credentials(f"{folder}/gw", "a", certs, ca)
        credentials(f"{folder}/charon", "b", certs, ca, own=False)
        gw = Ikeplexd(build, ns_g, f"{folder}/gw", gateway_conf(), extra=radius_plugin(), backend="userspace",
                      workers=1)
        charon = Charon(ns_c, f"{folder}/charon", client_conf(PASSWORD),
                        plugins_extra="eap-identity eap-mschapv2", extra="install_virtual_ip = yes")
        out = charon.swanctl("--initiate", "--child", "net", timeout=30, check=False)
        if "completed successfully" not in out:
            raise Failure(f"charon's initiate: {out}\n{charon.log()[-3000:]}")
        sas = ike_sas(gw.sas())
        if len(sas) != 1 or sas[0][1].get("remote-vips") != [VIP] or sas[0][1].get("remote-eap-id") != "carol":
            raise Failure(f"gateway's IKE SA: {sas}")
        charon.data_plane_up(INSIDE_NET)
        ping(ns_c, INSIDE, src=VIP, count=3)
        print(f"ok: carol authenticated by radiusd (EAP-MSCHAPv2 through eap-radius), virtual IP {VIP} "
              "(Framed-IP-Address, pools = radius, p), ping through it")

        # 3. Accounting Start, then Stop.
        detail = f"{raddb}/radacct/detail"

        def records(kind):
            if not os.path.exists(detail):
                return []
            with open(detail) as f:
                text = f.read()
            return [b for b in text.split("\n\n") if f"Acct-Status-Type = {kind}" in b]
        start = wait_until(lambda: records("Start"), 10, "the accounting Start in radiusd's detail file")[0]
        for want in ('User-Name = "carol"', f"Framed-IP-Address = {VIP}", "Acct-Session-Id = ",
                     f"Class = 0x{CLASS}"):
            if want not in start:
                raise Failure(f"accounting Start lacks {want}: {start}")
        session = [line for line in start.splitlines() if "Acct-Session-Id" in line][0].strip()

        def count(record, name):
            m = re.search(rf"^\s*{name} = (\d+)$", record, re.M)
            return int(m.group(1)) if m else None

        def counted(record):  # the 3 pings both ways, in octets and packets
            return all((count(record, f"Acct-{d}-Packets") or 0) >= 3 and
                       (count(record, f"Acct-{d}-Octets") or 0) >= 3 * 84 for d in ("Input", "Output"))
        interim = wait_until(lambda: [r for r in records("Interim-Update") if session in r and counted(r)], 10,
                             "an Interim-Update that counts the pings")[0]
        if "Gigawords" in interim or count(interim, "Acct-Session-Time") is None:
            raise Failure(f"Interim-Update: {interim}")
        charon.swanctl("--terminate", "--ike", "c", timeout=30, check=False)
        stop = wait_until(lambda: records("Stop"), 10, "the accounting Stop in radiusd's detail file")[0]
        for want in (session, f"Framed-IP-Address = {VIP}", "Acct-Session-Time = ",
                     "Acct-Terminate-Cause = User-Request"):
            if want not in stop:
                raise Failure(f"accounting Stop lacks {want}: {stop}")
        if not counted(stop) or count(stop, "Acct-Input-Packets") < count(interim, "Acct-Input-Packets"):
            raise Failure(f"accounting Stop's counters: {stop}")
        wait_until(lambda: not ike_sas(gw.sas()), 10, "the gateway's IKE SA to go")
        print(f"ok: accounting Start, Interim-Update (every 1 s) and Stop ({session}, Framed-IP-Address = {VIP}, "
              f"in {count(stop, 'Acct-Input-Packets')}p/{count(stop, 'Acct-Input-Octets')}B, "
              f"out {count(stop, 'Acct-Output-Packets')}p/{count(stop, 'Acct-Output-Octets')}B) in radiusd's "
              "detail file")
        charon.close()
        charon = None

        # 4. A wrong password.
        credentials(f"{folder}/charon-wrong", "b", certs, ca, own=False)
        charon = Charon(ns_c, f"{folder}/charon-wrong", client_conf("not-her-password"),
                        plugins_extra="eap-identity eap-mschapv2", extra="install_virtual_ip = yes")
        out = charon.swanctl("--initiate", "--child", "net", timeout=30, check=False)
        if "completed successfully" in out:
            raise Failure(f"a wrong password got through: {out}")
        wait_until(lambda: not ike_sas(gw.sas()), 10, "ikeplexd to drop the IKE SA")
        wait_until(lambda: "received EAP_FAILURE" in charon.log(), 10, "charon's EAP_FAILURE")
        print("ok: a wrong password: Access-Reject, EAP-Failure, no IKE SA stays")
        charon.close()
        charon = None

        # 4b. EAP-MD5: radiusd's Access-Accept has no MS-MPPE keys, so there is no MSK and both
        # AUTH payloads are keyed with SK_pi / SK_pr, as strongSwan's client expects.
        credentials(f"{folder}/charon-md5", "b", certs, ca, own=False)
        charon = Charon(ns_c, f"{folder}/charon-md5", client_conf(PASSWORD, "md5"),
                        plugins_extra="eap-identity eap-md5", extra="install_virtual_ip = yes")
        out = charon.swanctl("--initiate", "--child", "net", timeout=30, check=False)
        if "completed successfully" not in out:
            raise Failure(f"EAP-MD5 through radiusd: {out}\n{charon.log()[-3000:]}")
        with open(f"{folder}/gw/ikeplexd.log") as f:
            if "EAP-RADIUS authentication of 'carol' succeeded, no MSK established" not in f.read():
                raise Failure("the gateway did not log an MSK-less accept")
        charon.swanctl("--terminate", "--ike", "c", timeout=30, check=False)
        wait_until(lambda: not ike_sas(gw.sas()), 10, "the EAP-MD5 IKE SA to go")
        print("ok: EAP-MD5 through radiusd: an Access-Accept without MS-MPPE keys, AUTH with SK_p both ways")
        charon.close()
        charon = None
        gw.close()
        gw = None

        # 5. A gateway with the wrong shared secret: radiusd drops its requests; after the
        # retransmits the client gets an EAP-Failure and the gateway logs why (no crash).
        credentials(f"{folder}/gw-bad", "a", certs, ca)
        gw = Ikeplexd(build, ns_g, f"{folder}/gw-bad", gateway_conf(),
                      extra=radius_plugin("not-the-secret", tries=1), backend="userspace", workers=1)
        credentials(f"{folder}/charon-bad", "b", certs, ca, own=False)
        charon = Charon(ns_c, f"{folder}/charon-bad", client_conf(PASSWORD),
                        plugins_extra="eap-identity eap-mschapv2", extra="install_virtual_ip = yes")
        out = charon.swanctl("--initiate", "--child", "net", timeout=30, check=False)
        if "completed successfully" in out:
            raise Failure(f"a gateway with a wrong RADIUS secret let the client in: {out}")
        wait_until(lambda: "received EAP_FAILURE" in charon.log(), 10, "charon's EAP_FAILURE")
        wait_until(lambda: not ike_sas(gw.sas()), 10, "ikeplexd to drop the IKE SA")
        with open(f"{folder}/gw-bad/ikeplexd.log") as f:
            gw_log = f.read()
        if "EAP-RADIUS: no usable answer for IKE SA" not in gw_log:
            raise Failure(f"no log line for the unanswered RADIUS request: {gw_log[-2000:]}")
        print("ok: a wrong RADIUS secret: no answer, EAP-Failure, a log line, ikeplexd still serves VICI")

        # 6. Reload with the right secret while a conversation is in flight on the wrong one.
        dropped = radiusd_log().count("invalid Message-Authenticator")
        result = {}

        def initiate_first():
            began = time.monotonic()
            result["out"] = charon.swanctl("--initiate", "--child", "net", timeout=30, check=False)
            result["took"] = time.monotonic() - began
        first = threading.Thread(target=initiate_first)
        first.start()
        try:
            wait_until(lambda: radiusd_log().count("invalid Message-Authenticator") > dropped, 15,
                       "radiusd to drop the first request of the conversation")
            conf = f"{folder}/gw-bad/ikeplexd.conf"
            with open(conf) as f:
                text = f.read()
            with open(conf, "w") as f:
                f.write(text.replace("not-the-secret", SECRET))
            gw.proc.send_signal(signal.SIGHUP)
        finally:
            first.join(timeout=40)
        if "completed successfully" in result.get("out", "") or "took" not in result:
            raise Failure(f"the conversation in flight did not stay on the old secret: {result}")
        # Ended by the old client's own timeout (about 1.2 s), not by the engine's 10 s
        # eap_backend_timeout that a client freed with its requests would leave it to.
        if result["took"] > 8:
            raise Failure(f"the conversation in flight was not answered by the old client: {result}")
        wait_until(lambda: "RADIUS settings reloaded" in open(f"{folder}/gw-bad/ikeplexd.log").read(), 10,
                   "ikeplexd to reload the RADIUS settings")
        wait_until(lambda: not ike_sas(gw.sas()), 10, "ikeplexd to drop the failed IKE SA")
        out = charon.swanctl("--initiate", "--child", "net", timeout=30, check=False)
        if "completed successfully" not in out:
            raise Failure(f"after the reload with the right secret: {out}\n{charon.log()[-3000:]}")
        if gw.proc.poll() is not None:
            raise Failure("ikeplexd died during the reload")
        print(f"ok: reload (SIGHUP) with the right secret: the conversation in flight failed on the old one "
              f"after {result['took']:.1f} s, the next one came up")
    finally:
        for p in (charon, gw):
            if p is not None:
                p.close()
        if radiusd is not None and radiusd.poll() is None:
            radiusd.terminate()
            try:
                radiusd.wait(timeout=10)
            except subprocess.TimeoutExpired:
                radiusd.kill()
        for ns in (ns_g, ns_c):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


if __name__ == "__main__":
    if not os.path.exists(RADIUSD):
        print("SKIP: eap_radius needs Debian's freeradius (scripts/setup-deps.sh)")
        sys.exit(77)
    sys.exit(main_wrapper(test, "eap_radius"))
