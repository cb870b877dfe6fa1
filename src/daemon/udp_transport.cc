#include "daemon/udp_transport.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include <netinet/in.h>
#include <sys/socket.h>

#include "kernel/xfrm/codec/sockopt.h"
#include "util/log.h"
#include "util/sockaddr.h"

namespace ikeplex::daemon {

namespace {

/// Datagrams read per readiness notification before yielding to other work.
constexpr int kBatch = 64;
constexpr std::size_t kMaxDatagram = 65536;

bool is_marker(ByteView b) {
    return b.size() >= 4 && b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == 0;
}

}  // namespace

struct UdpTransport::Socket {
    Socket(asio::io_context& io, int fam, std::uint16_t p) : sock(io), family(fam), port(p) {}
    asio::ip::udp::socket sock;
    int family;
    std::uint16_t port;
    bool natt{false};  ///< a NAT-T port: IKE behind the non-ESP marker, keepalives, ESP in UDP
    IpAddress bound;   ///< the unspecified address for a wildcard socket
    std::array<std::uint8_t, kMaxDatagram> buffer{};
};

UdpTransport::UdpTransport(asio::io_context& io, Receive on_ike)
    : io_(io), on_ike_(std::move(on_ike)) {}

UdpTransport::~UdpTransport() {
    close();
}

Status UdpTransport::open(const std::vector<IpAddress>& listen, std::uint16_t ike_port,
                          std::uint16_t natt_port, bool share_natt, bool kernel_esp) {
    if (sockets_.empty()) {  // the first pair is the one keepalives and natt_port() name
        ike_port_ = ike_port;
        natt_port_ = natt_port;
    }
    for (const IpAddress& a : listen) {
        for (std::uint16_t port : {ike_port, natt_port}) {
            const int family = a.is_v4() ? 4 : 6;
            auto s = std::make_unique<Socket>(io_, family, port);
            s->natt = port == natt_port;
            asio::error_code ec;
            const auto proto = family == 4 ? asio::ip::udp::v4() : asio::ip::udp::v6();
            s->sock.open(proto, ec);
            if (ec) {
                return Error{Errc::kSystem, "cannot open a UDP socket", ec.value(), 0, 0};
            }
            const int fd = s->sock.native_handle();
            const int one = 1;
            if (family == 4) {
                ::setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
            } else {
                ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
                ::setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
            }
            s->sock.set_option(asio::socket_base::reuse_address(true), ec);
            if (share_natt && port == natt_port &&
                ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
                return Error{Errc::kSystem, "cannot set SO_REUSEPORT on the NAT-T socket", errno, 0,
                             port};
            }
            if (kernel_esp) {
                IKEPLEX_TRY(kernel::xfrm::bypass_policies(fd, family));
                if (port == natt_port) {
                    IKEPLEX_TRY(kernel::xfrm::enable_udp_encap(fd));
                }
            }
            // Room for bursts (a flood of IKE_SA_INIT, many peers rekeying at once): 4 MiB, past
            // net.core.rmem_max when we may (root), else as much as allowed.
            const int rcvbuf = 4 * 1024 * 1024;
            if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0) {
                ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
            }
            asio::ip::address addr;
            if (family == 4) {
                asio::ip::address_v4::bytes_type b{};
                std::copy(a.bytes().begin(), a.bytes().end(), b.begin());
                addr = asio::ip::address_v4(b);
            } else {
                asio::ip::address_v6::bytes_type b{};
                std::copy(a.bytes().begin(), a.bytes().end(), b.begin());
                addr = asio::ip::address_v6(b);
            }
            s->sock.bind(asio::ip::udp::endpoint(addr, port), ec);
            if (ec) {
                log::error(log::Subsystem::kNet, "cannot bind {}[{}]: {}", a, port, ec.message());
                return Error{Errc::kSystem, "cannot bind the IKE port", ec.value(), 0, port};
            }
            s->sock.non_blocking(true, ec);
            s->bound = a;
            log::info(log::Subsystem::kNet, "listening on {}[{}]", a, port);
            sockets_.push_back(std::move(s));
            arm(*sockets_.back());
        }
    }
    return ok();
}

void UdpTransport::close() {
    for (auto& s : sockets_) {
        asio::error_code ec;
        s->sock.close(ec);
    }
    sockets_.clear();
}

void UdpTransport::arm(Socket& s) {
    s.sock.async_wait(asio::ip::udp::socket::wait_read, [this, &s](const asio::error_code& ec) {
        if (ec) {
            return;  // closed
        }
        drain(s);
        arm(s);
    });
}

void UdpTransport::drain(Socket& s) {
    for (int n = 0; n < kBatch; ++n) {
        sockaddr_storage from{};
        std::array<std::uint8_t, 256> control{};
        iovec iov{s.buffer.data(), s.buffer.size()};
        msghdr msg{};
        msg.msg_name = &from;
        msg.msg_namelen = sizeof from;
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.data();
        msg.msg_controllen = control.size();
        const ssize_t len = ::recvmsg(s.sock.native_handle(), &msg, MSG_DONTWAIT);
        if (len < 0) {
            return;  // EAGAIN: drained (or an error the next readiness will show again)
        }
        ++counters_.received;
        Endpoint local{s.bound, s.port};
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
                in_pktinfo pi{};
                std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
                local.address =
                        IpAddress::from_bytes(
                                ByteView(reinterpret_cast<const std::uint8_t*>(&pi.ipi_addr), 4))
                                .value_or(s.bound);
            } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
                in6_pktinfo pi{};
                std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
                local.address =
                        IpAddress::from_bytes(
                                ByteView(reinterpret_cast<const std::uint8_t*>(&pi.ipi6_addr), 16))
                                .value_or(s.bound);
            }
        }
        const Endpoint remote = from_sockaddr(from);
        ByteView data(s.buffer.data(), static_cast<std::size_t>(len));
        if ((msg.msg_flags & MSG_TRUNC) != 0) {
            ++counters_.malformed;
            continue;
        }
        if (s.natt) {
            if (data.size() == 1 && data[0] == 0xFF) {
                ++counters_.keepalives;
                continue;
            }
            if (!is_marker(data)) {
                ++counters_.esp_in_udp;
                continue;
            }
            data = data.subspan(4);
        }
        on_ike_(data, local, remote);
    }
}

UdpTransport::Socket* UdpTransport::socket_for(const Endpoint& local) {
    Socket* wildcard = nullptr;
    for (auto& s : sockets_) {
        const bool family_ok = (s->family == 4) == local.address.is_v4();
        if (!family_ok || s->port != local.port) {
            continue;
        }
        if (s->bound == local.address) {
            return s.get();
        }
        if (s->bound == IpAddress::any(s->family)) {
            wildcard = s.get();
        }
    }
    return wildcard;
}

void UdpTransport::transmit(Socket& s, ByteView data, const Endpoint& local,
                            const Endpoint& remote) {
    sockaddr_storage to{};
    const socklen_t to_len = to_sockaddr(remote, to);
    iovec iov{const_cast<std::uint8_t*>(data.data()), data.size()};
    msghdr msg{};
    msg.msg_name = &to;
    msg.msg_namelen = to_len;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    std::array<std::uint8_t, CMSG_SPACE(sizeof(in6_pktinfo))> control{};
    if (s.bound == IpAddress::any(s.family) && local.address.is_set()) {
        // Answer from the address the peer talks to (a wildcard socket has many).
        msg.msg_control = control.data();
        cmsghdr* c = nullptr;
        if (s.family == 4) {
            msg.msg_controllen = CMSG_SPACE(sizeof(in_pktinfo));
            c = CMSG_FIRSTHDR(&msg);
            c->cmsg_level = IPPROTO_IP;
            c->cmsg_type = IP_PKTINFO;
            c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
            in_pktinfo pi{};
            std::memcpy(&pi.ipi_spec_dst, local.address.bytes().data(), 4);
            std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
        } else {
            msg.msg_controllen = CMSG_SPACE(sizeof(in6_pktinfo));
            c = CMSG_FIRSTHDR(&msg);
            c->cmsg_level = IPPROTO_IPV6;
            c->cmsg_type = IPV6_PKTINFO;
            c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
            in6_pktinfo pi{};
            std::memcpy(&pi.ipi6_addr, local.address.bytes().data(), 16);
            std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
        }
    }
    if (::sendmsg(s.sock.native_handle(), &msg, MSG_DONTWAIT) < 0) {
        ++counters_.send_errors;
        log::debug(log::Subsystem::kNet, "sending to {} failed: {}", remote, std::strerror(errno));
        return;
    }
    ++counters_.sent;
}

void UdpTransport::send(const ike::OutDatagram& d) {
    Socket* s = socket_for(d.local);
    if (s == nullptr) {
        ++counters_.send_errors;
        log::info(log::Subsystem::kNet, "no socket for {}: message to {} dropped", d.local,
                  d.remote);
        return;
    }
    if (s->natt) {
        Bytes framed(4, 0);
        framed.insert(framed.end(), d.data.begin(), d.data.end());
        transmit(*s, framed, d.local, d.remote);
        return;
    }
    transmit(*s, d.data, d.local, d.remote);
}

void UdpTransport::send_keepalive(const Endpoint& local, const Endpoint& remote) {
    if (Socket* s = socket_for(Endpoint{local.address, natt_port_})) {
        const std::uint8_t ff = 0xFF;
        transmit(*s, ByteView(&ff, 1), local, remote);
    }
}

}  // namespace ikeplex::daemon
