// ML-KEM (FIPS 203, August 2024): the parameter sets and the internal algorithms
// ML-KEM.KeyGen_internal, Encaps_internal and Decaps (§6) over K-PKE (§5). Deterministic: the
// caller supplies the randomness (d, z, m). crypto/kem.h puts this behind KeyExchange.
//
// Constant time in the secrets (d, z, m, s, the decapsulation key, K): no branch or memory
// index depends on them; the re-encryption comparison and the implicit-rejection select in
// Decaps use masks. Only the public matrix seed ρ drives a branch (SampleNTT's rejection).
#pragma once

#include <cstddef>
#include <cstdint>

#include "util/bytes.h"
#include "util/result.h"

namespace ikeplex::crypto::mlkem {

/// FIPS 203 §8, Table 2.
struct Params {
    const char* name;
    std::size_t k;
    std::size_t eta1;
    std::size_t eta2;
    std::size_t du;
    std::size_t dv;

    [[nodiscard]] constexpr std::size_t ek_size() const noexcept { return 384 * k + 32; }
    [[nodiscard]] constexpr std::size_t dk_size() const noexcept { return 768 * k + 96; }
    [[nodiscard]] constexpr std::size_t ct_size() const noexcept { return 32 * (du * k + dv); }
};

inline constexpr Params kMlKem512{"ML-KEM-512", 2, 3, 2, 10, 4};
inline constexpr Params kMlKem768{"ML-KEM-768", 3, 2, 2, 10, 4};
inline constexpr Params kMlKem1024{"ML-KEM-1024", 4, 2, 2, 11, 5};
inline constexpr std::size_t kSeedSize = 32;    ///< d, z, m
inline constexpr std::size_t kSharedSize = 32;  ///< K
inline constexpr std::size_t kMaxK = 4;

/// The parameter set of IKEv2 KE transform 35/36/37 (crypto/algorithm_ids.h), else nullptr.
[[nodiscard]] const Params* params_for_ke(std::uint16_t transform_id) noexcept;

/// Algorithm 16 ML-KEM.KeyGen_internal(d, z): ek (ek_size) and dk (dk_size). (ρ, σ) = G(d ‖ k).
void keygen(const Params& p, const std::uint8_t* d, const std::uint8_t* z, MutByteView ek,
            MutByteView dk) noexcept;
/// The same from (ρ ‖ σ) = G(...) already computed: Algorithm 13 from step 2 on, then
/// Algorithm 16's dk. Exposed so tests can feed vectors made with the FIPS 203 draft's G(d).
void keygen_from_g(const Params& p, const std::uint8_t* rho_sigma, const std::uint8_t* z,
                   MutByteView ek, MutByteView dk) noexcept;

/// FIPS 203 §7.2 input checks on an encapsulation key: its length, and the modulus check
/// (ByteEncode12(ByteDecode12(ek)) == ek). kInvalidSyntax when it fails.
Status check_encaps_key(const Params& p, ByteView ek);
/// Algorithm 17 ML-KEM.Encaps_internal(ek, m) after check_encaps_key: ct (ct_size), K (32).
Status encaps(const Params& p, ByteView ek, const std::uint8_t* m, MutByteView ct, MutByteView key);
/// Algorithm 18 ML-KEM.Decaps_internal(dk, c) with §7.3's length checks (kInvalidSyntax):
/// K, or with implicit rejection K̄ = J(z ‖ c) when c does not re-encrypt.
Status decaps(const Params& p, ByteView dk, ByteView ct, MutByteView key);
/// FIPS 203 §7.3 hash check: H(ek part of dk) equals the stored hash.
[[nodiscard]] bool dk_hash_ok(const Params& p, ByteView dk) noexcept;

}  // namespace ikeplex::crypto::mlkem
