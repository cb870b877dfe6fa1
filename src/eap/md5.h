// EAP-MD5-Challenge (RFC 3748 §5.4 with RFC 1994's CHAP computation): both halves. No MSK and
// no mutual authentication: IKEv2 allows it only where the method's weakness is acceptable.
#pragma once

#include <cstdint>
#include <memory>

#include "eap/eap.h"

namespace ikeplex::eap {

/// The challenge length ikeplex sends (strongSwan's eap-md5 sends 16 as well).
inline constexpr std::size_t kMd5ChallengeSize = 16;

/// RFC 1994 §4.1: MD5(identifier || secret || challenge).
Result<Bytes> md5_chap_response(std::uint8_t identifier, ByteView secret, ByteView challenge);

std::unique_ptr<ServerMethod> make_md5_server(ServerContext ctx);
std::unique_ptr<PeerMethod> make_md5_peer(PeerContext ctx);

}  // namespace ikeplex::eap
