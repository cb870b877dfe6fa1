// Constant-time check of ML-KEM (tests/ct/run_mlkem_ct.sh runs this under valgrind). The
// secrets — d, z, m, the decapsulation key and the ciphertext — are marked undefined with
// memcheck's client requests; memcheck then reports every branch ("Conditional jump or move
// depends on uninitialised value") and every memory index ("Use of uninitialised value") that
// depends on them. Built from the ML-KEM sources with IKEPLEX_MLKEM_CT_CHECK, which declares
// the matrix seed ρ public where it is derived (mlkem.cc). Outputs are marked defined again
// before they are compared or printed. Exits non-zero if a result is wrong.
#include <array>
#include <cstdio>
#include <vector>

#include <valgrind/memcheck.h>

#include "crypto/mlkem.h"

namespace mlkem = ikeplex::crypto::mlkem;

namespace {

template <class T>
void secret(T& buf) {
    VALGRIND_MAKE_MEM_UNDEFINED(buf.data(), buf.size());
}
template <class T>
void reveal(T& buf) {
    VALGRIND_MAKE_MEM_DEFINED(buf.data(), buf.size());
}

bool run(const mlkem::Params& p, std::uint8_t seed) {
    std::array<std::uint8_t, 32> d{};
    std::array<std::uint8_t, 32> z{};
    std::array<std::uint8_t, 32> m{};
    for (std::size_t i = 0; i < 32; ++i) {
        d[i] = static_cast<std::uint8_t>(seed + i);
        z[i] = static_cast<std::uint8_t>(seed * 3 + i);
        m[i] = static_cast<std::uint8_t>(seed * 7 + i);
    }
    std::vector<std::uint8_t> ek(p.ek_size());
    std::vector<std::uint8_t> dk(p.dk_size());
    std::vector<std::uint8_t> ct(p.ct_size());
    std::array<std::uint8_t, 32> k{};
    std::array<std::uint8_t, 32> k_dec{};
    std::array<std::uint8_t, 32> k_bad{};

    secret(d);
    secret(z);
    mlkem::keygen(p, d.data(), z.data(), ek, dk);
    reveal(ek);  // the encapsulation key is public

    secret(m);
    const bool enc_ok = static_cast<bool>(mlkem::encaps(p, ek, m.data(), ct, k));
    reveal(ct);  // sent in the clear

    std::vector<std::uint8_t> bad = ct;
    bad[5] ^= 0x10U;
    secret(dk);
    secret(ct);
    secret(bad);
    const bool dec_ok = static_cast<bool>(mlkem::decaps(p, dk, ct, k_dec)) &&
                        static_cast<bool>(mlkem::decaps(p, dk, bad, k_bad));
    reveal(k);
    reveal(k_dec);
    reveal(k_bad);
    const bool ok = enc_ok && dec_ok && k == k_dec && k != k_bad;
    std::printf("%s %s: K %02x%02x%02x%02x...\n", ok ? "ok" : "WRONG", p.name, k[0], k[1], k[2],
                k[3]);
    return ok;
}

}  // namespace

int main() {
    bool ok = true;
    for (const mlkem::Params* p : {&mlkem::kMlKem512, &mlkem::kMlKem768, &mlkem::kMlKem1024}) {
        for (std::uint8_t seed = 1; seed <= 2; ++seed) {
            ok = run(*p, seed) && ok;
        }
    }
    std::printf("running under valgrind: %s\n", RUNNING_ON_VALGRIND != 0 ? "yes" : "no");
    return ok ? 0 : 1;
}
