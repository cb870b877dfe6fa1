#!/usr/bin/env python3
"""ikeplex-load against ikeplexd (backend none) in a namespace pair: 200 IKE SAs from 16 source
addresses and 2 source ports each (one regular Child SA each), then 20 IKE SAs with an RFC 9611
group of 2 members and the fallback each; every SA established, every one deleted, nothing left
on the responder."""
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(__file__))
from lib import (PSK, Failure, Ikeplexd, Namespaces, ike_sas, load_responder_conf, main_wrapper,  # noqa: E402
                 run, wait_until)

SOURCES = "10.99.16.0/20"


def figures(out):
    """{key: value} of the generator's "load ..." lines."""
    f = {}
    for line in out.splitlines():
        if line.startswith("load "):
            for item in line.split()[1:]:
                if "=" in item:
                    k, v = item.split("=", 1)
                    f[k] = v
    return f


def load(build, ns, d, folder, sas, extra=()):
    out_file = f"{folder}/load-{sas}.txt"
    cmd = ["ip", "netns", "exec", ns, f"{build}/apps/ikeplex-load", "--remote", "10.99.0.1",
           "--sources", SOURCES, "--addresses", "16", "--sas", str(sas), "--psk", PSK,
           "--remote-id", "responder.test", "--responder-pid", str(d.proc.pid), "--timeout", "30",
           "--out", out_file, *extra]
    out = run(cmd, timeout=80, check=False)
    print(out, end="")
    f = figures(out)
    with open(out_file) as fh:
        if figures(fh.read()) != f:
            raise Failure(f"--out {out_file} differs from stdout")
    return f


def responder_log(d):
    with open(f"{d.dir}/ikeplexd.log", errors="replace") as fh:
        return fh.read()


def check(f, sas):
    assert f.get("sas") == str(sas), f
    assert f.get("established") == str(sas) and f.get("failed") == "0", f
    assert f.get("deleted") == str(sas) and f.get("remaining") == "0", f
    assert float(f["responder_cpu_us_per_sa"]) > 0, f
    assert float(f["p50"]) > 0, f


def test(build, folder):
    with Namespaces() as ns:
        # The generator's namespace (B) owns the whole prefix; the responder (A) routes it back.
        run(["ip", "-n", ns.b, "route", "add", "local", SOURCES, "dev", "lo"])
        run(["ip", "-n", ns.a, "route", "add", SOURCES, "via", "10.99.0.2"])
        d = None
        try:
            d = Ikeplexd(build, ns.a, f"{folder}/plain", load_responder_conf(), workers=2)
            # The sources as the responder lists them while the generator holds its SAs (the
            # per-SA "is initiating" lines are rate-limited: a flood could cause them at will).
            result, listing = {}, []
            t = threading.Thread(target=lambda: result.update(
                load(build, ns.b, d, folder, 200, ["--ports", "2", "--hold", "3"])))
            t.start()
            try:
                listing = wait_until(lambda: (lambda s: s if len(s) == 200 else None)(ike_sas(d.sas())), 60,
                                     "200 IKE SAs listed on the responder")
            finally:
                t.join(timeout=120)
            check(result, 200)
            if ike_sas(d.sas()):
                raise Failure(f"the responder still has IKE SAs: {d.sas()}")
            sources = {(fields["remote-host"], fields["remote-port"]) for _, fields in listing}
            assert len(sources) == 32, sorted(sources)  # 16 addresses x source ports 500, 501
            assert {p for _, p in sources} == {"500", "501"}, sorted(sources)
            log = responder_log(d)
            assert log.count(" established between ") == 200, "IKE SAs established in the responder log"
            print("200 IKE SAs from 16 addresses x 2 ports: established and deleted")
            d.close()
            d = Ikeplexd(build, ns.a, f"{folder}/group", load_responder_conf("per_cpu_sas = yes"), workers=2)
            f = load(build, ns.b, d, folder, 20, ["--group", "2"])
            check(f, 20)
            assert f.get("group") == "2", f
            if ike_sas(d.sas()):
                raise Failure(f"the responder still has IKE SAs: {d.sas()}")
            log = responder_log(d)
            assert log.count("joins its group as the fallback") == 20, "fallbacks in the responder log"
            assert log.count("joins its group as the member of cpu") == 40, "members in the responder log"
            print("20 IKE SAs with a group of 2 members + fallback: established and deleted")
        finally:
            if d is not None:
                d.close()


if __name__ == "__main__":
    sys.exit(main_wrapper(test, "load"))
