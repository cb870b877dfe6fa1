// EAP-RADIUS in the daemon (strongSwan's eap-radius as a NAS): connects the engine's AAA seam
// (ike/eap_backend.h) to the RADIUS client, and reports IKE SAs to RADIUS accounting.
//
// - Each EapBackendQuery becomes one Access-Request (User-Name = the EAP identity, the EAP
//   packet, the State of the last Access-Challenge of that IKE SA echoed, the IKE endpoints as
//   NAS and Called/Calling-Station-Id); the reply goes back to the engine as the next EAP
//   request (Challenge), an accept with the MSK of the MS-MPPE keys, or a reject. A server
//   that does not answer, or a reply that cannot be used, is a reject: a (rate-limited) log
//   line and a counter, never a crash.
// - An Access-Accept's Framed-IP-Address goes to the engine with the accept (the peer's
//   virtual IP when the connection's pools name `radius`).
// - With `accounting = yes` (eap_radius_accounting.cc): Accounting-Request Start when an IKE
//   SA is established (Acct-Session-Id unique per IKE SA, User-Name, Framed-IP-Address = the
//   peer's virtual IP, the Access-Accept's Class echoed), Interim-Update every
//   Acct-Interim-Interval of the Access-Accept or else `accounting_interval`, Stop when it
//   goes (Acct-Session-Time, Acct-Terminate-Cause). Octets and packets are the backend's
//   counters of the IKE SA's Child SAs (inbound: Input), those of deleted and rekeyed Child
//   SAs included (read just before the backend deletes them). An IKE rekey keeps the session
//   and its schedule; a rekey sends no Interim-Update (neither does strongSwan's).
// - reconfigure() (SIGHUP, reload-settings): new conversations use the new servers; a
//   conversation in flight finishes on the client it started on, which is freed once idle.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "config/radius_settings.h"
#include "daemon/engine_host.h"
#include "daemon/radius_client.h"
#include "ike/backend_commands.h"
#include "ike/eap_backend.h"
#include "util/random.h"
#include "util/result.h"

namespace ikeplex::daemon {

struct EapRadiusCounters {
    std::uint64_t queries{0};        ///< EAP responses passed to RADIUS
    std::uint64_t challenges{0};     ///< Access-Challenge
    std::uint64_t accepts{0};        ///< Access-Accept
    std::uint64_t rejects{0};        ///< Access-Reject
    std::uint64_t failures{0};       ///< no server answered, or an unusable reply
    std::uint64_t acct_failures{0};  ///< accounting requests no server answered
};

class EapRadius {
public:
    /// Opens the RADIUS client of `settings` (which must name servers) and takes the engine's
    /// EAP queries and IKE SA events. Keep it alive while `host` runs.
    static Result<std::unique_ptr<EapRadius>> create(asio::io_context& io, EngineHost& host,
                                                     config::RadiusSettings settings);
    ~EapRadius();
    EapRadius(const EapRadius&) = delete;
    EapRadius& operator=(const EapRadius&) = delete;
    EapRadius(EapRadius&&) = delete;
    EapRadius& operator=(EapRadius&&) = delete;

    [[nodiscard]] const EapRadiusCounters& counters() const noexcept { return counters_; }
    [[nodiscard]] const RadiusClient& client() const noexcept { return *client_; }
    /// New settings from a reload (see above); kSystem if a socket cannot be opened (the old
    /// client then stays).
    Status reconfigure(config::RadiusSettings settings);

    struct Token {
        explicit Token() = default;
    };
    EapRadius(Token /*create()*/, asio::io_context& io, EngineHost& host);

private:
    /// The conversation of one IKE SA: what the next round echoes.
    struct Conversation {
        Bytes state;
        std::optional<std::size_t> server;
        std::shared_ptr<RadiusClient> client;  ///< the one the conversation started on
    };
    /// What an Access-Accept grants beyond the MSK, kept until the IKE SA is up.
    struct Accepted {
        std::vector<Bytes> classes;  ///< echoed in accounting (RFC 2865 §5.25)
        std::optional<std::uint32_t> interim;
    };
    struct Usage {
        std::uint64_t in_octets{0};
        std::uint64_t out_octets{0};
        std::uint64_t in_packets{0};
        std::uint64_t out_packets{0};
    };
    struct Session {
        RadiusSession acct;
        std::chrono::steady_clock::time_point start;
        Usage retired;  ///< of the Child SAs already deleted
        std::unique_ptr<asio::steady_timer> interim;
        std::chrono::seconds interval{0};
    };

    void on_queries(std::vector<ike::EapBackendQuery> queries);
    void on_reply(std::uint32_t ike_id, std::uint32_t seq, Result<RadiusAuthReply> reply);
    void answer(std::uint32_t ike_id, std::uint32_t seq, ike::EapBackendAnswer a);
    void on_event(const ike::Event& e);
    void start_session(std::uint32_t ike_id);
    void stop_session(std::uint32_t ike_id, const std::string& reason);
    void send_interim(std::uint32_t ike_id);
    void arm_interim(Session& s);
    /// Notes the installed Child SAs of `ike_id` as its own (by SPI and direction).
    void track_children(std::uint32_t ike_id);
    /// Before the backend deletes SAs: their counters go to their session's `retired`.
    void on_commands(const std::vector<ike::BackendCommand>& commands);
    /// retired + the counters of the session's live SAs.
    [[nodiscard]] Usage usage(std::uint32_t ike_id, const Session& s) const;
    void account(radius::AcctStatus status, const RadiusSession& acct, const char* what);
    /// Frees a client later, outside of its own callbacks, once no request of it is pending.
    void retire(std::shared_ptr<RadiusClient> c);
    void end_conversation(std::uint32_t ike_id);
    /// A warning at most once a second; the others are counted into the next one.
    void warn(const std::string& what);

    asio::io_context& io_;
    EngineHost& host_;
    OsRandom random_;
    std::shared_ptr<RadiusClient> client_;
    /// Clients of earlier settings with requests still pending.
    std::vector<std::shared_ptr<RadiusClient>> retired_;
    int listener_{0};
    std::map<std::uint32_t, Conversation> conversations_;
    std::map<std::uint32_t, Session> sessions_;
    std::map<std::uint32_t, Accepted> accepted_;
    /// The SAs of the sessions: (SPI, inbound) -> IKE SA.
    std::map<std::pair<Spi, bool>, std::uint32_t> owners_;
    asio::steady_timer prune_timer_;  ///< frees retired clients
    bool prune_armed_{false};
    std::uint64_t next_session_{1};
    std::int64_t epoch_unix_;  ///< makes Acct-Session-Ids unique across restarts
    EapRadiusCounters counters_;
    std::chrono::steady_clock::time_point last_warning_{};
    std::uint64_t suppressed_{0};
    std::shared_ptr<int> life_ = std::make_shared<int>(0);  ///< callbacks hold a weak_ptr
};

}  // namespace ikeplex::daemon
