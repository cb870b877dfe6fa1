// Key exchange (RFC 7296 §1.2 KE payloads): MODP (RFC 3526), ECP (RFC 5903), Curve25519/448
// (RFC 8031). The peer's public value gets the RFC 6989 / RFC 8031 §3.2 checks — size, range,
// point on the curve, non-zero shared secret — and not OpenSSL's full validation, which costs
// 2-7x the derivation (performance anchors §B.4).
#pragma once

#include <memory>

#include "crypto/registry.h"
#include "util/random.h"
#include "util/secret_bytes.h"

namespace ikeplex::crypto {

class KeyExchange {
    /// The passkey of the constructor: only wrap() makes one (util/result.h).
    struct Token {
        explicit Token() = default;
    };

public:
    KeyExchange(Token /*wrap()*/, const KeInfo& info, EvpPkeyPtr key, Bytes pub) noexcept
        : info_(&info), key_(std::move(key)), public_(std::move(pub)) {}
    KeyExchange(const KeyExchange&) = delete;
    KeyExchange& operator=(const KeyExchange&) = delete;
    KeyExchange(KeyExchange&&) = delete;
    KeyExchange& operator=(KeyExchange&&) = delete;
    ~KeyExchange() = default;

    [[nodiscard]] const KeInfo& info() const noexcept { return *info_; }
    /// Our KE payload data: MODP y padded to the prime size, ECP x | y, X25519/X448 u.
    [[nodiscard]] ByteView public_value() const noexcept { return public_; }
    /// g^ir from the peer's KE payload data: MODP padded to the prime size (RFC 7296 §2.14),
    /// ECP the x coordinate (RFC 5903 §7), X25519/X448 the function output (RFC 8031 §2).
    /// kInvalidSyntax (notify INVALID_SYNTAX) when the peer's value fails the checks.
    [[nodiscard]] Result<SecretBytes> shared_secret(ByteView peer) const;

    /// A fresh key pair from OpenSSL's generator (the fast path for production).
    static Result<std::unique_ptr<KeyExchange>> generate(const KeInfo& info);
    /// A key pair whose private key is drawn from `random` (deterministic tests, simulation,
    /// fuzzing); slower than generate() for MODP and ECP.
    static Result<std::unique_ptr<KeyExchange>> generate(const KeInfo& info, Random& random);
    /// A key pair with the given private key (big-endian scalar or exponent; raw for
    /// X25519/X448), for known-answer tests.
    static Result<std::unique_ptr<KeyExchange>> from_private(const KeInfo& info,
                                                             ByteView private_key);

private:
    static std::unique_ptr<KeyExchange> wrap(const KeInfo& info, EvpPkeyPtr key, Bytes pub);

    const KeInfo* info_;
    EvpPkeyPtr key_;
    Bytes public_;
};
using KeyExchangePtr = std::unique_ptr<KeyExchange>;

}  // namespace ikeplex::crypto
