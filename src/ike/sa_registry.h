// The manager's hooks that an IKE SA calls back into: new IKE SAs from rekeying, ids and
// SPIs, INITIAL_CONTACT, shared policies, the loaded connections.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "ike/backend_commands.h"
#include "ike/config.h"
#include "ike/services.h"
#include "util/strong_id.h"

namespace ikeplex::ike {

class IkeSa;
struct ChildSa;

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
    /// The responder completes IKE_AUTH of `fresh` (not yet established): RFC 7296 §2.4
    /// INITIAL_CONTACT (`initial_contact`) and the connection's `unique` policy applied to the
    /// other IKE SAs with its identities (uniqueness.cc). False: `fresh` is refused (keep).
    virtual bool check_uniqueness(IkeSa& fresh, bool initial_contact, Step& step) = 0;
    /// Policies are shared by the Child SAs of a reqid with the same traffic selectors (an
    /// RFC 9611 group, a rekeyed SA and its successor): the first install creates them, the
    /// last release removes them (unless a trap policy keeps them).
    virtual void acquire_policy(InstallPolicy policy, Step& step) = 0;
    virtual void release_policy(const DeletePolicy& policy, Step& step) = 0;
    /// MOBIKE (RFC 4555 §3.5): the policies of `reqid` and these selectors, if installed, move
    /// to new outer endpoints (sent again to the backend; nothing if they are there already).
    virtual void move_policy(ReqId reqid, const std::vector<TrafficSelector>& local_ts,
                             const std::vector<TrafficSelector>& remote_ts, const Endpoint& local,
                             const Endpoint& remote, Step& step) = 0;
    /// A MOBIKE request or notify of the peer on `sa` was refused for `why` (a static string;
    /// counted, logged rate-limited).
    virtual void note_mobike_refused(const IkeSa& sa, const char* why, TimePoint now) = 0;
    /// An UPDATE_SA_ADDRESSES of the peer was carried out (counted).
    virtual void note_mobike_update() noexcept = 0;
    /// RFC 9370: an IKE_FOLLOWUP_KE request of the peer was refused (unknown or stale link,
    /// wrong KE method, bad KE value) or a pending one timed out (counted).
    virtual void note_followup_refused() noexcept {}
    /// Revocation checking in IKE_AUTH (ike_auth_revocation.h): counted.
    enum class RevocationEvent : std::uint8_t {
        kRevoked,            ///< a certificate refused as revoked
        kUnknown,            ///< a certificate refused for want of a status (strict / ifuri)
        kHeld,               ///< an IKE_AUTH held for a RevocationQuery
        kTimeout,            ///< ... and no answer came in time
        kHoldRefused,        ///< not held: max_revocation_holds reached (decided as unknown)
        kRetransmitDropped,  ///< a retransmit of a request whose response is held, dropped
    };
    virtual void note_revocation(RevocationEvent /*event*/) noexcept {}
    /// Takes one of the max_revocation_holds slots; false if none is free.
    virtual bool acquire_revocation_hold() noexcept { return true; }
    virtual void release_revocation_hold() noexcept {}
    /// A proposal with legacy algorithms was chosen for an IKE or Child SA (legacy_algorithms.h).
    virtual void note_legacy_chosen() noexcept {}
    /// All configured connections (the responder picks among them).
    [[nodiscard]] virtual const ConfigList& configs() const = 0;
    /// Whether no other IKE SA of this connection exists (then IKE_AUTH sends INITIAL_CONTACT).
    [[nodiscard]] virtual bool first_of_config(const IkeSa& sa) const = 0;
    /// An IKE SA was asked for a state change its lifecycle does not allow (a bug, refused).
    virtual void note_illegal_transition() noexcept = 0;
    /// A request of ours was sent again (no response in time).
    virtual void note_retransmit() noexcept = 0;
    /// An IKE_INTERMEDIATE round failed or was refused (RFC 9370; counted).
    virtual void note_intermediate_failed() noexcept {}
    /// RFC 9611 TS_MAX_QUEUE: we answered a peer's request with it (`sent`), or the peer
    /// answered ours with it (counted for metrics).
    virtual void note_ts_max_queue(bool sent) noexcept = 0;
    /// A peer's request for a new Child SA of `child` on `sa` was answered NO_ADDITIONAL_SAS:
    /// the IKE SA holds `max_child_sas` already (counted, logged rate-limited).
    virtual void note_child_refused(const IkeSa& sa, std::string_view child, TimePoint now) = 0;
    /// A configuration attribute of `type` the peer sent on `sa` was ignored (a second address
    /// of a family, nonsense, more than we take: config_payload.h), for `why` (counted, logged
    /// rate-limited).
    virtual void note_cp_refused(const IkeSa& sa, std::uint16_t type, std::string_view why,
                                 TimePoint now) = 0;
    /// An IKE SA's state, connection, endpoints or identities changed: the manager's lookups
    /// follow (an SA not adopted yet is indexed when it is).
    virtual void note_changed(IkeSa& sa) = 0;
    /// IKE SAs established now (RFC 5685 redirect rules with established_above).
    [[nodiscard]] virtual std::size_t established_sas() const noexcept { return 0; }
    /// A Child SA joined IKE SA `sa` (made there, or moved there by an IKE rekey).
    virtual void note_child_added(IkeSa& sa, const ChildSa& child) = 0;
    /// A Child SA left its IKE SA (removed, or moving to another one).
    virtual void note_child_removed(const ChildSa& child) = 0;
    /// The peer deleted Child SA `child` of `sa` (not a rekey's): its close_action.
    virtual void note_child_closed(IkeSa& sa, const ChildSa& child, Step& step) = 0;
    /// Reauthentication of `sa` is due (reauth_time).
    virtual void reauthenticate(IkeSa& sa, Step& step) = 0;
};

}  // namespace ikeplex::ike
