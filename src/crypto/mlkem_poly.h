// ML-KEM's ring arithmetic (FIPS 203 §4.2-4.3): polynomials of Z_q[X]/(X^256 + 1), q = 3329,
// the NTT, sampling, compression and byte encoding. Internal to crypto/mlkem.cc (and its
// tests). Every coefficient is kept fully reduced in [0, q); no branch and no memory index
// depends on a coefficient (reductions by multiplication and masks), except in sample_ntt,
// which reads public data (the matrix seed ρ).
#pragma once

#include <array>
#include <cstdint>

#include "util/bytes.h"

namespace ikeplex::crypto::mlkem {

inline constexpr unsigned kQ = 3329;
inline constexpr std::size_t kN = 256;

/// A polynomial, or its NTT representation (the two are the same array).
struct Poly {
    std::array<std::uint16_t, kN> c{};
};

/// Algorithm 9: f̂ = NTT(f), in place.
void ntt(Poly& f) noexcept;
/// Algorithm 10: f = NTT⁻¹(f̂), in place.
void inv_ntt(Poly& f) noexcept;
/// Algorithm 11: acc += f̂ × ĝ in T_q.
void mul_acc(Poly& acc, const Poly& f, const Poly& g) noexcept;
void add(Poly& acc, const Poly& g) noexcept;
void sub(Poly& acc, const Poly& g) noexcept;

/// Algorithm 7: SampleNTT(ρ ‖ j ‖ i) — rejection sampling from SHAKE128 (public input).
void sample_ntt(Poly& out, ByteView rho, std::uint8_t j, std::uint8_t i) noexcept;
/// Algorithm 8 over PRF_η(s, b) = SHAKE256(s ‖ b, 64η) (§4.1): SamplePolyCBD_η.
void sample_cbd(Poly& out, ByteView s, std::uint8_t b, std::size_t eta) noexcept;

/// §4.2.1 Compress_d / Decompress_d on every coefficient (d < 12).
void compress(Poly& f, std::size_t d) noexcept;
void decompress(Poly& f, std::size_t d) noexcept;
/// Algorithm 5: ByteEncode_d (32 d bytes).
void encode(const Poly& f, std::size_t d, std::uint8_t* out) noexcept;
/// Algorithm 6: ByteDecode_d (32 d bytes); for d = 12 the values are taken mod q.
void decode(Poly& f, std::size_t d, const std::uint8_t* in) noexcept;
/// FIPS 203 §7.2 modulus check of one 384-byte ByteEncode12 block: every 12-bit value < q.
[[nodiscard]] bool decode12_in_range(const std::uint8_t* in) noexcept;

/// Barrett reduction of x < 2^26 into [0, q) (exposed for the tests).
[[nodiscard]] std::uint16_t reduce(std::uint32_t x) noexcept;

}  // namespace ikeplex::crypto::mlkem
