// An IKE SA (RFC 7296): its state, keys, message-id windows, retransmissions, the exchanges
// it runs as initiator and answers as responder, and its Child SAs.
//
// Sans-I/O: every input carries a Step (now + Output); the SA emits datagrams, backend
// commands and events into the Output and arms timers through Services::timers.
//
// Exchanges it initiates are Exchange objects queued in order and sent while the peer's window
// allows (RFC 7296 §2.3); requests it receives are answered by the responder functions of each
// exchange (ike_init.cc, ike_auth.cc, child_create.cc, ike_rekey.cc, informational.cc).
// Every state change goes through transition(), which logs "OLD => NEW (reason)".
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/algorithm_ids.h"
#include "crypto/ke.h"
#include "crypto/keymat.h"
#include "crypto/prf.h"
#include "ike/child_sa.h"
#include "ike/config.h"
#include "ike/exchange_state.h"
#include "ike/handshake.h"
#include "ike/per_resource.h"
#include "ike/sa_registry.h"
#include "ike/services.h"
#include "ike/sk_cipher.h"
#include "util/ip_address.h"
#include "util/strong_id.h"
#include "wire/message.h"

namespace ikeplex::ike {

enum class IkeState : std::uint8_t {
    kCreated,
    kConnecting,  ///< IKE_SA_INIT / IKE_AUTH under way
    kEstablished,
    kRekeying,  ///< we are rekeying it
    kRekeyed,   ///< replaced by a new IKE SA; waiting for its deletion
    kDeleting,
    kDestroyed,
};
const char* to_string(IkeState s) noexcept;

class IkeSa;
struct Response;  // exchanges.h

/// The initiator side of one exchange: builds the request, handles the response.
class Exchange {
public:
    enum class Outcome : std::uint8_t {
        kDone,
        kResend,  ///< build and send again with the same message id (IKE_SA_INIT cookie/KE)
        /// build the exchange's next request and send it at once with the next message id
        /// (IKE_AUTH's EAP rounds, RFC 7296 §2.16), ahead of anything queued
        kNext,
        /// processing waits (IKE_AUTH holding for a revocation status, ike_auth_revocation.h):
        /// the exchange stays outstanding, unretransmitted, until IkeSa::resume_held()
        kHold,
    };

    Exchange() = default;
    Exchange(const Exchange&) = delete;
    Exchange& operator=(const Exchange&) = delete;
    Exchange(Exchange&&) = delete;
    Exchange& operator=(Exchange&&) = delete;
    virtual ~Exchange() = default;

    [[nodiscard]] virtual wire::ExchangeType type() const noexcept = 0;
    [[nodiscard]] virtual const char* name() const noexcept = 0;
    /// The request's payloads (inside SK after IKE_SA_INIT). An error abandons the exchange.
    virtual Result<std::vector<wire::Payload>> build(IkeSa& sa, Step& step) = 0;
    /// The response arrived (decrypted, structure checked).
    virtual Outcome process(IkeSa& sa, const wire::Header& h, std::vector<wire::Payload>& response,
                            Step& step) = 0;
    /// Goes on with the response that process() held (Outcome::kHold); `passed`: what the
    /// wait was for decided in favour (the peer's certificate status).
    virtual Outcome resume(IkeSa& /*sa*/, bool /*passed*/, Step& /*step*/) {
        return Outcome::kDone;
    }
    /// No response came, or the IKE SA is going away.
    virtual void abort(IkeSa& sa, Step& step);
    /// The Child SA configuration this exchange would bring up (IKE_AUTH's first child, a new
    /// Child SA), to be restored if the IKE SA dies first (heal.cc).
    [[nodiscard]] virtual const ChildConfig* wanted_child() const {
        const auto c = creates();
        return c && c->second == ResourceId::none() ? c->first : nullptr;
    }
    /// A new Child SA of this config for this resource, if that is what the exchange makes
    /// (RFC 9611: one request per resource at a time).
    [[nodiscard]] virtual std::optional<std::pair<const ChildConfig*, ResourceId>> creates() const {
        return std::nullopt;
    }
};
using ExchangePtr = std::unique_ptr<Exchange>;

/// Keys and algorithms of an IKE SA once IKE_SA_INIT (or a rekey) established them.
struct IkeCrypto {
    IkeAlgorithms algorithms;
    crypto::Prf prf;
    SkCipher out;  ///< SK_ei/SK_ai for the original initiator, SK_er/SK_ar otherwise
    SkCipher in;
    SecretBytes sk_d;
    SecretBytes sk_pi;
    SecretBytes sk_pr;
};

/// Why an IKE SA ended, for what happens next (heal.cc: dpd_action, close_action,
/// keyingtries).
enum class EndCause : std::uint8_t {
    kLocal,       ///< by us: an operator, a rekey, shutdown, a failure of ours
    kDead,        ///< the peer stopped answering (a request's retransmissions timed out)
    kPeerClosed,  ///< the peer deleted it
    kReplaced,    ///< the peer came back (INITIAL_CONTACT): its new IKE SA replaces this one
};
struct EndInfo {
    EndCause cause{EndCause::kLocal};
    /// Deleted to reauthenticate (break-before-make): set up again with `children`.
    bool reauth{false};
    bool was_up{false};                 ///< established (ike-up was reported)
    std::vector<std::string> children;  ///< Child SA configs it held or was creating
};

/// RFC 4555 MOBIKE state of an IKE SA (mobike.cc); an IKE rekey's product takes it over.
struct MobikeInfo {
    bool on{false};  ///< both sides sent MOBIKE_SUPPORTED in IKE_AUTH
    /// We started the IKE SA's first IKE_AUTH: the side that moves (§3.5), whoever rekeys later.
    bool mover{false};
    /// §3.5's pending_update: our endpoints moved and the answer to the newest
    /// UPDATE_SA_ADDRESSES has not come yet.
    bool pending{false};
    std::uint32_t generation{0};  ///< counts our moves: answers to older updates are ignored
    /// The peer's ADDITIONAL_IP4/6_ADDRESS as last announced (§3.4, §3.6); empty after
    /// NO_ADDITIONAL_ADDRESSES.
    std::vector<IpAddress> peer_addresses;
    /// Responder: the message id of the newest UPDATE_SA_ADDRESSES carried out (§3.5).
    std::optional<std::uint32_t> newest_update;
};

class IkeSa {
public:
    IkeSa(Services& services, SaRegistry& registry, std::uint32_t id, bool initiator,
          Endpoint local, Endpoint remote);
    IkeSa(const IkeSa&) = delete;
    IkeSa& operator=(const IkeSa&) = delete;
    IkeSa(IkeSa&&) = delete;
    IkeSa& operator=(IkeSa&&) = delete;
    ~IkeSa();

    // --- identity and state ---
    [[nodiscard]] std::uint32_t id() const noexcept { return id_; }
    /// strongSwan's "name[id]" for log lines, e.g. "t[1]".
    [[nodiscard]] std::string label() const;
    [[nodiscard]] bool is_original_initiator() const noexcept { return initiator_; }
    [[nodiscard]] IkeSpi spi_i() const noexcept { return spi_i_; }
    [[nodiscard]] IkeSpi spi_r() const noexcept { return spi_r_; }
    /// The SPI this side chose (how the manager finds the SA).
    [[nodiscard]] IkeSpi own_spi() const noexcept { return initiator_ ? spi_i_ : spi_r_; }
    void set_spis(IkeSpi i, IkeSpi r) noexcept;
    [[nodiscard]] IkeState state() const noexcept { return state_; }
    /// IKE_SA_INIT or IKE_AUTH still under way (or not started).
    [[nodiscard]] bool before_authentication() const noexcept {
        return state_ == IkeState::kCreated || state_ == IkeState::kConnecting;
    }
    /// The one place state changes, along the lifecycle's table (ike_sa.cc): logs OLD => NEW;
    /// a change the table does not allow is refused, counted and logged as a bug.
    void transition(IkeState to, const char* reason);
    [[nodiscard]] const PeerConfig* config() const noexcept { return config_.get(); }
    /// The connection, shared: the SA keeps it alive across reloads.
    [[nodiscard]] const ConfigPtr& config_ptr() const noexcept { return config_; }
    void set_config(ConfigPtr c);
    /// Keeps `c` alive as long as this SA: a child config of a newer load of the connection is
    /// used for Child SAs of this SA (which was made with an older one).
    void hold_config(ConfigPtr c);
    [[nodiscard]] const Endpoint& local() const noexcept { return local_; }
    [[nodiscard]] const Endpoint& remote() const noexcept { return remote_; }
    void set_endpoints(Endpoint local, Endpoint remote);
    [[nodiscard]] Services& services() noexcept { return services_; }
    [[nodiscard]] const Services& services() const noexcept { return services_; }
    [[nodiscard]] SaRegistry& registry() noexcept { return registry_; }
    [[nodiscard]] TimePoint established_at() const noexcept { return established_at_; }
    /// When the peer was last authenticated (IKE_AUTH; an IKE rekey's product keeps its
    /// predecessor's).
    [[nodiscard]] TimePoint authenticated_at() const noexcept { return authenticated_at_; }

    // --- NAT traversal (RFC 7296 §2.23) ---
    [[nodiscard]] bool nat_here() const noexcept { return nat_here_; }
    [[nodiscard]] bool nat_there() const noexcept { return nat_there_; }
    void set_nat(bool here, bool there) noexcept;
    /// UDP-encapsulate ESP: a NAT on either side, or forced by configuration.
    [[nodiscard]] bool udp_encap() const noexcept;

    // --- MOBIKE (RFC 4555; mobike.cc) ---
    [[nodiscard]] MobikeInfo& mobike() noexcept { return mobike_; }
    [[nodiscard]] const MobikeInfo& mobike() const noexcept { return mobike_; }
    /// The outer endpoints and message id of the request being answered (a responder's view of
    /// the path it came by: UPDATE_SA_ADDRESSES takes them).
    [[nodiscard]] const Endpoint& request_local() const noexcept { return request_from_[0]; }
    [[nodiscard]] const Endpoint& request_remote() const noexcept { return request_from_[1]; }
    [[nodiscard]] std::uint32_t request_mid() const noexcept { return request_mid_; }

    // --- negotiated facts ---
    /// Keys and algorithms once IKE_SA_INIT (or the rekey that made this SA) derived them.
    [[nodiscard]] const std::optional<IkeCrypto>& crypto() const noexcept { return crypto_; }
    /// The peer's SET_WINDOW_SIZE (RFC 7296 §2.3), 1 without one.
    [[nodiscard]] std::uint32_t peer_window() const noexcept { return peer_window_; }
    void set_peer_window(std::uint32_t w) noexcept { peer_window_ = w; }
    /// The peer announced IKEV2_FRAGMENTATION_SUPPORTED (RFC 7383 §2.3).
    [[nodiscard]] bool peer_fragmentation() const noexcept { return peer_fragmentation_; }
    void set_peer_fragmentation(bool on) noexcept { peer_fragmentation_ = on; }
    [[nodiscard]] const Identity& local_id() const noexcept { return local_id_; }
    void set_local_id(Identity id);
    [[nodiscard]] const Identity& remote_id() const noexcept { return remote_id_; }
    void set_remote_id(Identity id);
    /// The identity the peer's EAP authentication proved (empty: no EAP; list-sas'
    /// remote-eap-id).
    [[nodiscard]] const std::string& remote_eap_id() const noexcept { return remote_eap_id_; }
    void set_remote_eap_id(std::string id) { remote_eap_id_ = std::move(id); }
    /// An IKE rekey's product takes over what `old` learned of the peer: NAT state,
    /// capabilities, window and both identities.
    void inherit_peer(const IkeSa& old);

    // --- state of exchanges (exchange_state.h) ---
    /// What IKE_SA_INIT left for IKE_AUTH (made on first use).
    Handshake& handshake() { return states_.get<Handshake>(); }
    /// Authentication has ended: the nonces, messages and key exchange of the handshake go,
    /// and SK_pi/SK_pr (only AUTH uses them, RFC 7296 §2.15).
    void end_handshake() noexcept;
    /// Whether anything only authentication needs is still held (tests).
    [[nodiscard]] bool holds_handshake() const noexcept;
    /// The state each exchange keeps on this SA, by kind.
    ExchangeStates& states() noexcept { return states_; }
    [[nodiscard]] const ExchangeStates& states() const noexcept { return states_; }

    /// Installs keys derived for this SA.
    Status set_crypto(const IkeAlgorithms& algorithms, crypto::IkeKeys&& keys);
    /// RFC 8784: exchanges SK_d, SK_pi and SK_pr with `keys` (to the PPK ones, or back).
    void swap_ppk_keys(crypto::PpkKeys& keys) noexcept;
    /// RFC 8784: IKE_AUTH mixed a post-quantum preshared key into SK_d (list-sas, tests).
    [[nodiscard]] bool uses_ppk() const noexcept { return uses_ppk_; }
    void set_uses_ppk(bool on) noexcept { uses_ppk_ = on; }
    /// A fresh nonce (32 bytes: at least half the PRF key, RFC 7296 §2.10).
    Bytes make_nonce();
    /// A key exchange for `group` (deterministic if the services ask for it).
    Result<crypto::KeyExchangePtr> make_ke(std::uint16_t group);

    // --- inputs ---
    /// A parsed message for this SA (`raw` is its datagram, marker stripped).
    void on_message(const wire::Message& m, ByteView raw, const Endpoint& local,
                    const Endpoint& remote, Step& step);
    void on_timer(TimerKind kind, std::uint32_t arg, Step& step);

    // --- operations (queue exchanges) ---
    /// Original initiator: IKE_SA_INIT then IKE_AUTH with `first_child` (may be null).
    void start(ConfigPtr config, const ChildConfig* first_child, ResourceId resource, Step& step);
    /// A new Child SA with CREATE_CHILD_SA (or, still connecting, after IKE_AUTH).
    void create_child(const ChildConfig& child, ResourceId resource, Step& step);
    void rekey_child(std::uint32_t child_id, Step& step);
    void delete_child(std::uint32_t child_id, Step& step);
    void rekey(Step& step);
    void delete_ike(const char* reason, Step& step);
    /// Forgets the SA at once (no message): children uninstalled, timers cancelled, event.
    void destroy(const char* reason, Step& step);
    /// destroy() with the cause recorded for what happens next (end()).
    void destroy(const char* reason, EndCause cause, Step& step) {
        end_.cause = cause;
        destroy(reason, step);
    }
    /// How it ended (valid once destroyed).
    [[nodiscard]] const EndInfo& end() const noexcept { return end_; }
    /// Deleting it to reauthenticate (break-before-make): what to set up again afterwards.
    void mark_reauth(std::vector<std::string> children) {
        end_.reauth = true;
        end_.children = std::move(children);
    }
    void queue(ExchangePtr ex, Step& step);
    /// Puts an exchange first in the queue, not sent yet (IKE_INTERMEDIATE before IKE_AUTH).
    void queue_first(ExchangePtr ex);
    /// Queues an exchange after a delay (RFC 7296 §2.25: retry after TEMPORARY_FAILURE).
    void queue_later(ExchangePtr ex, Duration delay, Step& step);
    /// Sends the response held back for the request answered `deferred` (see Response), as
    /// on_request() would have; nothing if none is held back.
    void answer_deferred(Response&& response, Step& step);
    /// Initiator: goes on with the response whose processing an exchange held
    /// (Exchange::Outcome::kHold); nothing if none is held.
    void resume_held(bool passed, Step& step);
    /// Responder of IKE_SA_INIT: the response that was sent (cached for retransmits).
    void record_init_response(Bytes message);

    // --- Child SAs ---
    [[nodiscard]] const std::vector<std::unique_ptr<ChildSa>>& children() const noexcept {
        return children_;
    }
    ChildSa* child(std::uint32_t id) noexcept;
    [[nodiscard]] const ChildSa* child(std::uint32_t id) const noexcept;
    ChildSa* child_by_spi_in(Spi spi) noexcept;
    ChildSa* child_by_spi_out(Spi spi) noexcept;
    ChildSa& add_child(std::unique_ptr<ChildSa> c);
    /// Hands the Child SAs to another IKE SA (IKE rekey, RFC 7296 §2.8).
    void move_children_to(IkeSa& other, Step& step);
    /// Hands the exchanges not yet sent to another IKE SA (IKE rekey).
    void move_queue_to(IkeSa& other, Step& step);
    /// Installs both directions and the policies; arms lifetimes; emits child-up.
    /// `we_initiated`: this side started the exchange that keyed it (RFC 7296 §2.17 order).
    void install_child(ChildSa& c, crypto::ChildKeys&& keys, bool we_initiated, Step& step);
    /// Uninstalls and forgets one Child SA (event child-down unless `quiet`).
    /// `how`: who deleted it (RFC 9611: who re-creates a lost fallback).
    void remove_child(std::uint32_t id, const char* reason, Step& step, bool quiet = false,
                      Removal how = Removal::kLocal);
    /// Uninstalls just the outbound SA (simultaneous deletes, RFC 7296 §1.4.1).
    void remove_outbound(ChildSa& c, Step& step);
    /// Keeps the outbound SA that install_child() just commanded for Child SA `c` back until
    /// the SA `c` replaces is removed (remove_child() then installs it first).
    void hold_outbound(ChildSa& c, Step& step);
    /// Installs the held-back outbound SA of the Child SA that replaced `c`, if any.
    void release_successor(const ChildSa& c, Step& step);
    /// Arms the rekey and expire timers of an installed Child SA.
    void arm_child_lifetimes(const ChildSa& c, Step& step);

    // --- messaging ---
    /// Sends (or, with the window full, keeps) queued requests.
    void process_queue(Step& step);
    /// Whether a new Child SA of `config` for `resource` is queued or under way.
    [[nodiscard]] bool creating(const ChildConfig& config, ResourceId resource) const noexcept;
    /// Whether such a request is sent and not answered yet (not merely queued).
    [[nodiscard]] bool requesting(const ChildConfig& config, ResourceId resource) const noexcept;
    /// The Child SAs that count against `max_child_sas`: those neither replaced by a rekey
    /// nor being deleted, plus the new ones requested and not answered yet, plus (with
    /// `with_queued`) those queued or waiting to be retried.
    [[nodiscard]] std::size_t child_sas_counted(bool with_queued) const noexcept;
    /// Whether one more Child SA would go beyond `max_child_sas` (see child_sas_counted()).
    [[nodiscard]] bool at_child_limit(bool with_queued) const noexcept;
    /// The SA is being deleted or destroyed (nothing new should start on it).
    [[nodiscard]] bool closing() const noexcept {
        return destroying_ || state_ == IkeState::kDeleting || state_ == IkeState::kDestroyed;
    }
    /// Whether an exchange of this kind is queued and not sent yet.
    [[nodiscard]] bool queued(std::string_view exchange_name) const noexcept;
    /// Whether an exchange of this kind is outstanding or queued.
    [[nodiscard]] bool busy_with(const char* exchange_name) const noexcept;
    [[nodiscard]] std::size_t outstanding() const noexcept { return outstanding_.size(); }
    /// Whether a request of this exchange is sent and unanswered.
    [[nodiscard]] bool busy_with_outstanding(std::string_view exchange_name) const noexcept;
    /// Whether we are creating, rekeying or deleting a Child SA right now (RFC 7296 §2.25.1).
    [[nodiscard]] bool child_exchange_outstanding() const noexcept;
    /// Arms (or re-arms) the IKE SA lifetime timers after establishment.
    void arm_ike_lifetimes(Step& step);
    /// A reauthentication that did not complete: try again after `after` (the hard end, at
    /// over_time after the first due time, stays).
    void retry_reauth(Duration after, Step& step);
    /// No exchange queued, under way or waiting to be retried.
    [[nodiscard]] bool idle() const noexcept {
        return outstanding_.empty() && queue_.empty() && delayed_.empty();
    }
    /// Marks the SA established and starts its timers; `announce`: it is up now (event
    /// ike-up). A rekeyed SA is not announced: it takes over its predecessor's "up".
    void established(Step& step, bool announce = true);
    /// Records inbound activity (DPD).
    void touch(TimePoint now) noexcept { last_inbound_ = now; }
    /// Whether ike-up was reported (and so ike-down will be); a rekeyed SA hands it over.
    [[nodiscard]] bool up() const noexcept { return up_; }
    void set_up(bool v) noexcept { up_ = v; }

    /// Emits an event.
    void emit(Step& step, EventKind kind, std::uint32_t child_id = 0, std::uint32_t new_id = 0,
              std::string reason = {}) const;

private:
    struct Pending {
        ExchangePtr exchange;
        std::vector<Bytes> datagrams;
        std::uint32_t tries{0};
    };
    struct Reassembly {
        std::uint16_t total{0};
        wire::PayloadType first{wire::PayloadType::kNone};
        std::map<std::uint16_t, Bytes> parts;
        Bytes first_fragment;  ///< IKE_INTERMEDIATE: fragment 1 as received (RFC 9242 IntAuth)
    };
    struct CachedResponse {
        std::vector<Bytes> datagrams;
    };

    void send_request(ExchangePtr ex, Step& step);
    /// Builds the same exchange again under its message id (IKE_SA_INIT with a cookie).
    void resend(std::uint32_t mid, Pending& p, Step& step);
    /// The protected datagrams of a request; nothing (logged) if it cannot be built.
    std::optional<std::vector<Bytes>> build_request(Exchange& ex, std::uint32_t mid, Step& step);
    void transmit(const std::vector<Bytes>& datagrams, Step& step);
    void transmit_to(const std::vector<Bytes>& datagrams, const Endpoint& local,
                     const Endpoint& remote, Step& step);
    /// `from`: the local and remote endpoints the message came through.
    void on_response(const wire::Message& m, ByteView raw, const Endpoint (&from)[2], Step& step);
    /// After Exchange::process() or resume() of the exchange outstanding under `mid`.
    void after_process(std::uint32_t mid, Exchange::Outcome outcome, Step& step);
    void on_request(const wire::Message& m, ByteView raw, const Endpoint (&from)[2], Step& step);
    /// Protects, sends and caches the response to request `mid`; ends the SA if it is fatal.
    void send_response(wire::ExchangeType exchange, std::uint32_t mid, Response&& response,
                       Step& step);
    /// unprotect(), and for an authentic message: activity noted (DPD), the peer followed.
    std::optional<Result<std::vector<wire::Payload>>> open_authentic(const wire::Message& m,
                                                                     ByteView raw,
                                                                     const Endpoint (&from)[2],
                                                                     Step& step);
    /// Moves to the endpoints of an authenticated message when a NAT is in the way.
    void follow_peer(const Endpoint (&from)[2], wire::ExchangeType exchange);
    void retransmit(std::uint32_t mid, Step& step);
    /// Payloads of a message: IKE_SA_INIT as is, else decrypted (and reassembled). Nothing
    /// while fragments are missing or for a message that does not authenticate (dropped and
    /// logged); an Error for an authentic message whose contents are malformed.
    std::optional<Result<std::vector<wire::Payload>>> unprotect(const wire::Message& m,
                                                                ByteView raw, Step& step);
    /// The datagram(s) of a message: IKE_SA_INIT in the clear, else SK (or SKF fragments).
    Result<std::vector<Bytes>> protect(const wire::Header& h,
                                       std::vector<wire::Payload>&& payloads);
    [[nodiscard]] wire::Header header_for(wire::ExchangeType type, std::uint32_t mid,
                                          bool response) const;
    void schedule_dpd(Step& step);
    /// Records in end_ the Child SA configs held or being created (destroy()).
    void note_wanted_children();
    /// The number of requests we accept at once (our SET_WINDOW_SIZE, RFC 7296 §2.3).
    [[nodiscard]] std::uint32_t own_window() const noexcept;

    Services& services_;
    SaRegistry& registry_;
    IkeSpi spi_i_;
    IkeSpi spi_r_;
    ConfigPtr config_;
    std::optional<IkeCrypto> crypto_;
    std::uint32_t peer_window_{1};
    bool peer_fragmentation_{false};
    bool uses_ppk_{false};  ///< RFC 8784
    MobikeInfo mobike_;
    Endpoint request_from_[2];
    std::uint32_t request_mid_{0};
    Identity local_id_;
    Identity remote_id_;
    std::string remote_eap_id_;
    std::vector<ConfigPtr> held_configs_;
    Endpoint local_;
    Endpoint remote_;
    TimePoint established_at_{};
    TimePoint authenticated_at_{};
    TimePoint reauth_at_{};  ///< when reauthentication is due (reauth_time; kept by rekeys)
    TimePoint last_inbound_{};
    std::map<std::uint32_t, Pending> outstanding_;
    std::vector<ExchangePtr> queue_;  // FIFO of a few (a deque allocates 576 bytes when empty)
    std::vector<std::pair<TimePoint, ExchangePtr>> delayed_;
    std::map<std::uint32_t, CachedResponse> responses_;  // the last `window` answered requests
    std::map<std::uint32_t, Reassembly> reassembly_;     // per message id and direction
    std::vector<std::unique_ptr<ChildSa>> children_;
    ExchangeStates states_;
    EndInfo end_;
    std::uint32_t id_;
    std::uint32_t next_mid_{0};      // our next request's message id
    std::string build_error_;        // why the last request could not be built (for logs)
    std::uint32_t expected_mid_{0};  // the lowest message id of the peer's not yet answered
    struct Deferred {
        std::uint32_t mid{0};
        wire::ExchangeType exchange{wire::ExchangeType::kIkeAuth};
        Endpoint local;  ///< the path the request came by (the response goes back on it)
        Endpoint remote;
        bool revocation{false};  ///< waits for a revocation status (not the AAA backend)
    };
    std::optional<Deferred> deferred_;       // a request whose response waits (answer_deferred())
    std::optional<std::uint32_t> held_mid_;  // our request whose response's processing waits
    IkeState state_{IkeState::kCreated};
    bool initiator_;
    bool nat_here_{false};
    bool nat_there_{false};
    bool up_{false};
    bool destroying_{false};
};

/// strongSwan-style log line for an IKE SA: "[IKE] t[1] message". The message is formatted
/// only when the line is written.
#define IKE_LOG(level, sa, ...)                                                           \
    do {                                                                                  \
        if (::ikeplex::log::would_log(::ikeplex::log::levels::level,                      \
                                      ::ikeplex::log::Subsystem::kIke)) {                 \
            ::ikeplex::log::level(::ikeplex::log::Subsystem::kIke, "{} {}", (sa).label(), \
                                  fmt::format(__VA_ARGS__));                              \
        }                                                                                 \
    } while (false)

}  // namespace ikeplex::ike
