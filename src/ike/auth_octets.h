// IKE_AUTH authentication data (RFC 7296 §2.15): the signed octets and pre-shared-key AUTH.
// Signatures (RFC 7427) are in signature.h.
#pragma once

#include "crypto/prf.h"
#include "wire/payloads.h"

namespace ikeplex::ike {

/// RestOfInitIDPayload / RestOfRespIDPayload: the ID payload without its generic header.
Bytes id_payload_body(const wire::IdPayload& id);

/// InitiatorSignedOctets = RealMessage1 | NonceRData | MACedIDForI, and the responder's
/// counterpart: `own_first_message` is the IKE_SA_INIT message this side sent (as sent),
/// `peer_nonce` the peer's Nonce data, `sk_p` SK_pi or SK_pr, `id_body` from id_payload_body().
Result<Bytes> auth_octets(const crypto::Prf& prf, ByteView own_first_message, ByteView peer_nonce,
                          ByteView sk_p, ByteView id_body);

/// AUTH = prf(prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets>).
Result<SecretBytes> psk_auth(const crypto::Prf& prf, ByteView psk, ByteView octets);

/// Whether the received AUTH data equals the expected one (constant time).
Result<bool> psk_auth_verify(const crypto::Prf& prf, ByteView psk, ByteView octets,
                             ByteView received);

}  // namespace ikeplex::ike
