// The multi-queue TUN device of the userspace data plane: one queue (fd) per worker, the queue
// chosen by the CPU that hands the packet to the device, GSO super-packets split on read and TCP
// segments and UDP datagrams coalesced on write.
//
// Kernel facts used (include/uapi/linux/if_tun.h, drivers/net/tun.c, Documentation/networking/
// tuntap.rst):
// - open("/dev/net/tun", O_RDWR | O_NONBLOCK) once per queue, then ioctl(TUNSETIFF) with the
//   same name and IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE [| IFF_VNET_HDR] on each (at most 256
//   queues; every queue must use the same flags). The device lives while a queue fd is open
//   (not IFF_PERSIST) and belongs to the opener's network namespace.
// - TUNSETVNETHDRSZ (int 10: struct virtio_net_hdr), TUNSETVNETLE (int 1: little-endian header
//   fields), TUNSETOFFLOAD (TUN_F_CSUM 0x01 | TUN_F_TSO4 0x02 | TUN_F_TSO6 0x04, and
//   TUN_F_USO4 0x20 | TUN_F_USO6 0x40 since Linux 6.2; unknown bits give EINVAL): what the
//   reader accepts, so the kernel may hand partial checksums and TSO/USO super-packets
//   (offload.h). Open() tries all five, then CSUM|TSO4|TSO6, then CSUM; if none is taken it
//   reopens the device without IFF_VNET_HDR.
// - ioctl(TUNSETSTEERINGEBPF, int* prog_fd) sets a queue selection program (steering.h).
// - A TUN write is one packet (or one GSO super-packet) per write(); reads likewise. A write to
//   a device that is down fails with EIO.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "esp/packet.h"
#include "util/result.h"
#include "util/unique_fd.h"

namespace ikeplex::esp::io {

/// TUNSETOFFLOAD bits (USO ones newer than Debian 12's headers).
inline constexpr unsigned kTunFCsum = 0x01;
inline constexpr unsigned kTunFTso4 = 0x02;
inline constexpr unsigned kTunFTso6 = 0x04;
inline constexpr unsigned kTunFUso4 = 0x20;
inline constexpr unsigned kTunFUso6 = 0x40;

struct TunOptions {
    std::string name{"ikeplex0"};
    unsigned queues{1};
    bool vnet_hdr{true};
    unsigned mtu{1400};
};

struct TunQueueStats {
    std::uint64_t rx_reads{0};
    std::uint64_t rx_packets{0};  ///< IP packets handed out (after segmentation)
    std::uint64_t rx_gso{0};      ///< super-packets split
    std::uint64_t rx_dropped{0};  ///< malformed virtio header / super-packet, or too long
    std::uint64_t tx_packets{0};  ///< IP packets written (inside super-packets too)
    std::uint64_t tx_gso{0};      ///< super-packets written
    std::uint64_t tx_dropped{0};  ///< refused by the kernel
};

class Tun {
public:
    /// Creates (or attaches to) the device with o.queues queues and sets its MTU (not up: see
    /// link_up() in rtnl.h). "name%d" lets the kernel pick the number; name() tells.
    static Result<Tun> open(const TunOptions& o);

    Tun(Tun&&) noexcept;
    Tun& operator=(Tun&&) noexcept;
    ~Tun();

    [[nodiscard]] int queue_fd(unsigned q) const noexcept;
    [[nodiscard]] unsigned queues() const noexcept { return static_cast<unsigned>(q_.size()); }
    [[nodiscard]] const std::string& name() const noexcept { return name_; }
    [[nodiscard]] unsigned ifindex() const noexcept { return ifindex_; }
    /// False if offloads could not be enabled (then reads and writes carry bare IP packets).
    [[nodiscard]] bool vnet_hdr() const noexcept { return vnet_hdr_; }
    /// The TUN_F_* bits the kernel took (0 without vnet_hdr).
    [[nodiscard]] unsigned offloads() const noexcept { return offloads_; }
    /// Counters of queue `q` (all zero for a queue that does not exist).
    [[nodiscard]] const TunQueueStats& stats(unsigned q) const noexcept;

    /// Loads the 2-instruction eBPF program (bpf_get_smp_processor_id; exit) with the plain
    /// bpf() syscall (BPF_PROG_TYPE_SOCKET_FILTER, no libbpf) and attaches it with
    /// TUNSETSTEERINGEBPF, so the queue is the CPU that hands the packet to the TUN (modulo
    /// queues).
    Status steer_by_cpu();

    struct Queue;  // per-queue fd, scratch buffer, pending segments, stats (tun.cc)

private:
    Tun() = default;
    friend Result<std::size_t> tun_read_batch(const Tun&, unsigned, std::span<PacketBuf>, unsigned);
    friend Result<std::size_t> tun_write_batch(const Tun&, unsigned, std::span<PacketBuf*>);

    // Each queue is used by one worker thread only; the pointers keep the const API of the
    // batch functions while the queue state changes.
    std::vector<std::unique_ptr<Queue>> q_;
    std::string name_;
    unsigned ifindex_{0};
    bool vnet_hdr_{false};
    unsigned offloads_{0};
};

/// Reads what is waiting on a TUN queue: with vnet_hdr, one read may return a TSO/USO
/// super-packet, split into MTU-sized IP packets (segment_plan / write_segment in offload.h);
/// a partial (NEEDS_CSUM) L4 checksum is completed. Fills out[0..n) with ready IP packets (each
/// reset to the default headroom); returns n (0: nothing waiting) or an error. Reads at most
/// `max_reads` times per call. Segments that do not fit in `out` stay queued and come first
/// next time: call again while the result fills `out`.
Result<std::size_t> tun_read_batch(const Tun& tun, unsigned queue, std::span<PacketBuf> out,
                                   unsigned max_reads);

/// Writes IP packets to a queue. With vnet_hdr: consecutive TCP segments of one flow, and UDP
/// datagrams of one flow when the device took TUN_F_USO4/6, are coalesced into one GSO
/// super-packet where find_run() allows (coalesce.h; written with writev, no copy of the
/// payloads); the others go one by one with a zero virtio header. If the kernel refuses a
/// super-packet its packets go one by one; after a UDP one refused as invalid (EINVAL), the
/// queue stops coalescing UDP. Returns packets
/// written; the kernel's refusals are dropped and counted (stats().tx_dropped). An error only if
/// nothing could be written because of the device (EIO: down, EBADF...).
Result<std::size_t> tun_write_batch(const Tun& tun, unsigned queue, std::span<PacketBuf*> pkts);

}  // namespace ikeplex::esp::io
