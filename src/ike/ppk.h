// RFC 8784 post-quantum preshared keys (PPK), internal to IKE_SA_INIT and IKE_AUTH: USE_PPK
// in IKE_SA_INIT both ways; in the IKE_AUTH request with AUTH the initiator's PPK_IDENTITY
// (type PPK_ID_FIXED, as strongSwan sends it) and, when the PPK is optional, NO_PPK_AUTH with
// the AUTH data computed without it; the responder's empty PPK_IDENTITY when it used the PPK.
// With a PPK, SK_d, SK_pi and SK_pr become prf+(PPK, SK_x) (crypto::derive_ppk_keys) before
// AUTH is computed; later Child SAs and IKE rekeys use that SK_d. Only the first
// authentication round with an AUTH payload of ours uses it (EAP first rounds: not supported).
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "crypto/keymat.h"
#include "ike/ike_sa.h"
#include "wire/payloads.h"

namespace ikeplex::ike::ppk {

/// Initiator, IKE_SA_INIT: whether connection `cfg` asks for a PPK (sends USE_PPK).
bool wanted(const PeerConfig& cfg);
/// Responder, IKE_SA_INIT: whether to answer the peer's USE_PPK with ours (we have PPKs).
bool offered(const Credentials& creds, std::span<const wire::Payload> request);

/// The initiator's side across IKE_AUTH.
class Initiator {
public:
    /// Before the first AUTH: picks the PPK for the connection (RFC 8784 §3). With one, the
    /// SA's SK_d/SK_pi/SK_pr become the PPK ones; before that, if the PPK is optional,
    /// `auth_without_ppk` gives the AUTH data over the original keys for NO_PPK_AUTH. An
    /// error if the connection requires a PPK that cannot be used.
    Status before_auth(IkeSa& sa, const std::function<Result<Bytes>()>& auth_without_ppk);
    /// The PPK_IDENTITY and NO_PPK_AUTH notifies for the request with AUTH.
    void append(std::vector<wire::Payload>& out) const;
    /// The response: whether authentication can go on (the responder used the PPK, or it is
    /// optional and the SA falls back to the keys without it).
    bool on_response(IkeSa& sa, std::span<const wire::Payload> resp);

private:
    bool decided_{false};
    bool sent_{false};
    Bytes ppk_id_;
    Bytes no_ppk_auth_;
    crypto::PpkKeys original_;
};

/// What the responder does with the initiator's request (RFC 8784 §3, Table 1).
struct ResponderChoice {
    bool used{false};  ///< a PPK is used: the SA's keys are the PPK ones now
    /// The initiator's authentication data to check instead of AUTH's (NO_PPK_AUTH).
    std::optional<wire::AuthPayload> no_ppk_auth;
};
/// Responder, once the connection is chosen by identity: decides per Table 1 and, with a PPK,
/// switches the SA's keys. An error means AUTHENTICATION_FAILED.
Result<ResponderChoice> respond(IkeSa& sa, const PeerConfig& cfg,
                                std::span<const wire::Payload> request,
                                const wire::AuthPayload& auth, const Step& step);
/// The responder's PPK_IDENTITY (no data) when it used the PPK.
void append_response(const ResponderChoice& c, std::vector<wire::Payload>& out);

}  // namespace ikeplex::ike::ppk
