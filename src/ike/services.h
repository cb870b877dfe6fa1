// What an IKE SA reaches besides its own state: shared services (no globals; design.md
// anchors B.3 "Context"), the per-call Step (time and output), and the hooks into the
// manager that an SA needs (new IKE SAs from rekeying, INITIAL_CONTACT, policies).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <unordered_set>
#include <vector>

#include "crypto/registry.h"
#include "ike/config.h"
#include "ike/output.h"
#include "ike/timer_queue.h"
#include "util/random.h"
#include "util/strong_id.h"

namespace ikeplex::ike {

class IkeSa;

/// Chooses inbound ESP SPIs. The userspace backend encodes its worker in the SPI (design.md
/// §3), so the backend's own allocator is injected here; the default draws random SPIs.
/// What an inbound SPI is for: the SA will run remote -> local (the IKE SA's addresses; the
/// XFRM backend reserves the SPI in the kernel for exactly that pair, XFRM_MSG_ALLOCSPI).
struct SpiRequest {
    ResourceId resource;
    IpAddress local;
    IpAddress remote;
};

class SpiAllocator {
public:
    SpiAllocator() = default;
    SpiAllocator(const SpiAllocator&) = delete;
    SpiAllocator& operator=(const SpiAllocator&) = delete;
    SpiAllocator(SpiAllocator&&) = delete;
    SpiAllocator& operator=(SpiAllocator&&) = delete;
    virtual ~SpiAllocator() = default;
    /// A fresh inbound SPI (never 0..255, RFC 4303 §2.1), for an SA of `resource`.
    virtual Spi allocate(const SpiRequest& request) = 0;
    virtual void release(Spi spi) = 0;
};

/// Random SPIs, unique among those handed out and not released.
class RandomSpiAllocator final : public SpiAllocator {
public:
    explicit RandomSpiAllocator(Random& random) noexcept : random_(random) {}
    Spi allocate(const SpiRequest& request) override;
    void release(Spi spi) override;
    [[nodiscard]] std::size_t in_use() const noexcept { return used_.size(); }

private:
    Random& random_;
    std::unordered_set<Spi> used_;
};

struct Services {
    const crypto::Registry& registry;
    Random& random;
    SpiAllocator& spis;
    const Settings& settings;
    const Credentials& credentials;
    TimerQueue& timers;
    /// Draw key-exchange private keys from `random` (tests, simulation, fuzzing) instead of
    /// OpenSSL's generator.
    bool deterministic_keys{false};
    /// Record every message sent and received in Output::messages.
    bool trace_messages{false};
};

/// The time of this call and where its results go.
struct Step {
    TimePoint now;
    Output& out;
    /// Wall-clock time (UNIX seconds) for certificate validity; the host's clock, or a pinned
    /// one in tests.
    std::int64_t unix_time{0};
};

/// Records a message in step.out.messages if tracing is on.
void trace_message(const Services& services, Step& step, bool sent, std::uint32_t ike_id,
                   const wire::Header& header, std::span<const wire::Payload> payloads);

/// Manager hooks an IKE SA calls back into.
class SaRegistry {
public:
    SaRegistry() = default;
    SaRegistry(const SaRegistry&) = delete;
    SaRegistry& operator=(const SaRegistry&) = delete;
    SaRegistry(SaRegistry&&) = delete;
    SaRegistry& operator=(SaRegistry&&) = delete;
    virtual ~SaRegistry() = default;

    virtual std::uint32_t next_ike_id() = 0;
    virtual std::uint32_t next_child_id() = 0;
    /// A fresh IKE SPI of our own, unique among this host's IKE SAs.
    virtual IkeSpi new_ike_spi() = 0;
    /// The IKE SA with unique id `id`, if it still exists.
    virtual IkeSa* find(std::uint32_t id) noexcept = 0;
    /// Takes ownership of a new IKE SA (the product of an IKE rekey) and indexes its SPIs.
    virtual IkeSa& adopt(std::unique_ptr<IkeSa> sa) = 0;
    /// The reqid shared by every Child SA of a child config of a connection (and its trap
    /// policy); by name, so that it survives a reload.
    virtual ReqId reqid_for(const PeerConfig& conn, const ChildConfig& child) = 0;
    /// RFC 7296 §2.4 INITIAL_CONTACT: forget every other IKE SA with the same identities.
    virtual void initial_contact(IkeSa& keep, Step& step) = 0;
    /// Policies are shared by the Child SAs of a reqid with the same traffic selectors (an
    /// RFC 9611 group, a rekeyed SA and its successor): the first install creates them, the
    /// last release removes them (unless a trap policy keeps them).
    virtual void acquire_policy(InstallPolicy policy, Step& step) = 0;
    virtual void release_policy(const DeletePolicy& policy, Step& step) = 0;
    /// All configured connections (the responder picks among them).
    [[nodiscard]] virtual const ConfigList& configs() const = 0;
    /// Whether no other IKE SA of this connection exists (then IKE_AUTH sends INITIAL_CONTACT).
    [[nodiscard]] virtual bool first_of_config(const IkeSa& sa) const = 0;
    /// An IKE SA was asked for a state change its lifecycle does not allow (a bug, refused).
    virtual void note_illegal_transition() noexcept = 0;
};

}  // namespace ikeplex::ike
