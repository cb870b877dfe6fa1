#!/usr/bin/env python3
"""ikeplexd <-> ikeplexd with RFC 9370 additional key exchanges in IKE_INTERMEDIATE (RFC 9242):
proposal `x25519-ke1_ecp256-ke2_modp4096` on both sides, fragment_size 576 so that the MODP-4096
round's messages are fragmented (RFC 7383). Both rounds run, the keys agree (the Child SA comes
up and its SPIs cross), and the log names the rounds as strongSwan does. ML-KEM rounds follow
the same path once src/crypto has ML-KEM."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lib import Ikeplexd, Namespaces, children, ike_sas, main_wrapper, side_conf, wait_until  # noqa: E402

IKE = "aes256gcm16-prfsha256-x25519-ke1_ecp256-ke2_modp4096"


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


def test(build, folder):
    with Namespaces() as ns:
        a = b = None
        try:
            b = Ikeplexd(build, ns.b, f"{folder}/b", side_conf("b", ike=IKE), extra="fragment_size = 576",
                         log_levels={"default": 1, "ike": 2, "enc": 2})
            a = Ikeplexd(build, ns.a, f"{folder}/a", side_conf("a", ike=IKE), extra="fragment_size = 576",
                         log_levels={"default": 1, "ike": 2, "enc": 2})
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


if __name__ == "__main__":
    sys.exit(main_wrapper(test, "intermediate"))
