// Key exchange (RFC 7296 §1.2 KE payloads): MODP (RFC 3526), ECP (RFC 5903), Curve25519/448
// (RFC 8031), ML-KEM (FIPS 203; crypto/mlkem*). The peer's public value gets the RFC 6989 / RFC
// 8031 §3.2 checks — size, range, point on the curve, non-zero shared secret — and not OpenSSL's
// full validation, which costs 2-7x the derivation (performance anchors §B.4).
#pragma once

#include <memory>

#include "crypto/registry.h"
#include "util/random.h"
#include "util/secret_bytes.h"

namespace ikeplex::crypto {

/// One side of a key exchange method: a Diffie-Hellman group (both sides send a public value
/// and derive g^ir) or a KEM (FIPS 203 ML-KEM, RFC 9370 / draft-ietf-ipsecme-ikev2-mlkem: the
/// initiator sends an encapsulation key, the responder answers with a ciphertext).
///
/// Initiator: generate(), send public_value(), then shared_secret(peer's reply).
/// Responder: generate(), respond(initiator's data), then send public_value().
/// For a DH group respond() is shared_secret(); for a KEM it encapsulates to the peer's key
/// with randomness drawn at generate() and makes the ciphertext our public value.
class KeyExchange {
public:
    KeyExchange(const KeyExchange&) = delete;
    KeyExchange& operator=(const KeyExchange&) = delete;
    KeyExchange(KeyExchange&&) = delete;
    KeyExchange& operator=(KeyExchange&&) = delete;
    virtual ~KeyExchange() = default;

    [[nodiscard]] const KeInfo& info() const noexcept { return *info_; }
    /// Our KE payload data: MODP y padded to the prime size, ECP x | y, X25519/X448 u; a KEM's
    /// encapsulation key (initiator) or, after respond(), its ciphertext (responder).
    [[nodiscard]] virtual ByteView public_value() const noexcept = 0;
    /// Initiator: the shared secret from the peer's KE payload data. DH: MODP padded to the
    /// prime size (RFC 7296 §2.14), ECP the x coordinate (RFC 5903 §7), X25519/X448 the
    /// function output (RFC 8031 §2); KEM: Decaps of the ciphertext (implicit rejection).
    /// kInvalidSyntax (notify INVALID_SYNTAX) when the peer's value fails the checks.
    [[nodiscard]] virtual Result<SecretBytes> shared_secret(ByteView peer) const = 0;
    /// Responder: the shared secret for the initiator's KE payload data; public_value() is
    /// what to send back afterwards. kInvalidSyntax as above (a KEM's encapsulation key that
    /// fails the FIPS 203 §7.2 modulus check).
    [[nodiscard]] virtual Result<SecretBytes> respond(ByteView peer) { return shared_secret(peer); }

    /// A fresh key pair from OpenSSL's generator (the fast path for production).
    static Result<std::unique_ptr<KeyExchange>> generate(const KeInfo& info);
    /// A key pair whose private key is drawn from `random` (deterministic tests, simulation,
    /// fuzzing); slower than generate() for MODP and ECP.
    static Result<std::unique_ptr<KeyExchange>> generate(const KeInfo& info, Random& random);
    /// A key pair with the given private key (big-endian scalar or exponent; raw for
    /// X25519/X448; a KEM's seed), for known-answer tests.
    static Result<std::unique_ptr<KeyExchange>> from_private(const KeInfo& info,
                                                             ByteView private_key);

protected:
    explicit KeyExchange(const KeInfo& info) noexcept : info_(&info) {}

private:
    const KeInfo* info_;
};
using KeyExchangePtr = std::unique_ptr<KeyExchange>;

}  // namespace ikeplex::crypto
