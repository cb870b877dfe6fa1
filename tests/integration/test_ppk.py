#!/usr/bin/env python3
"""RFC 8784 post-quantum preshared keys: ikeplexd (userspace data plane) <-> Debian's strongSwan
5.9.8 (kernel-libipsec), ppk_required = yes on both sides. ikeplexd gets its connection and
secrets (ike and ppk) from Debian's swanctl --load-all over VICI (load-shared type PPK). Each
side initiates once; each time ping passes through the tunnel both ways and both logs show the
PPK in use (charon's "using PPK for PPK_ID"). Then charon's PPK changes (same PPK_ID, other
value; swanctl --load-creds --clear): our initiation fails and no SA is left. Last, PPKs
optional and each side in turn initiating with a PPK_ID the other lacks: up through
NO_PPK_AUTH, checked by charon and by us. Addresses:
10.99.180.1/.2 outside, 10.99.181.1 (ours) and 10.99.182.1 (charon's) inside."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lib import (Charon, Failure, Ikeplexd, PrefixPair, ike_sas, main_wrapper, run, swanctl_conf,  # noqa: E402
                 wait_until)

PPK = "0x" + "5a17" * 16                # 32 bytes
OTHER_PPK = "0x" + "77c3" * 16
OURS_NET, THEIRS_NET = "10.99.181.0/24", "10.99.182.0/24"
OURS_IN, THEIRS_IN = "10.99.181.1", "10.99.182.1"


def conf(side, ppk, ppk_id="ppk-t", required="yes"):
    """`ppk_id` None: none configured (the PPK secret is still ppk-t's)."""
    local, remote = ("10.99.180.1", "10.99.180.2") if side == "ours" else ("10.99.180.2", "10.99.180.1")
    ids = ("a.test", "b.test") if side == "ours" else ("b.test", "a.test")
    ts = (OURS_NET, THEIRS_NET) if side == "ours" else (THEIRS_NET, OURS_NET)
    extra = (f"ppk_id = {ppk_id}\n        " if ppk_id else "") + f"ppk_required = {required}"
    text = swanctl_conf(local, remote, *ids, *ts, conn_extra=extra)
    return text.replace("secrets {", f"secrets {{ ppk-1 {{ id = {ppk_id or 'ppk-t'}\n secret = {ppk} }}", 1)


def ping(ns, src, dst):
    out = run(["ip", "netns", "exec", ns, "ping", "-c", "3", "-i", "0.05", "-W", "1", "-I", src, dst],
              check=False, timeout=10)
    if " 0% packet loss" not in out:
        raise Failure(f"ping {src} -> {dst}: {out}")


def both_pings(ns, charon):
    charon.data_plane_up(OURS_NET)
    ping(ns.a, OURS_IN, THEIRS_IN)
    ping(ns.b, THEIRS_IN, OURS_IN)


def test(build, folder):
    with PrefixPair("10.99.180") as ns:
        run(["ip", "-n", ns.a, "addr", "add", f"{OURS_IN}/32", "dev", "lo"])
        run(["ip", "-n", ns.b, "addr", "add", f"{THEIRS_IN}/32", "dev", "lo"])
        charon = Charon(ns.b, f"{folder}/charon", conf("theirs", PPK))
        ours = None
        try:
            ours = Ikeplexd(build, ns.a, f"{folder}/ours", conf("ours", PPK), workers=2, backend="userspace",
                            preload=False)
            out = run([f"{build}/apps/ikeplexd", "--check", "-c", f"{folder}/ours/ikeplexd.conf", "--swanctl-conf",
                       f"{folder}/ours/swanctl.conf"])
            assert "0 error(s), 0 warning(s)" in out and "note: 1 post-quantum preshared key(s)" in out, out
            env = dict(os.environ, STRONGSWAN_CONF=charon.conf)
            out = run(["swanctl", "--load-all", "--file", f"{folder}/ours/swanctl.conf", "--uri",
                       f"unix://{ours.vici}"], env=env)
            assert "loaded ppk secret 'ppk-1'" in out and "loaded connection 't'" in out, out
            print("swanctl --load-all into ikeplexd: ike and ppk secrets and the connection loaded")

            out = ours.cli("initiate", "--child", "net")
            assert "completed successfully" in out, out
            both_pings(ns, charon)
            assert charon.log().count("using PPK for PPK_ID 'ppk-t'") == 1, "charon did not use the PPK"
            print("we initiate: PPK used by both (charon: using PPK for PPK_ID 'ppk-t'), ping both ways")

            ours.cli("terminate", "--ike", "t")
            wait_until(lambda: not ike_sas(ours.sas()) and not charon.sas(), 10, "the IKE SA to go")
            charon.initiate()
            both_pings(ns, charon)
            assert charon.log().count("using PPK for PPK_ID 'ppk-t'") == 2, "charon did not use the PPK"
            with open(f"{folder}/ours/ikeplexd.log", errors="replace") as f:
                assert f.read().count("using PPK for PPK_ID 'ppk-t'") == 2, "ikeplexd did not use the PPK"
            print("charon initiates: PPK used by both, ping both ways")

            charon.swanctl("--terminate", "--ike", "t", timeout=30)
            wait_until(lambda: not ike_sas(ours.sas()) and not charon.sas(), 10, "the IKE SA to go")
            with open(f"{folder}/charon/swanctl.conf", "w") as f:
                f.write(conf("theirs", OTHER_PPK))
            charon.swanctl("--load-creds", "--clear", "--file", f"{folder}/charon/swanctl.conf")
            out = ours.cli("initiate", "--child", "net", check=False)
            assert "completed successfully" not in out, out
            wait_until(lambda: not ike_sas(ours.sas()) and not charon.sas(), 10, "no SA after a PPK mismatch")
            print("different PPK on charon: authentication fails, no SA")

            # PPK optional and the peer lacks the PPK_ID: up without PPK through NO_PPK_AUTH.
            def reload(side_dir, text, uri):
                with open(f"{folder}/{side_dir}/swanctl.conf", "w") as f:
                    f.write(text)
                run(["swanctl", "--load-all", "--clear", "--file", f"{folder}/{side_dir}/swanctl.conf", "--uri",
                     uri], env=env)
            reload("charon", conf("theirs", PPK, ppk_id=None, required="no"), f"unix://{charon.vici}")
            reload("ours", conf("ours", OTHER_PPK, ppk_id="ppk-x", required="no"), f"unix://{ours.vici}")
            out = ours.cli("initiate", "--child", "net")
            assert "completed successfully" in out, out
            both_pings(ns, charon)
            assert "no PPK for 'ppk-x' found, ignored because PPK is not required" in charon.log()
            ours.cli("terminate", "--ike", "t")
            wait_until(lambda: not ike_sas(ours.sas()) and not charon.sas(), 10, "the IKE SA to go")
            print("we initiate, charon lacks our PPK_ID: charon checks our NO_PPK_AUTH, ping both ways")

            reload("charon", conf("theirs", PPK, ppk_id="ppk-y", required="no"), f"unix://{charon.vici}")
            charon.initiate()
            both_pings(ns, charon)
            with open(f"{folder}/ours/ikeplexd.log", errors="replace") as f:
                assert "no PPK for PPK_ID 'ppk-y' found, using NO_PPK_AUTH" in f.read(), "no NO_PPK_AUTH"
            print("charon initiates with a PPK_ID we lack: we check its NO_PPK_AUTH, ping both ways")
        finally:
            if ours is not None:
                ours.close()
            charon.close()


if __name__ == "__main__":
    sys.exit(main_wrapper(test, "ppk"))
