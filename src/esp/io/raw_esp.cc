#include "esp/io/raw_esp.h"

#include <algorithm>
#include <array>
#include <vector>

#include <netinet/in.h>
#include <sys/socket.h>

#include "esp/io/socket_util.h"
#include "esp/io/steering.h"
#include "util/sys_error.h"

namespace ikeplex::esp::io {

namespace {
constexpr int kProtoEsp = 50;  // IPPROTO_ESP
}  // namespace

Result<RawEspSocket> RawEspSocket::open(int family, unsigned worker, unsigned nworkers,
                                        const IpAddress* bind) {
    if (family != 4 && family != 6) {
        return make_error(Errc::kInvalidArgument, "raw ESP socket: family must be 4 or 6");
    }
    if (nworkers == 0 || nworkers > 255 || worker >= nworkers) {
        return make_error(Errc::kInvalidArgument, "raw ESP socket: worker/nworkers out of range");
    }
    if (bind != nullptr && bind->family() != family) {
        return make_error(Errc::kInvalidArgument, "raw ESP socket: bind address family");
    }
    RawEspSocket s;
    s.family_ = family;
    s.fd_.reset(::socket(family == 4 ? AF_INET : AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
                         kProtoEsp));
    if (!s.fd_) {
        return sys_error("socket(SOCK_RAW, ESP)");
    }
    IKEPLEX_TRY(attach_esp_filter(s.fd(), family == 4, worker, nworkers));
    if (bind != nullptr) {
        sockaddr_storage ss{};
        const socklen_t len = to_sockaddr(Endpoint{*bind, 0}, ss);
        if (::bind(s.fd(), reinterpret_cast<const sockaddr*>(&ss), len) != 0) {
            return sys_error("bind(raw ESP)");
        }
    }
    // Whatever was queued before the filter was attached is not necessarily ours.
    std::vector<std::uint8_t> sink(65536);
    for (int i = 0; i < 4096; ++i) {
        if (::recv(s.fd(), sink.data(), sink.size(), MSG_DONTWAIT) < 0) {
            break;
        }
    }
    return s;
}

Result<std::size_t> RawEspSocket::recv_batch(std::span<PacketBuf> bufs, std::span<Endpoint> from) {
    std::size_t n = IKEPLEX_TRY(recv_direct(fd(), bufs, from, stats_.rx_dropped));
    if (family_ == 4) {
        std::size_t out = 0;
        for (std::size_t i = 0; i < n; ++i) {
            PacketBuf& b = bufs[i];
            const std::size_t ihl = b.empty() ? 0 : (b.data()[0] & 0x0FU) * 4U;
            if (ihl < 20 || !b.pull(ihl)) {
                ++stats_.rx_dropped;
                continue;
            }
            if (out != i) {
                bufs[out].assign(b.bytes());
                from[out] = from[i];
            }
            ++out;
        }
        n = out;
    }
    for (std::size_t i = 0; i < n; ++i) {
        from[i].port = 0;
    }
    stats_.rx_packets += n;
    return n;
}

Result<std::size_t> RawEspSocket::send_batch(std::span<const Datagram> d) {
    std::array<Datagram, kMaxBatch> zeroed{};
    std::size_t done = 0;
    while (done < d.size()) {
        // The IPv6 stack refuses a port other than 0 or the protocol: clear it.
        const std::size_t n = std::min(kMaxBatch, d.size() - done);
        for (std::size_t i = 0; i < n; ++i) {
            zeroed[i] = Datagram{d[done + i].buf, Endpoint{d[done + i].peer.address, 0}, {}};
        }
        const std::size_t sent =
                IKEPLEX_TRY(send_each(fd(), std::span<const Datagram>(zeroed.data(), n),
                                      stats_.tx_packets, stats_.tx_dropped));
        done += sent;
        if (sent < n) {
            break;
        }
    }
    return done;
}

}  // namespace ikeplex::esp::io
