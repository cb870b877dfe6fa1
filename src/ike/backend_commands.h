// What the engine asks of an IPsec backend (userspace ESP, Linux XFRM, or none) and what the
// backend reports back (design.md §5). Plain data: the engine emits commands in its Output and
// receives events through IkeSaManager::on_backend_event; it never calls a backend.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "ike/config.h"
#include "ike/traffic_selector.h"
#include "util/ip_address.h"
#include "util/secret_bytes.h"
#include "util/strong_id.h"

namespace ikeplex::ike {

/// Install one direction of a Child SA.
struct InstallSa {
    std::uint32_t child_id{0};  ///< the Child SA's unique id (for events and listings)
    std::string child_name;
    ReqId reqid;
    Spi spi;
    bool inbound{false};
    Endpoint src;  ///< outer source (address and UDP port when encapsulating)
    Endpoint dst;
    bool udp_encap{false};
    Mode mode{Mode::kTunnel};
    std::uint16_t encr_id{0};
    std::uint16_t encr_key_bits{0};
    std::uint16_t integ_id{0};  ///< 0 with AEAD
    SecretBytes encr_key;       ///< salt included for AEAD
    SecretBytes integ_key;
    bool esn{false};
    std::uint32_t replay_window{1024};
    std::uint64_t soft_bytes{0};
    std::uint64_t hard_bytes{0};
    std::uint64_t soft_packets{0};
    std::uint64_t hard_packets{0};
    ResourceId resource;  ///< RFC 9611: the CPU this SA belongs to, or none (fallback)
    std::vector<TrafficSelector> local_ts;
    std::vector<TrafficSelector> remote_ts;
};

struct DeleteSa {
    std::uint32_t child_id{0};
    Spi spi;
    bool inbound{false};
    Endpoint dst;
};

enum class PolicyDirection : std::uint8_t { kIn, kOut, kFwd };

/// Install (or remove) the policies that send matching traffic to a Child SA: one set per
/// reqid. `trap`: policies without an SA yet, which raise acquires (start_action = trap).
struct InstallPolicy {
    ReqId reqid;
    std::vector<TrafficSelector> local_ts;
    std::vector<TrafficSelector> remote_ts;
    Endpoint local;
    Endpoint remote;
    Mode mode{Mode::kTunnel};
    bool trap{false};
    bool per_cpu_acquire{false};  ///< RFC 9611: acquires name the CPU (XFRM_POLICY_CPU_ACQUIRE)
};

struct DeletePolicy {
    ReqId reqid;
    std::vector<TrafficSelector> local_ts;
    std::vector<TrafficSelector> remote_ts;
};

/// One direction of an installed Child SA moves to new outer addresses (MOBIKE, RFC 4555 §3.5;
/// a NAT that appears or goes away): keys, sequence numbers and the replay window stay. The
/// engine sends the Child SA's policies again (InstallPolicy) with the new endpoints after it.
struct UpdateSaAddresses {
    std::uint32_t child_id{0};
    Spi spi;
    bool inbound{false};
    Endpoint old_src;  ///< the outer addresses as installed (XFRM finds inbound SAs by dst)
    Endpoint old_dst;
    Endpoint src;  ///< the new outer source and destination (UDP ports when encapsulating)
    Endpoint dst;
    bool udp_encap{false};  ///< the new encapsulation (a NAT may have appeared or gone)
};

using BackendCommand =
        std::variant<InstallSa, DeleteSa, InstallPolicy, DeletePolicy, UpdateSaAddresses>;

/// Traffic for a policy has no (per-resource) SA: negotiate one.
struct Acquire {
    ReqId reqid;
    ResourceId resource;  ///< RFC 9611: the CPU without an SA of its own; none = no SA at all
    std::optional<TrafficSelector> src;  ///< the triggering packet (RFC 7296 §2.9)
    std::optional<TrafficSelector> dst;
};

/// A lifetime ran out (bytes or packets; time-based expiry is the engine's own).
struct Expire {
    Spi spi;
    bool inbound{false};
    bool hard{false};
};

/// The backend could not install an SA or policy.
struct InstallFailed {
    std::uint32_t child_id{0};
    Spi spi;
    std::string reason;
};

/// ESP from the peer of a UDP-encapsulated SA now arrives from another address or port (its NAT
/// mapping changed; XFRM_MSG_MAPPING). The backend has moved its outbound SAs to that peer;
/// the IKE SA follows (RFC 7296 §2.23).
struct Mapping {
    Spi spi;  ///< the inbound SA the packet arrived on
    Endpoint old_remote;
    Endpoint remote;
};

using BackendEvent = std::variant<Acquire, Expire, InstallFailed, Mapping>;

}  // namespace ikeplex::ike
