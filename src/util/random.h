// Randomness, injected (design.md §1): the engine and the crypto layer take a Random&, so tests
// and the simulator can make SPIs, nonces, IVs and private keys deterministic.
#pragma once

#include <array>
#include <cstdint>

#include "util/bytes.h"

namespace ikeplex {

class Random {
public:
    Random() = default;
    Random(const Random&) = delete;
    Random& operator=(const Random&) = delete;
    Random(Random&&) = delete;
    Random& operator=(Random&&) = delete;
    virtual ~Random() = default;

    /// Fills `out` with random bytes (cryptographically strong in production).
    virtual void fill(MutByteView out) noexcept = 0;

    std::uint32_t u32() noexcept;
    std::uint64_t u64() noexcept;
    Bytes bytes(std::size_t n);
};

/// The kernel's CSPRNG (getrandom via getentropy): what the daemon uses. Small requests (SPIs,
/// nonces) are served from a pool of 256 bytes read at once, each byte wiped as it is handed
/// out, so an IKE SA costs one system call instead of about ten. One instance per thread.
class OsRandom final : public Random {
public:
    OsRandom() = default;
    ~OsRandom() override;
    OsRandom(const OsRandom&) = delete;
    OsRandom& operator=(const OsRandom&) = delete;
    OsRandom(OsRandom&&) = delete;
    OsRandom& operator=(OsRandom&&) = delete;

    void fill(MutByteView out) noexcept override;

private:
    static constexpr std::size_t kPool = 256;   ///< getentropy's limit per call
    static constexpr std::size_t kPooled = 64;  ///< larger requests bypass the pool
    std::array<std::uint8_t, kPool> pool_{};
    std::size_t left_{0};  ///< unread bytes at the end of pool_
};

/// A deterministic generator for tests and the simulator (xoshiro256**, seeded): never use it
/// for keys in production.
class DeterministicRandom final : public Random {
public:
    explicit DeterministicRandom(std::uint64_t seed) noexcept;
    void fill(MutByteView out) noexcept override;

private:
    std::uint64_t next() noexcept;
    std::uint64_t s_[4]{};
};

}  // namespace ikeplex
