// The IKE SA manager: the engine's one entry point. It owns every IKE SA, finds the SA of each
// incoming message, answers IKE_SA_INIT (with COOKIEs and half-open limits under load), runs
// the timers, turns backend events (acquires, expires) into exchanges, and carries out
// operator commands (initiate, terminate, rekey).
//
// Sans-I/O and single-threaded: the host calls one of the inputs with a Step, then sends the
// Step's datagrams, hands its commands to the backend, publishes its events and calls
// on_timer() again at Output::wakeup.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "ike/cookies.h"
#include "ike/half_open.h"
#include "ike/ike_sa.h"
#include "ike/pools.h"
#include "ike/sa_index.h"
#include "ike/sa_registry.h"
#include "ike/services.h"
#include "util/flat_map.h"
#include "util/log.h"

namespace ikeplex::ike {

/// What went wrong with outside input, for operators (VICI stats) and tests.
struct ManagerCounters {
    std::uint64_t datagrams{0};
    std::uint64_t malformed{0};    ///< did not parse or broke the header/payload rules
    std::uint64_t unknown_spi{0};  ///< no IKE SA for the message
    std::uint64_t init_requests{0};
    std::uint64_t cookies_sent{0};
    std::uint64_t cookies_rejected{0};
    std::uint64_t half_open_dropped{0};  ///< IKE_SA_INIT ignored: init_limit_half_open reached
    std::uint64_t init_blocked{0};       ///< IKE_SA_INIT ignored: block_threshold of its address
    std::uint64_t init_refused{0};       ///< answered with an error notify (no proposal, KE, ...)
    std::uint64_t acquires{0};
    std::uint64_t backend_failures{0};
    std::uint64_t nat_mappings{0};         ///< peers whose NAT mapping changed (backend events)
    std::uint64_t refused_stopping{0};     ///< IKE_SA_INIT requests and acquires while stopping
    std::uint64_t illegal_transitions{0};  ///< refused IKE SA state changes (bugs; should stay 0)
    std::uint64_t retransmits{0};          ///< our requests sent again (no response in time)
    /// Peers' requests for a new Child SA answered NO_ADDITIONAL_SAS (max_child_sas).
    std::uint64_t child_sas_refused{0};
    /// Connections initiated again by dpd_action = restart or close_action = start.
    std::uint64_t restarts{0};
    /// Attempts to establish repeated after a failed one (keyingtries).
    std::uint64_t retries{0};
    /// Trap policies installed (start_action, dpd_action or close_action = trap).
    std::uint64_t traps{0};
    /// IKE SAs deleted as the duplicate of one the peer and we initiated at once.
    std::uint64_t duplicates_deleted{0};
    /// Reauthentications started (reauth_time), and those whose new IKE SA failed.
    std::uint64_t reauths{0};
    std::uint64_t reauth_failures{0};
    /// RFC 9611 TS_MAX_QUEUE answers we sent (a group at its limit) and received.
    std::uint64_t ts_max_queue_sent{0};
    std::uint64_t ts_max_queue_received{0};
    /// RFC 9370 IKE_INTERMEDIATE rounds that failed or that we refused (the IKE SA ended).
    std::uint64_t intermediate_failed{0};
    /// Configuration attributes peers sent that we ignored (RFC 7296 §3.15; config_payload.h).
    std::uint64_t cp_attributes_refused{0};
    /// RFC 4555: UPDATE_SA_ADDRESSES carried out as responder, and MOBIKE requests or notifies
    /// refused (not negotiated, from the IKE SA's responder, malformed, unacceptable address).
    std::uint64_t mobike_updates{0};
    std::uint64_t mobike_refused{0};
    /// RFC 9370: IKE_FOLLOWUP_KE requests refused and pending additional key exchanges that
    /// timed out (followup_ke.h).
    std::uint64_t followup_refused{0};
    /// IKE and Child SAs set up with a proposal naming a legacy algorithm (issue 24).
    std::uint64_t legacy_chosen{0};
    /// Uniqueness (uniqueness.cc): old IKE SAs dropped after a peer's INITIAL_CONTACT, deleted
    /// by unique = replace, and new IKE SAs refused by unique = keep.
    std::uint64_t initial_contacts{0};
    std::uint64_t unique_replaced{0};
    std::uint64_t unique_refused{0};
    /// RFC 5685: REDIRECTs we sent (IKE_SA_INIT, IKE_AUTH is not counted, INFORMATIONAL),
    /// redirects we followed, and those we did not (loop bound, unresolvable gateway).
    std::uint64_t redirects_sent{0};
    std::uint64_t redirects_followed{0};
    std::uint64_t redirects_refused{0};
    /// Revocation in IKE_AUTH (docs/revocation.md): certificates refused as revoked or for want
    /// of a status; IKE_AUTHs held for a RevocationQuery, holds that timed out, holds refused
    /// (max_revocation_holds), retransmits dropped during a hold.
    std::uint64_t revoked{0};
    std::uint64_t revocation_unknown{0};
    std::uint64_t revocation_held{0};
    std::uint64_t revocation_timeout{0};
    std::uint64_t revocation_hold_refused{0};
    std::uint64_t revocation_retransmits_dropped{0};
};

/// A connection waiting to be initiated again (heal.cc), for listings.
struct PendingRestart {
    std::string conn;
    std::vector<std::string> children;
    std::uint32_t attempts{0};  ///< failed attempts so far (keyingtries counts them)
    TimePoint at{};             ///< when the next attempt starts
};

class IkeSaManager final : public SaRegistry {
public:
    /// The host's answer to "which local address reaches `remote`" (a routing lookup), for
    /// connections that leave local_addrs empty.
    using SourceLookup = std::function<std::optional<IpAddress>(const IpAddress& remote)>;

    IkeSaManager(const crypto::Registry& registry, Random& random, SpiAllocator& spis,
                 Settings settings);
    ~IkeSaManager() override;
    IkeSaManager(const IkeSaManager&) = delete;
    IkeSaManager& operator=(const IkeSaManager&) = delete;
    IkeSaManager(IkeSaManager&&) = delete;
    IkeSaManager& operator=(IkeSaManager&&) = delete;

    /// Stopping (SIGTERM): no new IKE SA from now on. IKE_SA_INIT requests get no answer,
    /// acquires are ignored and initiate() fails; the existing SAs are being deleted.
    void stop_accepting() noexcept { stopping_ = true; }

    // --- configuration ---
    /// Replaces the connections. Existing IKE SAs keep the configuration they were made with.
    void load(std::vector<PeerConfig> configs);
    /// Adds a connection or replaces the one with its name (VICI load-conn).
    void upsert(PeerConfig config);
    /// Removes a connection (VICI unload-conn); its IKE SAs keep running. False if unknown.
    bool remove(std::string_view name);
    void set_credentials(Credentials credentials);
    /// The virtual IP pools (VICI load-pool, unload-pool, get-pools; config reloads).
    [[nodiscard]] AddressPools& pools() noexcept { return pools_; }
    [[nodiscard]] const AddressPools& pools() const noexcept { return pools_; }
    /// Fetched CRLs and OCSP answers (the daemon's fetcher fills it; kept across reloads).
    [[nodiscard]] crypto::RevocationCache& revocation() noexcept { return revocation_; }
    /// The credentials, for VICI load-shared/unload-shared (the engine reads them per use).
    [[nodiscard]] Credentials& credentials() noexcept { return credentials_; }
    /// When a timer of an SA fires (list-sas: "rekey in", "expires in").
    [[nodiscard]] std::optional<TimePoint> deadline(std::uint32_t ike, TimerKind kind,
                                                    std::uint32_t arg) const {
        return timers_.deadline(TimerKey{ike, kind, arg});
    }
    void set_source_lookup(SourceLookup lookup) { source_lookup_ = std::move(lookup); }
    /// The host's answer to "which address has this name" (DNS), for REDIRECTs that name
    /// their gateway by FQDN (RFC 5685 §9.2); unset: such redirects are not followed.
    using HostLookup = std::function<std::optional<IpAddress>(const std::string& fqdn)>;
    void set_host_lookup(HostLookup lookup) { host_lookup_ = std::move(lookup); }
    /// Deterministic key generation (tests, simulation, fuzzing).
    void set_deterministic_keys(bool on) noexcept { services_.deterministic_keys = on; }
    /// Record every message sent and received in Output::messages (tests, traces).
    void set_trace_messages(bool on) noexcept { services_.trace_messages = on; }
    /// Hands every new IKE SA's keys to `log` (ikeplexd's save_keys; key_log.h); empty: none.
    void set_key_log(IkeKeyLog log) { services_.key_log = std::move(log); }
    [[nodiscard]] const Settings& settings() const noexcept { return settings_; }
    /// What its IKE SAs use, for tests and fuzz targets that make an IKE SA themselves (as an
    /// IKE rekey does) and adopt() it.
    [[nodiscard]] Services& services() noexcept { return services_; }

    // --- inputs ---
    /// An IKE datagram (marker already stripped) that arrived on `local` from `remote`.
    void on_datagram(ByteView datagram, const Endpoint& local, const Endpoint& remote, Step& step);
    /// Runs every timer due at step.now.
    void on_timer(Step& step);
    /// The AAA backend's answer to an EapBackendQuery (eap_backend.h) of IKE SA `ike_id`.
    void on_eap_backend_answer(std::uint32_t ike_id, std::uint32_t seq, EapBackendAnswer answer,
                               Step& step);
    /// The host finished the fetches of RevocationQuery `seq` of IKE SA `ike_id` (what it
    /// learnt is in Services::revocation): the held IKE_AUTH goes on (revocation_query.h).
    void on_revocation_answer(std::uint32_t ike_id, std::uint32_t seq, Step& step);
    void on_backend_event(const BackendEvent& event, Step& step);
    /// The host's usable local addresses changed (an address added or removed, a route
    /// changed): `addresses` is the new set. IKE SAs with MOBIKE (RFC 4555) whose path to the
    /// peer changed (source_lookup) move, as the IKE SA's original initiator, with
    /// UPDATE_SA_ADDRESSES; the set is announced as ADDITIONAL_IP4/6_ADDRESS.
    void on_local_addresses(std::vector<IpAddress> addresses, Step& step);

    // --- operator commands ---
    /// Starts `child` of connection `conn` (an existing IKE SA of the connection is reused), or
    /// just the IKE SA when `child` is empty. Returns the IKE SA's id.
    Result<std::uint32_t> initiate(std::string_view conn, std::string_view child, Step& step,
                                   ResourceId resource = ResourceId::none());
    /// Installs the trap policies (start_action = trap) and starts start_action = start.
    void start_actions(Step& step);
    Status terminate_ike(std::uint32_t ike_id, Step& step);
    Status terminate_child(std::uint32_t child_id, Step& step);
    Status rekey_ike(std::uint32_t ike_id, Step& step);
    /// Rekeys an installed CHILD_SA. True: a rekey of it is now under way (ours, or one already
    /// running), and a kChildRekeyed or kChildFailed/kChildDown event will settle it; false:
    /// the peer's rekey has already replaced it (nothing left to do). An error when it does not
    /// exist, is being created or deleted, or its IKE SA is not established.
    Result<bool> rekey_child(std::uint32_t child_id, Step& step);
    /// RFC 5685 §5: sends the peer of established IKE SA `ike_id` (we are its original
    /// responder, the peer announced support) to `gateway` (VICI redirect).
    Status redirect(std::uint32_t ike_id, const Gateway& gateway, Step& step);
    /// Drops a waiting restart or retry of connection `conn` (an operator's terminate,
    /// unload-conn). True if there was one.
    bool cancel_restart(std::string_view conn);

    // --- views ---
    [[nodiscard]] const ManagerCounters& counters() const noexcept { return counters_; }
    /// IKE SAs holding IKE_AUTH for a revocation status now (ike_auth_revocation.h).
    [[nodiscard]] std::uint32_t revocation_holds() const noexcept { return revocation_holds_; }
    /// Every IKE SA, in id order (destroyed ones are gone after each call).
    [[nodiscard]] std::vector<const IkeSa*> sas() const;
    [[nodiscard]] const IkeSa* sa(std::uint32_t id) const noexcept;
    /// The IKE SA that holds Child SA `child_id`.
    [[nodiscard]] IkeSa* sa_of_child(std::uint32_t child_id) noexcept;
    [[nodiscard]] std::size_t half_open() const noexcept;
    /// Half-open IKE SAs set up from address `a` (block_threshold counts these).
    [[nodiscard]] std::uint32_t half_open_from(const IpAddress& a) const noexcept {
        return half_open_.from(a);
    }
    /// Log lines about outside input suppressed by their rate limits (PEER_LOG, reject()).
    [[nodiscard]] std::uint64_t log_suppressed() const noexcept {
        return peer_log_.suppressed_total();
    }
    /// Connections waiting to be initiated again, by name.
    [[nodiscard]] std::vector<PendingRestart> pending_restarts() const;
    /// Timers armed (a leak check: zero once every SA is gone).
    [[nodiscard]] std::size_t pending_timers() const noexcept { return timers_.size(); }
    /// Entries of each lookup index by name (a leak check: all zero once every SA is gone).
    [[nodiscard]] std::map<std::string, std::size_t> index_sizes() const;
    /// IKE SAs the engine has looked up or examined so far (tests: the work of one input
    /// must not grow with the number of IKE SAs).
    [[nodiscard]] std::uint64_t sa_visits() const noexcept { return sa_visits_; }

    // --- SaRegistry ---
    std::uint32_t next_ike_id() override { return next_ike_id_++; }
    std::uint32_t next_child_id() override { return next_child_id_++; }
    IkeSpi new_ike_spi() override;
    IkeSa* find(std::uint32_t id) noexcept override;
    IkeSa& adopt(std::unique_ptr<IkeSa> sa) override;
    ReqId reqid_for(const PeerConfig& conn, const ChildConfig& child) override;
    bool check_uniqueness(IkeSa& fresh, bool initial_contact, Step& step) override;
    void acquire_policy(InstallPolicy policy, Step& step) override;
    void release_policy(const DeletePolicy& policy, Step& step) override;
    void move_policy(ReqId reqid, const std::vector<TrafficSelector>& local_ts,
                     const std::vector<TrafficSelector>& remote_ts, const Endpoint& local,
                     const Endpoint& remote, Step& step) override;
    void note_mobike_refused(const IkeSa& sa, const char* why, TimePoint now) override;
    void note_mobike_update() noexcept override { ++counters_.mobike_updates; }
    void note_followup_refused() noexcept override { ++counters_.followup_refused; }
    void note_legacy_chosen() noexcept override { ++counters_.legacy_chosen; }
    [[nodiscard]] const ConfigList& configs() const override { return configs_; }
    [[nodiscard]] bool first_of_config(const IkeSa& sa) const override;
    void note_illegal_transition() noexcept override { ++counters_.illegal_transitions; }
    void note_retransmit() noexcept override { ++counters_.retransmits; }
    void note_intermediate_failed() noexcept override { ++counters_.intermediate_failed; }
    void note_revocation(RevocationEvent event) noexcept override;
    bool acquire_revocation_hold() noexcept override;
    void release_revocation_hold() noexcept override;
    void note_ts_max_queue(bool sent) noexcept override {
        ++(sent ? counters_.ts_max_queue_sent : counters_.ts_max_queue_received);
    }
    void note_child_refused(const IkeSa& sa, std::string_view child, TimePoint now) override;
    void note_cp_refused(const IkeSa& sa, std::uint16_t type, std::string_view why,
                         TimePoint now) override;
    void note_changed(IkeSa& sa) override;
    [[nodiscard]] std::size_t established_sas() const noexcept override {
        return index_.established();
    }
    void note_child_added(IkeSa& sa, const ChildSa& child) override;
    void note_child_removed(const ChildSa& child) override;
    void note_child_closed(IkeSa& sa, const ChildSa& child, Step& step) override;
    void reauthenticate(IkeSa& sa, Step& step) override;

private:
    struct Policy {
        InstallPolicy policy;
        std::uint32_t users{0};  ///< installed Child SAs using it
        bool trap{false};
        bool trap_per_cpu{false};  ///< the trap's per-CPU acquires (the config's per_cpu_sas)
    };

    /// Records a reply the manager sends itself (IKE_SA_INIT answers) when tracing.
    void trace_reply(ByteView reply, std::uint32_t ike_id, Step& step) const;
    /// The loaded connections as values (to build the next list from).
    [[nodiscard]] std::vector<PeerConfig> config_copies() const;
    void on_init_request(const wire::Message& m, ByteView raw, const Endpoint& local,
                         const Endpoint& remote, Step& step);
    void on_acquire(const Acquire& a, Step& step);
    /// initiate() without finish().
    Result<std::uint32_t> start(std::string_view conn, std::string_view child, Step& step,
                                ResourceId resource, bool from_acquire);
    /// Every call ends here: forget destroyed SAs and tell the host the next deadline.
    void finish(Step& step);
    // --- healing (manager_heal.cc) ---
    /// What follows the end of `sa`: dpd_action, close_action, keyingtries.
    void heal_after(const IkeSa& sa, Step& step);
    /// What an action key says for one Child SA config.
    enum class Action : std::uint8_t { kNone, kTrap, kStart };
    /// Traps for the `children` whose `action` says so, and one restart of `conn` with those
    /// that say start (`why`, `which`: for the log line).
    void apply_actions(const IkeSa& sa, const PeerConfig& conn,
                       const std::vector<std::string>& children, const char* why, const char* which,
                       Action (*action)(const ChildConfig&), Step& step);
    /// Installs a trap policy for `child` of `conn` (start_action, dpd_action, close_action
    /// = trap); nothing if one is there.
    void install_trap(const PeerConfig& conn, const ChildConfig& child, Step& step);
    /// Initiates `conn` with `children` now (attempt 1 of a new series).
    void restart_now(const PeerConfig& conn, const std::vector<std::string>& children, Step& step,
                     bool count = true);
    /// A failed attempt: the next one after a back-off with jitter, or giving up.
    void retry_later(const PeerConfig& conn, const std::vector<std::string>& children, Step& step);
    void on_restart_timer(std::uint32_t slot, Step& step);
    /// The SA of a connection came up: its failed attempts are forgotten.
    void restart_succeeded(const IkeSa& sa);
    /// Both peers initiated the connection at once (restarts, start actions on both sides):
    /// of two established IKE SAs of one connection between the same identities and
    /// addresses, one initiated by each side, both sides delete the one whose SPIi is larger.
    void resolve_duplicates(std::uint32_t id, Step& step);
    // --- RFC 5685 (manager_redirect.cc) ---
    /// Gateway: answers IKE_SA_INIT request `m` with N(REDIRECT) if a rule says so (no state
    /// kept). True if it did.
    bool redirect_init(const wire::Message& m, const wire::NoncePayload& ni, const Endpoint& local,
                       const Endpoint& remote, Step& step);
    /// Client: `sa` ended redirected: the connection is initiated at the new gateway (at most
    /// kMaxRedirects in kRedirectLoopPeriodSeconds). True if `sa` was redirected.
    bool follow_redirect(const IkeSa& sa, const ConfigPtr& conn, Step& step);
    // --- reauthentication (manager_reauth.cc) ---
    /// Make-before-break: deletes each reauthenticated IKE SA once its successor is
    /// established and done creating its Child SAs; a failed successor leaves it (retried).
    void finish_reauths(Step& step);
    /// Whether `sa` is the one the manager holds under its id.
    [[nodiscard]] bool adopted(const IkeSa& sa) const noexcept;
    /// Drops a destroyed SA from every index (finish() then deletes it).
    void unindex(const IkeSa& sa);
    /// Drops SA `id`'s entry for IKE_SA_INIT retransmits, if it has one.
    void forget_init(std::uint32_t id);
    void reject(const char* what, const Endpoint& remote, const Error* e, Step& step);
    /// Answers IKE_SA_INIT request `m` with a COOKIE notify (no state kept).
    void send_cookie(const wire::Message& m, const wire::NoncePayload& ni, const Endpoint& local,
                     const Endpoint& remote, Step& step);
    /// The (connection, child) names behind a reqid.
    [[nodiscard]] std::optional<std::pair<const PeerConfig*, const ChildConfig*>> by_reqid(
            ReqId reqid) const;
    [[nodiscard]] IkeSa* sa_of_config(const PeerConfig& conn) noexcept;
    [[nodiscard]] std::optional<std::pair<IkeSa*, ChildSa*>> find_child_by_spi(
            Spi spi, bool inbound) noexcept;

    Settings settings_;
    Credentials credentials_;
    TimerQueue timers_;
    PeerLog peer_log_;                    ///< before services_, which refers to it
    AddressPools pools_;                  ///< before services_, which refers to it
    crypto::RevocationCache revocation_;  ///< before services_, which refers to it
    /// IKE SAs holding IKE_AUTH for a revocation status now (max_revocation_holds); before
    /// sas_, whose holds give their slots back when they go.
    std::uint32_t revocation_holds_{0};
    Services services_;
    CookieJar cookies_;
    SourceLookup source_lookup_;
    HostLookup host_lookup_;
    /// When each connection followed its recent redirects (the loop bound; RFC 5685 §7).
    std::map<std::string, std::vector<TimePoint>, std::less<>> redirects_;
    std::vector<IpAddress> local_addresses_;  ///< the host's, for MOBIKE (on_local_addresses)
    ConfigList configs_;

    using InitKey = std::pair<Endpoint, IkeSpi>;
    struct InitHash {
        std::size_t operator()(const InitKey& k) const noexcept {
            return hash_mix(EndpointHash{}(k.first) ^ k.second.value());
        }
    };

    // Hash maps: an SA's bookkeeping costs O(1) whatever the number of SAs (issue 17).
    std::unordered_map<std::uint32_t, std::unique_ptr<IkeSa>> sas_;
    FlatMap<std::uint64_t, std::uint32_t> by_spi_;  ///< by IKE SPI value
    /// IKE_SA_INIT retransmits: (initiator's address, SPIi) of half-open SAs.
    std::unordered_map<InitKey, std::uint32_t, InitHash> by_init_;
    std::unordered_map<std::uint32_t, InitKey> init_keys_;  ///< by_init_ reversed
    HalfOpenTable half_open_;  ///< responder SAs waiting for IKE_AUTH, per initiator address
    std::vector<std::uint32_t> dead_;  ///< SAs destroyed since the last finish()
    SaIndex index_;
    std::map<std::string, ReqId> reqids_;                               ///< "conn/child" -> reqid
    std::map<ReqId, std::pair<std::string, std::string>> reqid_names_;  ///< (conn, child)
    using PolicyKey = std::tuple<ReqId, std::vector<TrafficSelector>, std::vector<TrafficSelector>>;
    std::map<PolicyKey, Policy> policies_;
    std::map<std::pair<ReqId, ResourceId>, TimePoint> acquiring_;
    struct Restart {
        std::vector<std::string> children;
        std::uint32_t attempts{0};  ///< failed attempts of this series
        std::uint32_t slot{0};      ///< the timer's arg while waiting (0: not waiting)
        TimePoint at{};
    };
    std::map<std::string, Restart, std::less<>> restarts_;  ///< by connection name
    std::map<std::uint32_t, std::string> restart_slots_;    ///< timer arg -> connection
    std::vector<std::uint32_t> established_;          ///< SAs established since the last finish()
    std::map<std::uint32_t, std::uint32_t> reauths_;  ///< new IKE SA -> the one it replaces
    std::uint32_t next_restart_slot_{1};
    std::uint32_t next_ike_id_{1};
    std::uint32_t next_child_id_{1};
    std::uint32_t next_reqid_{1};
    std::uint64_t sa_visits_{0};
    ManagerCounters counters_;
    bool stopping_{false};
};

}  // namespace ikeplex::ike
