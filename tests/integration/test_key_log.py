#!/usr/bin/env python3
"""Wireshark key logs (ikeplexd.conf save_keys): a capture of an ikeplexd pair's IKE and ESP
traffic on the outer veth decrypts in Debian's tshark 4.0 with the files that ikeplexd wrote,
used as they are as Wireshark's `ikev2_decryption_table` and `esp_sa` (copied into a private
configuration folder, WIRESHARK_CONFIG_DIR).

1. The default proposals (AES-GCM), the userspace data plane with ESP in UDP (4500): IKE_AUTH
   decrypts (both identities seen inside the Encrypted payload), and so does every
   CREATE_CHILD_SA: a Child SA rekey, an IKE SA rekey, and a Child SA rekey under the new IKE SA
   (its keys come from the rekeyed IKE SA's line). The pings before and after each rekey decrypt
   to ICMP echo requests and replies inside ESP, on every Child SA's SPIs. Only side A saves
   keys; B, without save_keys, writes nothing. A reload with save_keys warns again; a reload
   without it stops the lines.
2. AES-CBC + HMAC-SHA2-256 for IKE and ESP, raw ESP (raw_esp = yes), an RFC 9611 group of two
   members, both sides saving keys: with either side's files, IKE_AUTH and the pings from each
   CPU decrypt, on each member's SPI."""
import os
import shutil
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lib import (Failure, Ikeplexd, Namespaces, children, group, ike_sas, main_wrapper, run, side_conf,  # noqa: E402
                 start_tcpdump, stop_tcpdump, wait_until)

WARNING = "keys to {}: anyone who reads it can decrypt the traffic"


def save_keys(folder):
    return f"save_keys {{\n        ike = {folder}/ike.keys\n        esp = {folder}/esp.keys\n    }}"


def ping(ns, count=5, cpu="0"):
    out = run(["ip", "netns", "exec", ns, "taskset", "-c", cpu, "ping", "-c", str(count), "-i", "0.05", "-W", "2", "-I", "10.99.1.1",
               "10.99.2.1"], timeout=30, check=False)
    if f"{count} received" not in out:
        raise Failure(f"ping through the tunnel: {out}")


def lines(path):
    with open(path) as f:
        return [line for line in f.read().splitlines() if line and not line.startswith("#")]


def log_of(d):
    d.log.flush()
    with open(f"{d.dir}/ikeplexd.log", errors="replace") as f:
        return f.read()


class Decoded:
    """tshark over `pcap` with the key logs of folder `keys` as its configuration folder's
    ikev2_decryption_table and esp_sa."""

    def __init__(self, pcap, keys, conf):
        os.makedirs(conf, exist_ok=True)
        shutil.copy(f"{keys}/ike.keys", f"{conf}/ikev2_decryption_table")
        shutil.copy(f"{keys}/esp.keys", f"{conf}/esp_sa")
        self.pcap, self.env = pcap, {**os.environ, "WIRESHARK_CONFIG_DIR": conf}

    def fields(self, display_filter, *fields):
        args = ["tshark", "-n", "-r", self.pcap, "-o", "esp.enable_encryption_decode:TRUE", "-Y", display_filter,
                "-T", "fields", "-E", "separator=|"]
        for f in fields:
            args += ["-e", f]
        r = subprocess.run(args, capture_output=True, text=True, timeout=60, env=self.env)
        # tshark loads the tables before it reads the capture and names any line it refuses.
        if r.returncode != 0 or "Error loading table" in r.stderr:
            raise Failure(f"tshark: {r.stderr}")
        return [row.split("|") for row in r.stdout.splitlines()]

    def check_ike(self, exchange, field, at_least):
        """Every message of `exchange` decrypted: each shows `field`, a payload inside its
        Encrypted payload (tshark shows the Encrypted payload's "decrypted data" even with the
        wrong keys, so that proves nothing). Returns each message's values of `field`."""
        rows = self.fields(f"isakmp.exchangetype == {exchange}", "frame.number", field)
        undecrypted = [r[0] for r in rows if not r[1]]
        assert len(rows) >= at_least and not undecrypted, (exchange, len(rows), "undecrypted frames", undecrypted)
        return [r[1] for r in rows]

    def icmp_in_esp(self):
        """{echo type: count} and the SPIs they came on."""
        rows = self.fields("esp && icmp", "icmp.type", "esp.spi")
        types = {}
        for t, _ in rows:
            types[t] = types.get(t, 0) + 1
        return types, {spi for _, spi in rows}


def capture(ns, folder):
    return start_tcpdump(ns.a, f"{folder}/outer.pcap", ["-i", ns.veth_a, "udp port 500 or udp port 4500 or ip proto 50"])


def wait_captured(pcap, what, display_filter, count):
    def seen():
        n = len(run(["tshark", "-n", "-r", pcap, "-Y", display_filter], check=False, timeout=60).splitlines())
        return n if n >= count else None
    wait_until(seen, 15, f"{what} in the capture")


def child_spis(d):
    sas = ike_sas(d.sas())
    return {c["spi-in"] for c in children(sas[0][1])} if len(sas) == 1 else set()


def default_proposals(build, folder):
    with Namespaces() as ns:
        a = b = cap = None
        try:
            b = Ikeplexd(build, ns.b, f"{folder}/b", side_conf("b"), workers=2, backend="userspace")
            a = Ikeplexd(build, ns.a, f"{folder}/a", side_conf("a"), workers=2, backend="userspace",
                         extra=save_keys(f"{folder}/a"))
            assert WARNING.format(f"{folder}/a/ike.keys") in log_of(a), log_of(a)
            assert WARNING.format(f"{folder}/a/esp.keys") in log_of(a), log_of(a)
            cap = capture(ns, folder)
            out = a.cli("initiate", "--child", "net")
            assert "initiate completed successfully" in out, out
            ping(ns.a)
            spis = child_spis(a)
            for step in (["--child", "net"], ["--ike", "t"], ["--child", "net"]):
                out = a.cli("rekey", *step)
                assert "rekey completed successfully" in out, (step, out)
                ping(ns.a)
                spis |= child_spis(a)
            # Two IKE SAs and three Child SAs (both directions each) logged on A, as they came.
            assert len(lines(f"{folder}/a/ike.keys")) == 2, lines(f"{folder}/a/ike.keys")
            assert len(lines(f"{folder}/a/esp.keys")) == 6, lines(f"{folder}/a/esp.keys")
            assert not [f for f in os.listdir(f"{folder}/b") if f.endswith(".keys")], os.listdir(f"{folder}/b")
            # All 20 echo requests and replies in the capture (-U writes each packet at once).
            wait_captured(f"{folder}/outer.pcap", "the pings", "esp", 40)
            stop_tcpdump(cap)
            cap = None

            tshark = Decoded(f"{folder}/outer.pcap", f"{folder}/a", f"{folder}/wireshark")
            ids = {i for r in tshark.check_ike(35, "isakmp.id.data.fqdn", 2) for i in r.split(",")}
            assert {"a.test", "b.test"} <= ids, ids
            tshark.check_ike(36, "isakmp.nonce", 6)  # 3 rekeys, request and response each
            types, esp_spis = tshark.icmp_in_esp()
            assert types.get("8", 0) >= 20 and types.get("0", 0) >= 20, types
            assert len(esp_spis) >= 6, esp_spis
            print(f"AES-GCM, ESP in UDP: IKE_AUTH ({sorted(ids)}) and 3 CREATE_CHILD_SA exchanges decrypted; "
                  f"{types['8']} echo requests and {types['0']} replies on {len(esp_spis)} SPIs")

            # A reload with save_keys warns again; one without it stops the lines.
            a.proc.send_signal(signal.SIGHUP)
            wait_until(lambda: log_of(a).count(WARNING.format(f"{folder}/a/ike.keys")) == 2, 10,
                       "the warning again on reload")
            conf = f"{folder}/a/ikeplexd.conf"
            with open(conf) as f:
                text = f.read()
            with open(conf, "w") as f:
                f.write(text.replace(save_keys(f"{folder}/a"), ""))
            a.proc.send_signal(signal.SIGHUP)
            # Once the log says the control thread is reloading, the next VICI command comes after.
            wait_until(lambda: log_of(a).count("SIGHUP: reloading") == 2, 10, "the second reload")
            before = (lines(f"{folder}/a/ike.keys"), lines(f"{folder}/a/esp.keys"))
            for step in (["--child", "net"], ["--ike", "t"]):
                out = a.cli("rekey", *step)
                assert "rekey completed successfully" in out, (step, out)
            assert (lines(f"{folder}/a/ike.keys"), lines(f"{folder}/a/esp.keys")) == before
            print("reload: the warning again with save_keys; without it, rekeys add no lines")
        finally:
            if cap is not None:
                stop_tcpdump(cap)
            for d in (a, b):
                if d is not None:
                    d.close()


def cbc_raw_esp(build, folder):
    """AES-CBC + HMAC-SHA2-256, raw ESP, and an RFC 9611 group (fallback + one SA per CPU): each
    member has its own lines, and each CPU's pings decrypt on its member."""
    ike, esp = "aes256-sha256-x25519", "aes256-sha256"
    child = "per_cpu_sas = yes\n                per_cpu_sas_start = all"
    with Namespaces() as ns:
        a = b = cap = None
        try:
            b = Ikeplexd(build, ns.b, f"{folder}/b", side_conf("b", ike=ike, esp=esp, child_extra=child), workers=2,
                         window=4, backend="userspace", extra="raw_esp = yes\n    " + save_keys(f"{folder}/b"))
            a = Ikeplexd(build, ns.a, f"{folder}/a", side_conf("a", ike=ike, esp=esp, child_extra=child), workers=2,
                         window=4, backend="userspace", extra="raw_esp = yes\n    " + save_keys(f"{folder}/a"))
            cap = capture(ns, folder)
            out = a.cli("initiate", "--child", "net")
            assert "initiate completed successfully" in out, out
            wait_until(lambda: sorted(group(a) or {}) == ["-", "0", "1"], 15, "the group: fallback + 2 members")
            members = {cpu: c["spi-out"] for cpu, c in group(a).items() if cpu != "-"}
            for cpu in ("0", "1"):
                ping(ns.a, cpu=cpu)
            wait_captured(f"{folder}/outer.pcap", "the pings", "esp", 20)
            stop_tcpdump(cap)
            cap = None
            assert "HMAC_SHA2_256_128" in open(f"{folder}/a/ike.keys").read()
            # The responder's files decrypt the same capture as the initiator's.
            for side in ("a", "b"):
                assert len(lines(f"{folder}/{side}/esp.keys")) == 6, lines(f"{folder}/{side}/esp.keys")
                tshark = Decoded(f"{folder}/outer.pcap", f"{folder}/{side}", f"{folder}/wireshark-{side}")
                ids = {i for r in tshark.check_ike(35, "isakmp.id.data.fqdn", 2) for i in r.split(",")}
                assert {"a.test", "b.test"} <= ids, (side, ids)
                types, spis = tshark.icmp_in_esp()
                assert types.get("8", 0) >= 10 and types.get("0", 0) >= 10, (side, types)
                out_spis = {int(spi, 16) for spi in spis} & {int(spi, 16) for spi in members.values()}
                assert len(out_spis) == 2, ("each CPU's echo requests on its member", side, spis, members)
            # MOBIKE (on by default) moves IKE to port 4500 without a NAT; ESP must stay raw.
            assert not tshark.fields("udp.port == 4500 && esp", "frame.number"), "ESP in UDP despite raw_esp = yes"
            assert tshark.fields("ip.proto == 50", "frame.number"), "no raw ESP"
            print(f"AES-CBC + HMAC-SHA2-256, raw ESP, group of 2, keys of either side: IKE_AUTH and "
                  f"{types['8']} echo requests, {types['0']} replies decrypted, on both members")
        finally:
            if cap is not None:
                stop_tcpdump(cap)
            for d in (a, b):
                if d is not None:
                    d.close()


def test(build, folder):
    default_proposals(build, f"{folder}/gcm")
    cbc_raw_esp(build, f"{folder}/cbc")


if __name__ == "__main__":
    sys.exit(main_wrapper(test, "key_log"))
