// Test helpers for the I/O layer: crafted IPv4/IPv6 TCP/UDP packets and a reference Internet
// checksum written independently of src/esp/io/offload.cc (plain big-endian 16-bit words).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string>

#include "util/bytes.h"

namespace ikeplex::esp::io::testing {

inline std::uint16_t rd16(const std::uint8_t* p) {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline std::uint32_t rd32(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           p[3];
}
inline void wr16(std::uint8_t* p, std::uint32_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}
inline void wr32(std::uint8_t* p, std::uint32_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 24);
    p[1] = static_cast<std::uint8_t>(v >> 16);
    p[2] = static_cast<std::uint8_t>(v >> 8);
    p[3] = static_cast<std::uint8_t>(v);
}

/// Reference one's-complement sum over big-endian 16-bit words (RFC 1071, the slow way).
inline std::uint32_t ref_sum(const std::uint8_t* p, std::size_t n, std::uint32_t sum = 0) {
    for (std::size_t i = 0; i + 1 < n; i += 2) {
        sum += rd16(p + i);
    }
    if (n % 2 == 1) {
        sum += static_cast<std::uint32_t>(p[n - 1]) << 8;
    }
    return sum;
}
inline std::uint16_t ref_fold(std::uint32_t sum) {
    while (sum > 0xFFFF) {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    return static_cast<std::uint16_t>(sum);
}

/// True if the IPv4 header checksum verifies (reference implementation).
inline bool ref_ipv4_ok(ByteView ip) {
    const std::size_t ihl = (ip[0] & 0x0Fu) * 4u;
    return ref_fold(ref_sum(ip.data(), ihl)) == 0xFFFF;
}

/// Reference L4 (TCP 6 / UDP 17) checksum check of an IPv4 (20-byte header) or IPv6 packet.
inline bool ref_l4_ok(ByteView ip) {
    const bool v6 = (ip[0] >> 4) == 6;
    const std::size_t l4 = v6 ? 40 : (ip[0] & 0x0Fu) * 4u;
    const std::size_t total = v6 ? 40 + rd16(&ip[4]) : rd16(&ip[2]);
    const std::uint8_t proto = v6 ? ip[6] : ip[9];
    std::uint32_t sum = v6 ? ref_sum(&ip[8], 32) : ref_sum(&ip[12], 8);
    sum += proto;
    sum += static_cast<std::uint32_t>(total - l4);
    sum = ref_sum(&ip[l4], total - l4, sum);
    return ref_fold(sum) == 0xFFFF;
}

/// Writes the reference checksums (IPv4 header, then L4) into a packet.
inline void ref_fill_checksums(Bytes& ip) {
    const bool v6 = (ip[0] >> 4) == 6;
    const std::size_t l4 = v6 ? 40 : (ip[0] & 0x0Fu) * 4u;
    const std::uint8_t proto = v6 ? ip[6] : ip[9];
    if (!v6) {
        ip[10] = ip[11] = 0;
        wr16(&ip[10], static_cast<std::uint16_t>(~ref_fold(ref_sum(ip.data(), l4))));
    }
    const std::size_t field = l4 + (proto == 6 ? 16 : 6);
    ip[field] = ip[field + 1] = 0;
    std::uint32_t sum = v6 ? ref_sum(&ip[8], 32) : ref_sum(&ip[12], 8);
    sum += proto;
    sum += static_cast<std::uint32_t>(ip.size() - l4);
    sum = ref_sum(&ip[l4], ip.size() - l4, sum);
    std::uint16_t c = static_cast<std::uint16_t>(~ref_fold(sum));
    if (c == 0 && proto == 17) {
        c = 0xFFFF;
    }
    wr16(&ip[field], c);
}

/// Stores the folded pseudo-header sum (not inverted) in the L4 checksum field, as the kernel
/// leaves it for NEEDS_CSUM packets.
inline void ref_fill_partial(Bytes& ip) {
    const bool v6 = (ip[0] >> 4) == 6;
    const std::size_t l4 = v6 ? 40 : (ip[0] & 0x0Fu) * 4u;
    const std::uint8_t proto = v6 ? ip[6] : ip[9];
    std::uint32_t sum = v6 ? ref_sum(&ip[8], 32) : ref_sum(&ip[12], 8);
    sum += proto;
    sum += static_cast<std::uint32_t>(ip.size() - l4);
    wr16(&ip[l4 + (proto == 6 ? 16 : 6)], ref_fold(sum));
}

struct Addrs {
    bool v6{false};
    std::array<std::uint8_t, 16> src{};
    std::array<std::uint8_t, 16> dst{};
};
inline Addrs v4_addrs(std::uint32_t s, std::uint32_t d) {
    Addrs a;
    wr32(a.src.data(), s);
    wr32(a.dst.data(), d);
    return a;
}
inline Addrs v6_addrs(std::uint8_t s_last, std::uint8_t d_last) {
    Addrs a;
    a.v6 = true;
    a.src = {0x00, 0x64, 0xff, 0x9b, 0,  0,  0, 0,
             0,    0,    0,    0,    10, 99, 0, s_last};  // 64:ff9b::10.99.0.x
    a.dst = {0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 10, 99, 1, d_last};
    return a;
}

/// An IP header (IPv4 20 bytes, ID `id`, DF; or IPv6 40) for `l4_len` bytes of protocol `proto`.
inline Bytes ip_header(const Addrs& a, std::uint8_t proto, std::size_t l4_len, std::uint16_t id) {
    if (a.v6) {
        Bytes h(40, 0);
        h[0] = 0x60;
        wr16(&h[4], static_cast<std::uint32_t>(l4_len));
        h[6] = proto;
        h[7] = 64;
        std::memcpy(&h[8], a.src.data(), 16);
        std::memcpy(&h[24], a.dst.data(), 16);
        return h;
    }
    Bytes h(20, 0);
    h[0] = 0x45;
    wr16(&h[2], static_cast<std::uint32_t>(20 + l4_len));
    wr16(&h[4], id);
    h[6] = 0x40;  // DF
    h[8] = 64;
    h[9] = proto;
    std::memcpy(&h[12], a.src.data(), 4);
    std::memcpy(&h[16], a.dst.data(), 4);
    return h;
}

struct TcpFields {
    std::uint16_t sport{40000};
    std::uint16_t dport{5001};
    std::uint32_t seq{1000};
    std::uint32_t ack{2000};
    std::uint8_t flags{0x10};  // ACK
    std::uint16_t window{65535};
    Bytes options;  // multiple of 4 bytes
};

/// A complete TCP packet with reference checksums.
inline Bytes tcp_packet(const Addrs& a, const TcpFields& t, ByteView payload,
                        std::uint16_t id = 0x1234) {
    const std::size_t thl = 20 + t.options.size();
    Bytes p = ip_header(a, 6, thl + payload.size(), id);
    const std::size_t l4 = p.size();
    p.resize(l4 + thl, 0);
    wr16(&p[l4], t.sport);
    wr16(&p[l4 + 2], t.dport);
    wr32(&p[l4 + 4], t.seq);
    wr32(&p[l4 + 8], t.ack);
    p[l4 + 12] = static_cast<std::uint8_t>((thl / 4) << 4);
    p[l4 + 13] = t.flags;
    wr16(&p[l4 + 14], t.window);
    std::copy(t.options.begin(), t.options.end(), p.begin() + static_cast<long>(l4 + 20));
    p.insert(p.end(), payload.begin(), payload.end());
    ref_fill_checksums(p);
    return p;
}

/// A complete UDP packet with reference checksums.
inline Bytes udp_packet(const Addrs& a, std::uint16_t sport, std::uint16_t dport, ByteView payload,
                        std::uint16_t id = 0x4321) {
    Bytes p = ip_header(a, 17, 8 + payload.size(), id);
    const std::size_t l4 = p.size();
    p.resize(l4 + 8, 0);
    wr16(&p[l4], sport);
    wr16(&p[l4 + 2], dport);
    wr16(&p[l4 + 4], static_cast<std::uint32_t>(8 + payload.size()));
    p.insert(p.end(), payload.begin(), payload.end());
    ref_fill_checksums(p);
    return p;
}

/// Deterministic payload bytes: byte i is (i * 7 + seed) mod 251.
inline Bytes pattern(std::size_t n, std::size_t seed = 0) {
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i) {
        b[i] = static_cast<std::uint8_t>((i * 7 + seed) % 251);
    }
    return b;
}

}  // namespace ikeplex::esp::io::testing
