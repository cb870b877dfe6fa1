// Offloads between a TUN device and the data plane, with no system calls (pure functions, unit
// tested with crafted packets): Internet checksums, the virtio-net header, segmentation of the
// kernel's GSO super-packets (the write side, coalescing, is in coalesce.h).
//
// Kernel facts used (include/uapi/linux/virtio_net.h, drivers/net/tun.c):
// - With IFF_VNET_HDR every TUN read and write starts with a `struct virtio_net_hdr` of 10 bytes
//   (TUNSETVNETHDRSZ default): flags u8, gso_type u8, hdr_len u16, gso_size u16,
//   csum_start u16, csum_offset u16. The u16 fields are little-endian once TUNSETVNETLE is set
//   (and on little-endian hosts in any case). For a TUN (no Ethernet header) csum_start counts
//   from the start of the IP header.
// - flags: VIRTIO_NET_HDR_F_NEEDS_CSUM = 1 (the L4 checksum field holds only the folded
//   pseudo-header sum; the checksum over [csum_start, end) goes to csum_start + csum_offset),
//   VIRTIO_NET_HDR_F_DATA_VALID = 2.
// - gso_type: NONE 0, TCPV4 1, UDP 3 (old UFO, never produced now), TCPV6 4, UDP_L4 5 (USO,
//   Linux 6.2+, newer than Debian 12's headers), ECN bit 0x80. gso_size is the L4 payload per
//   segment (the MSS); hdr_len is not trusted (the kernel puts skb_headlen() there): the header
//   length is csum_start + TCP data offset * 4, or + 8 for UDP.
// - Segmenting a TCP super-packet as the kernel's tcp_gso_segment does: every segment gets the
//   same headers with the sequence number advanced by the payload before it, FIN and PSH only on
//   the last segment, CWR only on the first; IPv4 total length, ID (+1 per segment) and header
//   checksum per segment; IPv6 payload length per segment. USO: UDP length per segment.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "esp/io/checksum.h"
#include "esp/packet.h"
#include "util/bytes.h"

namespace ikeplex::esp::io {

// ---- Internet checksum (RFC 1071; csum_add and the rest in checksum.h)

/// The source / destination address of an IPv4 (4 bytes) or IPv6 (16 bytes) header.
ByteView src_addr(ByteView ip, bool v6) noexcept;
ByteView dst_addr(ByteView ip, bool v6) noexcept;
/// Sets the IPv4 header checksum of `hdr` (ihl * 4 bytes).
void set_ipv4_header_checksum(MutByteView hdr) noexcept;
/// True if the IPv4 header checksum of `hdr` is right.
bool ipv4_header_checksum_ok(ByteView hdr) noexcept;
/// True if `ip` is an IPv4 or IPv6 (no extension headers) TCP or UDP packet whose L4 checksum is
/// right (for UDP over IPv4 a zero checksum counts as right).
bool l4_checksum_ok(ByteView ip) noexcept;
/// Computes and stores the full TCP/UDP checksum of an IPv4/IPv6 (no extension headers) packet;
/// false if it is neither.
bool set_l4_checksum(MutByteView ip) noexcept;

// ---- virtio-net header

inline constexpr std::uint8_t kVnetNeedsCsum = 1;
inline constexpr std::uint8_t kVnetDataValid = 2;
inline constexpr std::uint8_t kGsoNone = 0;
inline constexpr std::uint8_t kGsoTcpV4 = 1;
inline constexpr std::uint8_t kGsoUdp = 3;
inline constexpr std::uint8_t kGsoTcpV6 = 4;
inline constexpr std::uint8_t kGsoUdpL4 = 5;
inline constexpr std::uint8_t kGsoEcn = 0x80;

struct VirtioNetHdr {
    static constexpr std::size_t kSize = 10;
    std::uint8_t flags{0};
    std::uint8_t gso_type{kGsoNone};
    std::uint16_t hdr_len{0};
    std::uint16_t gso_size{0};
    std::uint16_t csum_start{0};
    std::uint16_t csum_offset{0};

    /// From kSize bytes (little-endian fields).
    static VirtioNetHdr decode(const std::uint8_t* p) noexcept;
    /// To kSize bytes.
    void encode(std::uint8_t* p) const noexcept;
};

// ---- Read side: complete checksums, segment super-packets

/// Completes a NEEDS_CSUM packet in place: the one's-complement checksum over
/// [csum_start, end) goes to csum_start + csum_offset (0 becomes 0xFFFF for UDP, offset 6).
/// False if the offsets do not fit the packet.
bool complete_checksum(MutByteView pkt, std::uint16_t csum_start,
                       std::uint16_t csum_offset) noexcept;

/// How a GSO super-packet splits (from segment_plan()).
struct GsoPlan {
    std::size_t l4_off{0};    ///< IP header length (start of TCP/UDP)
    std::size_t hdr_len{0};   ///< IP + TCP/UDP header length
    std::size_t mss{0};       ///< payload bytes per segment (the last may have fewer)
    std::size_t payload{0};   ///< payload bytes in the super-packet
    std::size_t segments{0};  ///< number of segments
    bool v6{false};
    bool udp{false};
    // What every segment's checksums start from (host-order running sums, see checksum.h), so
    // that write_segment adds the fields it changes instead of reading back what it just wrote
    // (a load that spans several fresh stores cannot be forwarded and stalls the core).
    std::uint64_t ip_sum{0};    ///< IPv4 header without total length, ID and checksum
    std::uint64_t l4_sum{0};    ///< pseudo-header without length + L4 header without the fields
                                ///< below and the checksum (TCP: seq, offset/flags; UDP: length)
    std::uint32_t seq{0};       ///< TCP sequence number of the super-packet
    std::uint16_t ip_id{0};     ///< IPv4 ID of the super-packet (segment i gets ip_id + i)
    std::uint8_t tcp_off{0};    ///< TCP data offset byte (12)
    std::uint8_t tcp_flags{0};  ///< TCP flags byte (13) of the super-packet
};

/// Checks a super-packet (IP header first) against its virtio header and says how it splits.
/// gso_type must be TCPV4, TCPV6 or UDP_L4 (the ECN bit is ignored); false if malformed, or if
/// a segment would not fit in a PacketBuf, or beyond kMaxSegments segments.
inline constexpr std::size_t kMaxSegments = 1024;
bool segment_plan(ByteView pkt, const VirtioNetHdr& h, GsoPlan& plan) noexcept;
/// Writes segment `i` (< plan.segments) of `pkt` into `out` (after out.reset(), default
/// headroom): headers fixed up and the L4 checksum complete. False if it does not fit.
bool write_segment(ByteView pkt, const GsoPlan& plan, std::size_t i, PacketBuf& out) noexcept;

}  // namespace ikeplex::esp::io
