// UDP sockets for ESP-in-UDP (RFC 3948, port 4500): one per worker and address family, batched
// with recvmmsg/sendmmsg, UDP GRO on receive and UDP GSO on send.
//
// Kernel facts used (include/uapi/linux/udp.h, net/ipv4/udp.c, udp_offload.c):
// - SO_REUSEPORT on every socket bound to the same address:port (same user) puts them in one
//   group; the daemon's IKE socket must also set it, and be bound first (group index 0, see
//   steering.h).
// - setsockopt(SOL_UDP, UDP_GRO, 1): the kernel may hand one "super-datagram" made of several
//   datagrams of one flow (same addresses and ports), all of the same size but the last; a cmsg
//   (SOL_UDP, UDP_GRO, int) carries that size. recv_batch splits them again. The kernel decides
//   GRO before the reuseport program runs and does not look at the payload: the datagrams of one
//   super-datagram can carry different SPIs (RFC 9611 SAs share the 4-tuple) and even IKE (the
//   program only sees the first): a worker must check spi_worker() of each datagram.
// - sendmsg with a cmsg (SOL_UDP, UDP_SEGMENT, u16 size) sends one buffer as datagrams of that
//   size (the last may be shorter): at most 64 segments (UDP_MAX_SEGMENTS on older kernels),
//   payload <= 65507 (IPv4) / 65527 (IPv6), size + headers <= path MTU (else EINVAL); EIO when
//   the device cannot checksum. The buffer is gathered with one iovec per datagram (no copy).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "esp/packet.h"
#include "util/ip_address.h"
#include "util/result.h"
#include "util/unique_fd.h"

namespace ikeplex::esp::io {

/// One datagram to send: the payload (the ESP packet, with the non-ESP marker rules of RFC 3948
/// already applied) and where to.
struct Datagram {
    PacketBuf* buf{nullptr};
    Endpoint peer;
    /// The source address (the SA's outer local address), sent as IP_PKTINFO / IPV6_PKTINFO by
    /// a socket bound to the wildcard address; unset: the kernel's choice by route. A host with
    /// several addresses must answer from the one the peer (or its NAT) knows (MOBIKE).
    IpAddress source;
};

struct UdpStats {
    std::uint64_t rx_datagrams{0};
    std::uint64_t rx_gro_batches{0};  ///< super-datagrams split
    std::uint64_t rx_truncated{0};    ///< too long for a buffer: dropped
    std::uint64_t tx_datagrams{0};
    std::uint64_t tx_gso_messages{0};   ///< sendmsg calls that carried UDP_SEGMENT
    std::uint64_t tx_gso_fallbacks{0};  ///< GSO refused: the run went datagram by datagram
    std::uint64_t tx_dropped{0};        ///< refused for the datagram itself (EMSGSIZE, ...)
};

class UdpSocket {
public:
    /// A non-blocking UDP socket bound to `bind` (port 0: any), IPV6_V6ONLY for IPv6,
    /// SO_REUSEPORT if `reuseport`, UDP_GRO if `gro` (gro() says whether the kernel took it).
    static Result<UdpSocket> open(const Endpoint& bind, bool reuseport, bool gro);

    UdpSocket(UdpSocket&&) noexcept;
    UdpSocket& operator=(UdpSocket&&) noexcept;
    ~UdpSocket();

    [[nodiscard]] int fd() const noexcept { return fd_.get(); }
    [[nodiscard]] bool gro() const noexcept { return arena_ != nullptr; }
    /// The bound address (with the port the kernel chose for port 0).
    [[nodiscard]] const Endpoint& local() const noexcept { return local_; }
    [[nodiscard]] const UdpStats& stats() const noexcept { return stats_; }

    /// Receives into bufs[i] (reset to the default headroom) from from[i], for
    /// i < min(bufs.size(), from.size()): one recvmmsg per call; super-datagrams are split into
    /// their datagrams, in order. Returns how many were filled (0: nothing waiting). With GRO,
    /// datagrams that did not fit in `bufs` are kept and come first next time: call again while
    /// the result fills `bufs` (or pending() is true).
    Result<std::size_t> recv_batch(std::span<PacketBuf> bufs, std::span<Endpoint> from);
    /// True if received datagrams are waiting for the next recv_batch.
    [[nodiscard]] bool pending() const noexcept;

    /// sendmmsg of d[0..): with `gso`, each run of consecutive datagrams to the same peer with
    /// equal sizes (the last may be shorter) goes as one UDP_SEGMENT message; if the kernel
    /// refuses one, that run goes again datagram by datagram (after EIO, GSO stays off for this
    /// socket). Returns how many datagrams from the front were done with: sent, or dropped for
    /// an error of their own (stats().tx_dropped). Fewer than d.size() only when the socket
    /// buffer is full (EAGAIN/ENOBUFS): send the rest later.
    Result<std::size_t> send_batch(std::span<const Datagram> d, bool gso);

    struct GroArena;

private:
    UdpSocket() = default;
    std::size_t drain(std::span<PacketBuf> bufs, std::span<Endpoint> from, std::size_t o);

    UniqueFd fd_;
    Endpoint local_;
    bool gso_ok_{true};
    std::unique_ptr<GroArena> arena_;
    UdpStats stats_;
};

/// Sends d[0..) one datagram per message with sendmmsg (no GSO); shared with RawEspSocket.
/// Same return rule as UdpSocket::send_batch; `sent` and `dropped` are counted up.
Result<std::size_t> send_each(int fd, std::span<const Datagram> d, std::uint64_t& sent,
                              std::uint64_t& dropped);

}  // namespace ikeplex::esp::io
