// What an IKE SA reaches besides its own state: shared services (no globals; design.md
// anchors B.3 "Context") and the per-call Step (time and output). The SPI allocator is in
// spi_allocator.h, the manager's hooks in sa_registry.h.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "crypto/registry.h"
#include "crypto/revocation_cache.h"
#include "eap/eap.h"
#include "ike/config.h"
#include "ike/key_log.h"
#include "ike/output.h"
#include "ike/peer_log.h"
#include "ike/spi_allocator.h"
#include "ike/timer_queue.h"
#include "util/ip_address.h"
#include "util/random.h"
#include "util/strong_id.h"

namespace ikeplex::ike {

/// Makes EAP methods (eap::make_server / eap::make_peer unless a test puts its own here).
struct EapFactory {
    std::function<Result<std::unique_ptr<eap::ServerMethod>>(eap::Type, eap::ServerContext)> server;
    std::function<Result<std::unique_ptr<eap::PeerMethod>>(eap::Type, eap::PeerContext)> peer;
};
class AddressPools;

struct Services {
    const crypto::Registry& registry;
    Random& random;
    SpiAllocator& spis;
    const Settings& settings;
    const Credentials& credentials;
    TimerQueue& timers;
    /// Budgets for the log lines a peer can trigger (PEER_LOG).
    PeerLog& peer_log;
    /// Draw key-exchange private keys from `random` (tests, simulation, fuzzing) instead of
    /// OpenSSL's generator.
    bool deterministic_keys{false};
    /// Record every message sent and received in Output::messages.
    bool trace_messages{false};
    /// Gets every IKE SA's keys when they are derived (IkeSaManager::set_key_log); empty: none.
    IkeKeyLog key_log{};
    /// EAP methods (empty: the eap layer's own).
    EapFactory eap{};
    /// Virtual IP pools (pools.h) that responders lease addresses from; null: none.
    AddressPools* pools{nullptr};
    /// The host's usable addresses (IkeSaManager::on_local_addresses), announced to MOBIKE
    /// peers as ADDITIONAL_IP4/6_ADDRESS (RFC 4555 §3.4); null or empty: none known.
    const std::vector<IpAddress>* local_addresses{nullptr};
    /// CRLs fetched and OCSP answers (revocation_query.h); null: none.
    const crypto::RevocationCache* revocation{nullptr};
};

/// The time of this call and where its results go.
struct Step {
    TimePoint now;
    Output& out;
    /// Wall-clock time (UNIX seconds) for certificate validity; the host's clock, or a pinned
    /// one in tests.
    std::int64_t unix_time{0};
};

/// Records a message in step.out.messages if tracing is on, and logs each of its payloads in
/// detail at strongSwan's level 3 (ENC), after `label` (the IKE SA's "name[id]", or empty).
void trace_message(const Services& services, Step& step, bool sent, std::uint32_t ike_id,
                   const wire::Header& header, std::span<const wire::Payload> payloads,
                   std::string_view label = {});
/// Logs a datagram's bytes at strongSwan's level 4 (NET): what was sent or received, where.
void log_datagram(bool sent, ByteView datagram, const Endpoint& local, const Endpoint& remote);

}  // namespace ikeplex::ike
