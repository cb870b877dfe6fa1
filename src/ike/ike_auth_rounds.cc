// IKE_AUTH, responder: the peer's second authentication round (RFC 4739) after its certificate
// or PSK round: an EAP round, as a `remote-1 { auth = pubkey }` + `remote-2 { auth = eap-* }`
// connection asks:
//   HDR, SK {IDi, [CERT,] AUTH, N(MULTIPLE_AUTH_SUPPORTED), N(ANOTHER_AUTH_FOLLOWS),
//            SAi2, TSi, TSr}  -->          <--  HDR, SK {IDr, [CERT,] AUTH}
//   HDR, SK {IDi'}  -->                    <--  HDR, SK {EAP(Request)}
//   ... the EAP rounds (ike_auth_eap.cc) ...
//   HDR, SK {AUTH}  -->                    <--  HDR, SK {AUTH, [CP,] SAr2, TSi, TSr}
// The AUTHs after EAP are computed as RFC 7296 §2.16 says over the same IKE_SA_INIT messages
// and nonces, with the latest IDi (IDi') and IDr (RFC 4739 §2.1). The first request's SA, TS
// and CP are answered only in the last response. Connection selection (auth_config) already
// required the peer's ANOTHER_AUTH_FOLLOWS for such a connection and refused it elsewhere.
// Or a certificate or PSK round (`remote-2 { auth = pubkey }`, RFC 4739 §2.4), in one request:
//   HDR, SK {IDi', [CERT',] AUTH'}  -->    <--  HDR, SK {[CP,] SAr2, TSi, TSr}
// AUTH' is checked as the first AUTH was (RFC 7296 §2.15), over the same IKE_SA_INIT message
// and nonce with IDi'.
#include <memory>

#include "ike/exchanges.h"
#include "ike/ike_auth_common.h"
#include "ike/payload_access.h"
#include "util/log.h"
#include "wire/notify_codes.h"

namespace ikeplex::ike {

using wire::NotifyType;
using wire::Payload;
using wire::PayloadType;

namespace {

/// Between the peer's first round and its second: the first request and the IDr we sent.
struct SecondRoundDue final : ExchangeState {
    std::vector<Payload> first;
    wire::IdPayload idr;
};

Response refuse(IkeSa& sa, const char* what, Step& step) {
    PEER_LOG(sa.services().peer_log, step.now, info, log::Subsystem::kIke,
             "{} {}, sending AUTHENTICATION_FAILED", sa.label(), what);
    sa.states().drop<SecondRoundDue>();
    return Response{error_response(NotifyType::kAuthenticationFailed), true};
}

/// The peer's certificate or PSK second round passed: the final response to `first`.
Response second_round_done(IkeSa& sa, const Identity& peer, std::vector<Payload>& first,
                           Step& step) {
    IKE_LOG(info, sa, "second authentication round of '{}' as '{}' done",
            sa.remote_id().to_string(), peer.to_string());
    // The peer's identity is now the latest IDi, as strongSwan's (it sets the IKE SA's other
    // id from each round's IDi): list-sas, uniqueness and leases see the second round's.
    sa.set_remote_id(peer);
    std::vector<Payload> out;
    return complete_ike_auth(sa, first, out, step);
}

}  // namespace

Response await_second_round(IkeSa& sa, std::vector<Payload>& request, std::vector<Payload> out,
                            const wire::IdPayload& own_idr) {
    auto& st = sa.states().get<SecondRoundDue>();
    st.first = request;
    st.idr = own_idr;
    IKE_LOG(info, sa, "authentication of '{}' (round 1) done, a second round follows (RFC 4739)",
            sa.remote_id().to_string());
    return out;
}

bool second_round_due(IkeSa& sa) {
    return sa.states().find<SecondRoundDue>() != nullptr;
}

Response start_second_round(IkeSa& sa, std::vector<Payload>& request, Step& step) {
    const auto* idi = find_payload<wire::IdPayload>(request, PayloadType::kIdi);
    if (idi == nullptr) {
        return refuse(sa, "the peer skipped its announced second authentication round", step);
    }
    const PeerConfig& cfg = *sa.config();
    const auto* auth = find_payload<wire::AuthPayload>(request, PayloadType::kAuth);
    const bool eap_round = cfg.remote_more.front().kind == AuthKind::kEap;
    if (eap_round && auth != nullptr) {
        return refuse(sa,
                      "the peer's second authentication round is not the EAP round remote-2 "
                      "expects",
                      step);
    }
    if (!eap_round && auth == nullptr) {
        return refuse(sa,
                      "the peer's second authentication round has no AUTH, remote-2 expects "
                      "a certificate or key",
                      step);
    }
    const Identity peer = Identity::from_payload(*idi);
    if (!cfg.remote_more.front().id.any && !cfg.remote_more.front().id.data.empty() &&
        !cfg.remote_more.front().id.matches(peer)) {
        PEER_LOG(sa.services().peer_log, step.now, info, log::Subsystem::kIke,
                 "{} IDi '{}' of the second round does not match the expected '{}'", sa.label(),
                 peer.to_string(), cfg.remote_more.front().id.to_string());
        return refuse(sa, "second round identity mismatch", step);
    }
    // The round runs as a connection whose `remote` is remote-2; the SA keeps its own.
    auto round = std::make_shared<PeerConfig>(cfg);
    round->remote = cfg.remote_more.front();
    round->remote_more.clear();
    auto& st = *sa.states().find<SecondRoundDue>();
    std::vector<Payload> first = std::move(st.first);
    const wire::IdPayload idr = st.idr;
    sa.states().drop<SecondRoundDue>();
    if (!eap_round) {
        // remote-2's own `revocation` applies (the round's connection has it as `remote`).
        auto resume = [peer, first](IkeSa& held, bool passed, Step& s) mutable {
            held.answer_deferred(passed ? second_round_done(held, peer, first, s)
                                        : refuse(held, "the second authentication round failed", s),
                                 s);
        };
        switch (auth::verify_auth(sa, *round, *idi, *auth, request, step, std::move(resume))) {
            case RevocationVerdict::kPass:
                return second_round_done(sa, peer, first, step);
            case RevocationVerdict::kHeld:
                return held_response();
            case RevocationVerdict::kFail:
                return refuse(sa, "the second authentication round failed", step);
        }
    }
    IKE_LOG(info, sa, "second authentication round of '{}' as '{}' with EAP",
            sa.remote_id().to_string(), peer.to_string());
    sa.set_remote_id(peer);
    return open_eap_round(sa, std::move(round), peer, *idi, idr, std::move(first), {}, step);
}

}  // namespace ikeplex::ike
