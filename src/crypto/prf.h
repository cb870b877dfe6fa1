// The IKEv2 pseudo-random function and prf+ (RFC 7296 §2.13), on HMAC-SHA2 (RFC 4868).
//
// OpenSSL 3.0 has no IKEv2 prf+ KDF, so prf+ is built here on EVP_MAC; known-answer tests from
// RFC 4868 / RFC 4231 and real peers' key schedules check it.
#pragma once

#include <initializer_list>

#include "crypto/registry.h"
#include "util/secret_bytes.h"

namespace ikeplex::crypto {

class Prf {
public:
    /// `info` must come from `registry` (the registry outlives the Prf).
    Prf(const Registry& registry, const PrfInfo& info) noexcept;

    [[nodiscard]] const PrfInfo& info() const noexcept { return *info_; }
    [[nodiscard]] std::size_t output_size() const noexcept { return info_->output_size; }

    /// prf(key, data1 | data2 | ...).
    [[nodiscard]] Result<SecretBytes> compute(ByteView key,
                                              std::initializer_list<ByteView> data) const;
    /// prf+(key, seed) truncated to `length` bytes (RFC 7296 §2.13):
    /// T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n); at most 255 blocks.
    [[nodiscard]] Result<SecretBytes> plus(ByteView key, std::initializer_list<ByteView> seed,
                                           std::size_t length) const;

private:
    const EVP_MAC_CTX* template_;
    const PrfInfo* info_;
};

/// HMAC over `data` with the digest of `integ`, truncated to its ICV size (RFC 4868 §2.2.1).
Result<Bytes> integrity_mac(const Registry& registry, const IntegInfo& integ, ByteView key,
                            std::initializer_list<ByteView> data);

}  // namespace ikeplex::crypto
