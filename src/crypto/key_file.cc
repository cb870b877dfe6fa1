// Private keys that need a passphrase: encrypted PKCS#8 (PEM or DER) and traditional PEM keys
// with a Proc-Type: 4,ENCRYPTED header, decoded through OpenSSL 3's OSSL_DECODER.
//
// The passphrase stays in SecretBytes; OpenSSL receives a view of it for the one decode call and
// keeps its own copy only inside the decoder context, which is freed (and wiped by OpenSSL)
// before we return. Neither the passphrase nor OpenSSL's error text about it is logged.
#include <string_view>

#include <openssl/err.h>

#include "crypto/signature.h"

namespace ikeplex::crypto {

bool pem_key_is_encrypted(ByteView data) noexcept {
    const std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
    return text.find("-----BEGIN ENCRYPTED PRIVATE KEY-----") != std::string_view::npos ||
           text.find("Proc-Type: 4,ENCRYPTED") != std::string_view::npos;
}

Result<PrivateKey> PrivateKey::from_encrypted(ByteView data, const SecretBytes& passphrase) {
    EVP_PKEY* raw = nullptr;
    // Input type and structure left open: OpenSSL tries PEM and DER, PKCS#8 and traditional.
    const DecoderCtxPtr ctx(OSSL_DECODER_CTX_new_for_pkey(&raw, nullptr, nullptr, nullptr,
                                                          EVP_PKEY_KEYPAIR, nullptr, nullptr));
    if (!ctx) {
        return openssl_error("private key: decoder");
    }
    if (OSSL_DECODER_CTX_set_passphrase(ctx.get(), passphrase.view().data(),
                                        passphrase.view().size()) != 1) {
        return openssl_error("private key: passphrase");
    }
    const unsigned char* p = data.data();
    std::size_t left = data.size();
    const int rc = OSSL_DECODER_from_data(ctx.get(), &p, &left);
    EvpPkeyPtr key(raw);
    if (rc != 1 || !key) {
        ERR_clear_error();  // OpenSSL's queue says little more, and nothing about the secret
        if (pem_key_is_encrypted(data)) {
            return make_error(Errc::kInvalidArgument,
                              "cannot decrypt the key: wrong passphrase, or a cipher OpenSSL "
                              "does not offer");
        }
        return make_error(Errc::kInvalidArgument,
                          "not a readable key (PEM or DER, PKCS#8 or traditional), or a wrong "
                          "passphrase");
    }
    return PrivateKey(std::move(key));
}

}  // namespace ikeplex::crypto
