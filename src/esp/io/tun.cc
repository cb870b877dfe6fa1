#include "esp/io/tun.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/uio.h>

#include <fcntl.h>

#include "esp/io/coalesce.h"
#include "esp/io/offload.h"
#include "esp/io/rtnl.h"
#include "esp/io/steering.h"
#include "util/log.h"
#include "util/sys_error.h"

namespace ikeplex::esp::io {

namespace {

constexpr unsigned kMaxQueues = 256;            // MAX_TAP_QUEUES
constexpr std::size_t kScratch = 65536 + 1024;  // largest super-packet + slack
constexpr std::size_t kMaxCoalesce = 64;  // packets per written super-packet (UDP_MAX_SEGMENTS)
constexpr int kVnetHdrSize = static_cast<int>(VirtioNetHdr::kSize);

std::uint64_t now_ms() noexcept {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                              std::chrono::steady_clock::now().time_since_epoch())
                                              .count());
}

/// Errors that say the device (not the packet) is the problem.
bool device_errno(int err) noexcept {
    return err == EIO || err == EBADF || err == EBADFD || err == ENODEV || err == ENXIO;
}

}  // namespace

struct Tun::Queue {
    UniqueFd fd;
    std::vector<std::uint8_t> scratch = std::vector<std::uint8_t>(kScratch);
    GsoPlan plan;
    std::size_t plan_len{0};
    std::size_t next_seg{0};
    bool pending{false};
    bool udp_refused{false};  ///< the kernel refused a UDP super-packet: no more on this queue
    bool expect_gso{false};   ///< the last read was a super-packet: read the next into scratch
    TunQueueStats stats;
    log::RateLimiter drop_log{3, 10000};
};

Tun::Tun(Tun&&) noexcept = default;
Tun& Tun::operator=(Tun&&) noexcept = default;
Tun::~Tun() = default;

namespace {

/// Opens the queues of `name` with the given flags; takes the name the kernel gave.
Status open_queues(std::vector<std::unique_ptr<Tun::Queue>>& q, std::string& name, unsigned queues,
                   bool vnet) {
    for (unsigned i = 0; i < queues; ++i) {
        auto queue = std::make_unique<Tun::Queue>();
        queue->fd.reset(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
        if (!queue->fd) {
            return sys_error("open(/dev/net/tun)");
        }
        ifreq ifr{};
        std::memcpy(ifr.ifr_name, name.data(), name.size());
        ifr.ifr_flags = static_cast<short>(IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE |
                                           (vnet ? IFF_VNET_HDR : 0));
        if (::ioctl(queue->fd.get(), TUNSETIFF, &ifr) != 0) {
            return sys_error("ioctl(TUNSETIFF)");
        }
        name.assign(ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ));
        q.push_back(std::move(queue));
    }
    return ok();
}

/// Sets up the virtio header and returns the offloads the kernel took (0: none).
unsigned enable_offloads(int fd) {
    int size = kVnetHdrSize;
    if (::ioctl(fd, TUNSETVNETHDRSZ, &size) != 0) {
        return 0;
    }
    int le = 1;
    static_cast<void>(::ioctl(fd, TUNSETVNETLE, &le));  // little-endian hosts: already so
    constexpr std::array<unsigned, 3> kTries = {
            kTunFCsum | kTunFTso4 | kTunFTso6 | kTunFUso4 | kTunFUso6,
            kTunFCsum | kTunFTso4 | kTunFTso6,
            kTunFCsum,
    };
    for (const unsigned f : kTries) {
        if (::ioctl(fd, TUNSETOFFLOAD, static_cast<unsigned long>(f)) == 0) {
            return f;
        }
    }
    return 0;
}

}  // namespace

Result<Tun> Tun::open(const TunOptions& o) {
    if (o.queues == 0 || o.queues > kMaxQueues) {
        return make_error(Errc::kInvalidArgument, "TUN: queues must be 1..256");
    }
    if (o.name.empty() || o.name.size() >= IFNAMSIZ) {
        return make_error(Errc::kInvalidArgument, "TUN: interface name empty or too long");
    }
    Tun t;
    t.name_ = o.name;
    IKEPLEX_TRY(open_queues(t.q_, t.name_, o.queues, o.vnet_hdr));
    t.vnet_hdr_ = o.vnet_hdr;
    if (o.vnet_hdr) {
        t.offloads_ = enable_offloads(t.q_[0]->fd.get());
        if (t.offloads_ == 0) {
            log::warn(log::Subsystem::kEsp, "TUN {}: offloads refused, using plain packets",
                      t.name_);
            t.q_.clear();  // the device goes with its last queue
            t.name_ = o.name;
            t.vnet_hdr_ = false;
            IKEPLEX_TRY(open_queues(t.q_, t.name_, o.queues, false));
        }
    }
    t.ifindex_ = ::if_nametoindex(t.name_.c_str());
    if (t.ifindex_ == 0) {
        return sys_error("if_nametoindex(TUN)");
    }
    if (o.mtu != 0) {
        IKEPLEX_TRY(set_mtu(t.ifindex_, o.mtu));
    }
    log::debug(log::Subsystem::kEsp, "TUN {} (index {}): {} queues, offloads {:#x}", t.name_,
               t.ifindex_, t.q_.size(), t.offloads_);
    return t;
}

int Tun::queue_fd(unsigned q) const noexcept {
    return q < q_.size() ? q_[q]->fd.get() : -1;
}

const TunQueueStats& Tun::stats(unsigned q) const noexcept {
    static const TunQueueStats none{};
    return q < q_.size() ? q_[q]->stats : none;
}

Status Tun::steer_by_cpu() {
    UniqueFd prog = IKEPLEX_TRY(load_cpu_steering_program());
    int prog_fd = prog.get();
    if (::ioctl(q_[0]->fd.get(), TUNSETSTEERINGEBPF, &prog_fd) != 0) {
        return sys_error("ioctl(TUNSETSTEERINGEBPF)");
    }
    return ok();  // the device keeps its own reference to the program
}

namespace {

/// Hands out segments of the pending super-packet into out[n..).
std::size_t emit_pending(Tun::Queue& q, std::span<PacketBuf> out, std::size_t n) noexcept {
    const ByteView pkt{q.scratch.data(), q.plan_len};
    while (q.pending && n < out.size()) {
        if (write_segment(pkt, q.plan, q.next_seg, out[n])) {
            ++n;
            ++q.stats.rx_packets;
        } else {
            ++q.stats.rx_dropped;
        }
        if (++q.next_seg >= q.plan.segments) {
            q.pending = false;
        }
    }
    return n;
}

/// One read from the queue into `w` (and the scratch buffer), the virtio header into `hdr`.
/// After a super-packet the read goes to the scratch buffer whole (`to_scratch`), so that the
/// next super-packet needs no copy to be contiguous (a plain packet is copied out: with TSO a
/// sending flow's reads are mostly super-packets). Otherwise into `w`, with an overflow part
/// that only fills for super-packets longer than a PacketBuf. The scratch buffer is free: the
/// segments of the last super-packet have all been handed out.
ssize_t read_one(bool vnet_hdr, Tun::Queue& q, MutByteView w,
                 std::array<std::uint8_t, VirtioNetHdr::kSize>& hdr, bool to_scratch) noexcept {
    std::array<iovec, 3> iov{};
    std::size_t niov = 0;
    if (vnet_hdr) {
        iov[niov++] = iovec{hdr.data(), hdr.size()};
    }
    if (to_scratch) {
        iov[niov++] = iovec{q.scratch.data(), q.scratch.size()};
    } else {
        iov[niov++] = iovec{w.data(), w.size()};
        iov[niov++] = iovec{q.scratch.data() + w.size(), q.scratch.size() - w.size()};
    }
    ++q.stats.rx_reads;
    return ::readv(q.fd.get(), iov.data(), static_cast<int>(niov));
}

/// A plain packet of `len` bytes just read: into `b` (from the scratch buffer if it went
/// there), its partial checksum completed. False if it is dropped.
bool take_plain(Tun::Queue& q, PacketBuf& b, const VirtioNetHdr& h, std::size_t len,
                bool from_scratch) noexcept {
    const MutByteView w = b.writable();
    if (len > w.size() || len == 0) {
        return false;
    }
    if (from_scratch) {
        std::memcpy(w.data(), q.scratch.data(), len);
    }
    if ((h.flags & kVnetNeedsCsum) != 0 &&
        !complete_checksum({w.data(), len}, h.csum_start, h.csum_offset)) {
        return false;
    }
    static_cast<void>(b.fill(len));
    return true;
}

}  // namespace

Result<std::size_t> tun_read_batch(const Tun& tun, unsigned queue, std::span<PacketBuf> out,
                                   unsigned max_reads) {
    if (queue >= tun.queues()) {
        return make_error(Errc::kInvalidArgument, "TUN: no such queue");
    }
    Tun::Queue& q = *tun.q_[queue];
    std::size_t n = emit_pending(q, out, 0);
    std::array<std::uint8_t, VirtioNetHdr::kSize> hdr{};
    for (unsigned reads = 0; n < out.size() && reads < max_reads;) {
        PacketBuf& b = out[n];
        b.reset();
        const MutByteView w = b.writable();
        const bool to_scratch = q.expect_gso;
        const ssize_t r = read_one(tun.vnet_hdr_, q, w, hdr, to_scratch);
        ++reads;
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK || n > 0) {
                break;  // an error comes back on the next call
            }
            return sys_error("read(TUN)");
        }
        auto len = static_cast<std::size_t>(r);
        VirtioNetHdr h;
        if (tun.vnet_hdr_) {
            if (len < hdr.size()) {
                ++q.stats.rx_dropped;
                continue;
            }
            h = VirtioNetHdr::decode(hdr.data());
            len -= hdr.size();
        }
        q.expect_gso = h.gso_type != kGsoNone;
        if (h.gso_type == kGsoNone) {
            if (take_plain(q, b, h, len, to_scratch)) {
                ++n;
                ++q.stats.rx_packets;
            } else {
                ++q.stats.rx_dropped;
            }
            continue;
        }
        // A super-packet: make it contiguous in the scratch buffer, then split it.
        if (!to_scratch) {
            std::memcpy(q.scratch.data(), w.data(), std::min(len, w.size()));
        }
        if (!segment_plan({q.scratch.data(), len}, h, q.plan)) {
            ++q.stats.rx_dropped;
            if (q.drop_log.allow(now_ms())) {
                log::warn(log::Subsystem::kEsp, "TUN {}: malformed GSO packet (type {}, {} bytes)",
                          tun.name(), h.gso_type, len);
            }
            continue;
        }
        q.plan_len = len;
        q.next_seg = 0;
        q.pending = true;
        ++q.stats.rx_gso;
        n = emit_pending(q, out, n);
    }
    return n;
}

namespace {

/// Writes pkts[0..run.count) as one GSO super-packet (header built here, payloads in place).
ssize_t write_super(int fd, std::span<PacketBuf*> pkts, const CoalescedRun& run) noexcept {
    std::array<std::uint8_t, kMaxSuperHead> head{};
    build_super_header(*pkts[0], run, head.data());
    std::array<iovec, kMaxCoalesce + 1> iov{};
    iov[0] = iovec{head.data(), VirtioNetHdr::kSize + run.hdr_len};
    for (std::size_t k = 0; k < run.count; ++k) {
        PacketBuf* p = pkts[k];
        iov[k + 1] = iovec{p->data() + run.hdr_len, p->size() - run.hdr_len};
    }
    return ::writev(fd, iov.data(), static_cast<int>(run.count + 1));
}

/// Writes one packet (after a zero virtio header with vnet_hdr).
ssize_t write_one(int fd, PacketBuf& p, bool vnet_hdr) noexcept {
    std::array<std::uint8_t, VirtioNetHdr::kSize> zero_hdr{};
    std::array<iovec, 2> iov{};
    std::size_t niov = 0;
    if (vnet_hdr) {
        iov[niov++] = iovec{zero_hdr.data(), zero_hdr.size()};
    }
    iov[niov++] = iovec{p.data(), p.size()};
    return ::writev(fd, iov.data(), static_cast<int>(niov));
}

}  // namespace

Result<std::size_t> tun_write_batch(const Tun& tun, unsigned queue, std::span<PacketBuf*> pkts) {
    if (queue >= tun.queues()) {
        return make_error(Errc::kInvalidArgument, "TUN: no such queue");
    }
    Tun::Queue& q = *tun.q_[queue];
    CoalesceProtocols protocols;
    protocols.udp_v4 = !q.udp_refused && (tun.offloads_ & kTunFUso4) != 0;
    protocols.udp_v6 = !q.udp_refused && (tun.offloads_ & kTunFUso6) != 0;
    std::size_t written = 0;
    std::size_t single_until = 0;  // a refused super-packet's packets go one by one
    std::size_t i = 0;
    while (i < pkts.size()) {
        CoalescedRun run;
        if (tun.vnet_hdr_ && i >= single_until) {
            run = find_run(pkts.subspan(i), kMaxCoalesce, protocols);
        }
        const std::size_t count = run.count;
        const ssize_t r = count >= 2 ? write_super(q.fd.get(), pkts.subspan(i), run)
                                     : write_one(q.fd.get(), *pkts[i], tun.vnet_hdr_);
        if (r >= 0) {
            q.stats.tx_gso += count >= 2 ? 1 : 0;
            written += count;
            q.stats.tx_packets += count;
            i += count;
            continue;
        }
        const int err = errno;
        if (err == EINTR) {
            continue;
        }
        if (device_errno(err)) {
            q.stats.tx_dropped += pkts.size() - i;
            if (written == 0) {
                return sys_error("write(TUN)", err);
            }
            break;
        }
        if (count > 1) {
            single_until = i + count;  // the kernel refused the super-packet: one by one
            if (run.udp && err == EINVAL && !q.udp_refused) {
                // A kernel that takes TUN_F_USO but not USO writes: stop trying on this queue
                // (not for a passing shortage such as ENOMEM).
                q.udp_refused = true;
                protocols.udp_v4 = protocols.udp_v6 = false;
                log::warn(log::Subsystem::kEsp,
                          "TUN {}: UDP super-packet refused (errno {}), UDP packets go one by one",
                          tun.name(), err);
            }
            continue;
        }
        ++q.stats.tx_dropped;
        if (q.drop_log.allow(now_ms())) {
            log::warn(log::Subsystem::kEsp, "TUN {}: packet of {} bytes refused (errno {})",
                      tun.name(), pkts[i]->size(), err);
        }
        ++i;
    }
    return written;
}

}  // namespace ikeplex::esp::io
