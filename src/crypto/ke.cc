#include "crypto/ke.h"

#include <algorithm>
#include <cstring>

#include <openssl/core_names.h>
#include <openssl/ec.h>

#include "crypto/algorithm_ids.h"
#include "crypto/kem.h"

namespace ikeplex::crypto {
namespace {

using ContextBnPtr = std::unique_ptr<BN_CTX, FnDeleter<&BN_CTX_free>>;
using EcGroupPtr = std::unique_ptr<EC_GROUP, FnDeleter<&EC_GROUP_free>>;
using EcPointPtr = std::unique_ptr<EC_POINT, FnDeleter<&EC_POINT_free>>;

/// Bytes of a MODP private exponent: 512 bits, more than twice the strength of every group
/// ikeplex offers (RFC 3526 §8 suggests at least twice the strength).
constexpr std::size_t kModpExponentSize = 64;

/// A Diffie-Hellman key pair (MODP, ECP, X25519/X448) held by OpenSSL.
class DhKeyExchange final : public KeyExchange {
public:
    DhKeyExchange(const KeInfo& info, EvpPkeyPtr key, Bytes pub) noexcept
        : KeyExchange(info), key_(std::move(key)), public_(std::move(pub)) {}
    [[nodiscard]] ByteView public_value() const noexcept override { return public_; }
    [[nodiscard]] Result<SecretBytes> shared_secret(ByteView peer) const override;

private:
    EvpPkeyPtr key_;
    Bytes public_;
};

KeyExchangePtr wrap(const KeInfo& info, EvpPkeyPtr key, Bytes pub) {
    return std::make_unique<DhKeyExchange>(info, std::move(key), std::move(pub));
}

Error bad_peer(const char* detail) {
    return make_error(Errc::kInvalidSyntax, detail);
}

Result<EvpPkeyPtr> pkey_from(const KeInfo& info, OSSL_PARAM_BLD* bld, int selection) {
    const ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
    const EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, info.params.get(), nullptr));
    if (!params || !ctx) {
        return openssl_error("KE: parameters");
    }
    IKEPLEX_TRY(check(EVP_PKEY_fromdata_init(ctx.get()), "KE: fromdata init"));
    EVP_PKEY* raw = nullptr;
    if (EVP_PKEY_fromdata(ctx.get(), &raw, selection, params.get()) != 1) {
        return openssl_error("KE: key from data");
    }
    return EvpPkeyPtr(raw);
}

Result<ParamBldPtr> builder_with_group(const KeInfo& info) {
    ParamBldPtr bld(OSSL_PARAM_BLD_new());
    if (!bld) {
        return openssl_error("KE: parameter builder");
    }
    if (info.id == ke::kModp1024) {
        // No OpenSSL group name (registry.cc): the domain parameters themselves, RFC 2409
        // §6.2's p and g = 2. The builder keeps pointers to the BIGNUMs until to_param(), so
        // they live as long as the process (built once, thread-safe, freed at exit).
        static const BignumPtr p(BN_get_rfc2409_prime_1024(nullptr));
        static const BignumPtr g = [] {
            BignumPtr two(BN_new());
            if (two && BN_set_word(two.get(), 2) != 1) {
                two.reset();
            }
            return two;
        }();
        if (!p || !g || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_FFC_P, p.get()) != 1 ||
            OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_FFC_G, g.get()) != 1) {
            return openssl_error("KE: parameter builder");
        }
        return bld;
    }
    if (OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, info.ossl_name, 0) !=
        1) {
        return openssl_error("KE: parameter builder");
    }
    return bld;
}

// --- MODP (RFC 3526; RFC 7296 §3.4: values are padded to the prime size) ---

Result<KeyExchangePtr> modp_from_private(const KeInfo& info, ByteView priv) {
    BIGNUM* g_raw = nullptr;
    IKEPLEX_TRY(check(EVP_PKEY_get_bn_param(info.params.get(), OSSL_PKEY_PARAM_FFC_G, &g_raw),
                      "KE: MODP generator"));
    const BignumPtr g(g_raw);
    const BignumPtr p(BN_bin2bn(info.prime.data(), static_cast<int>(info.prime.size()), nullptr));
    const BignumPtr x(BN_bin2bn(priv.data(), static_cast<int>(priv.size()), nullptr));
    const BignumPtr y(BN_new());
    if (x) {
        BN_set_flags(x.get(), BN_FLG_CONSTTIME);  // the exponent is secret
    }
    const ContextBnPtr bn_ctx(BN_CTX_new());
    if (!p || !x || !y || !bn_ctx ||
        BN_mod_exp(y.get(), g.get(), x.get(), p.get(), bn_ctx.get()) != 1) {
        return openssl_error("KE: MODP public value");
    }
    ParamBldPtr bld = IKEPLEX_TRY(builder_with_group(info));
    if (OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, x.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, y.get()) != 1) {
        return openssl_error("KE: MODP key parameters");
    }
    EvpPkeyPtr key = IKEPLEX_TRY(pkey_from(info, bld.get(), EVP_PKEY_KEYPAIR));
    Bytes pub(info.public_size);
    BN_bn2binpad(y.get(), pub.data(), static_cast<int>(pub.size()));
    return wrap(info, std::move(key), std::move(pub));
}

Result<EvpPkeyPtr> modp_peer(const KeInfo& info, ByteView peer) {
    // RFC 7296 §3.4: exactly the size of the prime. RFC 6989 §2.1: 1 < y < p - 1; no y^q
    // check, the groups are safe primes (big-endian byte comparisons, no bignum work).
    if (peer.size() != info.public_size) {
        return bad_peer("KE: MODP value is not the size of the prime");
    }
    const bool above_one =
            std::any_of(peer.begin(), peer.end() - 1, [](std::uint8_t b) { return b != 0; }) ||
            peer.back() > 1;
    Bytes p_minus_1 = info.prime;  // p is odd, so p - 1 only clears the last bit
    p_minus_1.back() = static_cast<std::uint8_t>(p_minus_1.back() - 1);
    if (!above_one || !std::lexicographical_compare(peer.begin(), peer.end(), p_minus_1.begin(),
                                                    p_minus_1.end())) {
        return bad_peer("KE: MODP value outside 1 < y < p - 1");
    }
    const BignumPtr y(BN_bin2bn(peer.data(), static_cast<int>(peer.size()), nullptr));
    if (!y) {
        return openssl_error("KE: MODP peer value");
    }
    ParamBldPtr bld = IKEPLEX_TRY(builder_with_group(info));
    if (OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, y.get()) != 1) {
        return openssl_error("KE: MODP peer parameters");
    }
    return pkey_from(info, bld.get(), EVP_PKEY_PUBLIC_KEY);
}

// --- ECP (RFC 5903 §7: x | y, no point-format octet; the shared secret is x) ---

Result<KeyExchangePtr> ecp_from_private(const KeInfo& info, ByteView priv) {
    const EcGroupPtr group(EC_GROUP_new_by_curve_name(EC_curve_nist2nid(info.ossl_name)));
    const BignumPtr d(BN_bin2bn(priv.data(), static_cast<int>(priv.size()), nullptr));
    const ContextBnPtr bn_ctx(BN_CTX_new());
    if (!group || !d || !bn_ctx) {
        return openssl_error("KE: ECP group");
    }
    const EcPointPtr q(EC_POINT_new(group.get()));
    Bytes point(1 + info.public_size);
    if (!q || EC_POINT_mul(group.get(), q.get(), d.get(), nullptr, nullptr, bn_ctx.get()) != 1 ||
        EC_POINT_point2oct(group.get(), q.get(), POINT_CONVERSION_UNCOMPRESSED, point.data(),
                           point.size(), bn_ctx.get()) != point.size()) {
        return openssl_error("KE: ECP public value");
    }
    ParamBldPtr bld = IKEPLEX_TRY(builder_with_group(info));
    if (OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get()) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                         point.size()) != 1) {
        return openssl_error("KE: ECP key parameters");
    }
    EvpPkeyPtr key = IKEPLEX_TRY(pkey_from(info, bld.get(), EVP_PKEY_KEYPAIR));
    return wrap(info, std::move(key), Bytes(point.begin() + 1, point.end()));
}

Result<EvpPkeyPtr> ecp_peer(const KeInfo& info, ByteView peer) {
    // RFC 6989 §2.3: both coordinates in [0, p-1] and the point on the curve (not infinity:
    // x | y cannot encode it). The curves have cofactor 1, so no subgroup check is needed.
    if (peer.size() != info.public_size) {
        return bad_peer("KE: ECP value is not x | y of the curve's size");
    }
    const std::size_t n = info.prime.size();
    for (std::size_t off : {std::size_t{0}, n}) {
        if (!std::lexicographical_compare(peer.begin() + static_cast<std::ptrdiff_t>(off),
                                          peer.begin() + static_cast<std::ptrdiff_t>(off + n),
                                          info.prime.begin(), info.prime.end())) {
            return bad_peer("KE: ECP coordinate not below the field prime");
        }
    }
    Bytes point(1 + peer.size());
    point[0] = POINT_CONVERSION_UNCOMPRESSED;
    std::copy(peer.begin(), peer.end(), point.begin() + 1);
    ParamBldPtr bld = IKEPLEX_TRY(builder_with_group(info));
    if (OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                         point.size()) != 1) {
        return openssl_error("KE: ECP peer parameters");
    }
    auto key = pkey_from(info, bld.get(), EVP_PKEY_PUBLIC_KEY);
    if (!key) {
        return bad_peer("KE: ECP point is not on the curve");
    }
    return key;
}

// --- Curve25519 / Curve448 (RFC 8031) ---

int ecx_type(const KeInfo& info) noexcept {
    return info.public_size == 32 ? EVP_PKEY_X25519 : EVP_PKEY_X448;
}

Result<KeyExchangePtr> ecx_from_private(const KeInfo& info, ByteView priv) {
    if (priv.size() != info.public_size) {
        return make_error(Errc::kInvalidArgument, "KE: wrong private key size");
    }
    EvpPkeyPtr key(EVP_PKEY_new_raw_private_key(ecx_type(info), nullptr, priv.data(), priv.size()));
    Bytes pub(info.public_size);
    std::size_t len = pub.size();
    if (!key || EVP_PKEY_get_raw_public_key(key.get(), pub.data(), &len) != 1 ||
        len != pub.size()) {
        return openssl_error("KE: X25519/X448 key");
    }
    return wrap(info, std::move(key), std::move(pub));
}

Result<EvpPkeyPtr> ecx_peer(const KeInfo& info, ByteView peer) {
    if (peer.size() != info.public_size) {
        return bad_peer("KE: Curve25519/448 value has the wrong size");
    }
    EvpPkeyPtr key(EVP_PKEY_new_raw_public_key(ecx_type(info), nullptr, peer.data(), peer.size()));
    if (!key) {
        return openssl_error("KE: Curve25519/448 peer value");
    }
    return key;
}

}  // namespace

Result<KeyExchangePtr> KeyExchange::from_private(const KeInfo& info, ByteView private_key) {
    switch (info.kind) {
        case KeKind::kModp:
            return modp_from_private(info, private_key);
        case KeKind::kEcp:
            return ecp_from_private(info, private_key);
        case KeKind::kEcx:
            return ecx_from_private(info, private_key);
        case KeKind::kMlKem:
            return mlkem_from_seed(info, private_key);
    }
    return make_error(Errc::kInternal, "KE: unknown kind");
}

Result<KeyExchangePtr> KeyExchange::generate(const KeInfo& info) {
    if (info.kind == KeKind::kMlKem) {
        return mlkem_generate(info, nullptr);
    }
    const EvpPkeyCtxPtr ctx(
            info.kind == KeKind::kEcx
                    ? EVP_PKEY_CTX_new_from_name(nullptr, info.ossl_name, nullptr)
                    : EVP_PKEY_CTX_new_from_pkey(nullptr, info.params.get(), nullptr));
    if (!ctx) {
        return openssl_error("KE: keygen context");
    }
    IKEPLEX_TRY(check(EVP_PKEY_keygen_init(ctx.get()), "KE: keygen init"));
    EVP_PKEY* raw = nullptr;
    IKEPLEX_TRY(check(EVP_PKEY_generate(ctx.get(), &raw), "KE: keygen"));
    EvpPkeyPtr key(raw);
    Bytes pub(info.public_size);
    switch (info.kind) {
        case KeKind::kModp: {
            BIGNUM* y = nullptr;
            IKEPLEX_TRY(check(EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_PUB_KEY, &y),
                              "KE: MODP public value"));
            const BignumPtr owned(y);
            BN_bn2binpad(y, pub.data(), static_cast<int>(pub.size()));
            break;
        }
        case KeKind::kEcp: {
            Bytes point(1 + info.public_size);
            std::size_t len = 0;
            IKEPLEX_TRY(check(EVP_PKEY_get_octet_string_param(key.get(), OSSL_PKEY_PARAM_PUB_KEY,
                                                              point.data(), point.size(), &len),
                              "KE: ECP public value"));
            if (len != point.size() || point[0] != POINT_CONVERSION_UNCOMPRESSED) {
                return make_error(Errc::kCrypto, "KE: ECP public value not uncompressed");
            }
            std::copy(point.begin() + 1, point.end(), pub.begin());
            break;
        }
        case KeKind::kEcx: {
            std::size_t len = pub.size();
            IKEPLEX_TRY(check(EVP_PKEY_get_raw_public_key(key.get(), pub.data(), &len),
                              "KE: X25519/X448 public value"));
            break;
        }
        case KeKind::kMlKem:
            return make_error(Errc::kInternal, "KE: ML-KEM is not a DH group");
    }
    return wrap(info, std::move(key), std::move(pub));
}

Result<KeyExchangePtr> KeyExchange::generate(const KeInfo& info, Random& random) {
    switch (info.kind) {
        case KeKind::kModp: {
            SecretBytes x(kModpExponentSize);
            random.fill(x.mut_view());
            x.mut_view()[0] |= 0x80U;  // full size, so never 0 or 1
            return from_private(info, x.view());
        }
        case KeKind::kEcp: {
            // A scalar below the field prime; the group order is within 2^-32 of it for the
            // NIST curves, so retry the rare value at or above the order too (OpenSSL rejects).
            for (int attempt = 0; attempt < 64; ++attempt) {
                SecretBytes d(info.prime.size());
                random.fill(d.mut_view());
                if (info.prime.size() == 66) {
                    d.mut_view()[0] &= 0x01U;  // P-521: 521 bits
                }
                auto k = from_private(info, d.view());
                if (k) {
                    return k;
                }
            }
            return make_error(Errc::kCrypto, "KE: no valid ECP scalar drawn");
        }
        case KeKind::kEcx: {
            SecretBytes k(info.public_size);
            random.fill(k.mut_view());
            return from_private(info, k.view());
        }
        case KeKind::kMlKem:
            return mlkem_generate(info, &random);
    }
    return make_error(Errc::kInternal, "KE: unknown kind");
}

Result<SecretBytes> DhKeyExchange::shared_secret(ByteView peer) const {
    const KeInfo* group = &info();
    EvpPkeyPtr peer_key;
    switch (group->kind) {
        case KeKind::kModp:
            peer_key = IKEPLEX_TRY(modp_peer(*group, peer));
            break;
        case KeKind::kEcp:
            peer_key = IKEPLEX_TRY(ecp_peer(*group, peer));
            break;
        case KeKind::kEcx:
            peer_key = IKEPLEX_TRY(ecx_peer(*group, peer));
            break;
        case KeKind::kMlKem:
            return make_error(Errc::kInternal, "KE: ML-KEM is not a DH group");
    }
    const EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key_.get(), nullptr));
    if (!ctx) {
        return openssl_error("KE: derive context");
    }
    IKEPLEX_TRY(check(EVP_PKEY_derive_init(ctx.get()), "KE: derive init"));
    if (group->kind == KeKind::kModp) {
        IKEPLEX_TRY(check(EVP_PKEY_CTX_set_dh_pad(ctx.get(), 1), "KE: DH padding"));
    }
    // validate_peer = 0: the checks above replace OpenSSL's full (slow) validation.
    IKEPLEX_TRY(check(EVP_PKEY_derive_set_peer_ex(ctx.get(), peer_key.get(), 0), "KE: peer"));
    SecretBytes out(group->shared_size);
    std::size_t len = out.size();
    if (EVP_PKEY_derive(ctx.get(), out.mut_view().data(), &len) != 1) {
        // X25519/X448 fail here on an all-zero result (a low-order point): RFC 8031 §3.2.
        return bad_peer("KE: key derivation rejected the peer value");
    }
    if (len != out.size()) {
        return make_error(Errc::kCrypto, "KE: unexpected shared secret size");
    }
    // RFC 8031 §3.2: an all-zero X25519/X448 output MUST be rejected (checked even if
    // OpenSSL already does).
    if (std::all_of(out.view().begin(), out.view().end(), [](std::uint8_t b) { return b == 0; })) {
        return bad_peer("KE: all-zero shared secret");
    }
    return out;
}

}  // namespace ikeplex::crypto
