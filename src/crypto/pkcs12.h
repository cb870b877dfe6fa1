// PKCS#12 bundles (RFC 7292) as operators export them: our private key, our certificate and
// often the CA certificates above it, under one passphrase (swanctl's pkcs12/ folder and
// `secrets { pkcs12<suffix> { file, secret } }`).
//
// Modern bundles (OpenSSL 3's default: PBES2 with PBKDF2 and AES-256-CBC, HMAC-SHA-256 MAC) open
// with OpenSSL's default provider. Old ones (RC2-40 for the certificates, 3DES for the key:
// `openssl pkcs12 -legacy`, Windows exports before 2019) need RC2, which OpenSSL 3 keeps in its
// legacy provider: such a part is decrypted through the private library context of
// crypto/legacy.h, the one place the legacy provider is loaded, never OpenSSL's default context.
// The decrypted key itself is decoded in the default context.
#pragma once

#include <vector>

#include "crypto/signature.h"
#include "crypto/x509.h"
#include "util/bytes.h"
#include "util/result.h"
#include "util/secret_bytes.h"

namespace ikeplex::crypto {

struct Pkcs12Contents {
    std::vector<PrivateKey> keys;
    std::vector<Certificate> certs;  ///< in the bundle's order
    bool legacy{false};              ///< a part needed OpenSSL's legacy provider
};

/// Opens a DER PKCS#12 bundle with `passphrase` (an empty one also tries the absent password).
/// kPassphrase when the bundle's MAC does not verify (a wrong passphrase, or a bundle that needs
/// one and got none); kInvalidArgument for data that is no PKCS#12 bundle or a part that does
/// not decrypt; kUnsupported when a part needs the legacy provider and OpenSSL lacks it. The
/// passphrase is never logged.
Result<Pkcs12Contents> read_pkcs12(ByteView der, const SecretBytes& passphrase);

}  // namespace ikeplex::crypto
