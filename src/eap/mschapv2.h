// EAP-MSCHAPv2 (draft-kamath-pppext-eap-mschapv2-02 over RFC 2759; MSK per RFC 3079 as
// strongSwan exports it): both halves. Behaviour follows strongSwan 5.9.8's eap-mschapv2 where
// the draft leaves room:
//
// Server: Challenge (16 bytes, Name "ikeplex", MS-CHAPv2-ID = the EAP Identifier) -> the
// peer's Response; the secret is looked up by the Response's Name (which becomes the
// authenticated identity, as strongSwan makes it the EAP identity), the NT-Response compared in
// constant time. Right: a Success request "S=<40 hex> M=..." and, after the peer's Success
// acknowledgement, kSuccess. Wrong password or unknown user: a Failure request
// "E=691 R=1 C=<new challenge>" (MS-CHAPv2-ID incremented after it) that the peer may answer
// with a new Response, at most twice (strongSwan's MAX_RETRIES), then kFailure; a peer's
// Failure acknowledgement (or a Failure in any state) ends in kFailure. strongSwan sleeps 2 s
// before a retry; ikeplex does not block (the engine never sleeps).
//
// Peer: answers the Challenge with a random Peer-Challenge, the NT-Response and our identity
// as Name (the part after a backslash enters the hashes); accepts Success only when S=
// matches (then acknowledges it, may_succeed() becomes true and the MSK is available); a
// wrong or missing S= is kFailure. A Failure request is acknowledged with a Failure response
// (the draft's SHOULD; strongSwan's peer sends none, its server accepts one) and never
// retried (the configured password would not change).
#pragma once

#include <memory>

#include "eap/eap.h"

namespace ikeplex::eap {

std::unique_ptr<ServerMethod> make_mschapv2_server(ServerContext ctx);
std::unique_ptr<PeerMethod> make_mschapv2_peer(PeerContext ctx);

}  // namespace ikeplex::eap
