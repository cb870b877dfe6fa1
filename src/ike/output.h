// What one call into the engine produces: datagrams to send, backend commands, operator
// events, and when the engine next needs on_timer().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ike/backend_commands.h"
#include "ike/eap_backend.h"
#include "ike/revocation_query.h"
#include "ike/time.h"
#include "util/bytes.h"
#include "util/ip_address.h"
#include "wire/message.h"

namespace ikeplex::ike {

/// An IKE message to send (without the RFC 3948 non-ESP marker: the host adds it on 4500).
struct OutDatagram {
    Bytes data;
    Endpoint local;
    Endpoint remote;
};

enum class EventKind : std::uint8_t {
    kIkeUp,
    kIkeDown,
    kIkeRekeyed,
    kChildUp,
    kChildDown,
    kChildRekeyed,
    kIkeFailed,    ///< an IKE SA that never came up is gone (reason says why)
    kChildFailed,  ///< a Child SA could not be created (name = child config, reason)
    /// Our IKE SA rekey was given up (the peer refused it): the IKE SA stays (reason).
    kIkeRekeyFailed,
    /// A tunnel heals itself (manager_heal.cc): reason = the action (restart, retry, trap,
    /// give-up), conn = the connection, name = the child config of a trap or Child SA
    /// restart; ike_id = the IKE SA a restart uses; attempt, next_in for retries.
    kHeal,
};
const char* to_string(EventKind k) noexcept;

/// For operators (VICI events ike-updown, child-updown, child-rekey).
struct Event {
    EventKind kind{EventKind::kIkeUp};
    std::uint32_t ike_id{0};
    std::uint32_t child_id{0};  ///< child events
    std::uint32_t new_id{0};    ///< rekey events: the new SA
    std::string name;           ///< connection or child config name
    std::string reason;
    std::string conn;          ///< the IKE SA's connection name (also for child events)
    std::uint32_t attempt{0};  ///< kHeal: failed attempts so far (retry, give-up)
    Duration next_in{0};       ///< kHeal retry: until the next attempt
};

/// One IKE message as the engine saw it, in the clear (inner payloads of SK, fragments
/// reassembled): recorded only when message tracing is on (IkeSaManager::set_trace_messages),
/// for tests that check what went over the wire and for traces.
struct MessageTrace {
    bool sent{false};         ///< we sent it (else we received it)
    std::uint32_t ike_id{0};  ///< the IKE SA's unique id (0: answered before one existed)
    wire::Header header;      ///< exchange, message id, flags (request or response)
    std::vector<wire::Payload> payloads;
};

/// Virtual IPs a peer assigned to us (RFC 7296 §2.19, config_payload.h), for the host to
/// install (up) or remove (down, when the IKE SA goes), with the DNS servers that came along.
struct VirtualIpChange {
    bool up{true};
    std::uint32_t ike_id{0};
    std::string conn;
    std::vector<IpAddress> addresses;
    std::vector<IpAddress> dns;
    /// The peer's IKE address: the xfrm backend puts the addresses on the interface that
    /// reaches it.
    IpAddress peer;
};

struct Output {
    std::vector<OutDatagram> datagrams;
    std::vector<BackendCommand> commands;
    std::vector<Event> events;
    /// EAP for the AAA backend (eap_backend.h).
    std::vector<EapBackendQuery> eap_queries;
    std::vector<RevocationQuery> revocation_queries;  ///< revocation_query.h
    std::vector<MessageTrace> messages;               ///< with message tracing on
    std::vector<VirtualIpChange> vips;
    TimePoint wakeup{kNever};  ///< call on_timer() at this time (kNever: no timer pending)

    void clear() {
        datagrams.clear();
        commands.clear();
        events.clear();
        messages.clear();
        vips.clear();
        eap_queries.clear();
        revocation_queries.clear();
        wakeup = kNever;
    }
};

}  // namespace ikeplex::ike
