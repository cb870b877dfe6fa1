// The legacy provider in a private library context (see legacy.h for the policy).
#include "crypto/legacy.h"

#include "crypto/ossl.h"

namespace ikeplex::crypto::legacy {
namespace {

/// The private context and the two algorithms fetched from it, made once. Members are
/// destroyed in reverse order: the algorithms, then the providers, then the context.
struct LegacyContext {
    LibCtxPtr ctx;
    ProviderPtr default_provider;
    ProviderPtr legacy_provider;
    EvpMdPtr md4;
    EvpCipherPtr des_ecb;
    Status status{ok()};

    LegacyContext() {
        ctx.reset(OSSL_LIB_CTX_new());
        if (!ctx) {
            status = openssl_error("legacy: cannot create a library context");
            return;
        }
        // "default" beside "legacy", as OpenSSL's OSSL_PROVIDER-legacy(7) advises: loading a
        // provider explicitly stops the default one from being loaded implicitly.
        default_provider.reset(OSSL_PROVIDER_load(ctx.get(), "default"));
        legacy_provider.reset(OSSL_PROVIDER_load(ctx.get(), "legacy"));
        if (!default_provider || !legacy_provider) {
            (void)openssl_error("legacy: provider load");
            status = make_error(Errc::kUnsupported,
                                "OpenSSL's legacy provider (legacy.so) is missing: MD4 and DES "
                                "for MS-CHAPv2 are unavailable");
            return;
        }
        // "provider=legacy": MD4 and DES must come from the legacy provider, nothing else does.
        md4.reset(EVP_MD_fetch(ctx.get(), "MD4", "provider=legacy"));
        des_ecb.reset(EVP_CIPHER_fetch(ctx.get(), "DES-ECB", "provider=legacy"));
        if (!md4 || !des_ecb) {
            (void)openssl_error("legacy: fetch");
            status = make_error(Errc::kUnsupported,
                                "OpenSSL's legacy provider lacks MD4 or DES-ECB");
        }
    }
};

const LegacyContext& context() {
    static const LegacyContext instance;  // thread-safe initialisation (C++11 §6.7)
    return instance;
}

}  // namespace

Status available() {
    return context().status;
}

Result<OSSL_LIB_CTX*> library_context() {
    const LegacyContext& lc = context();
    IKEPLEX_TRY(lc.status);
    return lc.ctx.get();
}

Result<SecretBytes> md4(ByteView data) {
    const LegacyContext& lc = context();
    IKEPLEX_TRY(lc.status);
    const EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    if (!ctx) {
        return openssl_error("MD4: context");
    }
    IKEPLEX_TRY(check(EVP_DigestInit_ex2(ctx.get(), lc.md4.get(), nullptr), "MD4: init"));
    IKEPLEX_TRY(check(EVP_DigestUpdate(ctx.get(), data.data(), data.size()), "MD4: update"));
    SecretBytes out(16);
    unsigned int len = 0;
    IKEPLEX_TRY(check(EVP_DigestFinal_ex(ctx.get(), out.mut_view().data(), &len), "MD4: final"));
    if (len != out.size()) {
        return make_error(Errc::kCrypto, "MD4: unexpected digest size");
    }
    return out;
}

Result<std::array<std::uint8_t, 8>> des_ecb_encrypt(ByteView key, ByteView block) {
    if (key.size() != 8 || block.size() != 8) {
        return make_error(Errc::kInvalidArgument, "DES: key and block must be 8 bytes");
    }
    const LegacyContext& lc = context();
    IKEPLEX_TRY(lc.status);
    const EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    if (!ctx) {
        return openssl_error("DES: context");
    }
    IKEPLEX_TRY(
            check(EVP_EncryptInit_ex2(ctx.get(), lc.des_ecb.get(), key.data(), nullptr, nullptr),
                  "DES: init"));
    IKEPLEX_TRY(check(EVP_CIPHER_CTX_set_padding(ctx.get(), 0), "DES: padding"));
    std::array<std::uint8_t, 8> out{};
    int len = 0;
    IKEPLEX_TRY(
            check(EVP_EncryptUpdate(ctx.get(), out.data(), &len, block.data(), 8), "DES: update"));
    int tail = 0;
    IKEPLEX_TRY(check(EVP_EncryptFinal_ex(ctx.get(), out.data() + len, &tail), "DES: final"));
    if (len + tail != 8) {
        return make_error(Errc::kCrypto, "DES: unexpected output size");
    }
    return out;
}

}  // namespace ikeplex::crypto::legacy
