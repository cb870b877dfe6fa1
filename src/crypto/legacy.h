// The legacy algorithms MS-CHAPv2 needs (RFC 2759): MD4 for the NT password hash and DES in ECB
// mode for the ChallengeResponse; and RC2 for old PKCS#12 bundles (library_context()). OpenSSL 3
// keeps both in its "legacy" provider; this is the one place in ikeplex that loads it
// (docs/architecture.md, "Legacy algorithms").
//
// Policy: the legacy provider is loaded, beside "default", into a private OSSL_LIB_CTX of its
// own, never into OpenSSL's default context, so no other code can fetch MD4, DES or anything
// else of it by accident. It is loaded lazily, on the first call below (a gateway that never
// runs MS-CHAPv2 never loads it), once per process, thread-safe (a function-local static).
// When the provider is missing (no legacy.so in OpenSSL's module directory), every call
// returns Error{kUnsupported, "...legacy provider..."}, and the failure is cached.
#pragma once

#include <array>
#include <cstdint>

#include <openssl/types.h>

#include "util/bytes.h"
#include "util/result.h"
#include "util/secret_bytes.h"

namespace ikeplex::crypto::legacy {

/// Loads the legacy context if not yet loaded; ok() when MD4 and DES-ECB are usable.
Status available();

/// The private library context itself (legacy beside default), for decrypting what an old
/// format protects with a legacy cipher: RC2-40 in PKCS#12 bundles (crypto/pkcs12.cc). Nothing
/// new is made with it, and nothing fetched from it leaves the call that fetched it.
Result<OSSL_LIB_CTX*> library_context();

/// MD4 (RFC 1320) of `data`, 16 bytes; a secret (it is the NT password hash).
Result<SecretBytes> md4(ByteView data);

/// One DES block (FIPS 46-3) in ECB mode: `key` is 8 bytes (parity bits ignored), `block` 8.
Result<std::array<std::uint8_t, 8>> des_ecb_encrypt(ByteView key, ByteView block);

}  // namespace ikeplex::crypto::legacy
