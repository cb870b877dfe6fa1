// How a PKCS#12 bundle (crypto/pkcs12.h) joins ike::Credentials, as swanctl hands one to charon:
// its key and end-entity certificate become our credential, its CA certificates are held as CAs
// (a self-signed one a trust anchor, the others intermediates sent after our certificate).
#pragma once

#include <string>
#include <vector>

#include "ike/config.h"
#include "util/bytes.h"
#include "util/result.h"
#include "util/secret_bytes.h"

namespace ikeplex::ike {

struct BundleAdded {
    bool had_key{false};              ///< the bundle held a private key
    std::vector<std::string> errors;  ///< CA certificates that could not be added, why
};

/// Opens the DER bundle with `passphrase` (crypto::read_pkcs12's errors: kPassphrase when it
/// needs another passphrase) and adds what it holds.
Result<BundleAdded> add_pkcs12(Credentials& creds, ByteView der, const SecretBytes& passphrase);

}  // namespace ikeplex::ike
