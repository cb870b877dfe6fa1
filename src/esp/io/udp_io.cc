#include "esp/io/udp_io.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include <linux/udp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "esp/io/socket_util.h"
#include "util/log.h"
#include "util/sys_error.h"

namespace ikeplex::esp::io {

namespace {

constexpr std::size_t kMaxIov = 256;
constexpr std::size_t kMaxGsoSegments = 64;
constexpr std::size_t kCtrlSize = 64;  // UDP_SEGMENT (24) + IPV6_PKTINFO (40)
constexpr int kSolUdp = IPPROTO_UDP;   // SOL_UDP

using Ctrl = std::array<std::uint8_t, kCtrlSize>;

struct Counters {
    std::uint64_t& sent;
    std::uint64_t& dropped;
    std::uint64_t* gso_messages;
    std::uint64_t* gso_fallbacks;
};

/// The messages of one sendmmsg call: which datagrams each carries.
struct SendChunk {
    std::array<mmsghdr, kMaxBatch> msgs{};
    std::array<iovec, kMaxIov> iov{};
    std::array<sockaddr_storage, kMaxBatch> names{};
    alignas(cmsghdr) std::array<Ctrl, kMaxBatch> ctrl{};
    std::array<std::size_t, kMaxBatch> first{};
    std::array<std::size_t, kMaxBatch> count{};
    std::size_t nmsgs{0};
};

/// One control message of `level`/`type` carrying `v` at `c`.
template <class T>
void put_cmsg(cmsghdr* c, int level, int type, const T& v) noexcept {
    c->cmsg_level = level;
    c->cmsg_type = type;
    c->cmsg_len = CMSG_LEN(sizeof v);
    std::memcpy(CMSG_DATA(c), &v, sizeof v);
}

/// The control messages of one message: UDP_SEGMENT (`segment` > 0) and the source address
/// (IP_PKTINFO's ipi_spec_dst, IPV6_PKTINFO's ipi6_addr) when `source` is given.
void set_cmsgs(msghdr& m, Ctrl& ctrl, std::uint16_t segment, const IpAddress* source) noexcept {
    std::size_t len = segment != 0 ? CMSG_SPACE(sizeof segment) : 0;
    if (source != nullptr) {
        len += source->is_v4() ? CMSG_SPACE(sizeof(in_pktinfo)) : CMSG_SPACE(sizeof(in6_pktinfo));
    }
    if (len == 0) {
        return;
    }
    ctrl.fill(0);
    m.msg_control = ctrl.data();
    m.msg_controllen = len;
    cmsghdr* c = CMSG_FIRSTHDR(&m);
    if (segment != 0) {
        put_cmsg(c, kSolUdp, UDP_SEGMENT, segment);
        c = CMSG_NXTHDR(&m, c);
    }
    if (source != nullptr && source->is_v4()) {
        in_pktinfo pi{};
        std::memcpy(&pi.ipi_spec_dst, source->bytes().data(), sizeof pi.ipi_spec_dst);
        put_cmsg(c, IPPROTO_IP, IP_PKTINFO, pi);
    } else if (source != nullptr) {
        in6_pktinfo pi{};
        std::memcpy(&pi.ipi6_addr, source->bytes().data(), sizeof pi.ipi6_addr);
        put_cmsg(c, IPPROTO_IPV6, IPV6_PKTINFO, pi);
    }
}

/// How many datagrams from d[j] go in one GSO message (1: no GSO).
std::size_t gso_run(std::span<const Datagram> d, std::size_t j, std::size_t max_payload,
                    std::size_t iov_left) noexcept {
    const std::size_t size = d[j].buf->size();
    if (size == 0 || size > 0xFFFF) {
        return 1;
    }
    std::size_t take = 1;
    std::size_t total = size;
    while (j + take < d.size() && take < kMaxGsoSegments && take < iov_left) {
        const Datagram& next = d[j + take];
        const std::size_t s = next.buf->size();
        if (!(next.peer == d[j].peer) || !(next.source == d[j].source) || s == 0 || s > size ||
            total + s > max_payload) {
            break;
        }
        total += s;
        ++take;
        if (s < size) {
            break;
        }
    }
    return take;
}

/// Builds the messages for d[pos..) into `c`; GSO runs only from `gso_from` on. Returns the index
/// after the last datagram placed.
std::size_t build_chunk(std::span<const Datagram> d, std::size_t pos, bool gso,
                        std::size_t gso_from, std::size_t max_payload, bool with_source,
                        SendChunk& c) noexcept {
    c.nmsgs = 0;
    std::size_t ni = 0;
    std::size_t j = pos;
    while (j < d.size() && c.nmsgs < kMaxBatch && ni < kMaxIov) {
        const std::size_t take =
                gso && j >= gso_from ? gso_run(d, j, max_payload, kMaxIov - ni) : 1;
        const std::size_t m = c.nmsgs;
        msghdr& h = c.msgs[m].msg_hdr;
        h = msghdr{};
        h.msg_name = &c.names[m];
        h.msg_namelen = to_sockaddr(d[j].peer, c.names[m]);
        h.msg_iov = &c.iov[ni];
        h.msg_iovlen = take;
        for (std::size_t k = 0; k < take; ++k) {
            PacketBuf* b = d[j + k].buf;
            c.iov[ni + k] = iovec{b->data(), b->size()};
        }
        const bool own_source = with_source && d[j].source.is_set() &&
                                d[j].source.family() == d[j].peer.address.family();
        set_cmsgs(h, c.ctrl[m], take > 1 ? static_cast<std::uint16_t>(d[j].buf->size()) : 0,
                  own_source ? &d[j].source : nullptr);
        c.first[m] = j;
        c.count[m] = take;
        ++c.nmsgs;
        ni += take;
        j += take;
    }
    return j;
}

Result<std::size_t> send_impl(int fd, std::span<const Datagram> d, bool gso,
                              std::size_t max_payload, Counters cnt, bool* gso_ok,
                              bool with_source) {
    SendChunk c;
    std::size_t pos = 0;
    std::size_t gso_from = 0;  // runs before this index are resent without GSO
    while (pos < d.size()) {
        const std::size_t end = build_chunk(d, pos, gso, gso_from, max_payload, with_source, c);
        std::size_t k = 0;
        bool rebuild = false;
        while (k < c.nmsgs && !rebuild) {
            const int r =
                    ::sendmmsg(fd, &c.msgs[k], static_cast<unsigned>(c.nmsgs - k), MSG_DONTWAIT);
            if (r > 0) {
                for (std::size_t i = k; i < k + static_cast<std::size_t>(r); ++i) {
                    cnt.sent += c.count[i];
                    if (c.count[i] > 1 && cnt.gso_messages != nullptr) {
                        ++*cnt.gso_messages;
                    }
                }
                k += static_cast<std::size_t>(r);
                continue;
            }
            const int err = errno;
            if (err == EINTR) {
                continue;
            }
            if (transient_errno(err)) {
                return c.first[k];  // socket buffer full: the rest later
            }
            if (c.count[k] > 1) {
                // The kernel refused the GSO message: send that run datagram by datagram.
                if (err == EIO && gso_ok != nullptr) {
                    *gso_ok = false;
                    gso = false;
                }
                if (cnt.gso_fallbacks != nullptr) {
                    ++*cnt.gso_fallbacks;
                }
                pos = c.first[k];
                gso_from = c.first[k] + c.count[k];
                rebuild = true;
                break;
            }
            cnt.dropped += c.count[k];  // this datagram's own problem (EMSGSIZE, EPERM, ...)
            ++k;
        }
        if (!rebuild) {
            pos = end;
        }
    }
    return pos;
}

std::uint64_t now_ms() noexcept {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                              std::chrono::steady_clock::now().time_since_epoch())
                                              .count());
}

}  // namespace

/// Super-datagrams received with GRO, waiting to be split into the caller's buffers.
struct UdpSocket::GroArena {
    static constexpr std::size_t kSlots = 16;
    static constexpr std::size_t kSlotSize = 65536;
    struct Msg {
        std::size_t len{0};
        std::size_t seg{0};   ///< GRO segment size, 0: one datagram
        bool dropped{false};  ///< truncated (cannot happen with 64 KiB slots)
        Endpoint from;
    };
    std::vector<std::uint8_t> data = std::vector<std::uint8_t>(kSlots * kSlotSize);
    std::array<Msg, kSlots> msgs{};
    std::size_t count{0};  ///< messages received
    std::size_t next{0};   ///< next message to hand out
    std::size_t off{0};    ///< offset in it
    log::RateLimiter truncated_log{3, 10000};
};

UdpSocket::UdpSocket(UdpSocket&&) noexcept = default;
UdpSocket& UdpSocket::operator=(UdpSocket&&) noexcept = default;
UdpSocket::~UdpSocket() = default;

Result<UdpSocket> UdpSocket::open(const Endpoint& bind, bool reuseport, bool gro) {
    sockaddr_storage ss{};
    const socklen_t len = to_sockaddr(bind, ss);
    if (len == 0) {
        return make_error(Errc::kInvalidArgument, "UDP socket: no bind address");
    }
    const int family = bind.address.is_v4() ? AF_INET : AF_INET6;
    UdpSocket s;
    s.fd_.reset(::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP));
    if (!s.fd_) {
        return sys_error("socket(UDP)");
    }
    const int one = 1;
    if (family == AF_INET6 &&
        ::setsockopt(s.fd(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) {
        return sys_error("setsockopt(IPV6_V6ONLY)");
    }
    if (reuseport && ::setsockopt(s.fd(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
        return sys_error("setsockopt(SO_REUSEPORT)");
    }
    if (::bind(s.fd(), reinterpret_cast<const sockaddr*>(&ss), len) != 0) {
        return sys_error("bind(UDP)");
    }
    s.local_ = IKEPLEX_TRY(local_endpoint(s.fd()));
    if (gro) {
        if (::setsockopt(s.fd(), kSolUdp, UDP_GRO, &one, sizeof one) == 0) {
            s.arena_ = std::make_unique<GroArena>();
        } else {
            log::warn(log::Subsystem::kNet, "UDP {}: UDP_GRO refused (errno {}), receiving without",
                      s.local_, errno);
        }
    }
    return s;
}

bool UdpSocket::pending() const noexcept {
    return arena_ != nullptr && arena_->next < arena_->count;
}

std::size_t UdpSocket::drain(std::span<PacketBuf> bufs, std::span<Endpoint> from, std::size_t o) {
    GroArena& a = *arena_;
    while (o < bufs.size() && a.next < a.count) {
        const GroArena::Msg& m = a.msgs[a.next];
        if (m.dropped) {
            ++a.next;
            continue;
        }
        const std::size_t seg = m.seg != 0 ? m.seg : m.len;
        const std::size_t take = std::min(seg, m.len - a.off);
        const ByteView src{a.data.data() + a.next * GroArena::kSlotSize + a.off, take};
        if (bufs[o].assign(src)) {
            from[o] = m.from;
            ++o;
            ++stats_.rx_datagrams;
        } else {
            ++stats_.rx_truncated;
        }
        a.off += take;
        if (a.off >= m.len) {
            ++a.next;
            a.off = 0;
        }
    }
    return o;
}

Result<std::size_t> UdpSocket::recv_batch(std::span<PacketBuf> bufs, std::span<Endpoint> from) {
    const std::size_t n = std::min(bufs.size(), from.size());
    bufs = bufs.first(n);
    from = from.first(n);
    if (arena_ == nullptr) {
        const std::size_t got = IKEPLEX_TRY(recv_direct(fd(), bufs, from, stats_.rx_truncated));
        stats_.rx_datagrams += got;
        return got;
    }
    GroArena& a = *arena_;
    std::size_t o = drain(bufs, from, 0);
    if (o == n || a.next < a.count) {
        return o;
    }
    std::array<mmsghdr, GroArena::kSlots> msgs{};
    std::array<iovec, GroArena::kSlots> iov{};
    std::array<sockaddr_storage, GroArena::kSlots> names{};
    alignas(cmsghdr) std::array<Ctrl, GroArena::kSlots> ctrl{};
    for (std::size_t i = 0; i < GroArena::kSlots; ++i) {
        iov[i] = iovec{a.data.data() + i * GroArena::kSlotSize, GroArena::kSlotSize};
        msghdr& h = msgs[i].msg_hdr;
        h.msg_iov = &iov[i];
        h.msg_iovlen = 1;
        h.msg_name = &names[i];
        h.msg_namelen = sizeof names[i];
        h.msg_control = ctrl[i].data();
        h.msg_controllen = kCtrlSize;
    }
    int r = 0;
    do {
        r = ::recvmmsg(fd(), msgs.data(), GroArena::kSlots, MSG_DONTWAIT, nullptr);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return o;
        }
        if (o > 0) {
            return o;  // the error comes back on the next call
        }
        return sys_error("recvmmsg(UDP)");
    }
    std::size_t truncated = 0;
    a.count = static_cast<std::size_t>(r);
    a.next = 0;
    a.off = 0;
    for (std::size_t i = 0; i < a.count; ++i) {
        GroArena::Msg& m = a.msgs[i];
        msghdr& h = msgs[i].msg_hdr;
        m.len = msgs[i].msg_len;
        m.seg = 0;
        m.from = from_sockaddr(names[i]);
        m.dropped = (h.msg_flags & MSG_TRUNC) != 0;
        if (m.dropped) {
            ++truncated;
            continue;
        }
        for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
            if (c->cmsg_level == kSolUdp && c->cmsg_type == UDP_GRO) {
                int seg = 0;
                std::memcpy(&seg, CMSG_DATA(c), sizeof seg);
                if (seg > 0 && static_cast<std::size_t>(seg) < m.len) {
                    m.seg = static_cast<std::size_t>(seg);
                    ++stats_.rx_gro_batches;
                }
            }
        }
    }
    stats_.rx_truncated += truncated;
    if (truncated != 0 && a.truncated_log.allow(now_ms())) {
        log::warn(log::Subsystem::kNet, "UDP {}: {} datagrams too long for a buffer, dropped",
                  local_, truncated);
    }
    o = drain(bufs, from, o);
    return o;
}

Result<std::size_t> UdpSocket::send_batch(std::span<const Datagram> d, bool gso) {
    const std::size_t max_payload = local_.address.is_v4() ? 65507 : 65527;
    return send_impl(fd(), d, gso && gso_ok_, max_payload,
                     Counters{stats_.tx_datagrams, stats_.tx_dropped, &stats_.tx_gso_messages,
                              &stats_.tx_gso_fallbacks},
                     &gso_ok_, local_.address == IpAddress::any(local_.address.family()));
}

Result<std::size_t> send_each(int fd, std::span<const Datagram> d, std::uint64_t& sent,
                              std::uint64_t& dropped) {
    return send_impl(fd, d, false, 0, Counters{sent, dropped, nullptr, nullptr}, nullptr, false);
}

}  // namespace ikeplex::esp::io
