#include "esp/dataplane.h"

#include "esp/handoff.h"
#include "esp/io/rtnl.h"
#include "esp/io/steering.h"
#include "esp/io/tun.h"
#include "esp/worker.h"
#include "util/log.h"

namespace ikeplex::esp {
namespace {

constexpr unsigned kMaxWorkers = 256;  // the SPI's top byte names the worker
/// A deleted inbound SA keeps receiving this long: after a rekey the peer's packets on the old
/// SA may still be in flight (or queued in its socket and workers) when the DELETE arrives.
constexpr std::int64_t kInboundGraceMs = 2000;

std::uint64_t key(Spi spi, bool inbound) noexcept {
    return (static_cast<std::uint64_t>(spi.value()) << 1) | (inbound ? 1U : 0U);
}

}  // namespace

struct Dataplane::Slot {
    Slot(unsigned index, const crypto::Registry& registry, EventQueue& events, crypto::IpsecMb* mb)
        : core(index, registry, events, mb) {}
    WorkerCore core;
    std::unique_ptr<PacketCore> custom;  ///< DataplaneOptions::make_core's, driven instead
    CommandQueue queue;
    std::unique_ptr<Worker> worker;
    PacketCore& driven() noexcept { return custom ? *custom : core; }
};

Dataplane::Dataplane(Token /*create()*/, const crypto::Registry& registry, DataplaneOptions options)
    : registry_(registry), options_(std::move(options)), rng_(std::random_device{}()) {}

Result<std::unique_ptr<Dataplane>> Dataplane::create(const crypto::Registry& registry,
                                                     DataplaneOptions options) {
    if (options.workers == 0 || options.workers > kMaxWorkers) {
        return make_error(Errc::kConfig, "data plane: workers must be 1..256");
    }
    auto dp = std::make_unique<Dataplane>(Token{}, registry, std::move(options));
    for (unsigned k = 0; k < dp->options_.workers; ++k) {
        // Workers with I/O key their SAs with their own thread's crypto (IPsec-MB managers
        // are per thread); without I/O the cores use OpenSSL through the registry.
        dp->slots_.push_back(std::make_unique<Slot>(k, registry, dp->events_, nullptr));
        if (dp->options_.make_core) {
            dp->slots_.back()->custom = dp->options_.make_core(k);
        }
    }
    if (dp->options_.io) {
        if (auto r = dp->start_io(); !r) {
            return r.error();
        }
    }
    return dp;
}

Dataplane::~Dataplane() {
    for (auto& s : slots_) {
        if (s->worker) {
            s->worker->stop();
        }
    }
}

Status Dataplane::start_io() {
    io::TunOptions to;
    to.name = options_.tun_name;
    to.queues = options_.workers;
    to.vnet_hdr = options_.offloads;
    to.mtu = options_.mtu;
    auto tun = io::Tun::open(to);
    if (!tun) {
        return tun.error();
    }
    tun_ = std::make_unique<io::Tun>(std::move(*tun));
    if (auto r = io::link_up(tun_->ifindex(), options_.mtu); !r) {
        return r.error();
    }
    if (auto r = tun_->steer_by_cpu(); !r) {
        log::warn(log::Subsystem::kEsp,
                  "TUN {}: cannot steer queues by CPU ({}); queues follow the flow hash",
                  tun_->name(), r.error().to_string());
    }
    WorkerIoOptions wo;
    wo.udp_binds = options_.udp_binds;
    wo.raw_esp = options_.raw_esp;
    wo.offloads = options_.offloads;
    wo.pin = options_.pin;
    wo.ipsec_mb = options_.ipsec_mb;
    wo.workers = options_.workers;
    if (options_.workers > 1 && options_.offloads && !options_.make_core) {
        auto h = Handoff::create(options_.workers);
        if (!h) {
            return h.error();
        }
        handoff_ = std::move(*h);
        wo.handoff = handoff_.get();
    }
    std::vector<std::unique_ptr<Worker>> workers;
    for (unsigned k = 0; k < options_.workers; ++k) {
        auto w = Worker::open(k, *tun_, wo, slots_[k]->driven(), slots_[k]->queue);
        if (!w) {
            return w.error();
        }
        slots_[k]->worker = std::move(*w);
    }
    if (auto r = Worker::steer(*slots_.front()->worker, options_.workers); !r) {
        return r.error();
    }
    for (auto& s : slots_) {
        s->worker->start();
    }
    log::info(log::Subsystem::kEsp, "data plane: {} workers, TUN {} ({}), {}", options_.workers,
              tun_->name(), tun_->vnet_hdr() ? "offloads" : "no offloads",
              options_.raw_esp ? "ESP in UDP and raw ESP" : "ESP in UDP");
    return {};
}

unsigned Dataplane::owner(Spi spi) const noexcept {
    return io::spi_worker(spi.value(), options_.workers);
}

Spi Dataplane::allocate_spi(ResourceId resource) {
    unsigned w = 0;
    if (!resource.is_none()) {
        w = resource.index() % options_.workers;
    } else {
        w = next_worker_++ % options_.workers;
    }
    std::uniform_int_distribution<std::uint32_t> low(256, 0xffffff);
    for (;;) {
        const std::uint32_t v = (w << 24) | low(rng_);
        if (spis_.insert(v).second) {
            return Spi(v);
        }
    }
}

void Dataplane::release_spi(Spi spi) {
    spis_.erase(spi.value());
}

void Dataplane::send(unsigned worker, Command c) {
    slots_[worker]->queue.push(std::move(c));
}

void Dataplane::send_to_holders(Spi spi, bool inbound, ResourceId resource, const Command& c) {
    if (inbound) {
        send(owner(spi), c);
    } else if (!resource.is_none()) {
        send(resource.index() % options_.workers, c);
    } else {
        for (unsigned k = 0; k < options_.workers; ++k) {
            send(k, c);
        }
    }
}

Status Dataplane::install(SaConfig config) {
    // Key once here to refuse what no worker could use, with the reason, before any worker
    // sees the SA.
    auto probe = SaCrypto::create(registry_, config.encr_id, config.encr_key_bits, config.integ_id,
                                  config.encr_key.view(), config.integ_key.view(), nullptr);
    if (!probe) {
        return probe.error();
    }
    const Spi spi = config.spi;
    const bool inbound = config.inbound;
    const ResourceId resource = config.resource;
    auto sa = std::make_shared<Sa>(std::move(config));
    if (auto old = sas_.find(key(spi, inbound)); old != sas_.end()) {
        remove(spi, inbound);
    }
    sas_[key(spi, inbound)] = sa;
    send_to_holders(spi, inbound, resource, AddSa{sa});
    return {};
}

Status Dataplane::move(Spi spi, bool inbound, const SaPath& path) {
    auto it = sas_.find(key(spi, inbound));
    if (it == sas_.end()) {
        return make_error(Errc::kNotFound, "no such SA in the data plane");
    }
    // Behind the AddSa in each holder's queue (commands keep their order per worker).
    send_to_holders(spi, inbound, it->second->config().resource, MoveSa{spi, inbound, path});
    paths_[key(spi, inbound)] = path;
    return {};
}

std::optional<SaPath> Dataplane::path(Spi spi, bool inbound) const {
    if (auto p = paths_.find(key(spi, inbound)); p != paths_.end()) {
        return p->second;
    }
    const SaPtr sa = find(spi, inbound);
    if (!sa) {
        return std::nullopt;
    }
    return SaPath{sa->config().local, sa->config().peer, sa->config().udp_encap};
}

void Dataplane::remove(Spi spi, bool inbound) {
    auto it = sas_.find(key(spi, inbound));
    if (it == sas_.end()) {
        return;
    }
    const ResourceId resource = it->second->config().resource;
    sas_.erase(it);
    paths_.erase(key(spi, inbound));
    send_to_holders(spi, inbound, resource,
                    RemoveSa{spi, inbound, inbound ? kInboundGraceMs : std::int64_t{0}});
}

void Dataplane::set_policies(std::vector<Policy> policies) {
    auto table = std::make_shared<const PolicyTable>(std::move(policies));
    for (unsigned k = 0; k < options_.workers; ++k) {
        send(k, SetPolicies{table});
    }
}

SaPtr Dataplane::find(Spi spi, bool inbound) const {
    auto it = sas_.find(key(spi, inbound));
    return it == sas_.end() ? nullptr : it->second;
}

WorkerStats Dataplane::stats(unsigned worker) const {
    const WorkerCounters& c = slots_[worker]->driven().counters();
    WorkerStats s;
    s.worker = worker;
    s.tx_packets = c.tx_packets.load(std::memory_order_relaxed);
    s.tx_bytes = c.tx_bytes.load(std::memory_order_relaxed);
    s.rx_packets = c.rx_packets.load(std::memory_order_relaxed);
    s.rx_bytes = c.rx_bytes.load(std::memory_order_relaxed);
    s.fallback_tx = c.fallback_tx.load(std::memory_order_relaxed);
    s.handed_off = c.handed_off.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < s.drops.size(); ++i) {
        s.drops[i] = c.drops[i].load(std::memory_order_relaxed);
    }
    return s;
}

WorkerCore& Dataplane::core(unsigned worker) noexcept {
    return slots_[worker]->core;
}

void Dataplane::drain(unsigned worker) {
    slots_[worker]->queue.drain(slots_[worker]->driven());
}

const io::Tun* Dataplane::tun() const noexcept {
    return tun_.get();
}

}  // namespace ikeplex::esp
