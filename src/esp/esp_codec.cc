#include "esp/esp_codec.h"

#include <cstring>
#include <limits>

#include "esp/byte_order.h"

namespace ikeplex::esp {
namespace {

constexpr std::size_t kIpv4MinHeader = 20;
constexpr std::size_t kIpv6Header = 40;
constexpr std::size_t kMaxIpLength = 65535;
constexpr std::uint8_t kDefaultTtl = 64;

using detail::load_be16;
using detail::load_be32;
using detail::store_be16;
using detail::store_be32;

/// IPv6 extension headers (RFC 8200 §4, IANA "IPv6 Extension Header Types") that transport
/// mode would have to walk; none is supported.
bool is_ipv6_extension(std::uint8_t nh) noexcept {
    switch (nh) {
        case 0:    // Hop-by-Hop Options
        case 43:   // Routing
        case 44:   // Fragment
        case 51:   // AH
        case 60:   // Destination Options
        case 135:  // Mobility
        case 139:  // HIP
        case 140:  // Shim6
        case 253:  // experimental
        case 254:
            return true;
        default:
            return false;
    }
}

/// The IPv4 header checksum (RFC 791, RFC 1071) over `n` bytes with the checksum field zero.
std::uint16_t ipv4_checksum(const std::uint8_t* h, std::size_t n) noexcept {
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i + 1 < n; i += 2) {
        sum += load_be16(h + i);
    }
    while ((sum >> 16U) != 0) {
        sum = (sum & 0xffffU) + (sum >> 16U);
    }
    return static_cast<std::uint16_t>(~sum);
}

/// ip_packet_length(), inlined into the per-packet paths.
[[gnu::always_inline]] inline std::size_t ip_length(ByteView p) noexcept {
    if (p.empty()) {
        return 0;
    }
    const unsigned version = p[0] >> 4U;
    if (version == 4) {
        if (p.size() < kIpv4MinHeader) {
            return 0;
        }
        const std::size_t header = std::size_t{p[0] & 0x0fU} * 4;
        const std::size_t total = load_be16(p.data() + 2);
        if (header < kIpv4MinHeader || total < header || total > p.size()) {
            return 0;
        }
        return total;
    }
    if (version == 6) {
        if (p.size() < kIpv6Header) {
            return 0;
        }
        const std::size_t total = kIpv6Header + load_be16(p.data() + 4);
        return total > p.size() ? 0 : total;
    }
    return 0;
}

/// The ESP layer: payload in `pkt` → ESP header | IV | ciphertext | ICV.
[[gnu::always_inline]] inline Drop seal_payload(SaCrypto& c, Spi spi, std::uint64_t seq, bool esn,
                                                std::uint8_t next_header, PacketBuf& pkt,
                                                std::size_t tfc_pad_to, ByteView iv) noexcept {
    if (seq == 0 || (!esn && seq > std::numeric_limits<std::uint32_t>::max())) {
        return Drop::kSeqExhausted;
    }
    if (!iv.empty() && iv.size() != c.iv_size()) {
        return Drop::kCrypto;
    }
    const std::size_t len = pkt.size();
    const std::size_t tfc = tfc_pad_to > len ? tfc_pad_to - len : 0;
    if (tfc > pkt.tailroom()) {
        return Drop::kNoRoom;
    }
    const std::size_t pad = c.padding(len + tfc);
    const std::size_t head = kEspHeaderSize + c.iv_size();
    const std::size_t trailer = tfc + pad + kEspTrailerSize;
    if (pkt.headroom() < head || pkt.tailroom() < trailer + c.icv_size()) {
        return Drop::kNoRoom;
    }
    std::uint8_t* t = pkt.append(trailer);
    if (tfc != 0) {
        std::memset(t, 0, tfc);
    }
    for (std::size_t i = 0; i < pad; ++i) {
        t[tfc + i] = static_cast<std::uint8_t>(i + 1);  // RFC 4303 §2.4: 1, 2, 3, ...
    }
    t[tfc + pad] = static_cast<std::uint8_t>(pad);
    t[tfc + pad + 1] = next_header;

    std::uint8_t* h = pkt.prepend(head);
    store_be32(h, spi.value());
    store_be32(h + 4, static_cast<std::uint32_t>(seq));
    if (iv.empty()) {
        c.make_iv(seq, {h + kEspHeaderSize, c.iv_size()});
    } else {
        std::memcpy(h + kEspHeaderSize, iv.data(), iv.size());
    }
    const MutByteView esp = pkt.bytes();
    std::uint8_t* icv = pkt.append(c.icv_size());
    if (!c.seal(esp, esn, static_cast<std::uint32_t>(seq >> 32U), {icv, c.icv_size()})) {
        return Drop::kCrypto;
    }
    return Drop::kNone;
}

Drop encapsulate_impl(SaCrypto& c, Spi spi, std::uint64_t seq, bool esn, Mode mode, PacketBuf& pkt,
                      ByteView iv, std::size_t tfc_pad_to) noexcept {
    const ByteView p = pkt.bytes();
    const std::size_t ip_len = ip_length(p);
    if (ip_len == 0) {
        return Drop::kBadInner;
    }
    const bool v4 = (p[0] >> 4U) == 4;
    pkt.trim(p.size() - ip_len);  // anything after the IP packet's own end is not part of it
    if (mode == Mode::kTunnel) {
        return seal_payload(c, spi, seq, esn, v4 ? next_header::kIpv4 : next_header::kIpv6, pkt,
                            tfc_pad_to, iv);
    }
    std::uint8_t protocol = 0;
    std::size_t header = 0;
    if (v4) {
        if ((load_be16(p.data() + 6) & 0x3fffU) != 0) {  // MF set or a fragment offset
            return Drop::kBadInner;
        }
        protocol = p[9];
        header = std::size_t{p[0] & 0x0fU} * 4;
    } else {
        protocol = p[6];
        if (is_ipv6_extension(protocol)) {
            return Drop::kBadInner;
        }
        header = kIpv6Header;
    }
    pkt.pull(header);
    return seal_payload(c, spi, seq, esn, protocol, pkt, 0, iv);
}

}  // namespace

const char* to_string(Drop d) noexcept {
    switch (d) {
        case Drop::kNone:
            return "none";
        case Drop::kMalformed:
            return "malformed";
        case Drop::kNoSa:
            return "no_sa";
        case Drop::kReplay:
            return "replay";
        case Drop::kIntegrity:
            return "integrity";
        case Drop::kBadTrailer:
            return "bad_trailer";
        case Drop::kDummy:
            return "dummy";
        case Drop::kBadInner:
            return "bad_inner";
        case Drop::kNoRoom:
            return "no_room";
        case Drop::kSeqExhausted:
            return "seq_exhausted";
        case Drop::kPolicy:
            return "policy";
        case Drop::kLifetime:
            return "lifetime";
        case Drop::kNoRoute:
            return "no_route";
        case Drop::kIo:
            return "io";
        case Drop::kCrypto:
            return "crypto";
        case Drop::kCount:
            break;
    }
    return "unknown";
}

std::size_t ip_packet_length(ByteView p) noexcept {
    return ip_length(p);
}

Drop encapsulate(SaCrypto& c, Spi spi, std::uint64_t seq, bool esn, Mode mode, PacketBuf& pkt,
                 std::size_t tfc_pad_to) noexcept {
    return encapsulate_impl(c, spi, seq, esn, mode, pkt, {}, tfc_pad_to);
}

Drop encapsulate_with_iv(SaCrypto& c, Spi spi, std::uint64_t seq, bool esn, Mode mode,
                         PacketBuf& pkt, ByteView iv, std::size_t tfc_pad_to) noexcept {
    if (iv.size() != c.iv_size()) {
        return Drop::kCrypto;
    }
    return encapsulate_impl(c, spi, seq, esn, mode, pkt, iv, tfc_pad_to);
}

Drop encapsulate_payload(SaCrypto& c, Spi spi, std::uint64_t seq, bool esn,
                         std::uint8_t next_header, PacketBuf& pkt,
                         std::size_t tfc_pad_to) noexcept {
    return seal_payload(c, spi, seq, esn, next_header, pkt, tfc_pad_to, {});
}

Drop decapsulate(SaCrypto& c, std::uint64_t seq, bool esn, Mode mode, PacketBuf& pkt,
                 std::uint8_t& next_header) noexcept {
    const std::size_t head = kEspHeaderSize + c.iv_size();
    const std::size_t size = pkt.size();
    if (size < head + c.icv_size() + kEspTrailerSize) {
        return Drop::kMalformed;
    }
    const std::size_t ct_len = size - head - c.icv_size();
    if (!c.aligned(ct_len) || (!esn && (seq >> 32U) != 0) ||
        load_be32(pkt.data() + 4) != static_cast<std::uint32_t>(seq)) {
        return Drop::kMalformed;
    }
    const MutByteView esp = pkt.bytes().first(size - c.icv_size());
    const ByteView icv = ByteView(pkt.bytes()).last(c.icv_size());
    if (!c.open(esp, esn, static_cast<std::uint32_t>(seq >> 32U), icv)) {
        return Drop::kIntegrity;
    }
    const std::uint8_t* ct = pkt.data() + head;
    const std::uint8_t nh = ct[ct_len - 1];
    const std::size_t pad = ct[ct_len - 2];
    if (pad + kEspTrailerSize > ct_len) {
        return Drop::kBadTrailer;
    }
    const std::uint8_t* padding = ct + ct_len - kEspTrailerSize - pad;
    for (std::size_t i = 0; i < pad; ++i) {
        if (padding[i] != static_cast<std::uint8_t>(i + 1)) {
            return Drop::kBadTrailer;
        }
    }
    pkt.pull(head);
    pkt.trim(pad + kEspTrailerSize + c.icv_size());
    next_header = nh;
    if (nh == next_header::kNoNext) {
        return Drop::kDummy;
    }
    if (mode == Mode::kTransport) {
        return Drop::kNone;
    }
    // Tunnel mode: an IP packet of the version the next header names; TFC padding after it.
    const ByteView inner = pkt.bytes();
    const unsigned want = nh == next_header::kIpv4 ? 4U : nh == next_header::kIpv6 ? 6U : 0U;
    const std::size_t ip_len = ip_length(inner);
    if (want == 0 || ip_len == 0 || (inner[0] >> 4U) != want) {
        return Drop::kBadInner;
    }
    pkt.trim(inner.size() - ip_len);
    return Drop::kNone;
}

bool add_transport_header(PacketBuf& pkt, const IpAddress& src, const IpAddress& dst,
                          std::uint8_t protocol) noexcept {
    if (!src.is_set() || src.family() != dst.family()) {
        return false;
    }
    const std::size_t len = pkt.size();
    if (src.is_v4()) {
        if (len > kMaxIpLength - kIpv4MinHeader) {
            return false;
        }
        std::uint8_t* h = pkt.prepend(kIpv4MinHeader);
        if (h == nullptr) {
            return false;
        }
        std::memset(h, 0, kIpv4MinHeader);
        h[0] = 0x45;  // version 4, IHL 5
        store_be16(h + 2, static_cast<std::uint16_t>(len + kIpv4MinHeader));
        h[8] = kDefaultTtl;
        h[9] = protocol;
        std::memcpy(h + 12, src.bytes().data(), 4);
        std::memcpy(h + 16, dst.bytes().data(), 4);
        store_be16(h + 10, ipv4_checksum(h, kIpv4MinHeader));
        return true;
    }
    if (len > kMaxIpLength) {
        return false;
    }
    std::uint8_t* h = pkt.prepend(kIpv6Header);
    if (h == nullptr) {
        return false;
    }
    std::memset(h, 0, kIpv6Header);
    h[0] = 0x60;  // version 6, traffic class 0, flow label 0
    store_be16(h + 4, static_cast<std::uint16_t>(len));
    h[6] = protocol;
    h[7] = kDefaultTtl;
    std::memcpy(h + 8, src.bytes().data(), 16);
    std::memcpy(h + 24, dst.bytes().data(), 16);
    return true;
}

}  // namespace ikeplex::esp
