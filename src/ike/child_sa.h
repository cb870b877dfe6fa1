// A Child SA (RFC 7296 §1.3): a pair of ESP SAs with their traffic selectors, negotiated under
// an IKE SA. The IKE SA owns it; the backend holds the keys once installed.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ike/backend_commands.h"
#include "ike/config.h"
#include "ike/proposal.h"
#include "ike/time.h"
#include "ike/traffic_selector.h"
#include "util/strong_id.h"

namespace ikeplex::ike {

enum class ChildState : std::uint8_t {
    kCreating,  ///< negotiating (our inbound SPI reserved)
    kInstalled,
    kRekeying,  ///< we are rekeying it
    kRekeyed,   ///< replaced by a newer SA; still receives until deleted
    kDeleting,  ///< we sent a Delete
};
const char* to_string(ChildState s) noexcept;

/// RFC 9611 bookkeeping of a group member that a rekey carries over (per_resource.h).
struct MemberInfo {
    /// Which of its resource's SAs it is (0 for the first): with the resource, it picks the
    /// SA_RESOURCE_INFO identifier we announce, unique among the group's SAs.
    std::uint32_t slot{0};
    bool peer_requested{false};  ///< the peer's CREATE_CHILD_SA (not ours) created it
    /// Bound, as responder, to a resource for which our own request was under way: the two
    /// requests crossed, and one of the two SAs is redundant (resolve_crossing()).
    bool crossed{false};
};

struct ChildSa {
    std::uint32_t id{0};
    const ChildConfig* config{nullptr};
    ReqId reqid;
    ChildState state{ChildState::kCreating};
    Spi spi_in;
    Spi spi_out;
    Mode mode{Mode::kTunnel};
    bool udp_encap{false};
    /// The outer endpoints it was installed with (MOBIKE moves them, RFC 4555 §3.5).
    Endpoint local;
    Endpoint remote;
    std::vector<TrafficSelector> local_ts;
    std::vector<TrafficSelector> remote_ts;
    wire::Proposal proposal;  ///< the chosen one (transforms; our inbound SPI)
    ChildAlgorithms algorithms;
    ResourceId resource;  ///< RFC 9611; none for regular Child SAs and the fallback
    /// RFC 9611: negotiated with SA_RESOURCE_INFO, so part of its config's group (the
    /// fallback if `resource` is none).
    bool group_member{false};
    MemberInfo member_info;
    TimePoint established{};
    /// Simultaneous rekey (RFC 7296 §2.8.1): the Child SA the peer created by rekeying this
    /// one while we rekeyed it too, and the nonces of that exchange.
    struct Collision {
        std::uint32_t peer_child{0};
        Bytes peer_ni;
        Bytes our_nr;
    };
    std::optional<Collision> collision;
    std::uint32_t replaced_by{0};  ///< after a rekey: the new Child SA
    /// Both ends deleted it at once (RFC 7296 §1.4.1): the outbound SA went with the peer's
    /// request, the inbound one goes with the peer's response.
    bool outbound_removed{false};
    /// Rekeyed as the responder: the new outbound SA waits here until the SA it replaces goes
    /// (the initiator deletes it once it has installed the new inbound SA), so that nothing is
    /// sent on the new SA before the peer can receive it (IkeSa::hold_outbound). On the heap:
    /// rare, and an InstallSa is a third of a ChildSa.
    std::unique_ptr<InstallSa> pending_outbound;

    [[nodiscard]] std::string name() const { return config != nullptr ? config->name : "?"; }
};

}  // namespace ikeplex::ike
