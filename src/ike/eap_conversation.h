// The two ends of an EAP conversation inside IKE_AUTH (RFC 7296 §2.16, RFC 3748): the server
// (we are the responder and authenticate the peer) and the peer (we are the initiator with
// `local.auth = eap[-method]`). They move EAP packets between IKE's EAP payloads and the eap
// layer's methods, answer EAP-Identity, negotiate the method (Nak), bound the rounds and
// refuse a success the method has not reached. Method-agnostic: the methods come from
// Services::eap (eap::make_server / eap::make_peer by default).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "eap/eap.h"
#include "ike/config.h"
#include "ike/services.h"
#include "wire/payloads.h"

namespace ikeplex::ike {

/// strongSwan's name of an EAP type in its log: "EAP_MD5", "EAP_IDENTITY".
std::string eap_type_name(std::uint8_t type);
/// An EAP identity a peer sent: 1..253 printable characters (no control characters, which
/// would end up in logs, list-sas and RADIUS User-Name).
bool usable_identity(ByteView data);
/// Text without control characters (an identity a method authenticated, of any length).
bool printable(std::string_view text);
/// Whether a method authenticates the server too, so that the responder may skip its own AUTH
/// (RFC 5998 §4: EAP-only authentication needs a mutual, key-generating method).
bool eap_mutual(eap::Type t);

/// Our side as the EAP peer (client).
class EapPeerSide {
public:
    struct Reply {
        enum class Kind : std::uint8_t {
            kRespond,    ///< send `response`
            kSucceeded,  ///< EAP-Success after the method finished: send AUTH
            kFailed,     ///< the IKE SA fails (`reason` says why)
        };
        Kind kind{Kind::kFailed};
        wire::EapPayload response;
        std::string reason;
    };

    /// `ike_id`: our IKE identity; `server_id`: the responder's (for the secret lookup).
    EapPeerSide(const Services& services, const PeerConfig& cfg, Identity ike_id,
                Identity server_id, std::string label);
    /// A request, Success or Failure from the server (`unix_time`: for certificates).
    Reply on_payload(const wire::EapPayload& in, std::int64_t unix_time);
    /// After kSucceeded: the method's MSK (empty for methods that make none).
    [[nodiscard]] const eap::Msk& msk() const;
    /// The method that ran (kIdentity if none did).
    [[nodiscard]] eap::Type method_type() const noexcept { return type_; }

private:
    Reply fail(std::string why);
    Reply respond(const eap::Packet& p);
    /// The method's step: its response, or a failure with its reason.
    Reply answer(const Result<eap::PeerStep>& step);
    Reply on_request(const eap::Packet& req);
    Reply start_method(const eap::Packet& req);

    const Services& services_;
    const PeerConfig& cfg_;
    Identity ike_id_;
    Identity server_id_;
    std::string label_;     ///< the IKE SA's "name[id]" for log lines
    std::string identity_;  ///< what we answer to EAP-Identity and give the method
    std::unique_ptr<eap::PeerMethod> method_;
    eap::Type type_{eap::Type::kIdentity};
    std::uint32_t rounds_{0};
    std::int64_t unix_time_{0};
};

/// Our side as the EAP server (authenticator).
class EapServerSide {
public:
    struct Reply {
        enum class Kind : std::uint8_t {
            kRequest,  ///< send `packet` (a request), wait for the response
            kSuccess,  ///< send `packet` (EAP-Success); the peer's AUTH follows
            kFailure,  ///< send `packet` (EAP-Failure) and end the IKE SA
        };
        Kind kind{Kind::kFailure};
        wire::EapPayload packet;
        std::string reason;
    };

    /// `peer_ike_id`: the peer's IKE identity; `own_id`: ours (for the secret lookup).
    EapServerSide(const Services& services, const PeerConfig& cfg, Identity peer_ike_id,
                  Identity own_id, std::uint8_t first_identifier, std::string label);
    /// The first request: EAP-Identity when `remote.eap_id = %any`, else the method's.
    Reply start(std::int64_t unix_time);
    /// The peer's response.
    Reply on_payload(const wire::EapPayload& in, std::int64_t unix_time);
    /// After kSuccess: the MSK and the identity the method authenticated.
    [[nodiscard]] const eap::Msk& msk() const;
    [[nodiscard]] const std::string& peer_identity() const noexcept { return identity_; }
    [[nodiscard]] eap::Type method_type() const noexcept { return type_; }

private:
    Reply fail(std::string why);
    Reply request(const eap::Packet& p);
    Reply start_method(eap::Type t, std::int64_t unix_time);
    Reply on_nak(const eap::Packet& nak, std::int64_t unix_time);
    /// The methods to offer, in order: the configured one, or (`auth = eap`) every one this
    /// build can serve.
    [[nodiscard]] std::vector<eap::Type> offers() const;

    const Services& services_;
    const PeerConfig& cfg_;
    Identity peer_ike_id_;
    Identity own_id_;
    std::string label_;
    std::string identity_;  ///< the peer's EAP identity
    std::unique_ptr<eap::ServerMethod> method_;
    eap::Type type_{eap::Type::kIdentity};
    std::uint8_t next_id_;
    std::uint8_t last_id_{0};  ///< identifier of the request outstanding
    /// `identity_` is what the connection requires (`remote.eap_id` not %any): a method may not
    /// authenticate another one.
    bool identity_required_{false};
    bool method_answered_{false};  ///< the method got a response (a Nak is too late)
    std::uint32_t rounds_{0};
};

}  // namespace ikeplex::ike
