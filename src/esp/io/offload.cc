#include "esp/io/offload.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace ikeplex::esp::io {

namespace {

constexpr std::uint8_t kProtoTcp = 6;
constexpr std::uint8_t kProtoUdp = 17;
constexpr std::uint8_t kTcpFin = 0x01;
constexpr std::uint8_t kTcpPsh = 0x08;
constexpr std::uint8_t kTcpCwr = 0x80;
constexpr std::size_t kIpv4Hdr = 20;
constexpr std::size_t kIpv6Hdr = 40;
constexpr std::size_t kTcpHdr = 20;
constexpr std::size_t kUdpHdr = 8;
constexpr std::size_t kTcpCsumOff = 16;
constexpr std::size_t kUdpCsumOff = 6;

std::uint16_t be16(const std::uint8_t* p) noexcept {
    return static_cast<std::uint16_t>((p[0] << 8U) | p[1]);
}
std::uint32_t be32(const std::uint8_t* p) noexcept {
    return (std::uint32_t{p[0]} << 24U) | (std::uint32_t{p[1]} << 16U) |
           (std::uint32_t{p[2]} << 8U) | p[3];
}
void put_be16(std::uint8_t* p, std::size_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v >> 8U);
    p[1] = static_cast<std::uint8_t>(v);
}
void put_be32(std::uint8_t* p, std::uint32_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v >> 24U);
    p[1] = static_cast<std::uint8_t>(v >> 16U);
    p[2] = static_cast<std::uint8_t>(v >> 8U);
    p[3] = static_cast<std::uint8_t>(v);
}
std::uint16_t le16(const std::uint8_t* p) noexcept {
    return static_cast<std::uint16_t>(p[0] | (p[1] << 8U));
}
void put_le16(std::uint8_t* p, std::uint16_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v);
    p[1] = static_cast<std::uint8_t>(v >> 8U);
}
/// IPv4 IHL (low nibble) and TCP data offset (high nibble) in bytes.
std::size_t low_nibble_words(std::uint8_t b) noexcept {
    return std::size_t{b & 0x0FU} * 4;
}
std::size_t high_nibble_words(std::uint8_t b) noexcept {
    return std::size_t{static_cast<std::uint8_t>(b >> 4U)} * 4;
}
/// Stores a host-order checksum value so that its bytes are right in the packet.
void put_csum(std::uint8_t* p, std::uint16_t host) noexcept {
    std::memcpy(p, &host, 2);
}

/// Where the addresses and the L4 header of a plain IPv4/IPv6 packet are.
struct L4View {
    bool v6{false};
    std::uint8_t proto{0};
    std::size_t l4_off{0};
    std::size_t end{0};  ///< IP length (<= buffer size)
};

bool parse_l4(ByteView ip, L4View& v) noexcept {
    if (ip.empty()) {
        return false;
    }
    const std::uint8_t version = ip[0] >> 4U;
    if (version == 4) {
        if (ip.size() < kIpv4Hdr) {
            return false;
        }
        const std::size_t ihl = low_nibble_words(ip[0]);
        const std::size_t total = be16(&ip[2]);
        if (ihl < kIpv4Hdr || total < ihl || total > ip.size() || (be16(&ip[6]) & 0x3FFFU) != 0) {
            return false;
        }
        v = L4View{false, ip[9], ihl, total};
        return true;
    }
    if (version == 6) {
        if (ip.size() < kIpv6Hdr) {
            return false;
        }
        const std::size_t total = kIpv6Hdr + be16(&ip[4]);
        if (total > ip.size()) {
            return false;
        }
        v = L4View{true, ip[6], kIpv6Hdr, total};
        return true;
    }
    return false;
}

/// Offset of the checksum field in an L4 header, 0 if not TCP/UDP or too short.
std::size_t l4_csum_field(const L4View& v) noexcept {
    const std::size_t l4_len = v.end - v.l4_off;
    if (v.proto == kProtoTcp && l4_len >= kTcpHdr) {
        return kTcpCsumOff;
    }
    if (v.proto == kProtoUdp && l4_len >= kUdpHdr) {
        return kUdpCsumOff;
    }
    return 0;
}

}  // namespace

// ---- checksums

ByteView src_addr(ByteView ip, bool v6) noexcept {
    return v6 ? ip.subspan(8, 16) : ip.subspan(12, 4);
}
ByteView dst_addr(ByteView ip, bool v6) noexcept {
    return v6 ? ip.subspan(24, 16) : ip.subspan(16, 4);
}

void set_ipv4_header_checksum(MutByteView hdr) noexcept {
    hdr[10] = 0;
    hdr[11] = 0;
    put_csum(&hdr[10], static_cast<std::uint16_t>(~csum_fold(csum_add(hdr))));
}

bool ipv4_header_checksum_ok(ByteView hdr) noexcept {
    return csum_fold(csum_add(hdr)) == 0xFFFF;
}

namespace {

/// The TCP/UDP part of `ip`: its view and the offset of its checksum field (false if the
/// packet has no such part).
bool l4_part(ByteView ip, L4View& v, std::size_t& field) noexcept {
    if (!parse_l4(ip, v)) {
        return false;
    }
    field = l4_csum_field(v);
    return field != 0;
}

/// The pseudo-header sum (RFC 793 / RFC 768 / RFC 8200 §8.1) of the L4 part of `ip`.
std::uint64_t l4_pseudo_sum(ByteView ip, const L4View& v) noexcept {
    return pseudo_header_sum(src_addr(ip, v.v6), dst_addr(ip, v.v6), v.proto,
                             static_cast<std::uint32_t>(v.end - v.l4_off));
}

}  // namespace

bool l4_checksum_ok(ByteView ip) noexcept {
    L4View v;
    std::size_t field = 0;
    if (!l4_part(ip, v, field)) {
        return false;
    }
    const ByteView l4 = ip.subspan(v.l4_off, v.end - v.l4_off);
    if (v.proto == kProtoUdp && !v.v6 && l4[6] == 0 && l4[7] == 0) {
        return true;  // no checksum (IPv4 only)
    }
    return csum_fold(csum_add(l4, l4_pseudo_sum(ip, v))) == 0xFFFF;
}

bool set_l4_checksum(MutByteView ip) noexcept {
    L4View v;
    std::size_t field = 0;
    if (!l4_part(ip, v, field)) {
        return false;
    }
    const MutByteView l4 = ip.subspan(v.l4_off, v.end - v.l4_off);
    l4[field] = 0;
    l4[field + 1] = 0;
    const std::uint64_t sum = l4_pseudo_sum(ip, v);
    auto c = static_cast<std::uint16_t>(~csum_fold(csum_add(l4, sum)));
    if (c == 0 && v.proto == kProtoUdp) {
        c = 0xFFFF;
    }
    put_csum(&l4[field], c);
    return true;
}

// ---- virtio-net header

VirtioNetHdr VirtioNetHdr::decode(const std::uint8_t* p) noexcept {
    VirtioNetHdr h;
    h.flags = p[0];
    h.gso_type = p[1];
    h.hdr_len = le16(p + 2);
    h.gso_size = le16(p + 4);
    h.csum_start = le16(p + 6);
    h.csum_offset = le16(p + 8);
    return h;
}

void VirtioNetHdr::encode(std::uint8_t* p) const noexcept {
    p[0] = flags;
    p[1] = gso_type;
    put_le16(p + 2, hdr_len);
    put_le16(p + 4, gso_size);
    put_le16(p + 6, csum_start);
    put_le16(p + 8, csum_offset);
}

// ---- read side

bool complete_checksum(MutByteView pkt, std::uint16_t csum_start,
                       std::uint16_t csum_offset) noexcept {
    const std::size_t start = csum_start;
    const std::size_t field = start + csum_offset;
    if (start >= pkt.size() || field + 2 > pkt.size()) {
        return false;
    }
    auto c = static_cast<std::uint16_t>(~csum_fold(csum_add(pkt.subspan(start))));
    if (c == 0 && csum_offset == kUdpCsumOff) {
        c = 0xFFFF;
    }
    put_csum(&pkt[field], c);
    return true;
}

namespace {

/// The host-order word whose bytes in the packet are `hi`, `lo` (what csum_add would add).
std::uint64_t word(std::uint8_t hi, std::uint8_t lo) noexcept {
    const std::uint8_t b[2] = {hi, lo};
    std::uint16_t w = 0;
    std::memcpy(&w, b, 2);
    return w;
}
/// The same for a 16-bit field stored big-endian.
std::uint64_t be_word(std::size_t v) noexcept {
    return word(static_cast<std::uint8_t>(v >> 8U), static_cast<std::uint8_t>(v));
}

/// Fills the plan's starting sums from the super-packet's headers (once per super-packet; the
/// fields that change per segment are zeroed in a copy and added back by write_segment).
void plan_sums(ByteView pkt, GsoPlan& p) noexcept {
    constexpr std::size_t kMaxHeader = 60;  // IPv4 with options; TCP with options
    std::array<std::uint8_t, kMaxHeader> h{};
    if (!p.v6) {
        std::memcpy(h.data(), pkt.data(), p.l4_off);
        p.ip_id = be16(&h[4]);
        for (const std::size_t f : {std::size_t{2}, std::size_t{4}, std::size_t{10}}) {
            h[f] = 0;
            h[f + 1] = 0;
        }
        p.ip_sum = csum_add({h.data(), p.l4_off});
    }
    const std::size_t l4_hdr = p.hdr_len - p.l4_off;
    std::memcpy(h.data(), pkt.data() + p.l4_off, l4_hdr);
    if (p.udp) {
        h[4] = h[5] = h[6] = h[7] = 0;  // length, checksum
    } else {
        p.seq = be32(&h[4]);
        p.tcp_off = h[12];
        p.tcp_flags = h[13];
        for (const std::size_t f :
             {std::size_t{4}, std::size_t{6}, std::size_t{12}, std::size_t{16}}) {
            h[f] = 0;
            h[f + 1] = 0;
        }
    }
    const ByteView ip{pkt.data(), p.hdr_len};
    p.l4_sum =
            csum_add({h.data(), l4_hdr}, pseudo_header_sum(src_addr(ip, p.v6), dst_addr(ip, p.v6),
                                                           p.udp ? kProtoUdp : kProtoTcp, 0));
}

}  // namespace

bool segment_plan(ByteView pkt, const VirtioNetHdr& h, GsoPlan& plan) noexcept {
    const auto type = static_cast<std::uint8_t>(h.gso_type & ~kGsoEcn);
    if (pkt.size() < kIpv4Hdr || h.gso_size == 0) {
        return false;
    }
    const std::uint8_t version = pkt[0] >> 4U;
    GsoPlan p;
    p.v6 = version == 6;
    p.udp = type == kGsoUdpL4;
    if ((type == kGsoTcpV4 && version != 4) || (type == kGsoTcpV6 && version != 6) ||
        (type == kGsoUdpL4 && version != 4 && version != 6) ||
        (type != kGsoTcpV4 && type != kGsoTcpV6 && type != kGsoUdpL4)) {
        return false;
    }
    const std::uint8_t want = p.udp ? kProtoUdp : kProtoTcp;
    if (p.v6) {
        if (pkt.size() < kIpv6Hdr) {
            return false;
        }
        // With extension headers only csum_start says where the L4 header is.
        p.l4_off = (h.flags & kVnetNeedsCsum) != 0 ? h.csum_start : kIpv6Hdr;
        if (p.l4_off < kIpv6Hdr || (p.l4_off == kIpv6Hdr && pkt[6] != want)) {
            return false;
        }
    } else {
        p.l4_off = low_nibble_words(pkt[0]);
        if (p.l4_off < kIpv4Hdr || pkt[9] != want ||
            ((h.flags & kVnetNeedsCsum) != 0 && h.csum_start != p.l4_off)) {
            return false;
        }
    }
    if (p.udp) {
        p.hdr_len = p.l4_off + kUdpHdr;
    } else {
        if (p.l4_off + kTcpHdr > pkt.size()) {
            return false;
        }
        const std::size_t thl = high_nibble_words(pkt[p.l4_off + 12]);
        if (thl < kTcpHdr) {
            return false;
        }
        p.hdr_len = p.l4_off + thl;
    }
    if (p.hdr_len >= pkt.size()) {
        return false;
    }
    p.mss = h.gso_size;
    p.payload = pkt.size() - p.hdr_len;
    p.segments = (p.payload + p.mss - 1) / p.mss;
    if (p.segments > kMaxSegments ||
        p.hdr_len + std::min(p.mss, p.payload) > PacketBuf::kCapacity - PacketBuf::kHeadroom) {
        return false;
    }
    plan_sums(pkt, p);
    plan = p;
    return true;
}

bool write_segment(ByteView pkt, const GsoPlan& plan, std::size_t i, PacketBuf& out) noexcept {
    if (i >= plan.segments) {
        return false;
    }
    const std::size_t off = i * plan.mss;
    const std::size_t len = std::min(plan.mss, plan.payload - off);
    out.reset();
    std::uint8_t* p = out.fill(plan.hdr_len + len);
    if (p == nullptr) {
        return false;
    }
    std::memcpy(p, pkt.data(), plan.hdr_len);
    // The payload's part of the L4 checksum is summed while it is copied (one pass); the header
    // fields are only written here, never read back (see GsoPlan).
    std::uint64_t sum = csum_copy(p + plan.hdr_len, pkt.data() + plan.hdr_len + off, len);
    const std::size_t total = plan.hdr_len + len;
    if (plan.v6) {
        put_be16(p + 4, total - kIpv6Hdr);
    } else {
        const std::size_t id = (plan.ip_id + i) & 0xFFFFU;
        put_be16(p + 2, total);
        put_be16(p + 4, id);
        put_csum(p + 10, static_cast<std::uint16_t>(
                                 ~csum_fold(plan.ip_sum + be_word(total) + be_word(id))));
    }
    std::uint8_t* l4 = p + plan.l4_off;
    const std::size_t l4_len = total - plan.l4_off;
    sum += plan.l4_sum + be_word(l4_len);  // the pseudo-header's length
    std::size_t field = kTcpCsumOff;
    if (plan.udp) {
        put_be16(l4 + 4, l4_len);
        sum += be_word(l4_len);
        field = kUdpCsumOff;
    } else {
        const std::uint32_t seq = plan.seq + static_cast<std::uint32_t>(off);
        auto flags = plan.tcp_flags;
        if (i + 1 < plan.segments) {
            flags = static_cast<std::uint8_t>(flags & ~(kTcpFin | kTcpPsh));
        }
        if (i > 0) {
            flags = static_cast<std::uint8_t>(flags & ~kTcpCwr);
        }
        put_be32(l4 + 4, seq);
        l4[13] = flags;
        sum += be_word(seq >> 16U) + be_word(seq & 0xFFFFU) + word(plan.tcp_off, flags);
    }
    // The payload's sum is that of an even-offset range (hdr_len and l4_off are multiples of 4),
    // so it adds as is.
    auto c = static_cast<std::uint16_t>(~csum_fold(sum));
    if (c == 0 && plan.udp) {
        c = 0xFFFF;
    }
    put_csum(l4 + field, c);
    return true;
}

}  // namespace ikeplex::esp::io
