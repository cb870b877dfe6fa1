// Keccak-f[1600] sponges from FIPS 202: SHA3-256, SHA3-512, SHAKE128, SHAKE256 — the hash and
// XOF functions of ML-KEM (FIPS 203 §4.1).
//
// Written here rather than taken from OpenSSL's EVP: OpenSSL 3.0's EVP_DigestFinalXOF can be
// called only once, while SampleNTT squeezes SHAKE128 a block at a time for as long as
// rejection sampling needs (the "unlucky" seeds need many blocks); and ML-KEM calls the hashes
// dozens of times per operation on tiny inputs, where an EVP context's set-up would dominate.
// The state is a plain array; the sponge wipes it when it goes away (it may hold secrets).
#pragma once

#include <cstddef>
#include <cstdint>

#include "util/bytes.h"

namespace ikeplex::crypto::keccak {

/// A Keccak sponge with capacity 2 * security bits: absorb(), then squeeze() (which pads on
/// its first call). The padding byte is FIPS 202's domain suffix with the first pad bit.
class Sponge {
public:
    enum class Kind : std::uint8_t { kSha3_256, kSha3_512, kShake128, kShake256 };
    explicit Sponge(Kind kind) noexcept;
    Sponge(const Sponge&) = delete;
    Sponge& operator=(const Sponge&) = delete;
    Sponge(Sponge&&) = delete;
    Sponge& operator=(Sponge&&) = delete;
    ~Sponge();

    void absorb(ByteView data) noexcept;
    /// Output bytes; may be called repeatedly (an XOF reads on where it stopped).
    void squeeze(MutByteView out) noexcept;
    [[nodiscard]] std::size_t rate() const noexcept { return rate_; }

private:
    std::uint64_t state_[25]{};
    std::size_t rate_;
    std::size_t pos_{0};
    std::uint8_t suffix_;
    bool squeezing_{false};
};

/// The permutation itself (24 rounds), exposed for the known-answer test.
void permute(std::uint64_t state[25]) noexcept;

/// One-shot helpers over a list of inputs (concatenated).
void sha3_256(std::initializer_list<ByteView> in, MutByteView out32) noexcept;
void sha3_512(std::initializer_list<ByteView> in, MutByteView out64) noexcept;
void shake256(std::initializer_list<ByteView> in, MutByteView out) noexcept;

}  // namespace ikeplex::crypto::keccak
