// The algorithm registry: every algorithm ikeplex supports, by IANA id, with the OpenSSL
// objects fetched once at start-up (fetching per call costs locks and time: openssl/openssl
// #17064, #21005). Immutable after create(); shared by reference.
//
// ENCR: AES-GCM-16 (128/192/256), AES-CBC (128/192/256), ChaCha20-Poly1305; legacy 3DES.
// PRF: HMAC-SHA2-256/384/512; legacy HMAC-SHA1. INTEG: HMAC-SHA2-256-128/384-192/512-256;
// legacy HMAC-SHA1-96. KE: MODP 14/15/16 (RFC 3526), ECP 19/20/21 (RFC 5903), Curve25519/448
// 31/32 (RFC 8031); legacy MODP 2 (RFC 2409 §6.2) and 5 (RFC 3526 §2). The legacy ones are
// accepted on purpose (ike/legacy_algorithms.h).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "crypto/ossl.h"
#include "util/bytes.h"
#include "util/result.h"

namespace ikeplex::crypto {

/// An encryption transform as used in the SK payload and in ESP.
struct EncrInfo {
    std::uint16_t id;        ///< IANA ENCR id
    std::uint16_t key_bits;  ///< the Key Length attribute (256 for ChaCha20-Poly1305)
    const char* name;        ///< strongSwan's spelling, e.g. "AES_GCM_16_128"
    bool aead;
    std::size_t key_size;    ///< KEYMAT bytes taken for the key, salt included
    std::size_t salt_size;   ///< AEAD salt at the end of the key material (RFC 4106, RFC 7634)
    std::size_t iv_size;     ///< explicit IV in SK / ESP
    std::size_t block_size;  ///< padding alignment (1 = none)
    std::size_t icv_size;    ///< AEAD tag size (0 for CBC: the integrity transform has it)
    const EVP_CIPHER* cipher;
};

/// A pseudo-random function (RFC 7296 §2.13).
struct PrfInfo {
    std::uint16_t id;
    const char* name;
    const char* digest;  ///< OpenSSL digest name for HMAC
    std::size_t output_size;
};

/// An integrity transform (RFC 4868: HMAC truncated to half the output).
struct IntegInfo {
    std::uint16_t id;
    const char* name;
    const char* digest;
    std::size_t key_size;
    std::size_t icv_size;
};

enum class KeKind : std::uint8_t { kModp, kEcp, kEcx, kMlKem };

/// A key exchange method with its domain parameters, prepared once.
struct KeInfo {
    std::uint16_t id;
    KeKind kind;
    const char* name;         ///< strongSwan's spelling, e.g. "CURVE_25519"
    const char* ossl_name;    ///< OpenSSL group or algorithm name
    std::size_t public_size;  ///< KE payload data size (RFC 7296 §3.4, RFC 5903 §7, RFC 8031 §2);
                              ///< a KEM's encapsulation key (the initiator's KE data)
    std::size_t response_size;  ///< the responder's KE data size: public_size, a KEM's ciphertext
    std::size_t shared_size;    ///< g^ir size
    Bytes prime;                ///< MODP p, or the ECP field prime (big-endian, fixed size)
    EvpPkeyPtr params;          ///< domain parameters for key generation (MODP, ECP)
};

class Registry {
    /// The passkey of the constructor: only create() makes one (util/result.h).
    struct Token {
        explicit Token() = default;
    };

public:
    /// Fetches everything; fails if OpenSSL lacks any of it.
    static Result<std::unique_ptr<Registry>> create();
    explicit Registry(Token /*create()*/) noexcept {}

    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;
    Registry(Registry&&) = delete;
    Registry& operator=(Registry&&) = delete;
    ~Registry() = default;

    /// ENCR transform `id` with Key Length `key_bits` (0 where the transform has a fixed key).
    [[nodiscard]] const EncrInfo* encr(std::uint16_t id, std::uint16_t key_bits) const noexcept;
    [[nodiscard]] const PrfInfo* prf(std::uint16_t id) const noexcept;
    [[nodiscard]] const IntegInfo* integ(std::uint16_t id) const noexcept;
    [[nodiscard]] const KeInfo* ke(std::uint16_t id) const noexcept;

    [[nodiscard]] std::span<const EncrInfo> all_encr() const noexcept { return encr_; }
    [[nodiscard]] std::span<const PrfInfo> all_prf() const noexcept { return prf_; }
    [[nodiscard]] std::span<const IntegInfo> all_integ() const noexcept { return integ_; }
    [[nodiscard]] const std::vector<KeInfo>& all_ke() const noexcept { return ke_; }

    /// An HMAC context with digest `name` set ("SHA256", "SHA384", "SHA512"), not keyed:
    /// EVP_MAC_CTX_dup() it, then EVP_MAC_init() with a key. nullptr for other digests.
    [[nodiscard]] const EVP_MAC_CTX* hmac_template(const char* digest) const noexcept;
    /// A fetched digest by OpenSSL name ("SHA1", "SHA256", "SHA384", "SHA512"), or nullptr.
    [[nodiscard]] const EVP_MD* digest(const char* name) const noexcept;

private:
    std::vector<EvpCipherPtr> ciphers_;
    std::vector<EvpMdPtr> digests_;
    EvpMacPtr hmac_;
    std::vector<EvpMacCtxPtr> hmac_templates_;  // parallel to digests_
    std::vector<EncrInfo> encr_;
    std::vector<PrfInfo> prf_;
    std::vector<IntegInfo> integ_;
    std::vector<KeInfo> ke_;
};

}  // namespace ikeplex::crypto
