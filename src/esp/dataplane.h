// The userspace data plane (design.md §3, §5): N workers, one per CPU, each with a TUN queue,
// ESP sockets and a WorkerCore; the control thread installs SAs and policies through per-worker
// command queues and reads counters and events. Created without I/O (`io = false`) it is the
// same machinery driven by hand: tests and benchmarks feed the cores directly.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "crypto/registry.h"
#include "esp/command_queue.h"
#include "esp/events.h"
#include "esp/sa.h"
#include "esp/worker_core.h"
#include "esp/worker_stats.h"
#include "util/result.h"

namespace ikeplex::esp {

namespace io {
class Tun;
}
class Worker;
class Handoff;

struct DataplaneOptions {
    unsigned workers{1};
    bool io{true};  ///< false: no TUN, sockets or threads (tests and benchmarks)
    std::string tun_name{"ikeplex0"};
    unsigned mtu{1400};
    bool offloads{true};  ///< virtio-net header offloads on the TUN, UDP GSO/GRO on sockets
    bool raw_esp{false};  ///< also open raw ESP (protocol 50) sockets for SAs without UDP encap
    std::vector<Endpoint> udp_binds;  ///< where the IKE NAT-T sockets are bound (port 4500)
    bool pin{true};                   ///< pin worker k to CPU k
    bool ipsec_mb{true};              ///< workers key AES-GCM with IPsec-MB where it can
    /// Benchmarks only (ikeplex-relay, the G3 baseline of performance anchors): makes worker
    /// k's packet core, driven instead of the ESP one on the same I/O code. Such cores get no
    /// SPI hand-off between workers (their datagrams carry no SPI).
    std::function<std::unique_ptr<PacketCore>(unsigned worker)> make_core;
};

class Dataplane {
    /// The passkey of the constructor: only create() makes one (util/result.h).
    struct Token {
        explicit Token() = default;
    };

public:
    static Result<std::unique_ptr<Dataplane>> create(const crypto::Registry& registry,
                                                     DataplaneOptions options);
    Dataplane(Token, const crypto::Registry& registry, DataplaneOptions options);
    Dataplane(const Dataplane&) = delete;
    Dataplane& operator=(const Dataplane&) = delete;
    Dataplane(Dataplane&&) = delete;
    Dataplane& operator=(Dataplane&&) = delete;
    ~Dataplane();

    [[nodiscard]] unsigned workers() const noexcept { return options_.workers; }
    [[nodiscard]] const DataplaneOptions& options() const noexcept { return options_; }

    /// An inbound SPI owned by the worker of `resource` (any worker, round-robin, for none):
    /// (worker << 24) | 24 random bits, never below 256 (RFC 4303 §2.1).
    Spi allocate_spi(ResourceId resource);
    void release_spi(Spi spi);
    /// The worker whose socket receives SPI `spi` (the reuseport program's rule).
    [[nodiscard]] unsigned owner(Spi spi) const noexcept;

    /// Checks the algorithms and hands the SA to the worker(s) that use it.
    Status install(SaConfig config);
    void remove(Spi spi, bool inbound);
    /// Moves an installed SA to a new outer path (MOBIKE): its workers switch between two
    /// packets, keeping keys, sequence numbers, replay window and counters. NotFound when no
    /// such SA is installed.
    Status move(Spi spi, bool inbound, const SaPath& path);
    /// The SA's current outer path (the install's, or the last move's).
    [[nodiscard]] std::optional<SaPath> path(Spi spi, bool inbound) const;
    void set_policies(std::vector<Policy> policies);
    [[nodiscard]] SaPtr find(Spi spi, bool inbound) const;
    [[nodiscard]] std::size_t sa_count() const noexcept { return sas_.size(); }

    EventQueue& events() noexcept { return events_; }
    [[nodiscard]] WorkerStats stats(unsigned worker) const;

    /// Without I/O: the ESP cores, and applying their pending commands on the caller's thread.
    WorkerCore& core(unsigned worker) noexcept;
    void drain(unsigned worker);

    /// With I/O: the TUN device (routes are added through its ifindex), nullptr otherwise.
    [[nodiscard]] const io::Tun* tun() const noexcept;

private:
    struct Slot;
    Status start_io();
    void send(unsigned worker, Command c);
    /// Sends `c` to every worker that holds the SA: the SPI's owner (inbound), the resource's
    /// worker, or all (a fallback outbound SA).
    void send_to_holders(Spi spi, bool inbound, ResourceId resource, const Command& c);

    const crypto::Registry& registry_;
    DataplaneOptions options_;
    EventQueue events_;
    std::unique_ptr<Handoff> handoff_;  // declared first: destroyed after the workers stop
    std::vector<std::unique_ptr<Slot>> slots_;
    std::unique_ptr<io::Tun> tun_;
    std::unordered_map<std::uint64_t, SaPtr> sas_;     // (spi << 1) | inbound
    std::unordered_map<std::uint64_t, SaPath> paths_;  // of the SAs that moved
    std::unordered_set<std::uint32_t> spis_;
    std::mt19937 rng_;
    unsigned next_worker_{0};
};

}  // namespace ikeplex::esp
