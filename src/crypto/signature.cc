#include "crypto/signature.h"

#include <algorithm>
#include <array>
#include <optional>

#include <openssl/core_names.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "util/hex.h"

namespace ikeplex::crypto {
namespace {

Error auth_failed(const char* detail) {
    return make_error(Errc::kAuthFailed, detail);
}

// RFC 7427 Appendix A (and RFC 8420 for Ed25519): the DER AlgorithmIdentifiers we send.
constexpr const char* kDerEcdsaSha256 = "300a06082a8648ce3d040302";
constexpr const char* kDerEcdsaSha384 = "300a06082a8648ce3d040303";
constexpr const char* kDerEcdsaSha512 = "300a06082a8648ce3d040304";
constexpr const char* kDerRsaSha256 = "300d06092a864886f70d01010b0500";
constexpr const char* kDerRsaSha384 = "300d06092a864886f70d01010c0500";
constexpr const char* kDerRsaSha512 = "300d06092a864886f70d01010d0500";
constexpr const char* kDerEd25519 = "300506032b6570";
// RSASSA-PSS with SHA-256, MGF1-SHA-256, salt 32 (RFC 7427 A.4.3); the SHA-384/512 forms
// differ only in the hash OID's last octet (01 -> 02/03) and the salt length (32 -> 48/64).
constexpr const char* kDerRsaPssSha256 =
        "304606092a864886f70d01010a3039a00f300d06096086480165030402010500a11c301a06092a864886f7"
        "0d010108300d06096086480165030402010500a203020120a303020101";

const char* md_name(SignatureScheme s) noexcept {
    switch (hash_of(s)) {
        case HashAlgorithm::kSha2_256:
            return "SHA256";
        case HashAlgorithm::kSha2_384:
            return "SHA384";
        case HashAlgorithm::kSha2_512:
            return "SHA512";
        default:
            return nullptr;
    }
}

bool is_rsa_pss(SignatureScheme s) noexcept {
    return s == SignatureScheme::kRsaPssSha256 || s == SignatureScheme::kRsaPssSha384 ||
           s == SignatureScheme::kRsaPssSha512;
}
bool is_rsa(SignatureScheme s) noexcept {
    return is_rsa_pss(s) || s == SignatureScheme::kRsaPkcs1Sha256 ||
           s == SignatureScheme::kRsaPkcs1Sha384 || s == SignatureScheme::kRsaPkcs1Sha512;
}
bool is_ecdsa(SignatureScheme s) noexcept {
    return s == SignatureScheme::kEcdsaSha256 || s == SignatureScheme::kEcdsaSha384 ||
           s == SignatureScheme::kEcdsaSha512;
}

bool scheme_fits_key(SignatureScheme s, KeyType k) noexcept {
    switch (k) {
        case KeyType::kRsa:
            return is_rsa(s);
        case KeyType::kEcP256:
        case KeyType::kEcP384:
        case KeyType::kEcP521:
            return is_ecdsa(s);
        case KeyType::kEd25519:
            return s == SignatureScheme::kEd25519;
        default:
            return false;
    }
}

std::optional<SignatureScheme> scheme_for(KeyType k, HashAlgorithm h, bool rsa_pss) noexcept {
    switch (k) {
        case KeyType::kRsa:
            switch (h) {
                case HashAlgorithm::kSha2_256:
                    return rsa_pss ? SignatureScheme::kRsaPssSha256
                                   : SignatureScheme::kRsaPkcs1Sha256;
                case HashAlgorithm::kSha2_384:
                    return rsa_pss ? SignatureScheme::kRsaPssSha384
                                   : SignatureScheme::kRsaPkcs1Sha384;
                case HashAlgorithm::kSha2_512:
                    return rsa_pss ? SignatureScheme::kRsaPssSha512
                                   : SignatureScheme::kRsaPkcs1Sha512;
                default:
                    return std::nullopt;
            }
        case KeyType::kEcP256:
        case KeyType::kEcP384:
        case KeyType::kEcP521:
            switch (h) {
                case HashAlgorithm::kSha2_256:
                    return SignatureScheme::kEcdsaSha256;
                case HashAlgorithm::kSha2_384:
                    return SignatureScheme::kEcdsaSha384;
                case HashAlgorithm::kSha2_512:
                    return SignatureScheme::kEcdsaSha512;
                default:
                    return std::nullopt;
            }
        case KeyType::kEd25519:
            if (h == HashAlgorithm::kIdentity) {
                return SignatureScheme::kEd25519;
            }
            return std::nullopt;
        default:
            return std::nullopt;
    }
}

/// The hash a key type naturally pairs with (its security level).
HashAlgorithm natural_hash(KeyType k) noexcept {
    switch (k) {
        case KeyType::kEcP384:
            return HashAlgorithm::kSha2_384;
        case KeyType::kEcP521:
            return HashAlgorithm::kSha2_512;
        case KeyType::kEd25519:
            return HashAlgorithm::kIdentity;
        default:
            return HashAlgorithm::kSha2_256;
    }
}

/// RSASSA-PSS parameters (RFC 4055): hash, MGF1 with the same hash, salt = hash size.
Result<SignatureScheme> pss_scheme(const X509_ALGOR* alg) {
    const ASN1_OBJECT* oid = nullptr;
    int ptype = 0;
    const void* pval = nullptr;
    X509_ALGOR_get0(&oid, &ptype, &pval, alg);
    if (ptype != V_ASN1_SEQUENCE) {
        return auth_failed("AUTH: RSASSA-PSS without parameters");
    }
    const auto* seq = static_cast<const ASN1_STRING*>(pval);
    const unsigned char* p = ASN1_STRING_get0_data(seq);
    std::unique_ptr<RSA_PSS_PARAMS, FnDeleter<&RSA_PSS_PARAMS_free>> params(
            d2i_RSA_PSS_PARAMS(nullptr, &p, ASN1_STRING_length(seq)));
    if (!params || params->hashAlgorithm == nullptr || params->maskGenAlgorithm == nullptr ||
        OBJ_obj2nid(params->maskGenAlgorithm->algorithm) != NID_mgf1 ||
        params->maskGenAlgorithm->parameter == nullptr ||
        params->maskGenAlgorithm->parameter->type != V_ASN1_SEQUENCE) {
        return auth_failed("AUTH: RSASSA-PSS parameters incomplete");
    }
    // MGF1's parameter is the AlgorithmIdentifier of its hash.
    const ASN1_STRING* mgf = params->maskGenAlgorithm->parameter->value.sequence;
    const unsigned char* q = ASN1_STRING_get0_data(mgf);
    std::unique_ptr<X509_ALGOR, FnDeleter<&X509_ALGOR_free>> mgf_hash_alg(
            d2i_X509_ALGOR(nullptr, &q, ASN1_STRING_length(mgf)));
    if (!mgf_hash_alg) {
        return auth_failed("AUTH: RSASSA-PSS MGF1 hash unreadable");
    }
    const int hash = OBJ_obj2nid(params->hashAlgorithm->algorithm);
    const int mgf_hash = OBJ_obj2nid(mgf_hash_alg->algorithm);
    const long salt = params->saltLength != nullptr ? ASN1_INTEGER_get(params->saltLength) : 20;
    if (hash != mgf_hash) {
        return auth_failed("AUTH: RSASSA-PSS with a different MGF1 hash");
    }
    if (hash == NID_sha256 && salt == 32) {
        return SignatureScheme::kRsaPssSha256;
    }
    if (hash == NID_sha384 && salt == 48) {
        return SignatureScheme::kRsaPssSha384;
    }
    if (hash == NID_sha512 && salt == 64) {
        return SignatureScheme::kRsaPssSha512;
    }
    return auth_failed("AUTH: RSASSA-PSS hash or salt length not accepted");
}

Status configure_pss(EVP_PKEY_CTX* pctx, SignatureScheme s) {
    if (!is_rsa_pss(s)) {
        return ok();
    }
    IKEPLEX_TRY(check(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), "PSS padding"));
    IKEPLEX_TRY(check(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST), "PSS salt"));
    return check(EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, md_name(s), nullptr), "PSS MGF1");
}

}  // namespace

const char* to_string(SignatureScheme s) noexcept {
    switch (s) {
        case SignatureScheme::kEcdsaSha256:
            return "ECDSA_WITH_SHA256";
        case SignatureScheme::kEcdsaSha384:
            return "ECDSA_WITH_SHA384";
        case SignatureScheme::kEcdsaSha512:
            return "ECDSA_WITH_SHA512";
        case SignatureScheme::kRsaPssSha256:
            return "RSA_EMSA_PSS_SHA256";
        case SignatureScheme::kRsaPssSha384:
            return "RSA_EMSA_PSS_SHA384";
        case SignatureScheme::kRsaPssSha512:
            return "RSA_EMSA_PSS_SHA512";
        case SignatureScheme::kRsaPkcs1Sha256:
            return "RSA_EMSA_PKCS1_SHA256";
        case SignatureScheme::kRsaPkcs1Sha384:
            return "RSA_EMSA_PKCS1_SHA384";
        case SignatureScheme::kRsaPkcs1Sha512:
            return "RSA_EMSA_PKCS1_SHA512";
        case SignatureScheme::kEd25519:
            return "ED25519";
    }
    return "UNKNOWN_SCHEME";
}

HashAlgorithm hash_of(SignatureScheme s) noexcept {
    switch (s) {
        case SignatureScheme::kEcdsaSha256:
        case SignatureScheme::kRsaPssSha256:
        case SignatureScheme::kRsaPkcs1Sha256:
            return HashAlgorithm::kSha2_256;
        case SignatureScheme::kEcdsaSha384:
        case SignatureScheme::kRsaPssSha384:
        case SignatureScheme::kRsaPkcs1Sha384:
            return HashAlgorithm::kSha2_384;
        case SignatureScheme::kEcdsaSha512:
        case SignatureScheme::kRsaPssSha512:
        case SignatureScheme::kRsaPkcs1Sha512:
            return HashAlgorithm::kSha2_512;
        case SignatureScheme::kEd25519:
            return HashAlgorithm::kIdentity;
    }
    return HashAlgorithm::kIdentity;
}

Bytes algorithm_identifier(SignatureScheme s) {
    switch (s) {
        case SignatureScheme::kEcdsaSha256:
            return from_hex(kDerEcdsaSha256).value();
        case SignatureScheme::kEcdsaSha384:
            return from_hex(kDerEcdsaSha384).value();
        case SignatureScheme::kEcdsaSha512:
            return from_hex(kDerEcdsaSha512).value();
        case SignatureScheme::kRsaPkcs1Sha256:
            return from_hex(kDerRsaSha256).value();
        case SignatureScheme::kRsaPkcs1Sha384:
            return from_hex(kDerRsaSha384).value();
        case SignatureScheme::kRsaPkcs1Sha512:
            return from_hex(kDerRsaSha512).value();
        case SignatureScheme::kEd25519:
            return from_hex(kDerEd25519).value();
        case SignatureScheme::kRsaPssSha256:
        case SignatureScheme::kRsaPssSha384:
        case SignatureScheme::kRsaPssSha512: {
            Bytes der = from_hex(kDerRsaPssSha256).value();
            const std::uint8_t hash_octet = s == SignatureScheme::kRsaPssSha256   ? 0x01
                                            : s == SignatureScheme::kRsaPssSha384 ? 0x02
                                                                                  : 0x03;
            const std::uint8_t salt = s == SignatureScheme::kRsaPssSha256   ? 0x20
                                      : s == SignatureScheme::kRsaPssSha384 ? 0x30
                                                                            : 0x40;
            // The two hash OIDs (hashAlgorithm and MGF1's) end at offsets 29 and 59; the salt
            // length is the last octet before the 5-octet trailer field.
            der[29] = hash_octet;
            der[59] = hash_octet;
            der[der.size() - 6] = salt;
            return der;
        }
    }
    return {};
}

Bytes encode_signature_auth(SignatureScheme s, ByteView signature) {
    const Bytes alg = algorithm_identifier(s);
    Bytes out{static_cast<std::uint8_t>(alg.size())};
    out.insert(out.end(), alg.begin(), alg.end());
    out.insert(out.end(), signature.begin(), signature.end());
    return out;
}

Result<SignatureAuth> parse_signature_auth(ByteView auth_data) {
    if (auth_data.empty() || auth_data[0] == 0 || 1U + auth_data[0] > auth_data.size()) {
        return auth_failed("AUTH: AlgorithmIdentifier length exceeds the AUTH data");
    }
    const ByteView der = auth_data.subspan(1, auth_data[0]);
    const unsigned char* p = der.data();
    std::unique_ptr<X509_ALGOR, FnDeleter<&X509_ALGOR_free>> alg(
            d2i_X509_ALGOR(nullptr, &p, static_cast<long>(der.size())));
    if (!alg || p != der.data() + der.size()) {
        return auth_failed("AUTH: AlgorithmIdentifier is not valid DER");
    }
    SignatureAuth out{};
    const ByteView sig = auth_data.subspan(1 + der.size());
    out.signature.assign(sig.begin(), sig.end());
    switch (OBJ_obj2nid(alg->algorithm)) {
        case NID_ecdsa_with_SHA256:
            out.scheme = SignatureScheme::kEcdsaSha256;
            break;
        case NID_ecdsa_with_SHA384:
            out.scheme = SignatureScheme::kEcdsaSha384;
            break;
        case NID_ecdsa_with_SHA512:
            out.scheme = SignatureScheme::kEcdsaSha512;
            break;
        case NID_sha256WithRSAEncryption:
            out.scheme = SignatureScheme::kRsaPkcs1Sha256;
            break;
        case NID_sha384WithRSAEncryption:
            out.scheme = SignatureScheme::kRsaPkcs1Sha384;
            break;
        case NID_sha512WithRSAEncryption:
            out.scheme = SignatureScheme::kRsaPkcs1Sha512;
            break;
        case NID_ED25519:
            out.scheme = SignatureScheme::kEd25519;
            break;
        case NID_rsassaPss:
            out.scheme = IKEPLEX_TRY(pss_scheme(alg.get()));
            break;
        default:
            return auth_failed("AUTH: signature algorithm not accepted");
    }
    return out;
}

KeyType key_type_of(const EVP_PKEY* key) noexcept {
    if (EVP_PKEY_is_a(key, "RSA") != 0 || EVP_PKEY_is_a(key, "RSA-PSS") != 0) {
        return KeyType::kRsa;
    }
    if (EVP_PKEY_is_a(key, "ED25519") != 0) {
        return KeyType::kEd25519;
    }
    if (EVP_PKEY_is_a(key, "EC") != 0) {
        std::array<char, 64> group{};
        std::size_t len = 0;
        if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group.data(),
                                           group.size(), &len) == 1) {
            const std::string_view g(group.data(), len);
            if (g == "prime256v1" || g == "P-256") {
                return KeyType::kEcP256;
            }
            if (g == "secp384r1" || g == "P-384") {
                return KeyType::kEcP384;
            }
            if (g == "secp521r1" || g == "P-521") {
                return KeyType::kEcP521;
            }
        }
    }
    return KeyType::kOther;
}

std::span<const HashAlgorithm> supported_hashes() noexcept {
    static constexpr HashAlgorithm kHashes[] = {HashAlgorithm::kSha2_256, HashAlgorithm::kSha2_384,
                                                HashAlgorithm::kSha2_512, HashAlgorithm::kIdentity};
    return kHashes;
}

PublicKey::PublicKey(EvpPkeyPtr key) noexcept
    : key_(std::move(key)), type_(key_type_of(key_.get())) {}

bool PublicKey::verify(SignatureScheme s, ByteView octets, ByteView signature) const {
    if (!scheme_fits_key(s, type_)) {
        return false;
    }
    const EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr;
    const char* md = md_name(s);
    if (!ctx ||
        EVP_DigestVerifyInit_ex(ctx.get(), &pctx, md, nullptr, nullptr, key_.get(), nullptr) != 1 ||
        !configure_pss(pctx, s)) {
        (void)openssl_error("verify: init");
        return false;
    }
    // The digest is fetched by name: signatures cost 20-600 µs, a fetch is noise beside them.
    return EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), octets.data(),
                            octets.size()) == 1;
}

PrivateKey::PrivateKey(EvpPkeyPtr key) noexcept
    : key_(std::move(key)), type_(key_type_of(key_.get())) {}

bool PrivateKey::same_as(const PrivateKey& other) const noexcept {
    return EVP_PKEY_eq(key_.get(), other.key_.get()) == 1;
}

Result<PrivateKey> PrivateKey::from_pem(std::string_view pem) {
    const BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    // No passphrase here (from_encrypted has one): without this callback OpenSSL would prompt on
    // the terminal for an encrypted key, and a daemon must never wait for a terminal.
    pem_password_cb* no_passphrase = [](char*, int, int, void*) { return 0; };
    EvpPkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr)
                       : nullptr);
    if (!key) {
        (void)openssl_error("private key: PEM");
        return make_error(Errc::kInvalidArgument, "private key: not a readable PEM key");
    }
    return PrivateKey(std::move(key));
}

Result<PrivateKey> PrivateKey::from_der(ByteView der) {
    const unsigned char* p = der.data();
    EvpPkeyPtr key(d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(der.size())));
    if (!key) {
        (void)openssl_error("private key: DER");
        return make_error(Errc::kInvalidArgument, "private key: not a readable DER key");
    }
    return PrivateKey(std::move(key));
}

Result<PrivateKey> PrivateKey::from_any(ByteView data) {
    const std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
    if (text.find("-----BEGIN") != std::string_view::npos) {
        return from_pem(text);
    }
    return from_der(data);
}

Result<Bytes> PrivateKey::sign(SignatureScheme s, ByteView octets) const {
    if (!scheme_fits_key(s, type_)) {
        return make_error(Errc::kInvalidArgument, "sign: scheme does not fit the key");
    }
    const EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr;
    if (!ctx) {
        return openssl_error("sign: context");
    }
    IKEPLEX_TRY(check(EVP_DigestSignInit_ex(ctx.get(), &pctx, md_name(s), nullptr, nullptr,
                                            key_.get(), nullptr),
                      "sign: init"));
    IKEPLEX_TRY(configure_pss(pctx, s));
    std::size_t len = 0;
    IKEPLEX_TRY(check(EVP_DigestSign(ctx.get(), nullptr, &len, octets.data(), octets.size()),
                      "sign: size"));
    Bytes sig(len);
    IKEPLEX_TRY(check(EVP_DigestSign(ctx.get(), sig.data(), &len, octets.data(), octets.size()),
                      "sign"));
    sig.resize(len);
    return sig;
}

Result<SignatureScheme> PrivateKey::choose_scheme(std::span<const HashAlgorithm> peer) const {
    // RSA keys sign with RSASSA-PSS (RFC 8247 prefers it over PKCS#1 v1.5).
    const HashAlgorithm natural = natural_hash(type_);
    if (std::find(peer.begin(), peer.end(), natural) != peer.end()) {
        if (auto s = scheme_for(type_, natural, true)) {
            return *s;
        }
    }
    for (HashAlgorithm h : {HashAlgorithm::kSha2_512, HashAlgorithm::kSha2_384,
                            HashAlgorithm::kSha2_256, HashAlgorithm::kIdentity}) {
        if (std::find(peer.begin(), peer.end(), h) != peer.end()) {
            if (auto s = scheme_for(type_, h, true)) {
                return *s;
            }
        }
    }
    return make_error(Errc::kNoProposal, "sign: no hash algorithm in common with the peer");
}

}  // namespace ikeplex::crypto
