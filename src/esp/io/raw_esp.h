// Raw ESP sockets (IP protocol 50, RFC 4303 without UDP encapsulation): one per worker and
// address family, each with a classic BPF filter that keeps only the ESP packets whose SPI
// belongs to its worker (program 3 in steering.h).
//
// Kernel facts used (net/ipv4/raw.c, net/ipv6/raw.c): socket(AF_INET/AF_INET6, SOCK_RAW, 50)
// gets a copy of every incoming packet of protocol 50 (each raw socket, filtered by its
// SO_ATTACH_FILTER program); IPv4 raw sockets receive the IP header in front, IPv6 ones only the
// payload; on send (no IP_HDRINCL) the kernel builds the IP header, the payload is the ESP
// packet; for IPv6 the sin6_port of the destination must be 0 (or the protocol). Packets that
// arrive between socket() and the filter's attachment are read and discarded in open().
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "esp/io/udp_io.h"
#include "esp/packet.h"
#include "util/ip_address.h"
#include "util/result.h"
#include "util/unique_fd.h"

namespace ikeplex::esp::io {

struct RawEspStats {
    std::uint64_t rx_packets{0};
    std::uint64_t rx_dropped{0};  ///< truncated or no room for the IPv4 header
    std::uint64_t tx_packets{0};
    std::uint64_t tx_dropped{0};
};

class RawEspSocket {
public:
    /// `family` 4 or 6 (as IpAddress::family()); worker < nworkers <= 255. `bind` (optional,
    /// same family) restricts the local address.
    static Result<RawEspSocket> open(int family, unsigned worker, unsigned nworkers,
                                     const IpAddress* bind = nullptr);

    [[nodiscard]] int fd() const noexcept { return fd_.get(); }
    [[nodiscard]] int family() const noexcept { return family_; }
    [[nodiscard]] const RawEspStats& stats() const noexcept { return stats_; }

    /// One recvmmsg into bufs[i] (the ESP packet, IPv4 header stripped; reset to the default
    /// headroom), from[i] the source address (port 0). Returns how many (0: nothing waiting).
    Result<std::size_t> recv_batch(std::span<PacketBuf> bufs, std::span<Endpoint> from);
    /// sendmmsg, one ESP packet per datagram to d[i].peer (its port is ignored). Same return
    /// rule as UdpSocket::send_batch.
    Result<std::size_t> send_batch(std::span<const Datagram> d);

private:
    RawEspSocket() = default;
    UniqueFd fd_;
    int family_{4};
    RawEspStats stats_;
};

}  // namespace ikeplex::esp::io
