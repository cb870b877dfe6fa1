#include "crypto/registry.h"

#include <cstring>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#include "crypto/algorithm_ids.h"
#include "crypto/mlkem.h"

namespace ikeplex::crypto {
namespace {

struct EncrSpec {
    std::uint16_t id;
    std::uint16_t key_bits;
    const char* name;
    const char* ossl;
};

constexpr EncrSpec kEncrSpecs[] = {
        {encr::kAesGcm16, 128, "AES_GCM_16_128", "AES-128-GCM"},
        {encr::kAesGcm16, 192, "AES_GCM_16_192", "AES-192-GCM"},
        {encr::kAesGcm16, 256, "AES_GCM_16_256", "AES-256-GCM"},
        {encr::kAesCbc, 128, "AES_CBC_128", "AES-128-CBC"},
        {encr::kAesCbc, 192, "AES_CBC_192", "AES-192-CBC"},
        {encr::kAesCbc, 256, "AES_CBC_256", "AES-256-CBC"},
        {encr::kChacha20Poly1305, 256, "CHACHA20_POLY1305", "ChaCha20-Poly1305"},
        // Legacy (RFC 8247: MAY in IKEv2, downgraded from MUST-); no Key Length attribute.
        {encr::k3des, 0, "3DES_CBC", "DES-EDE3-CBC"},
};

constexpr PrfInfo kPrfs[] = {
        {prf::kHmacSha2_256, "PRF_HMAC_SHA2_256", "SHA256", 32},
        {prf::kHmacSha2_384, "PRF_HMAC_SHA2_384", "SHA384", 48},
        {prf::kHmacSha2_512, "PRF_HMAC_SHA2_512", "SHA512", 64},
        {prf::kHmacSha1, "PRF_HMAC_SHA1", "SHA1", 20},  // legacy (RFC 8247: MUST-)
};

constexpr IntegInfo kIntegs[] = {
        {integ::kHmacSha2_256_128, "HMAC_SHA2_256_128", "SHA256", 32, 16},
        {integ::kHmacSha2_384_192, "HMAC_SHA2_384_192", "SHA384", 48, 24},
        {integ::kHmacSha2_512_256, "HMAC_SHA2_512_256", "SHA512", 64, 32},
        {integ::kHmacSha1_96, "HMAC_SHA1_96", "SHA1", 20,
         12},  // legacy (RFC 2404; RFC 8247: MUST-)
};

struct KeSpec {
    const char* name;
    const char* ossl;
    std::size_t size;
    int nid;  // EC curve nid (ECP only)
    std::uint16_t id;
    KeKind kind;
};

// MODP_1024 has no OpenSSL group name: its prime comes from BN_get_rfc2409_prime_1024().
constexpr const char* kModp1024Name = "rfc2409_1024";

constexpr KeSpec kKeSpecs[] = {
        // Legacy (RFC 8247: groups 2 and 5 SHOULD NOT).
        {"MODP_1024", kModp1024Name, 128, 0, ke::kModp1024, KeKind::kModp},
        {"MODP_1536", "modp_1536", 192, 0, ke::kModp1536, KeKind::kModp},
        {"MODP_2048", "modp_2048", 256, 0, ke::kModp2048, KeKind::kModp},
        {"MODP_3072", "modp_3072", 384, 0, ke::kModp3072, KeKind::kModp},
        {"MODP_4096", "modp_4096", 512, 0, ke::kModp4096, KeKind::kModp},
        {"ECP_256", "P-256", 32, NID_X9_62_prime256v1, ke::kEcp256, KeKind::kEcp},
        {"ECP_384", "P-384", 48, NID_secp384r1, ke::kEcp384, KeKind::kEcp},
        {"ECP_521", "P-521", 66, NID_secp521r1, ke::kEcp521, KeKind::kEcp},
        {"CURVE_25519", "X25519", 32, 0, ke::kCurve25519, KeKind::kEcx},
        {"CURVE_448", "X448", 56, 0, ke::kCurve448, KeKind::kEcx},
        // FIPS 203: size is the encapsulation key; make_ke() sets the ciphertext size.
        {"ML_KEM_512", "ML-KEM-512", 800, 0, ke::kMlKem512, KeKind::kMlKem},
        {"ML_KEM_768", "ML-KEM-768", 1184, 0, ke::kMlKem768, KeKind::kMlKem},
        {"ML_KEM_1024", "ML-KEM-1024", 1568, 0, ke::kMlKem1024, KeKind::kMlKem},
};

/// Domain parameters of a named MODP or ECP group, as an EVP_PKEY to generate keys from.
Result<EvpPkeyPtr> named_group_params(const char* algorithm, const char* group) {
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, algorithm, nullptr));
    if (!ctx) {
        return openssl_error("KE: no key management for the group");
    }
    IKEPLEX_TRY(check(EVP_PKEY_fromdata_init(ctx.get()), "KE: fromdata init"));
    std::string name(group);
    OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, name.data(), 0),
            OSSL_PARAM_construct_end()};
    EVP_PKEY* raw = nullptr;
    IKEPLEX_TRY(check(EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_KEY_PARAMETERS, params),
                      "KE: named group parameters"));
    return EvpPkeyPtr(raw);
}

/// RFC 2409 §6.2's Second Oakley Group (p, g = 2) as DH domain parameters.
Result<EvpPkeyPtr> modp1024_params() {
    const BignumPtr p(BN_get_rfc2409_prime_1024(nullptr));
    const BignumPtr g(BN_new());
    const ParamBldPtr bld(OSSL_PARAM_BLD_new());
    if (!p || !g || !bld || BN_set_word(g.get(), 2) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_FFC_P, p.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_FFC_G, g.get()) != 1) {
        return openssl_error("KE: MODP_1024 parameters");
    }
    const ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "DH", nullptr));
    if (!params || !ctx) {
        return openssl_error("KE: MODP_1024 parameters");
    }
    IKEPLEX_TRY(check(EVP_PKEY_fromdata_init(ctx.get()), "KE: fromdata init"));
    EVP_PKEY* raw = nullptr;
    IKEPLEX_TRY(check(EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_KEY_PARAMETERS, params.get()),
                      "KE: MODP_1024 parameters"));
    return EvpPkeyPtr(raw);
}

Result<Bytes> bn_bytes(const BIGNUM* bn, std::size_t size) {
    Bytes out(size);
    if (BN_bn2binpad(bn, out.data(), static_cast<int>(size)) != static_cast<int>(size)) {
        return openssl_error("KE: prime does not fit its size");
    }
    return out;
}

Result<KeInfo> make_ke(const KeSpec& s) {
    KeInfo k{s.id, s.kind, s.name, s.ossl, s.size, s.size, s.size, {}, nullptr};
    switch (s.kind) {
        case KeKind::kModp: {
            k.params = IKEPLEX_TRY(s.id == ke::kModp1024 ? modp1024_params()
                                                         : named_group_params("DH", s.ossl));
            BIGNUM* p = nullptr;
            IKEPLEX_TRY(check(EVP_PKEY_get_bn_param(k.params.get(), OSSL_PKEY_PARAM_FFC_P, &p),
                              "KE: MODP prime"));
            const BignumPtr owned(p);
            k.prime = IKEPLEX_TRY(bn_bytes(p, s.size));
            break;
        }
        case KeKind::kEcp: {
            k.params = IKEPLEX_TRY(named_group_params("EC", s.ossl));
            k.public_size = 2 * s.size;  // RFC 5903 §7: x | y, no point-format octet
            k.response_size = k.public_size;
            const std::unique_ptr<EC_GROUP, FnDeleter<&EC_GROUP_free>> group(
                    EC_GROUP_new_by_curve_name(s.nid));
            const BignumPtr p(BN_new());
            if (!group || !p ||
                EC_GROUP_get_curve(group.get(), p.get(), nullptr, nullptr, nullptr) != 1) {
                return openssl_error("KE: ECP field prime");
            }
            k.prime = IKEPLEX_TRY(bn_bytes(p.get(), s.size));
            break;
        }
        case KeKind::kEcx:
            break;
        case KeKind::kMlKem: {
            // Initiator: the encapsulation key; responder: the ciphertext; K is 32 bytes.
            k.response_size = mlkem::params_for_ke(s.id)->ct_size();
            k.shared_size = mlkem::kSharedSize;
            break;
        }
    }
    return k;
}

}  // namespace

Result<std::unique_ptr<Registry>> Registry::create() {
    auto r = std::make_unique<Registry>(Token{});
    r->hmac_.reset(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
    if (!r->hmac_) {
        return openssl_error("registry: HMAC not available");
    }
    for (const char* d : {"SHA256", "SHA384", "SHA512", "SHA1"}) {
        EvpMdPtr md(EVP_MD_fetch(nullptr, d, nullptr));
        EvpMacCtxPtr ctx(EVP_MAC_CTX_new(r->hmac_.get()));
        if (!md || !ctx) {
            return openssl_error("registry: digest not available");
        }
        std::string name(d);
        const OSSL_PARAM params[] = {
                OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, name.data(), 0),
                OSSL_PARAM_construct_end()};
        IKEPLEX_TRY(check(EVP_MAC_CTX_set_params(ctx.get(), params), "registry: HMAC digest"));
        r->digests_.push_back(std::move(md));
        r->hmac_templates_.push_back(std::move(ctx));
    }
    for (const EncrSpec& s : kEncrSpecs) {
        EvpCipherPtr c(EVP_CIPHER_fetch(nullptr, s.ossl, nullptr));
        if (!c) {
            return openssl_error("registry: cipher not available");
        }
        EncrInfo e{s.id, s.key_bits, s.name, false, 0, 0, 0, 0, 0, c.get()};
        const auto key_bytes = static_cast<std::size_t>(s.key_bits / 8);
        if (s.id == encr::kAesCbc) {
            e.key_size = key_bytes;
            e.iv_size = 16;
            e.block_size = 16;
        } else if (s.id == encr::k3des) {  // RFC 2451: 192-bit key, 64-bit block and IV
            e.key_size = 24;
            e.iv_size = 8;
            e.block_size = 8;
        } else {  // AES-GCM-16 (RFC 4106, RFC 5282) and ChaCha20-Poly1305 (RFC 7634)
            e.aead = true;
            e.salt_size = 4;
            e.key_size = key_bytes + e.salt_size;
            e.iv_size = 8;
            e.block_size = 1;
            e.icv_size = 16;
        }
        r->ciphers_.push_back(std::move(c));
        r->encr_.push_back(e);
    }
    r->prf_.assign(std::begin(kPrfs), std::end(kPrfs));
    r->integ_.assign(std::begin(kIntegs), std::end(kIntegs));
    r->ke_.reserve(std::size(kKeSpecs));
    for (const KeSpec& s : kKeSpecs) {
        r->ke_.push_back(IKEPLEX_TRY(make_ke(s)));
    }
    return r;
}

const EncrInfo* Registry::encr(std::uint16_t id, std::uint16_t key_bits) const noexcept {
    for (const EncrInfo& e : encr_) {
        if (e.id == id &&
            (e.key_bits == key_bits || (key_bits == 0 && id == encr::kChacha20Poly1305))) {
            return &e;
        }
    }
    return nullptr;
}

const PrfInfo* Registry::prf(std::uint16_t id) const noexcept {
    for (const PrfInfo& p : prf_) {
        if (p.id == id) {
            return &p;
        }
    }
    return nullptr;
}

const IntegInfo* Registry::integ(std::uint16_t id) const noexcept {
    for (const IntegInfo& i : integ_) {
        if (i.id == id) {
            return &i;
        }
    }
    return nullptr;
}

const KeInfo* Registry::ke(std::uint16_t id) const noexcept {
    for (const KeInfo& k : ke_) {
        if (k.id == id) {
            return &k;
        }
    }
    return nullptr;
}

const EVP_MAC_CTX* Registry::hmac_template(const char* digest) const noexcept {
    for (std::size_t i = 0; i < digests_.size(); ++i) {
        if (EVP_MD_is_a(digests_[i].get(), digest) != 0) {
            return hmac_templates_[i].get();
        }
    }
    return nullptr;
}

const EVP_MD* Registry::digest(const char* name) const noexcept {
    for (const EvpMdPtr& d : digests_) {
        if (EVP_MD_is_a(d.get(), name) != 0) {
            return d.get();
        }
    }
    return nullptr;
}

}  // namespace ikeplex::crypto
