// IKE over UDP (RFC 7296 §2, RFC 3948): sockets on port 500 and 4500 for each listen
// address, IPv4 and IPv6. On 4500 IKE messages carry the four-byte non-ESP marker; single 0xFF
// octets are NAT keepalives; anything else there is ESP in UDP, counted and dropped here (the
// data plane reads ESP on sockets of its own).
// Packet info (IP_PKTINFO / IPV6_RECVPKTINFO) gives the local address of each datagram on a
// wildcard socket and selects the source address of replies.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>

#include "ike/output.h"
#include "util/ip_address.h"
#include "util/result.h"

namespace ikeplex::daemon {

struct UdpCounters {
    std::uint64_t received{0};
    std::uint64_t sent{0};
    std::uint64_t send_errors{0};
    std::uint64_t keepalives{0};
    std::uint64_t esp_in_udp{0};  ///< dropped: no data plane attached
    std::uint64_t malformed{0};   ///< too short for the marker, or truncated
};

class UdpTransport {
public:
    /// An IKE message (marker removed) arrived on `local` from `remote`.
    using Receive =
            std::function<void(ByteView message, const Endpoint& local, const Endpoint& remote)>;

    UdpTransport(asio::io_context& io, Receive on_ike);
    ~UdpTransport();
    UdpTransport(const UdpTransport&) = delete;
    UdpTransport& operator=(const UdpTransport&) = delete;
    UdpTransport(UdpTransport&&) = delete;
    UdpTransport& operator=(UdpTransport&&) = delete;

    /// Binds `ike_port` and `natt_port` on every address of `listen` (the unspecified address
    /// of a family means all of that family). kSystem with errno on failure. May be called again
    /// for more port pairs (a load generator's source ports); natt_port() stays the first's.
    /// `share_natt`: the NAT-T sockets open a SO_REUSEPORT group (bound first, so they are
    /// its index 0) that the userspace data plane's ESP sockets join.
    /// `kernel_esp` (backend xfrm): every socket bypasses IPsec policies and the NAT-T sockets
    /// hand ESP in UDP to the kernel.
    Status open(const std::vector<IpAddress>& listen, std::uint16_t ike_port,
                std::uint16_t natt_port, bool share_natt = false, bool kernel_esp = false);
    void close();

    /// Sends an IKE message from `d.local` to `d.remote` (with the marker on the NAT-T port).
    void send(const ike::OutDatagram& d);
    /// One NAT keepalive (RFC 3948 §2.3) from `local` (the NAT-T port) to `remote`.
    void send_keepalive(const Endpoint& local, const Endpoint& remote);
    [[nodiscard]] std::uint16_t natt_port() const noexcept { return natt_port_; }
    [[nodiscard]] const UdpCounters& counters() const noexcept { return counters_; }

private:
    struct Socket;
    void arm(Socket& s);
    void drain(Socket& s);
    Socket* socket_for(const Endpoint& local);
    void transmit(Socket& s, ByteView data, const Endpoint& local, const Endpoint& remote);

    asio::io_context& io_;
    Receive on_ike_;
    std::vector<std::unique_ptr<Socket>> sockets_;
    std::uint16_t ike_port_{500};
    std::uint16_t natt_port_{4500};
    UdpCounters counters_;
};

}  // namespace ikeplex::daemon
