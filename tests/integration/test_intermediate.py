#!/usr/bin/env python3
"""ikeplexd <-> ikeplexd with RFC 9370 additional key exchanges in IKE_INTERMEDIATE (RFC 9242):
proposal `x25519-ke1_ecp256-ke2_modp4096` on both sides, fragment_size 576 so that the MODP-4096
round's messages are fragmented (RFC 7383). Both rounds run, the keys agree (the Child SA comes
up and its SPIs cross), and the log names the rounds as strongSwan does.

Then post-quantum, live (issue 23):
- `aes256gcm16-prfsha384-x25519-ke1_mlkem768` for the IKE SA and `aes256gcm16-x25519-ke1_mlkem768`
  as the Child SA's PFS: traffic passes; a Child SA rekey and an IKE rekey each run a
  CREATE_CHILD_SA and an IKE_FOLLOWUP_KE with ML-KEM-768 (RFC 9370 §2.2.4); traffic passes after
  each;
- `aes256gcm16-prfsha384-mlkem1024` alone (ML-KEM as the only key exchange, its 1,568-byte
  encapsulation key in IKE_SA_INIT, no IKE_INTERMEDIATE): traffic passes."""
import contextlib
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lib import Ikeplexd, Namespaces, children, ike_sas, main_wrapper, side_conf, wait_until  # noqa: E402
from traffic import ping  # noqa: E402

IKE = "aes256gcm16-prfsha256-x25519-ke1_ecp256-ke2_modp4096"
LOGS = {"default": 1, "ike": 2, "enc": 2}


def up(a, b):
    """Both sides hold one IKE SA with one installed Child SA, SPIs crossed."""
    sa, sb = ike_sas(a.sas()), ike_sas(b.sas())
    if len(sa) != 1 or len(sb) != 1:
        return None
    ca = [c for c in children(sa[0][1]) if c["state"] == "INSTALLED"]
    cb = [c for c in children(sb[0][1]) if c["state"] == "INSTALLED"]
    if len(ca) != 1 or len(cb) != 1 or (ca[0]["spi-in"], ca[0]["spi-out"]) != (cb[0]["spi-out"], cb[0]["spi-in"]):
        return None
    return sa[0][1]


def fragmented_rounds(build, folder):
    with Namespaces() as ns:
        a = b = None
        try:
            b = Ikeplexd(build, ns.b, f"{folder}/b", side_conf("b", ike=IKE), extra="fragment_size = 576",
                         log_levels=LOGS)
            a = Ikeplexd(build, ns.a, f"{folder}/a", side_conf("a", ike=IKE), extra="fragment_size = 576",
                         log_levels=LOGS)
            out = a.cli("initiate", "--child", "net")
            assert "initiate completed successfully" in out, out
            wait_until(lambda: up(a, b), 10, "the IKE SA and its Child SA on both sides")
            log_a = open(f"{folder}/a/ikeplexd.log").read()
            log_b = open(f"{folder}/b/ikeplexd.log").read()
            want = "selected proposal: IKE:AES_GCM_16_256/PRF_HMAC_SHA2_256/CURVE_25519/KE1_ECP_256/KE2_MODP_4096"
            assert want in log_a, "no selected proposal line with both rounds"
            for log in (log_a, log_b):
                assert "additional key exchange 1 (ECP_256) done" in log, "round 1 not logged"
                assert "additional key exchange 2 (MODP_4096) done" in log, "round 2 not logged"
            assert "generating IKE_INTERMEDIATE request 2 [ KE ]" in log_a, "no second IKE_INTERMEDIATE"
            # The MODP-4096 round is fragmented both ways and reassembled on both sides.
            for log in (log_a, log_b):
                assert "splitting IKE message" in log, "no fragmented message"
                assert "reassembled 2 fragments" in log, "no reassembled message"
            print("both rounds done, the MODP-4096 round fragmented both ways")
        finally:
            for d in (a, b):
                if d is not None:
                    d.close()


def log_of(d):
    d.log.flush()
    with open(d.log.name, errors="replace") as f:
        return f.read()


def tunnel(ns):
    ping(ns.a, "10.99.2.1", src="10.99.1.1", count=3)


def changed(a, b, key, old):
    """up(a, b) once `key` of the IKE SA (or, for "child", the Child SA's SPI) differs from `old`."""
    f = up(a, b)
    if f is None:
        return None
    now = children(f)[0]["spi-in"] if key == "child" else f[key]
    return f if now != old else None


@contextlib.contextmanager
def userspace_pair(build, folder, tag, ike, esp):
    """Two ikeplexd on the userspace data plane with these proposals, the tunnel up and traffic
    through it; yields (ns, a, b, a's IKE SA fields)."""
    with Namespaces() as ns:
        a = b = None
        try:
            b = Ikeplexd(build, ns.b, f"{folder}/{tag}-b", side_conf("b", ike=ike, esp=esp), log_levels=LOGS,
                         backend="userspace")
            a = Ikeplexd(build, ns.a, f"{folder}/{tag}-a", side_conf("a", ike=ike, esp=esp), log_levels=LOGS,
                         backend="userspace")
            out = a.cli("initiate", "--child", "net")
            assert "initiate completed successfully" in out, out
            f = wait_until(lambda: up(a, b), 10, f"{tag}: the IKE SA and its Child SA on both sides")
            tunnel(ns)
            yield ns, a, b, f
        finally:
            for d in (a, b):
                if d is not None:
                    d.close()


def ml_kem_hybrid(build, folder):
    with userspace_pair(build, folder, "hybrid", "aes256gcm16-prfsha384-x25519-ke1_mlkem768",
                        "aes256gcm16-x25519-ke1_mlkem768") as (ns, a, b, f):
        want = "selected proposal: IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/CURVE_25519/KE1_ML_KEM_768"
        assert want in log_of(a), "hybrid: no selected proposal line with KE1_ML_KEM_768"
        for d in (a, b):
            assert "additional key exchange 1 (ML_KEM_768) done" in log_of(d), "hybrid: round 1 not logged"
        print("hybrid: X25519 + ML-KEM-768 in IKE_INTERMEDIATE, traffic passes")

        followups = log_of(a).count("generating IKE_FOLLOWUP_KE request")
        a.cli("rekey", "--child", "net")
        f = wait_until(lambda: changed(a, b, "child", children(f)[0]["spi-in"]), 15, "hybrid: the Child SA rekey")
        assert log_of(a).count("generating IKE_FOLLOWUP_KE request") > followups, \
            "hybrid: the Child SA rekey ran no IKE_FOLLOWUP_KE"
        tunnel(ns)
        print("hybrid: Child SA rekeyed (X25519 PFS + ML-KEM-768 in IKE_FOLLOWUP_KE), traffic passes")

        followups = log_of(b).count("generating IKE_FOLLOWUP_KE request")
        b.cli("rekey", "--ike", "t")
        wait_until(lambda: changed(a, b, "initiator-spi", f["initiator-spi"]), 15, "hybrid: the IKE rekey")
        assert log_of(b).count("generating IKE_FOLLOWUP_KE request") > followups, \
            "hybrid: the IKE rekey ran no IKE_FOLLOWUP_KE"
        tunnel(ns)
        print("hybrid: IKE SA rekeyed by the responder (X25519 + ML-KEM-768), traffic passes")


def ml_kem_alone(build, folder):
    with userspace_pair(build, folder, "mlkem1024", "aes256gcm16-prfsha384-mlkem1024", "aes128gcm16") as (_, a, _, _):
        log = log_of(a)
        assert "selected proposal: IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/ML_KEM_1024" in log, \
            "ML-KEM-1024: no selected proposal line"
        assert "IKE_INTERMEDIATE" not in log, "ML-KEM-1024: IKE_INTERMEDIATE without additional rounds"
        print("ML-KEM-1024 alone: up, traffic passes")


def test(build, folder):
    fragmented_rounds(build, folder)
    ml_kem_alone(build, folder)
    ml_kem_hybrid(build, folder)


if __name__ == "__main__":
    sys.exit(main_wrapper(test, "intermediate"))
