// The RADIUS client of ikeplexd (strongSwan's eap-radius as a NAS): EAP pass-through in
// Access-Request / Access-Challenge rounds (RFC 3579) and accounting (RFC 2866), on the
// daemon's Asio control thread. Packets and their security are the radius layer's.
//
// - Servers (ikeplexd.conf `plugins { eap-radius { servers { ... } } }`) are tried by
//   preference; one that did not answer is tried after the others until it answers again.
// - A request is sent, then retransmitted (same identifier, same bytes) after
//   retransmit_timeout, then each further wait retransmit_base times longer, retransmit_tries
//   times (strongSwan's defaults: 2 s, 1.4, 4); then the next server gets it, with a new
//   identifier. A conversation that holds a State stays on the server that gave it.
// - Each server has one connected UDP socket for authentication and one for accounting; each
//   socket has its own 256 identifiers: a request beyond 256 outstanding waits for one.
// - Replies are authenticated (Response Authenticator; Message-Authenticator required on
//   Access-Accept/Reject/Challenge); anything else is dropped and counted, and the request
//   keeps waiting for a valid reply.
//
// Callbacks run on the control thread, never from inside authenticate() / account(). When the
// client is destroyed, pending requests end without a callback.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <asio/io_context.hpp>

#include "config/radius_settings.h"
#include "radius/radius.h"
#include "util/bytes.h"
#include "util/ip_address.h"
#include "util/random.h"
#include "util/result.h"
#include "util/secret_bytes.h"

namespace ikeplex::daemon {

struct RadiusCounters {
    std::uint64_t requests{0};     ///< requests handed to the client
    std::uint64_t sent{0};         ///< datagrams sent, retransmits included
    std::uint64_t retransmits{0};  ///< datagrams sent again to the same server
    std::uint64_t failovers{0};    ///< requests moved to the next server
    std::uint64_t replies{0};      ///< valid replies
    std::uint64_t dropped{0};      ///< replies that failed a check (authenticators, lengths, codes)
    std::uint64_t timeouts{0};     ///< requests no server answered
    std::uint64_t queued{0};       ///< requests that waited for a free identifier
};

/// One round of EAP pass-through.
struct RadiusAuthRequest {
    Bytes eap;         ///< the peer's EAP packet as received (empty: EAP-Start)
    Bytes state;       ///< the State of the last Access-Challenge (empty in the first round)
    std::string user;  ///< User-Name: the peer's EAP identity
    /// The server of the last round (RadiusAuthReply::server): a State binds to it.
    std::optional<std::size_t> server;
    Endpoint nas;               ///< our IKE endpoint: NAS-IP-Address, Called-Station-Id
    Endpoint peer;              ///< the peer's: Calling-Station-Id
    std::uint32_t nas_port{0};  ///< NAS-Port (strongSwan: the IKE SA's unique id)
    std::string nas_port_id;    ///< NAS-Port-Id (strongSwan: the connection's name)
};

struct RadiusAuthReply {
    radius::Code code{radius::Code::kAccessReject};
    Bytes eap;    ///< the joined EAP-Message (Challenge: the next request; may be empty otherwise)
    Bytes state;  ///< echo it in the next round
    /// Access-Accept: MS-MPPE-Recv-Key | MS-MPPE-Send-Key; empty when the server sent none.
    SecretBytes msk;
    std::optional<IpAddress> framed_ip;
    std::optional<std::uint32_t> session_timeout;
    std::vector<Bytes> classes;  ///< Class attributes, echoed in accounting (RFC 2865 §5.25)
    std::optional<std::uint32_t> interim_interval;  ///< Acct-Interim-Interval (seconds)
    std::size_t server{0};
    std::string server_name;
};

/// What accounting reports about one IKE SA (RFC 2866 §5).
struct RadiusSession {
    std::string session_id;  ///< Acct-Session-Id
    std::string user;
    std::optional<IpAddress> framed_ip;
    Endpoint nas;
    Endpoint peer;
    std::uint32_t nas_port{0};
    /// From the peer (inbound SAs); Gigawords carry the high 32 bits, sent when not 0 (as
    /// strongSwan's eap-radius).
    std::uint64_t input_octets{0};
    std::uint64_t output_octets{0};
    std::uint64_t input_packets{0};
    std::uint64_t output_packets{0};
    std::uint32_t session_time{0};     ///< seconds
    std::uint32_t terminate_cause{0};  ///< Stop: RFC 2866 §5.10 (0: not sent)
    std::vector<Bytes> classes;
};

class RadiusClient {
public:
    using AuthCallback = std::function<void(Result<RadiusAuthReply>)>;
    using AcctCallback = std::function<void(Status)>;

    /// Opens the sockets (kSystem when one cannot be opened). `random` makes the Request
    /// Authenticators and first identifiers and must outlive the client.
    static Result<std::unique_ptr<RadiusClient>> create(asio::io_context& io,
                                                        config::RadiusSettings settings,
                                                        Random& random);
    ~RadiusClient();  // NOLINT(bugprone-exception-escape): see radius_client.cc
    RadiusClient(const RadiusClient&) = delete;
    RadiusClient& operator=(const RadiusClient&) = delete;
    RadiusClient(RadiusClient&&) = delete;
    RadiusClient& operator=(RadiusClient&&) = delete;

    /// Sends one Access-Request with `r.eap`; the callback gets the Access-Accept, -Reject or
    /// -Challenge, or an error when no server answered (kSystem) or the accepted reply is
    /// unusable (an MS-MPPE key that does not decrypt, a Challenge without EAP-Message).
    void authenticate(RadiusAuthRequest r, AuthCallback done);
    /// An Accounting-Request (Start, Stop or Interim-Update) with its own retransmissions; the
    /// callback (optional) hears of the Accounting-Response or of the timeout. Nothing is sent
    /// while `accounting = no` (the callback gets ok()).
    void account(radius::AcctStatus status, const RadiusSession& s, AcctCallback done = {});

    [[nodiscard]] const RadiusCounters& counters() const noexcept { return counters_; }
    [[nodiscard]] const config::RadiusSettings& settings() const noexcept { return settings_; }
    /// Requests that have not ended yet (sent, or waiting for an identifier).
    [[nodiscard]] std::size_t pending() const noexcept;

    struct Token {
        explicit Token() = default;
    };
    RadiusClient(Token /*create()*/, asio::io_context& io, config::RadiusSettings settings,
                 Random& random);

private:
    struct Socket;
    struct Server;
    struct Transaction;

    Status open();
    void start(std::shared_ptr<Transaction> t);
    void send_to(std::shared_ptr<Transaction> t, std::size_t server);
    void transmit(Transaction& t);
    void arm_timer(const std::shared_ptr<Transaction>& t);
    void on_timeout(const std::shared_ptr<Transaction>& t);
    void release(Transaction& t);
    void finish(const std::shared_ptr<Transaction>& t, Result<radius::Packet> reply);
    void arm_read(Socket& s);
    void drain(Socket& s);
    void on_datagram(Socket& s, ByteView data);
    [[nodiscard]] std::vector<std::size_t> server_order() const;

    asio::io_context& io_;
    config::RadiusSettings settings_;
    Random& random_;
    std::vector<std::unique_ptr<Server>> servers_;
    RadiusCounters counters_;
    std::shared_ptr<int> life_ = std::make_shared<int>(0);  ///< handlers hold a weak_ptr
};

/// The Access-Request attributes of one round, in strongSwan's order (User-Name,
/// NAS-Port-Type Virtual, Service-Type Framed, NAS-Port, NAS-Port-Id, NAS-IP(v6)-Address,
/// Called- and Calling-Station-Id as "ip[port]", EAP-Message, NAS-Identifier, State); the
/// Message-Authenticator is added when the request is sealed.
radius::Packet build_access_request(const RadiusAuthRequest& r, const std::string& nas_identifier);
/// An Accounting-Request's attributes.
radius::Packet build_accounting_request(radius::AcctStatus status, const RadiusSession& s,
                                        const std::string& nas_identifier);
/// The facts of an authenticated Access-Accept/Reject/Challenge (MSK from the MPPE keys).
Result<RadiusAuthReply> read_auth_reply(const radius::Packet& reply,
                                        const radius::Authenticator& request_auth, ByteView secret);

}  // namespace ikeplex::daemon
