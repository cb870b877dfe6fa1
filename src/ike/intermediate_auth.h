// RFC 9242 §3.3.2: how IKE_INTERMEDIATE messages enter the AUTH payload. Each message counts as
// its "A" chunk (IKE header through the generic header of the Encrypted payload, lengths
// adjusted as if IV, padding and ICV were absent; a fragmented message as if reassembled) and
// its "P" chunk (the inner payloads in plaintext); IntAuth_[i/r]n = prf(SK_p[i/r], previous |
// A | P) with the SK_p[i/r] in force before that exchange; AUTH signs IntAuth_iN | IntAuth_rN |
// IKE_AUTH_MID after the usual octets.
#pragma once

#include <cstdint>

#include "crypto/prf.h"
#include "util/bytes.h"
#include "util/result.h"

namespace ikeplex::ike {

/// The A chunk of an IKE_INTERMEDIATE message carrying `plain_size` octets of inner payloads,
/// from `datagram`: the whole message as protected (SK), or its first fragment (SKF, RFC
/// 7383), without a non-ESP marker. SKF becomes SK in the chain; the Length field of the IKE
/// header becomes |A| + plain_size and the Payload Length of SK 4 + plain_size; the RESERVED
/// octet of the SK(F) header is kept. An error for a datagram without SK or SKF.
Result<Bytes> int_auth_a(ByteView datagram, std::size_t plain_size);

/// IntAuth_[i/r]n = prf(SK_p[i/r], IntAuth_[i/r](n-1) | A | P); `previous` is empty for n = 1.
Result<Bytes> int_auth_step(const crypto::Prf& prf, ByteView sk_p, ByteView previous, ByteView a,
                            ByteView p);

/// IntAuth = IntAuth_iN | IntAuth_rN | IKE_AUTH_MID (four octets, network order).
Bytes int_auth(ByteView int_auth_i, ByteView int_auth_r, std::uint32_t ike_auth_mid);

}  // namespace ikeplex::ike
