// Write side of the TUN offloads: consecutive packets of one TCP or UDP flow written to the TUN
// as one GSO super-packet (one system call and one pass through the kernel's IP layer instead
// of one per packet). Pure functions, unit tested with crafted packets; tun.cc does the writes.
//
// Kernel facts used (include/linux/virtio_net.h virtio_net_hdr_to_skb, net/ipv4/udp_offload.c
// __udp_gso_segment, net/ipv4/af_inet.c inet_gso_segment; offload.h has the header layout):
// - TCPV4/TCPV6: NEEDS_CSUM with csum_start = IP header length, csum_offset = 16, the TCP
//   checksum field holding the folded (not inverted) pseudo-header sum over the super-packet's
//   TCP length.
// - UDP_L4 (USO, Linux 6.2+; the TUN takes it when TUNSETOFFLOAD took TUN_F_USO4/6): NEEDS_CSUM,
//   csum_offset = 6, the UDP length field the super-packet's UDP length and the checksum field
//   the folded pseudo-header sum over that length; at most UDP_MAX_SEGMENTS (64) segments.
//   The kernel splits it where it must (a local socket without UDP_GRO, a device without USO):
//   every segment gets the headers with the UDP length of its payload, the IPv4 ID + 1 per
//   segment, and its own checksum.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "esp/packet.h"

namespace ikeplex::esp::io {

/// A run of packets at the front of a batch that may go as one GSO super-packet.
struct CoalescedRun {
    std::size_t count{1};     ///< packets in the run (1: write the first packet on its own)
    std::size_t l4_off{0};    ///< IP header length
    std::size_t hdr_len{0};   ///< IP + TCP/UDP header length (the same in every packet)
    std::size_t gso_size{0};  ///< payload of the first packet (TCP: the MSS)
    std::size_t payload{0};   ///< payload bytes of the whole run
    bool v6{false};
    bool udp{false};
    bool psh{false};  ///< TCP: the last packet has PSH
};

/// Finds how many TCP packets at the front of `pkts` (at most `max_count`) coalesce: IPv4
/// without options and not fragmented, or IPv6 without extension headers; TCP with only ACK
/// (and PSH on the last) set; same addresses, ports, TOS/traffic class, TTL/hop limit, DF, ACK
/// number, window, header length and options; consecutive sequence numbers; without DF,
/// consecutive IPv4 IDs (as for UDP below); equal payload sizes (the last may be shorter); IP
/// length of the result <= 65535; every TCP checksum right.
CoalescedRun find_tcp_run(std::span<PacketBuf* const> pkts, std::size_t max_count) noexcept;

/// The same for UDP: IPv4 without options and not fragmented, or IPv6 without extension
/// headers; the UDP length matching the IP length; same addresses, ports, TOS/traffic class and
/// flow label, TTL/hop limit and DF; without DF, consecutive IPv4 IDs (the kernel numbers the
/// segments so; with DF the ID carries nothing, RFC 6864 §4); equal payload sizes (the last may
/// be shorter); IP length of the result <= 65535; every UDP checksum present and right (a
/// packet whose checksum is wrong or absent goes alone, for the kernel to judge as it is).
CoalescedRun find_udp_run(std::span<PacketBuf* const> pkts, std::size_t max_count) noexcept;

/// Which UDP families find_run() may coalesce (TCP always).
struct CoalesceProtocols {
    bool udp_v4{false};  ///< the TUN took TUN_F_USO4
    bool udp_v6{false};  ///< the TUN took TUN_F_USO6
};

/// find_tcp_run or find_udp_run, after the protocol of the first packet.
CoalescedRun find_run(std::span<PacketBuf* const> pkts, std::size_t max_count,
                      const CoalesceProtocols& protocols) noexcept;

/// Longest header build_super_header writes: virtio header, IPv6 header, TCP with options.
inline constexpr std::size_t kMaxSuperHead = 10 + 40 + 60;

/// For a run with count >= 2: writes the virtio header and then the super-packet's IP + TCP/UDP
/// header (run.hdr_len bytes; a fixed-up copy of the first packet's) to `head`. The
/// super-packet is that header followed by each packet's payload, in order.
void build_super_header(const PacketBuf& first, const CoalescedRun& run,
                        std::uint8_t* head) noexcept;

}  // namespace ikeplex::esp::io
