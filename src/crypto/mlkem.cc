// ML-KEM from FIPS 203: K-PKE (§5, Algorithms 13-15) and the ML-KEM internal algorithms (§6,
// Algorithms 16-18), over the ring arithmetic of crypto/mlkem_poly.h. Hashes (§4.1):
// H = SHA3-256, G = SHA3-512, J = SHAKE256 with 32 bytes out, PRF and XOF in mlkem_poly.cc.
#include "crypto/mlkem.h"

#include <array>
#include <cstring>

#include <openssl/crypto.h>

#include "crypto/algorithm_ids.h"
#include "crypto/keccak.h"
#include "crypto/mlkem_poly.h"

// The constant-time check (tests/ct) builds these sources with valgrind's client requests:
// secrets are marked undefined, and the matrix seed ρ — public, but derived from the secret d
// in KeyGen and read from the marked dk in Decaps — is declared public again here, because
// SampleNTT's rejection sampling legitimately branches on it.
#ifdef IKEPLEX_MLKEM_CT_CHECK
#include <valgrind/memcheck.h>
#define IKEPLEX_DECLASSIFY(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))
#else
#define IKEPLEX_DECLASSIFY(p, n) static_cast<void>(0)
#endif

namespace ikeplex::crypto::mlkem {
namespace {

using PolyVec = std::array<Poly, kMaxK>;

template <class T>
void wipe(T& x) noexcept {
    OPENSSL_cleanse(&x, sizeof(x));
}

Error bad(const char* detail) {
    return make_error(Errc::kInvalidSyntax, detail);
}

/// out = Â ∘ v (Algorithm 13 step 18), or Âᵀ ∘ v (Algorithm 14 step 19), generating each
/// entry as it is needed: Â[r, c] = SampleNTT(ρ ‖ c ‖ r) (Algorithms 13/14, step 6).
void mat_vec(const Params& p, const std::uint8_t* rho, const PolyVec& v, bool transpose,
             PolyVec& out) noexcept {
    Poly a;
    for (std::size_t i = 0; i < p.k; ++i) {
        out[i] = Poly{};
        for (std::size_t j = 0; j < p.k; ++j) {
            const std::size_t row = transpose ? j : i;
            const std::size_t col = transpose ? i : j;
            sample_ntt(a, ByteView(rho, 32), static_cast<std::uint8_t>(col),
                       static_cast<std::uint8_t>(row));
            mul_acc(out[i], a, v[j]);
        }
    }
}

/// Algorithm 14 K-PKE.Encrypt(ek_PKE, m, r) into ct (ct_size bytes).
void pke_encrypt(const Params& p, const std::uint8_t* ek, const std::uint8_t* m,
                 const std::uint8_t* r, std::uint8_t* ct) noexcept {
    PolyVec t;
    PolyVec y;
    PolyVec e1;
    PolyVec u;
    Poly e2;
    Poly mu;
    Poly v{};
    const ByteView seed(r, 32);
    std::uint8_t n = 0;
    for (std::size_t i = 0; i < p.k; ++i) {
        decode(t[i], 12, ek + 384 * i);
    }
    for (std::size_t i = 0; i < p.k; ++i) {
        sample_cbd(y[i], seed, n++, p.eta1);
        ntt(y[i]);
    }
    for (std::size_t i = 0; i < p.k; ++i) {
        sample_cbd(e1[i], seed, n++, p.eta2);
    }
    sample_cbd(e2, seed, n, p.eta2);
    mat_vec(p, ek + 384 * p.k, y, true, u);
    for (std::size_t i = 0; i < p.k; ++i) {
        inv_ntt(u[i]);
        add(u[i], e1[i]);
        compress(u[i], p.du);
        encode(u[i], p.du, ct + 32 * p.du * i);
        mul_acc(v, t[i], y[i]);
    }
    inv_ntt(v);
    add(v, e2);
    decode(mu, 1, m);
    decompress(mu, 1);
    add(v, mu);
    compress(v, p.dv);
    encode(v, p.dv, ct + 32 * p.du * p.k);
    wipe(y);
    wipe(e1);
    wipe(u);
    wipe(e2);
    wipe(mu);
    wipe(v);
}

/// Algorithm 15 K-PKE.Decrypt(dk_PKE, c) into m (32 bytes).
void pke_decrypt(const Params& p, const std::uint8_t* dk, const std::uint8_t* ct,
                 std::uint8_t* m) noexcept {
    PolyVec s;
    Poly u;
    Poly v;
    Poly w{};
    for (std::size_t i = 0; i < p.k; ++i) {
        decode(u, p.du, ct + 32 * p.du * i);
        decompress(u, p.du);
        ntt(u);
        decode(s[i], 12, dk + 384 * i);
        mul_acc(w, s[i], u);
    }
    inv_ntt(w);
    decode(v, p.dv, ct + 32 * p.du * p.k);
    decompress(v, p.dv);
    sub(v, w);
    compress(v, 1);
    encode(v, 1, m);
    wipe(s);
    wipe(v);
    wipe(w);
}

}  // namespace

void keygen_from_g(const Params& p, const std::uint8_t* rho_sigma, const std::uint8_t* z,
                   MutByteView ek, MutByteView dk) noexcept {
    const std::uint8_t* rho = rho_sigma;
    const ByteView sigma(rho_sigma + 32, 32);
    IKEPLEX_DECLASSIFY(rho, 32);
    PolyVec s;
    PolyVec e;
    PolyVec t;
    std::uint8_t n = 0;
    for (std::size_t i = 0; i < p.k; ++i) {
        sample_cbd(s[i], sigma, n++, p.eta1);
        ntt(s[i]);
    }
    for (std::size_t i = 0; i < p.k; ++i) {
        sample_cbd(e[i], sigma, n++, p.eta1);
        ntt(e[i]);
    }
    mat_vec(p, rho, s, false, t);
    std::uint8_t* pk = ek.data();
    for (std::size_t i = 0; i < p.k; ++i) {
        add(t[i], e[i]);
        encode(t[i], 12, pk + 384 * i);
        encode(s[i], 12, dk.data() + 384 * i);  // dk_PKE
    }
    std::memcpy(pk + 384 * p.k, rho, 32);
    // Algorithm 16: dk = dk_PKE ‖ ek ‖ H(ek) ‖ z.
    std::uint8_t* rest = dk.data() + 384 * p.k;
    std::memcpy(rest, pk, p.ek_size());
    keccak::sha3_256({ByteView(pk, p.ek_size())}, MutByteView(rest + p.ek_size(), 32));
    std::memcpy(rest + p.ek_size() + 32, z, 32);
    wipe(s);
    wipe(e);
}

void keygen(const Params& p, const std::uint8_t* d, const std::uint8_t* z, MutByteView ek,
            MutByteView dk) noexcept {
    std::array<std::uint8_t, 64> rho_sigma{};
    const auto k = static_cast<std::uint8_t>(p.k);
    keccak::sha3_512({ByteView(d, 32), ByteView(&k, 1)}, rho_sigma);  // Algorithm 13 step 1
    keygen_from_g(p, rho_sigma.data(), z, ek, dk);
    wipe(rho_sigma);
}

Status check_encaps_key(const Params& p, ByteView ek) {
    if (ek.size() != p.ek_size()) {
        return bad("ML-KEM: encapsulation key has the wrong length");
    }
    for (std::size_t i = 0; i < p.k; ++i) {
        if (!decode12_in_range(ek.data() + 384 * i)) {
            return bad("ML-KEM: encapsulation key fails the modulus check");
        }
    }
    return ok();
}

Status encaps(const Params& p, ByteView ek, const std::uint8_t* m, MutByteView ct,
              MutByteView key) {
    IKEPLEX_TRY(check_encaps_key(p, ek));
    if (ct.size() < p.ct_size() || key.size() < kSharedSize) {
        return make_error(Errc::kInvalidArgument, "ML-KEM: output buffer too small");
    }
    std::array<std::uint8_t, 32> h{};
    std::array<std::uint8_t, 64> k_r{};
    keccak::sha3_256({ek}, h);
    keccak::sha3_512({ByteView(m, 32), h}, k_r);  // (K, r) = G(m ‖ H(ek))
    pke_encrypt(p, ek.data(), m, k_r.data() + 32, ct.data());
    std::memcpy(key.data(), k_r.data(), kSharedSize);
    wipe(k_r);
    return ok();
}

Status decaps(const Params& p, ByteView dk, ByteView ct, MutByteView key) {
    if (ct.size() != p.ct_size()) {
        return bad("ML-KEM: ciphertext has the wrong length");
    }
    if (dk.size() != p.dk_size() || key.size() < kSharedSize) {
        return make_error(Errc::kInvalidArgument, "ML-KEM: wrong decapsulation key size");
    }
    const std::uint8_t* ek = dk.data() + 384 * p.k;
    const std::uint8_t* h = ek + p.ek_size();
    const std::uint8_t* z = h + 32;
    IKEPLEX_DECLASSIFY(ek + 384 * p.k, 32);  // ρ
    std::array<std::uint8_t, 32> m{};
    std::array<std::uint8_t, 64> k_r{};
    std::array<std::uint8_t, 32> k_bar{};
    std::array<std::uint8_t, 1568> ct2{};  // the largest ciphertext (ML-KEM-1024)
    pke_decrypt(p, dk.data(), ct.data(), m.data());
    keccak::sha3_512({m, ByteView(h, 32)}, k_r);     // (K', r') = G(m' ‖ h)
    keccak::shake256({ByteView(z, 32), ct}, k_bar);  // K̄ = J(z ‖ c)
    pke_encrypt(p, ek, m.data(), k_r.data() + 32, ct2.data());
    // c == c' in constant time, then K' or K̄ by a mask.
    std::uint32_t diff = 0;
    for (std::size_t i = 0; i < ct.size(); ++i) {
        diff |= static_cast<std::uint32_t>(ct[i] ^ ct2[i]);
    }
    const auto keep = static_cast<std::uint8_t>((diff - 1) >> 8);  // 0xff iff diff == 0
    for (std::size_t i = 0; i < kSharedSize; ++i) {
        key[i] = static_cast<std::uint8_t>((k_r[i] & keep) | (k_bar[i] & ~keep));
    }
    wipe(m);
    wipe(k_r);
    wipe(k_bar);
    wipe(ct2);
    return ok();
}

const Params* params_for_ke(std::uint16_t transform_id) noexcept {
    switch (transform_id) {
        case ke::kMlKem512:
            return &kMlKem512;
        case ke::kMlKem768:
            return &kMlKem768;
        case ke::kMlKem1024:
            return &kMlKem1024;
        default:
            return nullptr;
    }
}

bool dk_hash_ok(const Params& p, ByteView dk) noexcept {
    if (dk.size() != p.dk_size()) {
        return false;
    }
    std::array<std::uint8_t, 32> h{};
    keccak::sha3_256({dk.subspan(384 * p.k, p.ek_size())}, h);
    return CRYPTO_memcmp(h.data(), dk.data() + 384 * p.k + p.ek_size(), 32) == 0;
}

}  // namespace ikeplex::crypto::mlkem
