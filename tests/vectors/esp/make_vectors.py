#!/usr/bin/env python3
"""Regenerates the files in this folder from their sources (see README.md).

  rfc7634-appendix-a.txt   from the RFC 7634 text (Appendix A hex dumps)
  strongswan-6.0.6-esp.txt from the strongSwan 6.0.6 captures and their save-keys output;
                           the expected inner packets are decrypted here with
                           python3-cryptography (an implementation independent of ikeplex's)

Usage: make_vectors.py RFC7634_TEXT SHARED_VECTORS_DIR   (e.g. /work/shared/rfcs/rfc7634.md
       /work/shared/vectors); writes into the directory this script is in.
"""
import os
import re
import struct
import sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

HERE = os.path.dirname(os.path.abspath(__file__))


def rfc_dump(text, label):
    """The bytes of the hex dump that follows `label` in the RFC text."""
    at = text.index(label)
    out = bytearray()
    started = False
    for line in text[at + len(label):].splitlines()[1:]:
        m = re.match(r"^\s+(\d{3})  ((?:[0-9a-f]{2} ){1,16})", line + " ")
        if m:
            out += bytes.fromhex(m.group(2))
            started = True
        elif started:
            break
    return bytes(out)


def rfc7634(path):
    text = open(path).read()
    a = text[text.index("\nAppendix A.  ESP Example"):text.index("\nAppendix B.")]
    keymat = rfc_dump(a, "KEYMAT:")
    source = rfc_dump(a, "Source Packet:")
    plaintext = rfc_dump(a, "Plaintext (includes padding and pad length):")
    packet = rfc_dump(a, "ESP packet:")
    assert len(keymat) == 36 and len(source) == 84 and len(plaintext) == 88
    assert plaintext.startswith(source)
    ihl = (packet[0] & 15) * 4
    assert packet[9] == 50
    esp = packet[ihl:]
    assert esp[:4] == bytes([1, 2, 3, 4]) and struct.unpack(">I", esp[4:8])[0] == 5
    assert esp[8:16] == bytes(range(0x10, 0x18))
    lines = [
        "# RFC 7634 Appendix A \"ESP Example\": tunnel-mode ESP with ChaCha20-Poly1305.",
        "# Source: RFC 7634 (Y. Nir, August 2015), Appendix A, hex dumps 'KEYMAT',",
        "# 'Source Packet' and 'ESP packet'; extracted by make_vectors.py from the RFC text.",
        "# SPI 0x01020304, sequence number 5, ESN off, IV 1011121314151617 (the RFC's prose).",
        "# keymat = key (32) | salt (4); source_packet = the inner IPv4/ICMP packet;",
        "# outer_ip = the outer IPv4 header (203.0.113.153 -> 203.0.113.5, protocol 50);",
        "# esp = SPI | seq | IV | ciphertext | ICV (the ESP packet without outer_ip).",
        "",
        "[RFC 7634 Appendix A]",
        "keymat = " + keymat.hex(),
        "spi = 01020304",
        "seq = 00000005",
        "iv = 1011121314151617",
        "source_packet = " + source.hex(),
        "outer_ip = " + packet[:ihl].hex(),
        "esp = " + esp.hex(),
    ]
    return "\n".join(lines) + "\n"


def pcap_frames(path):
    d = open(path, "rb").read()
    assert struct.unpack("<I", d[:4])[0] == 0xA1B2C3D4
    assert struct.unpack("<I", d[20:24])[0] == 1  # Ethernet
    off, n, out = 24, 0, {}
    while off < len(d):
        _, _, incl, _ = struct.unpack("<IIII", d[off:off + 16])
        off += 16
        n += 1
        out[n] = d[off:off + incl]
        off += incl
    return out


def esp_keys(path):
    keys = {}
    for line in open(path):
        c = [x.strip('"') for x in line.strip().split(",")]
        keys[int(c[3], 16)] = (c[1], c[2], bytes.fromhex(c[5][2:]))
    return keys


def strongswan(shared):
    lines = [
        "# Real ESP packets from strongSwan 6.0.6 <-> 6.0.6 (raw ESP, protocol 50, tunnel mode,",
        "# AES_GCM_16-128, ESN off), extracted by make_vectors.py; see README.md.",
        "# source = capture file and frame; outer_src/outer_dst = the outer IPv4 addresses;",
        "# keymat = key (16) | salt (4) of the SPI, from wireshark-keys/esp_sa (save-keys plugin);",
        "# esp = the IP payload of the frame (SPI | seq | IV | ciphertext | ICV);",
        "# inner = the tunnelled packet, decrypted by python3-cryptography's AESGCM (padding",
        "# and trailer removed); pad / next_header = the trailer as decrypted.",
        "",
    ]
    for name, frames in (("strongswan-6.0.6-per-cpu", range(9, 13)),
                         ("strongswan-6.0.6-cbc-modp2048", range(13, 17))):
        base = os.path.join(shared, name)
        fr = pcap_frames(os.path.join(base, "capture.pcap"))
        keys = esp_keys(os.path.join(base, "wireshark-keys", "esp_sa"))
        for n in frames:
            ip = fr[n][14:]
            ihl = (ip[0] & 15) * 4
            assert ip[9] == 50
            esp = ip[ihl:]
            spi, seq = struct.unpack(">II", esp[:8])
            src, dst, km = keys[spi]
            assert src == ".".join(str(b) for b in ip[12:16])
            pt = AESGCM(km[:16]).decrypt(km[16:] + esp[8:16], esp[16:], esp[:8])
            pad, nh = pt[-2], pt[-1]
            lines += [
                f"[{name} frame {n}]",
                f"source = \"{name}/capture.pcap frame {n}\"",
                f"outer_src = \"{src}\"",
                f"outer_dst = \"{dst}\"",
                f"spi = {spi:08x}",
                f"seq = {seq:08x}",
                f"keymat = {km.hex()}",
                f"esp = {esp.hex()}",
                f"inner = {pt[:-2 - pad].hex()}",
                f"pad = {pt[-2 - pad:-2].hex()}",
                f"next_header = {nh:02x}",
                "",
            ]
    return "\n".join(lines)


def main():
    open(os.path.join(HERE, "rfc7634-appendix-a.txt"), "w").write(rfc7634(sys.argv[1]))
    open(os.path.join(HERE, "strongswan-6.0.6-esp.txt"), "w").write(strongswan(sys.argv[2]))


if __name__ == "__main__":
    main()
