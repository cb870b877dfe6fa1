// EAP-RADIUS in the daemon (strongSwan's eap-radius as a NAS): connects the engine's AAA seam
// (ike/eap_backend.h) to the RADIUS client, and reports IKE SAs to RADIUS accounting.
//
// - Each EapBackendQuery becomes one Access-Request (User-Name = the EAP identity, the EAP
//   packet, the State of the last Access-Challenge of that IKE SA echoed, the IKE endpoints as
//   NAS and Called/Calling-Station-Id); the reply goes back to the engine as the next EAP
//   request (Challenge), an accept with the MSK of the MS-MPPE keys, or a reject. A server
//   that does not answer, or a reply that cannot be used, is a reject: a (rate-limited) log
//   line and a counter, never a crash.
// - With `accounting = yes`: Accounting-Request Start when an IKE SA is established
//   (Acct-Session-Id unique per IKE SA, User-Name, Framed-IP-Address = the peer's leased
//   virtual IP, the Access-Accept's Class echoed), Stop when it goes (Acct-Session-Time,
//   Acct-Terminate-Cause; the traffic counters are sent as 0); an IKE rekey keeps the session.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <asio/io_context.hpp>

#include "config/radius_settings.h"
#include "daemon/engine_host.h"
#include "daemon/radius_client.h"
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

    struct Token {
        explicit Token() = default;
    };
    EapRadius(Token /*create()*/, EngineHost& host);

private:
    /// The conversation of one IKE SA: what the next round echoes.
    struct Conversation {
        Bytes state;
        std::optional<std::size_t> server;
    };
    struct Session {
        RadiusSession acct;
        std::chrono::steady_clock::time_point start;
    };

    void on_queries(std::vector<ike::EapBackendQuery> queries);
    void on_reply(std::uint32_t ike_id, std::uint32_t seq, Result<RadiusAuthReply> reply);
    void answer(std::uint32_t ike_id, std::uint32_t seq, ike::EapBackendAnswer a);
    void on_event(const ike::Event& e);
    void start_session(std::uint32_t ike_id);
    void stop_session(std::uint32_t ike_id, const std::string& reason);
    /// A warning at most once a second; the others are counted into the next one.
    void warn(const std::string& what);

    EngineHost& host_;
    OsRandom random_;
    std::unique_ptr<RadiusClient> client_;
    int listener_{0};
    std::map<std::uint32_t, Conversation> conversations_;
    std::map<std::uint32_t, Session> sessions_;
    /// Class attributes of an Access-Accept, echoed in the IKE SA's accounting (RFC 2865 §5.25).
    std::map<std::uint32_t, std::vector<Bytes>> classes_;
    std::uint64_t next_session_{1};
    std::int64_t epoch_unix_;  ///< makes Acct-Session-Ids unique across restarts
    EapRadiusCounters counters_;
    std::chrono::steady_clock::time_point last_warning_{};
    std::uint64_t suppressed_{0};
    std::shared_ptr<int> life_ = std::make_shared<int>(0);  ///< callbacks hold a weak_ptr
};

}  // namespace ikeplex::daemon
