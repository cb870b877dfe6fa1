// The KEM side of crypto::KeyExchange: ML-KEM (FIPS 203) behind the IKEv2 KE interface
// (transform IDs 35/36/37, draft-ietf-ipsecme-ikev2-mlkem). The initiator's KE data is the
// encapsulation key, the responder's the ciphertext; the shared secret is ML-KEM's K.
#pragma once

#include "crypto/ke.h"

namespace ikeplex::crypto {

/// A key pair (for an initiator) and the encapsulation randomness (for a responder), drawn
/// from `random`, or from OpenSSL's generator when null. The key pair may be computed lazily.
Result<KeyExchangePtr> mlkem_generate(const KeInfo& info, Random* random);
/// From the 64-byte seed d | z of FIPS 203 ML-KEM.KeyGen_internal (known-answer tests).
Result<KeyExchangePtr> mlkem_from_seed(const KeInfo& info, ByteView seed);

}  // namespace ikeplex::crypto
