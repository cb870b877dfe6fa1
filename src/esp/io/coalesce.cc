#include "esp/io/coalesce.h"

#include <cstring>

#include "esp/byte_order.h"
#include "esp/io/offload.h"

namespace ikeplex::esp::io {

namespace {

using detail::load_be16;
using detail::load_be32;
using detail::store_be16;

constexpr std::uint8_t kProtoTcp = 6;
constexpr std::uint8_t kProtoUdp = 17;
constexpr std::uint8_t kTcpPsh = 0x08;
constexpr std::uint8_t kTcpAck = 0x10;
constexpr std::uint8_t kIpv4Df = 0x40;
constexpr std::size_t kIpv4Hdr = 20;
constexpr std::size_t kIpv6Hdr = 40;
constexpr std::size_t kTcpHdr = 20;
constexpr std::size_t kUdpHdr = 8;
constexpr std::uint16_t kTcpCsumOff = 16;
constexpr std::uint16_t kUdpCsumOff = 6;
constexpr std::size_t kMaxIpLen = 65535;

static_assert(kMaxSuperHead == VirtioNetHdr::kSize + kIpv6Hdr + 60);

/// The IP part both protocols share: IPv4 without options and not fragmented (header checksum
/// right), or IPv6 without extension headers; the IP length is the packet's.
struct Seg {
    bool v6{false};
    std::size_t l4_off{0};
    std::size_t hdr_len{0};
    std::size_t payload{0};
    std::uint32_t seq{0};    ///< TCP sequence number
    std::uint8_t flags{0};   ///< TCP flags
    std::uint16_t ip_id{0};  ///< IPv4 identification
    bool df{false};          ///< IPv4 don't-fragment
};

bool parse_ip(ByteView b, std::uint8_t proto, Seg& s) noexcept {
    if (b.empty()) {
        return false;
    }
    const std::uint8_t version = b[0] >> 4U;
    if (version == 4) {
        if (b.size() < kIpv4Hdr || (b[0] & 0x0FU) != 5 || load_be16(&b[2]) != b.size() ||
            (load_be16(&b[6]) & 0x3FFFU) != 0 || b[9] != proto ||
            !ipv4_header_checksum_ok(b.first(kIpv4Hdr))) {
            return false;
        }
        s.v6 = false;
        s.l4_off = kIpv4Hdr;
        s.ip_id = load_be16(&b[4]);
        s.df = (b[6] & kIpv4Df) != 0;
        return true;
    }
    if (version == 6) {
        if (b.size() < kIpv6Hdr || b[6] != proto || load_be16(&b[4]) + kIpv6Hdr != b.size()) {
            return false;
        }
        s.v6 = true;
        s.l4_off = kIpv6Hdr;
        return true;
    }
    return false;
}

bool parse_tcp_seg(ByteView b, Seg& s) noexcept {
    if (!parse_ip(b, kProtoTcp, s) || b.size() < s.l4_off + kTcpHdr) {
        return false;
    }
    const std::uint8_t* t = &b[s.l4_off];
    const std::size_t thl = std::size_t{static_cast<std::uint8_t>(t[12] >> 4U)} * 4;
    s.hdr_len = s.l4_off + thl;
    s.flags = t[13];
    if (thl < kTcpHdr || s.hdr_len >= b.size() || (s.flags & kTcpAck) == 0 ||
        (s.flags & ~(kTcpAck | kTcpPsh)) != 0) {
        return false;
    }
    s.payload = b.size() - s.hdr_len;
    s.seq = load_be32(t + 4);
    return true;
}

/// A UDP datagram with payload and a checksum (zero means none over IPv4 and is not allowed
/// over IPv6: such a packet goes alone).
bool parse_udp_seg(ByteView b, Seg& s) noexcept {
    if (!parse_ip(b, kProtoUdp, s)) {
        return false;
    }
    s.hdr_len = s.l4_off + kUdpHdr;
    if (b.size() <= s.hdr_len || load_be16(&b[s.l4_off + 4]) != b.size() - s.l4_off ||
        load_be16(&b[s.l4_off + kUdpCsumOff]) == 0) {
        return false;
    }
    s.payload = b.size() - s.hdr_len;
    return true;
}

/// IPv4 without DF: the IDs of a run must count up from the first (the kernel gives the
/// segments of a super-packet counting IDs, so others would be rewritten). With DF (and over
/// IPv6) the ID carries nothing (RFC 6864) and any may join; DF itself must match (same_ip).
bool ids_follow(const Seg& first, const Seg& s, std::size_t index) noexcept {
    return first.v6 || first.df || s.ip_id == ((first.ip_id + index) & 0xFFFFU);
}

bool same_bytes(ByteView a, ByteView b, std::size_t off, std::size_t n) noexcept {
    return std::memcmp(a.data() + off, b.data() + off, n) == 0;
}

/// The IP fields that must match: IPv4 TOS, DF + TTL (fragment fields are zero), addresses;
/// IPv6 version, traffic class, flow label, hop limit, addresses.
bool same_ip(ByteView a, ByteView b, bool v6) noexcept {
    if (v6) {
        return same_bytes(a, b, 0, 4) && a[7] == b[7] && same_bytes(a, b, 8, 32);
    }
    return a[1] == b[1] && same_bytes(a, b, 6, 3) && same_bytes(a, b, 12, 8);
}

/// Everything that must match between TCP segments, except the sequence number and PSH.
bool same_tcp_flow(ByteView a, ByteView b, const Seg& s) noexcept {
    const std::size_t t = s.l4_off;
    return same_ip(a, b, s.v6) &&          //
           same_bytes(a, b, t, 4) &&       // ports
           same_bytes(a, b, t + 8, 5) &&   // ACK number, data offset
           same_bytes(a, b, t + 14, 2) &&  // window
           same_bytes(a, b, t + 18, 2) &&  // urgent pointer
           same_bytes(a, b, t + kTcpHdr, s.hdr_len - s.l4_off - kTcpHdr);  // options
}

std::size_t ip_limit(bool v6) noexcept {
    return kMaxIpLen + (v6 ? kIpv6Hdr : 0);
}

CoalescedRun make_run(const Seg& first, std::size_t count, std::size_t payload, bool udp,
                      bool psh) noexcept {
    CoalescedRun run;
    run.count = count;
    run.l4_off = first.l4_off;
    run.hdr_len = first.hdr_len;
    run.gso_size = first.payload;
    run.payload = payload;
    run.v6 = first.v6;
    run.udp = udp;
    run.psh = psh;
    return run;
}

/// How far a run grew: packets, payload bytes, flags of its last packet.
struct Grown {
    std::size_t count{1};
    std::size_t payload{0};
    std::uint8_t last_flags{0};
};

/// The rules both protocols share: packets join while they parse, keep the header length, carry
/// no more payload than the first, keep the result within the IP length limit, pass `joins`
/// (the protocol's own rules) and have a right checksum (the first packet's is checked once a
/// second would join). A shorter payload, or one of `end_flags`, closes the run.
template <class Parse, class Joins>
Grown grow(std::span<PacketBuf* const> pkts, std::size_t max_count, const Seg& first, Parse parse,
           Joins joins, std::uint8_t end_flags) noexcept {
    const ByteView a = pkts[0]->bytes();
    const std::size_t limit = ip_limit(first.v6);
    Grown g{1, first.payload, first.flags};
    bool first_checked = false;
    for (std::size_t j = 1; j < pkts.size() && g.count < max_count; ++j) {
        const ByteView b = pkts[j]->bytes();
        Seg s;
        if (!parse(b, s) || s.v6 != first.v6 || s.hdr_len != first.hdr_len ||
            s.payload > first.payload || first.hdr_len + g.payload + s.payload > limit ||
            !joins(a, b, s, g)) {
            break;
        }
        if (!first_checked) {
            if (!l4_checksum_ok(a)) {
                return Grown{1, first.payload, first.flags};
            }
            first_checked = true;
        }
        if (!l4_checksum_ok(b)) {
            break;
        }
        ++g.count;
        g.payload += s.payload;
        g.last_flags = s.flags;
        if ((s.flags & end_flags) != 0 || s.payload < first.payload) {
            break;
        }
    }
    return g;
}

}  // namespace

CoalescedRun find_tcp_run(std::span<PacketBuf* const> pkts, std::size_t max_count) noexcept {
    CoalescedRun run;
    run.count = pkts.empty() ? 0 : 1;
    Seg first;
    if (pkts.size() < 2 || max_count < 2 || !parse_tcp_seg(pkts[0]->bytes(), first) ||
        (first.flags & kTcpPsh) != 0) {
        return run;
    }
    const auto joins = [&first](ByteView a, ByteView b, const Seg& s, const Grown& g) {
        return s.seq == first.seq + static_cast<std::uint32_t>(g.payload) &&
               ids_follow(first, s, g.count) && same_tcp_flow(a, b, first);
    };
    const Grown g = grow(pkts, max_count, first, parse_tcp_seg, joins, kTcpPsh);
    return g.count < 2 ? run
                       : make_run(first, g.count, g.payload, false, (g.last_flags & kTcpPsh) != 0);
}

CoalescedRun find_udp_run(std::span<PacketBuf* const> pkts, std::size_t max_count) noexcept {
    CoalescedRun run;
    run.count = pkts.empty() ? 0 : 1;
    Seg first;
    if (pkts.size() < 2 || max_count < 2 || !parse_udp_seg(pkts[0]->bytes(), first)) {
        return run;
    }
    const auto joins = [&first](ByteView a, ByteView b, const Seg& s, const Grown& g) {
        return ids_follow(first, s, g.count) && same_ip(a, b, first.v6) &&
               same_bytes(a, b, first.l4_off, 4);  // ports
    };
    const Grown g = grow(pkts, max_count, first, parse_udp_seg, joins, 0);
    return g.count < 2 ? run : make_run(first, g.count, g.payload, true, false);
}

CoalescedRun find_run(std::span<PacketBuf* const> pkts, std::size_t max_count,
                      const CoalesceProtocols& protocols) noexcept {
    CoalescedRun single;
    single.count = pkts.empty() ? 0 : 1;
    if (pkts.size() < 2) {
        return single;
    }
    const ByteView p = pkts[0]->bytes();
    const bool v4 = p.size() >= kIpv4Hdr && (p[0] >> 4U) == 4;
    const bool v6 = p.size() >= kIpv6Hdr && (p[0] >> 4U) == 6;
    const std::uint8_t proto = v4 ? p[9] : v6 ? p[6] : 0;
    if (proto == kProtoTcp) {
        return find_tcp_run(pkts, max_count);
    }
    if (proto == kProtoUdp && ((v4 && protocols.udp_v4) || (v6 && protocols.udp_v6))) {
        return find_udp_run(pkts, max_count);
    }
    return single;
}

void build_super_header(const PacketBuf& first, const CoalescedRun& run,
                        std::uint8_t* head) noexcept {
    VirtioNetHdr h;
    h.flags = kVnetNeedsCsum;
    h.gso_type = run.udp ? kGsoUdpL4 : run.v6 ? kGsoTcpV6 : kGsoTcpV4;
    h.hdr_len = static_cast<std::uint16_t>(run.hdr_len);
    h.gso_size = static_cast<std::uint16_t>(run.gso_size);
    h.csum_start = static_cast<std::uint16_t>(run.l4_off);
    h.csum_offset = run.udp ? kUdpCsumOff : kTcpCsumOff;
    h.encode(head);
    std::uint8_t* ip = head + VirtioNetHdr::kSize;
    std::memcpy(ip, first.data(), run.hdr_len);
    const std::size_t total = run.hdr_len + run.payload;
    const auto l4_len = static_cast<std::uint32_t>(total - run.l4_off);
    if (run.v6) {
        store_be16(ip + 4, static_cast<std::uint16_t>(total - kIpv6Hdr));
    } else {
        store_be16(ip + 2, static_cast<std::uint16_t>(total));
        set_ipv4_header_checksum({ip, run.l4_off});
    }
    std::uint8_t* l4 = ip + run.l4_off;
    if (run.udp) {
        store_be16(l4 + 4, static_cast<std::uint16_t>(l4_len));
    } else {
        l4[13] = run.psh ? static_cast<std::uint8_t>(l4[13] | kTcpPsh)
                         : static_cast<std::uint8_t>(l4[13] & ~kTcpPsh);
    }
    const ByteView hdr{ip, run.hdr_len};
    const std::uint16_t sum = csum_fold(pseudo_header_sum(
            src_addr(hdr, run.v6), dst_addr(hdr, run.v6), run.udp ? kProtoUdp : kProtoTcp, l4_len));
    std::memcpy(l4 + (run.udp ? kUdpCsumOff : kTcpCsumOff), &sum, 2);  // host order, as summed
}

}  // namespace ikeplex::esp::io
