// OpenSSL AEAD backend: two EVP_CIPHER_CTX per SA direction (one encrypting, one decrypting),
// keyed once; per packet EVP_CipherInit_ex2 sets only the nonce.
#include <array>
#include <cstring>

#include <openssl/core_names.h>

#include "crypto/aead.h"
#include "util/secret_bytes.h"

namespace ikeplex::crypto {

const char* to_string(AeadBackend b) noexcept {
    return b == AeadBackend::kOpenSsl ? "openssl" : "ipsec-mb";
}

namespace {

class OpenSslAead final : public Aead {
public:
    OpenSslAead(EvpCipherCtxPtr enc, EvpCipherCtxPtr dec, ByteView salt) noexcept
        : enc_(std::move(enc)), dec_(std::move(dec)) {
        std::memcpy(nonce_.data(), salt.data(), 4);
    }

    [[nodiscard]] AeadBackend backend() const noexcept override { return AeadBackend::kOpenSsl; }

    bool seal(ByteView iv, ByteView aad, MutByteView data, MutByteView tag) noexcept override {
        if (iv.size() != kAeadIvSize || tag.size() != kAeadTagSize || !set_iv(enc_.get(), iv)) {
            return false;
        }
        int len = 0;
        if (!aad.empty() && EVP_EncryptUpdate(enc_.get(), nullptr, &len, aad.data(),
                                              static_cast<int>(aad.size())) != 1) {
            return false;
        }
        if (!data.empty() && EVP_EncryptUpdate(enc_.get(), data.data(), &len, data.data(),
                                               static_cast<int>(data.size())) != 1) {
            return false;
        }
        if (EVP_EncryptFinal_ex(enc_.get(), data.data() + data.size(), &len) != 1) {
            return false;
        }
        return EVP_CIPHER_CTX_ctrl(enc_.get(), EVP_CTRL_AEAD_GET_TAG, kAeadTagSize, tag.data()) ==
               1;
    }

    bool open(ByteView iv, ByteView aad, MutByteView data, ByteView tag) noexcept override {
        if (iv.size() != kAeadIvSize || tag.size() != kAeadTagSize || !set_iv(dec_.get(), iv)) {
            return false;
        }
        int len = 0;
        if (!aad.empty() && EVP_DecryptUpdate(dec_.get(), nullptr, &len, aad.data(),
                                              static_cast<int>(aad.size())) != 1) {
            return false;
        }
        if (!data.empty() && EVP_DecryptUpdate(dec_.get(), data.data(), &len, data.data(),
                                               static_cast<int>(data.size())) != 1) {
            return false;
        }
        // OpenSSL compares the tag in constant time inside Final.
        std::array<unsigned char, kAeadTagSize> t{};
        std::memcpy(t.data(), tag.data(), t.size());
        if (EVP_CIPHER_CTX_ctrl(dec_.get(), EVP_CTRL_AEAD_SET_TAG, kAeadTagSize, t.data()) != 1) {
            return false;
        }
        return EVP_DecryptFinal_ex(dec_.get(), data.data() + data.size(), &len) == 1;
    }

private:
    bool set_iv(EVP_CIPHER_CTX* ctx, ByteView iv) noexcept {
        std::memcpy(nonce_.data() + 4, iv.data(), kAeadIvSize);
        return EVP_CipherInit_ex2(ctx, nullptr, nullptr, nonce_.data(), -1, nullptr) == 1;
    }

    EvpCipherCtxPtr enc_;
    EvpCipherCtxPtr dec_;
    std::array<unsigned char, 12> nonce_{};  // salt | IV
};

Result<EvpCipherCtxPtr> keyed_ctx(const EVP_CIPHER* cipher, ByteView key, bool encrypt) {
    EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    if (!ctx) {
        return openssl_error("AEAD: context");
    }
    IKEPLEX_TRY(check(
            EVP_CipherInit_ex2(ctx.get(), cipher, key.data(), nullptr, encrypt ? 1 : 0, nullptr),
            "AEAD: key"));
    return ctx;
}

}  // namespace

Result<AeadPtr> make_openssl_aead(const EncrInfo& encr, ByteView key_material) {
    if (!encr.aead || key_material.size() != encr.key_size) {
        return make_error(Errc::kInvalidArgument, "AEAD: not an AEAD or wrong key size");
    }
    const ByteView key = key_material.first(encr.key_size - encr.salt_size);
    const ByteView salt = key_material.last(encr.salt_size);
    EvpCipherCtxPtr enc = IKEPLEX_TRY(keyed_ctx(encr.cipher, key, true));
    EvpCipherCtxPtr dec = IKEPLEX_TRY(keyed_ctx(encr.cipher, key, false));
    return AeadPtr(std::make_unique<OpenSslAead>(std::move(enc), std::move(dec), salt));
}

}  // namespace ikeplex::crypto
