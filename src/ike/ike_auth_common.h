// Internal to IKE_AUTH (ike_auth.cc, ike_auth_eap.cc): the signed octets (RFC 7296 §2.15),
// our AUTH and the check of the peer's, with certificates, pre-shared keys or the key an EAP
// method produced (§2.16), and SET_WINDOW_SIZE.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "ike/exchanges.h"
#include "ike/ike_auth_revocation.h"
#include "ike/ike_sa.h"
#include "ike/ppk.h"

namespace ikeplex::ike::auth {

/// The octets side `of_initiator` signs or MACs (RFC 7296 §2.15).
Result<Bytes> signed_octets(IkeSa& sa, bool of_initiator, const wire::IdPayload& id);
/// Our identity under connection `cfg`: the configured one, else our address.
Identity local_identity_of(const IkeSa& sa, const PeerConfig& cfg);
Identity local_identity(const IkeSa& sa);
/// strongSwan's names of the authentication methods in its log.
const char* method_name(AuthKind k);
std::string method_name(wire::AuthMethod m);
/// Our AUTH (and, with certificates, CERT) payloads.
Status append_auth(IkeSa& sa, const wire::IdPayload& id, std::vector<wire::Payload>& out);
/// The same for a round whose connection is `cfg` (its `local` says how) and identity `me`
/// (RFC 4739: a further round of ours).
Status append_auth_as(IkeSa& sa, const PeerConfig& cfg, const Identity& me,
                      const wire::IdPayload& id, std::vector<wire::Payload>& out);
/// Verifies the peer's AUTH over its octets: with the shared key, or with the certificate it
/// sent, which must chain to a trusted CA and carry its identity; then the certificates'
/// revocation status under `cfg.remote.revocation` (ike_auth_revocation.h). kPass or kFail
/// (logged), or kHeld: the status is being fetched and `resume` runs with the decision later
/// (the caller holds its exchange meanwhile).
RevocationVerdict verify_auth(IkeSa& sa, const PeerConfig& cfg, const wire::IdPayload& id,
                              const wire::AuthPayload& auth,
                              std::span<const wire::Payload> payloads, Step& step,
                              RevocationResume resume);
/// The AUTH after EAP (RFC 7296 §2.16) of side `of_initiator` with identity `id`:
/// prf(prf(MSK, "Key Pad for IKEv2"), octets); with no MSK (e.g. MD5) SK_pi or SK_pr instead.
Result<wire::Payload> eap_auth(IkeSa& sa, bool of_initiator, const wire::IdPayload& id,
                               const SecretBytes& msk);
/// Whether the peer's AUTH after EAP is right.
bool eap_auth_verify(IkeSa& sa, bool of_initiator, const wire::IdPayload& id,
                     const wire::AuthPayload& auth, const SecretBytes& msk);
/// What the peer's first IKE_AUTH request says of RFC 4739: MULTIPLE_AUTH_SUPPORTED, and
/// ANOTHER_AUTH_FOLLOWS (a second round of its own comes after this one).
struct PeerRounds {
    bool supported{false};
    bool another{false};
};
PeerRounds peer_rounds(std::span<const wire::Payload> request);
/// The connection for IKE_AUTH: the first of those IKE_SA_INIT allowed whose identities, auth
/// method (`auth` null: the peer wants EAP) and rounds (a `remote-2` needs the peer's second
/// round, announced; one announced needs a `remote-2`) fit; null (and why each one does not,
/// in one rate-limited line) if none.
ConfigPtr auth_config(IkeSa& sa, const Identity& peer, const wire::IdPayload* idr,
                      const wire::AuthPayload* auth, PeerRounds rounds, const Step& step);
/// The peer's SET_WINDOW_SIZE (1 without one).
std::uint32_t parse_window(std::span<const wire::Payload> ps);
void append_window(const PeerConfig& cfg, std::vector<wire::Payload>& out);

}  // namespace ikeplex::ike::auth

namespace ikeplex::ike {

/// Responder: the peer is authenticated; uniqueness and INITIAL_CONTACT (refused: the answer
/// is AUTHENTICATION_FAILED), established, the first Child SA and SET_WINDOW_SIZE from the
/// first IKE_AUTH request, into `out`; returns the final response.
Response complete_ike_auth(IkeSa& sa, std::span<const wire::Payload> first_request,
                           std::vector<wire::Payload>& out, Step& step);
/// Responder: the peer's first round verified (with the PPK decision `ppk`): our IDr, AUTH and
/// PPK_IDENTITY, then the second round (RFC 4739) or the final response.
Response respond_authenticated(IkeSa& sa, std::vector<wire::Payload>& request,
                               const ppk::ResponderChoice& ppk, Step& step);
/// A response that waits for a revocation status (ike_auth_revocation.h): sent later with
/// IkeSa::answer_deferred(); retransmits of the request meanwhile are dropped.
Response held_response();
/// Responder (ike_auth_eap.cc): a first IKE_AUTH request without AUTH (the peer wants EAP).
Response start_ike_auth_eap(IkeSa& sa, std::vector<wire::Payload>& request, Step& step);
/// Responder: whether EAP rounds are under way on this SA, and the next request of them.
bool ike_auth_eap_under_way(IkeSa& sa);
Response respond_ike_auth_eap(IkeSa& sa, std::vector<wire::Payload>& request, Step& step);
/// Responder: starts an EAP conversation with the peer `peer` (IDi `idi`) under `round`
/// (its `remote` says the method): `out` (IDr, [CERT, AUTH]) gets the first EAP request; the
/// final AUTHs cover `idi` and our `idr`; the final response answers `first`.
Response open_eap_round(IkeSa& sa, ConfigPtr round, const Identity& peer,
                        const wire::IdPayload& idi, const wire::IdPayload& idr,
                        std::vector<wire::Payload> first, std::vector<wire::Payload> out,
                        Step& step);
/// Responder, RFC 4739 (ike_auth_rounds.cc): the peer's first round passed and the connection
/// wants its second: `out` (IDr, [CERT,] AUTH) is the answer, and the first request is kept
/// (its SA, TS and CP are answered when the last round ends).
Response await_second_round(IkeSa& sa, std::vector<wire::Payload>& request,
                            std::vector<wire::Payload> out, const wire::IdPayload& own_idr);
/// Responder, RFC 4739: whether the peer's second round is due, and its first request (IDi
/// alone: EAP follows).
bool second_round_due(IkeSa& sa);
Response start_second_round(IkeSa& sa, std::vector<wire::Payload>& request, Step& step);

}  // namespace ikeplex::ike
