// A data-plane worker thread (design.md §1.3, §3): pinned to its CPU, it owns TUN queue k, its
// ESP sockets (UDP 4500 in the reuseport group, steered by SPI; raw ESP optionally) and a
// PacketCore (the ESP WorkerCore; a benchmark's own in ikeplex-relay). Loop: apply pending
// commands, wait in epoll, move batches TUN → ESP and ESP → TUN. No locks on the packet path.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "esp/command_queue.h"
#include "esp/io/udp_io.h"
#include "esp/packet_core.h"
#include "util/ip_address.h"
#include "util/result.h"

namespace ikeplex::crypto {
class IpsecMb;
}

namespace ikeplex::esp {
namespace io {
class Tun;
class UdpSocket;
class RawEspSocket;
}  // namespace io

class Handoff;

struct WorkerIoOptions {
    std::vector<Endpoint> udp_binds;
    bool raw_esp{false};
    bool offloads{true};
    bool pin{true};
    bool ipsec_mb{true};  ///< key AEADs with this thread's IPsec-MB manager where it can
    unsigned workers{1};
    /// With several workers: where datagrams of another worker's SPI go (UDP GRO is used only
    /// with it, see handoff.h); nullptr with one worker.
    Handoff* handoff{nullptr};
};

class Worker {
    /// The passkey of the constructor: only open() makes one (util/result.h).
    struct Token {
        explicit Token() = default;
    };

public:
    /// Opens the worker's sockets (joining each reuseport group after the IKE socket).
    static Result<std::unique_ptr<Worker>> open(unsigned index, const io::Tun& tun,
                                                const WorkerIoOptions& options, PacketCore& core,
                                                CommandQueue& queue);
    Worker(Token, unsigned index, const io::Tun& tun, WorkerIoOptions options, PacketCore& core,
           CommandQueue& queue);
    /// Attaches the SPI steering program to the reuseport groups (once, after every worker
    /// has joined them).
    static Status steer(const Worker& any, unsigned workers);

    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;
    Worker(Worker&&) = delete;
    Worker& operator=(Worker&&) = delete;
    ~Worker();

    void start();
    void stop();

private:
    void run();
    void from_tun(std::int64_t now_ms);
    void from_socket(std::size_t socket, std::int64_t now_ms);
    void from_raw(std::size_t socket, std::int64_t now_ms);
    void from_handoff(std::int64_t now_ms);
    /// Hands the datagrams of rx_[0..n) that another worker owns to it; the rest, in order,
    /// are left in own_.
    void sort_out(std::size_t n);
    void transmit(std::vector<Outgoing>& out);
    void to_tun(std::vector<PacketBuf*>& in);

    unsigned index_;
    const io::Tun& tun_;
    WorkerIoOptions options_;
    PacketCore& core_;
    CommandQueue& queue_;
    std::vector<io::UdpSocket> udp_;
    std::vector<io::RawEspSocket> raw_;
    std::unique_ptr<crypto::IpsecMb> mb_;
    std::vector<PacketBuf> rx_;  // batch buffers: TUN reads and socket reads
    std::vector<Endpoint> from_;
    std::vector<Outgoing> out_;
    std::array<std::vector<io::Datagram>, 4> lists_;  // udp v4, udp v6, raw v4, raw v6
    std::vector<PacketBuf*> inner_;
    std::vector<PacketBuf*> own_;
    std::vector<bool> woken_;  // per worker: handed something this batch
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace ikeplex::esp
