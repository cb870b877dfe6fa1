// OpenSSL AEAD backend: two EVP_CIPHER_CTX per SA direction (one encrypting, one decrypting),
// keyed once; per packet EVP_CipherInit_ex2 sets only the nonce. The one-shot functions key a
// context for a single message (IKE: no context kept per SA).
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

using Nonce = std::array<unsigned char, 12>;  // salt | IV

/// Sets salt | IV as the nonce of a keyed context.
bool set_iv(EVP_CIPHER_CTX* ctx, Nonce& nonce, ByteView iv) noexcept {
    std::memcpy(nonce.data() + 4, iv.data(), kAeadIvSize);
    return EVP_CipherInit_ex2(ctx, nullptr, nullptr, nonce.data(), -1, nullptr) == 1;
}

bool seal_with(EVP_CIPHER_CTX* ctx, Nonce& nonce, ByteView iv, ByteView aad, MutByteView data,
               MutByteView tag) noexcept {
    if (iv.size() != kAeadIvSize || tag.size() != kAeadTagSize || !set_iv(ctx, nonce, iv)) {
        return false;
    }
    int len = 0;
    if (!aad.empty() &&
        EVP_EncryptUpdate(ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) {
        return false;
    }
    if (!data.empty() && EVP_EncryptUpdate(ctx, data.data(), &len, data.data(),
                                           static_cast<int>(data.size())) != 1) {
        return false;
    }
    if (EVP_EncryptFinal_ex(ctx, data.data() + data.size(), &len) != 1) {
        return false;
    }
    return EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kAeadTagSize, tag.data()) == 1;
}

bool open_with(EVP_CIPHER_CTX* ctx, Nonce& nonce, ByteView iv, ByteView aad, MutByteView data,
               ByteView tag) noexcept {
    if (iv.size() != kAeadIvSize || tag.size() != kAeadTagSize || !set_iv(ctx, nonce, iv)) {
        return false;
    }
    int len = 0;
    if (!aad.empty() &&
        EVP_DecryptUpdate(ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) {
        return false;
    }
    if (!data.empty() && EVP_DecryptUpdate(ctx, data.data(), &len, data.data(),
                                           static_cast<int>(data.size())) != 1) {
        return false;
    }
    // OpenSSL compares the tag in constant time inside Final.
    std::array<unsigned char, kAeadTagSize> t{};
    std::memcpy(t.data(), tag.data(), t.size());
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, kAeadTagSize, t.data()) != 1) {
        return false;
    }
    return EVP_DecryptFinal_ex(ctx, data.data() + data.size(), &len) == 1;
}

class OpenSslAead final : public Aead {
public:
    OpenSslAead(EvpCipherCtxPtr enc, EvpCipherCtxPtr dec, ByteView salt) noexcept
        : enc_(std::move(enc)), dec_(std::move(dec)) {
        std::memcpy(nonce_.data(), salt.data(), 4);
    }

    [[nodiscard]] AeadBackend backend() const noexcept override { return AeadBackend::kOpenSsl; }

    bool seal(ByteView iv, ByteView aad, MutByteView data, MutByteView tag) noexcept override {
        return seal_with(enc_.get(), nonce_, iv, aad, data, tag);
    }

    bool open(ByteView iv, ByteView aad, MutByteView data, ByteView tag) noexcept override {
        return open_with(dec_.get(), nonce_, iv, aad, data, tag);
    }

private:
    EvpCipherCtxPtr enc_;
    EvpCipherCtxPtr dec_;
    Nonce nonce_{};
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

namespace {

/// A context keyed for one operation, and the nonce's salt; nothing if the key is unusable.
EvpCipherCtxPtr once_ctx(const EncrInfo& encr, ByteView key_material, bool encrypt,
                         Nonce& nonce) noexcept {
    if (!encr.aead || key_material.size() != encr.key_size || encr.salt_size != 4) {
        return nullptr;
    }
    std::memcpy(nonce.data(), key_material.last(4).data(), 4);
    auto ctx = keyed_ctx(encr.cipher, key_material.first(encr.key_size - 4), encrypt);
    return ctx ? std::move(*ctx) : nullptr;
}

}  // namespace

bool aead_seal_once(const EncrInfo& encr, ByteView key_material, ByteView iv, ByteView aad,
                    MutByteView data, MutByteView tag) noexcept {
    Nonce nonce{};
    const EvpCipherCtxPtr ctx = once_ctx(encr, key_material, true, nonce);
    const bool sealed = ctx && seal_with(ctx.get(), nonce, iv, aad, data, tag);
    secure_zero(nonce);  // the salt is key material
    return sealed;
}

bool aead_open_once(const EncrInfo& encr, ByteView key_material, ByteView iv, ByteView aad,
                    MutByteView data, ByteView tag) noexcept {
    Nonce nonce{};
    const EvpCipherCtxPtr ctx = once_ctx(encr, key_material, false, nonce);
    const bool opened = ctx && open_with(ctx.get(), nonce, iv, aad, data, tag);
    secure_zero(nonce);  // the salt is key material
    return opened;
}

}  // namespace ikeplex::crypto
