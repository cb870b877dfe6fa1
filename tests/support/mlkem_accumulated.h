// The accumulated ML-KEM test of C2SP/CCTV (tests/vectors/mlkem/CCTV-README.md, "Accumulated
// pq-crystals vectors"): a SHAKE-128 stream with empty input supplies, per test, d, z, m and a
// random (invalid) ciphertext; ek, dk, ct, K (Encaps) and K (Decaps of the random ciphertext)
// are absorbed into a second SHAKE-128, whose first 32 bytes are the result. Each honest
// ciphertext must also decapsulate to Encaps' K (counted in `mismatches`).
//
// The CCTV hashes were made with the FIPS 203 draft's key generation, (ρ, σ) = G(d); `draft_g`
// reproduces that (the test computes G(d) and calls mlkem::keygen_from_g). Go's standard
// library publishes the same run for the final standard's G(d ‖ k) with dk left out of the
// hash (`hash_dk` false) for ML-KEM-768. Header-only: the gtest and bench/mlkem_accumulated use it.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "crypto/keccak.h"
#include "crypto/mlkem.h"
#include "util/hex.h"

namespace ikeplex::test {

struct MlKemAccumulated {
    std::string hash;  ///< hex of the first 32 output bytes
    std::size_t mismatches = 0;
};

inline MlKemAccumulated mlkem_accumulated(const crypto::mlkem::Params& p, std::size_t n,
                                          bool draft_g, bool hash_dk) {
    namespace mlkem = crypto::mlkem;
    using crypto::keccak::Sponge;
    Sponge rng(Sponge::Kind::kShake128);
    Sponge out(Sponge::Kind::kShake128);
    std::array<std::uint8_t, 32> d{};
    std::array<std::uint8_t, 32> z{};
    std::array<std::uint8_t, 32> m{};
    std::array<std::uint8_t, 64> g{};
    std::array<std::uint8_t, 32> k{};
    std::array<std::uint8_t, 32> k2{};
    std::vector<std::uint8_t> ek(p.ek_size());
    std::vector<std::uint8_t> dk(p.dk_size());
    std::vector<std::uint8_t> ct(p.ct_size());
    std::vector<std::uint8_t> bad_ct(p.ct_size());
    MlKemAccumulated result;
    for (std::size_t i = 0; i < n; ++i) {
        rng.squeeze(d);
        rng.squeeze(z);
        rng.squeeze(m);
        rng.squeeze(bad_ct);
        if (draft_g) {
            crypto::keccak::sha3_512({d}, g);
            mlkem::keygen_from_g(p, g.data(), z.data(), ek, dk);
        } else {
            mlkem::keygen(p, d.data(), z.data(), ek, dk);
        }
        out.absorb(ek);
        if (hash_dk) {
            out.absorb(dk);
        }
        if (!mlkem::encaps(p, ek, m.data(), ct, k) || !mlkem::decaps(p, dk, ct, k2)) {
            ++result.mismatches;
        }
        out.absorb(ct);
        out.absorb(k);
        if (k != k2) {
            ++result.mismatches;
        }
        static_cast<void>(mlkem::decaps(p, dk, bad_ct, k2));
        out.absorb(k2);
    }
    std::array<std::uint8_t, 32> hash{};
    out.squeeze(hash);
    result.hash = to_hex(hash);
    return result;
}

/// The published hashes: C2SP/CCTV's README (FIPS 203 draft key generation, dk hashed) and
/// Go's TestAccumulated (final standard, ML-KEM-768, dk not hashed).
struct MlKemAccumulatedRun {
    const char* what;
    const crypto::mlkem::Params* params;
    std::size_t n;
    bool draft_g;
    bool hash_dk;
    const char* hash;
};
inline constexpr MlKemAccumulatedRun kMlKemAccumulatedRuns[] = {
        {"CCTV ML-KEM-512 10k", &crypto::mlkem::kMlKem512, 10000, true, true,
         "845913ea5a308b803c764a9ed8e9d814ca1fd9c82ba43c7b1e64b79c7a6ec8e4"},
        {"CCTV ML-KEM-768 10k", &crypto::mlkem::kMlKem768, 10000, true, true,
         "f7db260e1137a742e05fe0db9525012812b004d29040a5b606aad3d134b548d3"},
        {"CCTV ML-KEM-1024 10k", &crypto::mlkem::kMlKem1024, 10000, true, true,
         "47ac888fe61544efc0518f46094b4f8a600965fc89822acb06dc7169d24f3543"},
        {"Go final ML-KEM-768 10k", &crypto::mlkem::kMlKem768, 10000, false, false,
         "8a518cc63da366322a8e7a818c7a0d63483cb3528d34a4cf42f35d5ad73f22fc"},
        {"CCTV ML-KEM-512 1M", &crypto::mlkem::kMlKem512, 1000000, true, true,
         "578eeaa1156848cbf7a15bafef963b4ccabe3308ddfb7dbdd20ad965f634e81d"},
        {"CCTV ML-KEM-768 1M", &crypto::mlkem::kMlKem768, 1000000, true, true,
         "70090cc5842aad0ec43d5042c783fae9bc320c047b5dafcb6e134821db02384d"},
        {"CCTV ML-KEM-1024 1M", &crypto::mlkem::kMlKem1024, 1000000, true, true,
         "7ccc6d803739d3db3c5ce39c7130f459db32a199c6605e3be210e5a89d4c4b95"},
        {"Go final ML-KEM-768 1M", &crypto::mlkem::kMlKem768, 1000000, false, false,
         "424bf8f0e8ae99b78d788a6e2e8e9cdaf9773fc0c08a6f433507cb559edfd0f0"},
};

}  // namespace ikeplex::test
