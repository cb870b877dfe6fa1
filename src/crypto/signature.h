// Digital signature authentication (RFC 7427, AUTH method 14) with RSASSA-PSS and
// RSASSA-PKCS1-v1_5 over SHA-2, ECDSA P-256/384/521 and Ed25519 (RFC 8420), the hash choice
// negotiated with SIGNATURE_HASH_ALGORITHMS. SHA-1 is refused (RFC 8247).
//
// AUTH data = ASN.1 length (1 octet) | AlgorithmIdentifier (DER) | signature value.
#pragma once

#include <span>
#include <string_view>

#include "crypto/algorithm_ids.h"
#include "crypto/ossl.h"
#include "util/bytes.h"
#include "util/result.h"
#include "util/secret_bytes.h"

namespace ikeplex::crypto {

enum class SignatureScheme : std::uint8_t {
    kEcdsaSha256,
    kEcdsaSha384,
    kEcdsaSha512,
    kRsaPssSha256,
    kRsaPssSha384,
    kRsaPssSha512,
    kRsaPkcs1Sha256,
    kRsaPkcs1Sha384,
    kRsaPkcs1Sha512,
    kEd25519,
};

/// e.g. "ECDSA_WITH_SHA256", "RSA_EMSA_PSS_SHA256", "ED25519".
const char* to_string(SignatureScheme s) noexcept;
/// The RFC 7427 hash identifier a scheme signs with (Identity for Ed25519).
HashAlgorithm hash_of(SignatureScheme s) noexcept;
/// The DER AlgorithmIdentifier this implementation sends for `s` (RFC 7427 Appendix A).
Bytes algorithm_identifier(SignatureScheme s);

/// RFC 7427 §3: builds AUTH data from a scheme and a signature value.
Bytes encode_signature_auth(SignatureScheme s, ByteView signature);
struct SignatureAuth {
    SignatureScheme scheme;
    Bytes signature;
};
/// Splits AUTH data and identifies the algorithm. kAuthFailed (AUTHENTICATION_FAILED) for
/// malformed data or an algorithm ikeplex does not accept (e.g. SHA-1).
Result<SignatureAuth> parse_signature_auth(ByteView auth_data);

enum class KeyType : std::uint8_t { kRsa, kEcP256, kEcP384, kEcP521, kEd25519, kOther };

class PublicKey {
public:
    explicit PublicKey(EvpPkeyPtr key) noexcept;
    [[nodiscard]] KeyType type() const noexcept { return type_; }
    [[nodiscard]] EVP_PKEY* raw() const noexcept { return key_.get(); }
    /// Whether `signature` by scheme `s` over `octets` verifies with this key (false also for a
    /// scheme that does not fit the key type).
    [[nodiscard]] bool verify(SignatureScheme s, ByteView octets, ByteView signature) const;

private:
    EvpPkeyPtr key_;
    KeyType type_;
};

class PrivateKey {
public:
    /// A PEM private key (PKCS#8, traditional RSA/EC). kInvalidArgument if unreadable.
    static Result<PrivateKey> from_pem(std::string_view pem);
    /// PKCS#8, or the traditional RSA/EC forms, in DER.
    static Result<PrivateKey> from_der(ByteView der);
    /// PEM if it looks like PEM, else DER (what swanctl's private key folders hold).
    static Result<PrivateKey> from_any(ByteView data);
    /// An encrypted key (PEM: PKCS#8 "ENCRYPTED PRIVATE KEY" or a traditional key with
    /// Proc-Type: 4,ENCRYPTED; DER: PKCS#8 EncryptedPrivateKeyInfo) opened with `passphrase`;
    /// an unencrypted key loads too. kInvalidArgument for a wrong passphrase or an unreadable
    /// key. The passphrase is never logged (key_file.cc).
    static Result<PrivateKey> from_encrypted(ByteView data, const SecretBytes& passphrase);
    explicit PrivateKey(EvpPkeyPtr key) noexcept;

    [[nodiscard]] KeyType type() const noexcept { return type_; }
    [[nodiscard]] EVP_PKEY* raw() const noexcept { return key_.get(); }
    /// Whether `other` is the same key.
    [[nodiscard]] bool same_as(const PrivateKey& other) const noexcept;
    /// The signature value of `octets` with scheme `s` (DER ECDSA-Sig-Value for ECDSA).
    [[nodiscard]] Result<Bytes> sign(SignatureScheme s, ByteView octets) const;
    /// The scheme to sign with, given the hash algorithms the peer announced in
    /// SIGNATURE_HASH_ALGORITHMS (RFC 7427 §4): the key's natural hash if offered, else the
    /// strongest offered one it can use. kNoProposal if none fits.
    [[nodiscard]] Result<SignatureScheme> choose_scheme(std::span<const HashAlgorithm> peer) const;

private:
    EvpPkeyPtr key_;
    KeyType type_;
};

/// Whether `data` is a PEM key that needs a passphrase (PKCS#8 "ENCRYPTED PRIVATE KEY", or a
/// traditional key with "Proc-Type: 4,ENCRYPTED"). Encrypted DER is not recognised here: it
/// simply does not load without its passphrase.
bool pem_key_is_encrypted(ByteView data) noexcept;

/// The key type of an OpenSSL key.
KeyType key_type_of(const EVP_PKEY* key) noexcept;

/// The SIGNATURE_HASH_ALGORITHMS ikeplex announces: SHA2-256, SHA2-384, SHA2-512, Identity.
std::span<const HashAlgorithm> supported_hashes() noexcept;

}  // namespace ikeplex::crypto
