#include "ike/credential_bundles.h"

#include "crypto/pkcs12.h"

namespace ikeplex::ike {

Result<BundleAdded> add_pkcs12(Credentials& creds, ByteView der, const SecretBytes& passphrase) {
    auto contents = IKEPLEX_TRY(crypto::read_pkcs12(der, passphrase));
    BundleAdded added;
    added.had_key = !contents.keys.empty();
    for (crypto::Certificate& cert : contents.certs) {
        if (cert.is_ca()) {
            if (auto st = creds.add_ca(std::move(cert)); !st) {
                added.errors.emplace_back(st.error().detail);
            }
        } else {
            creds.add_own_cert(std::move(cert));
        }
    }
    for (crypto::PrivateKey& key : contents.keys) {
        creds.add_key(std::move(key));
    }
    return added;
}

}  // namespace ikeplex::ike
