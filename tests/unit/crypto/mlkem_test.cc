// ML-KEM (FIPS 203) against C2SP/CCTV's vectors (tests/vectors/mlkem/README.md): intermediate
// values of every step for the three parameter sets, invalid encapsulation keys (modulus
// check), "unlucky" SampleNTT seeds, the strcmp vectors and the 10,000-test accumulated hash;
// the final standard's key generation, (ρ, σ) = G(d ‖ k), against Go's accumulated hash;
// Keccak against OpenSSL's SHA-3 and SHAKE.
#include "crypto/mlkem.h"

#include <array>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <openssl/evp.h>

#include <gtest/gtest.h>
#include <zlib.h>

#include "crypto/algorithm_ids.h"
#include "crypto/keccak.h"
#include "crypto/kem.h"
#include "crypto/mlkem_poly.h"
#include "crypto_fixture.h"
#include "mlkem_accumulated.h"
#include "util/hex.h"
#include "vector_file.h"
#include "vectors.h"

namespace ikeplex::crypto::mlkem {
namespace {

const Params* const kAll[] = {&kMlKem512, &kMlKem768, &kMlKem1024};

/// "key = value" lines of a CCTV file, in order (keys repeat: r, dkPKE). value() is a line's
/// last part ("A[0, 0] = {2322, ...} = hex" gives the hex); coefficients() reads the braces.
using Entries = std::vector<std::pair<std::string, std::string>>;
Entries read_entries(const std::string& relative) {
    Entries out;
    std::istringstream in(ikeplex::test::read_vector_text(relative));
    std::string line;
    while (std::getline(in, line)) {
        const auto eq = line.find(" = ");
        if (eq == std::string::npos) {
            continue;
        }
        out.emplace_back(line.substr(0, eq), line.substr(eq + 3));
    }
    return out;
}
std::string raw(const Entries& e, const std::string& key) {
    for (const auto& [k, v] : e) {
        if (k == key) {
            return v;
        }
    }
    ADD_FAILURE() << "no " << key;
    return {};
}
std::string value(const Entries& e, const std::string& key) {
    const std::string v = raw(e, key);
    const auto last = v.rfind(" = ");
    return last == std::string::npos ? v : v.substr(last + 3);
}
Bytes hex(const std::string& s) {
    return from_hex(s).value();
}
/// "{1, 2, ...}" of a line → a polynomial.
Poly coefficients(const Entries& e, const std::string& key) {
    const std::string s = raw(e, key);
    EXPECT_EQ(s.front(), '{') << key;
    Poly p;
    const char* at = s.c_str();
    for (auto& c : p.c) {
        while (*at != 0 && (*at < '0' || *at > '9')) {
            ++at;
        }
        char* end = nullptr;
        c = static_cast<std::uint16_t>(std::strtoul(at, &end, 10));
        at = end;
    }
    return p;
}
std::string dump(const Poly& p) {
    std::string s;
    for (const auto c : p.c) {
        s += std::to_string(c) + ",";
    }
    return s;
}
std::string file_of(const Params& p, const char* dir) {
    return std::string("mlkem/") + dir + "/" + p.name + ".txt";
}

TEST(Keccak, MatchesOpenSsl) {
    // Inputs around the rates (72, 136, 168) and outputs over several blocks, read in pieces.
    using keccak::Sponge;
    const std::pair<Sponge::Kind, const char*> kinds[] = {{Sponge::Kind::kSha3_256, "SHA3-256"},
                                                          {Sponge::Kind::kSha3_512, "SHA3-512"},
                                                          {Sponge::Kind::kShake128, "SHAKE128"},
                                                          {Sponge::Kind::kShake256, "SHAKE256"}};
    for (const auto& [kind, name] : kinds) {
        for (const std::size_t len :
             {0U, 1U, 71U, 72U, 73U, 135U, 136U, 137U, 167U, 168U, 169U, 500U}) {
            SCOPED_TRACE(std::string(name) + " " + std::to_string(len));
            Bytes in(len);
            for (std::size_t i = 0; i < len; ++i) {
                in[i] = static_cast<std::uint8_t>(i * 7 + len);
            }
            const bool xof = kind == Sponge::Kind::kShake128 || kind == Sponge::Kind::kShake256;
            const std::size_t out_len = xof ? 600 : (kind == Sponge::Kind::kSha3_256 ? 32 : 64);
            Bytes want(out_len);
            EVP_MD_CTX* ctx = EVP_MD_CTX_new();
            ASSERT_EQ(EVP_DigestInit_ex(ctx, EVP_get_digestbyname(name), nullptr), 1);
            ASSERT_EQ(EVP_DigestUpdate(ctx, in.data(), in.size()), 1);
            if (xof) {
                ASSERT_EQ(EVP_DigestFinalXOF(ctx, want.data(), want.size()), 1);
            } else {
                ASSERT_EQ(EVP_DigestFinal_ex(ctx, want.data(), nullptr), 1);
            }
            EVP_MD_CTX_free(ctx);
            Sponge sponge(kind);
            sponge.absorb(ByteView(in).first(len / 3));
            sponge.absorb(ByteView(in).subspan(len / 3));
            Bytes got(out_len);
            const std::size_t first = xof ? 100 : out_len;
            sponge.squeeze(MutByteView(got).first(first));
            sponge.squeeze(MutByteView(got).subspan(first));
            EXPECT_EQ(to_hex(got), to_hex(want));
        }
    }
}

TEST(MlKemPoly, CompressIsRoundedDivision) {
    // §4.2.1: Compress_d(x) = round(2^d x / q) mod 2^d, computed by multiplication.
    for (unsigned d : {1U, 4U, 5U, 10U, 11U}) {
        for (unsigned x = 0; x < kQ; ++x) {
            Poly p;
            p.c[0] = static_cast<std::uint16_t>(x);
            compress(p, d);
            const unsigned want = (((x << d) * 2 + kQ) / (2 * kQ)) % (1U << d);
            ASSERT_EQ(p.c[0], want) << d << " " << x;
        }
    }
    for (std::uint32_t x = 0; x < (1U << 26); x += 997) {
        ASSERT_EQ(reduce(x), x % kQ) << x;
    }
}

/// Every value of one CCTV intermediate file that the internal API reaches.
void check_intermediate(const Params& p) {
    SCOPED_TRACE(p.name);
    const Entries e = read_entries(file_of(p, "intermediate"));
    const Bytes d = hex(value(e, "d"));
    const Bytes rho = hex(value(e, "ρ"));
    const Bytes sigma = hex(value(e, "σ"));
    // The draft's (ρ, σ) = G(d) (FIPS 203 final: G(d ‖ k), checked by AcvpKeyGen below).
    std::array<std::uint8_t, 64> g{};
    keccak::sha3_512({d}, g);
    EXPECT_EQ(to_hex(ByteView(g).first(32)), to_hex(rho));
    EXPECT_EQ(to_hex(ByteView(g).last(32)), to_hex(sigma));
    // Â[0, 0] = SampleNTT(ρ ‖ 0 ‖ 0); s[0] and NTT(s[0]).
    Poly a;
    sample_ntt(a, rho, 0, 0);
    EXPECT_EQ(dump(a), dump(coefficients(e, "A[0, 0]")));
    Poly s0;
    sample_cbd(s0, sigma, 0, p.eta1);
    Poly s0_enc;
    decode(s0_enc, 12, hex(value(e, "s")).data());
    EXPECT_EQ(dump(s0), dump(s0_enc));
    ntt(s0);
    EXPECT_EQ(dump(s0), dump(coefficients(e, "NTT(s[0])")));
    // KeyGen: ek, dk.
    Bytes ek(p.ek_size());
    Bytes dk(p.dk_size());
    keygen_from_g(p, g.data(), hex(value(e, "z")).data(), ek, dk);
    EXPECT_EQ(to_hex(ek), value(e, "ek"));
    EXPECT_EQ(to_hex(dk), value(e, "dk"));
    EXPECT_TRUE(dk_hash_ok(p, dk));
    // Encaps: c, K; the compression of u[0] and the ciphertext halves.
    const Bytes m = hex(value(e, "m"));
    Bytes ct(p.ct_size());
    std::array<std::uint8_t, 32> k{};
    ASSERT_TRUE(encaps(p, ek, m.data(), ct, k));
    EXPECT_EQ(to_hex(ct), value(e, "c"));
    EXPECT_EQ(to_hex(k), value(e, "K"));
    EXPECT_EQ(to_hex(ByteView(ct).first(32 * p.du * p.k)), value(e, "c1"));
    EXPECT_EQ(to_hex(ByteView(ct).last(32 * p.dv)), value(e, "c2"));
    Poly u0 = coefficients(e, "u[0]");
    compress(u0, p.du);
    EXPECT_EQ(dump(u0), dump(coefficients(e, "compress(u[0])")));
    Poly v = coefficients(e, "v");
    compress(v, p.dv);
    EXPECT_EQ(dump(v), dump(coefficients(e, "compress(v)")));
    // Decrypt's intermediates: uᵈ, NTT(uᵈ), vᵈ and w = vᵈ - NTT⁻¹(ŝᵀ ∘ NTT(uᵈ)).
    Bytes ud(384 * p.k);
    Bytes ud_ntt(384 * p.k);
    Poly w{};
    for (unsigned i = 0; i < p.k; ++i) {
        Poly u;
        decode(u, p.du, ct.data() + 32 * p.du * i);
        decompress(u, p.du);
        encode(u, 12, ud.data() + 384 * i);
        ntt(u);
        encode(u, 12, ud_ntt.data() + 384 * i);
        Poly si;
        decode(si, 12, dk.data() + 384 * i);
        mul_acc(w, si, u);
    }
    EXPECT_EQ(to_hex(ud), value(e, "uᵈ"));
    EXPECT_EQ(to_hex(ud_ntt), value(e, "NTT(uᵈ)"));
    inv_ntt(w);
    Poly vd;
    decode(vd, p.dv, ct.data() + 32 * p.du * p.k);
    decompress(vd, p.dv);
    Bytes enc(384);
    encode(vd, 12, enc.data());
    EXPECT_EQ(to_hex(enc), value(e, "vᵈ"));
    sub(vd, w);
    encode(vd, 12, enc.data());
    EXPECT_EQ(to_hex(enc), value(e, "w"));
    // Decaps: K; K̄ = J(z ‖ c), which a changed ciphertext yields (implicit rejection).
    std::array<std::uint8_t, 32> k2{};
    ASSERT_TRUE(decaps(p, dk, ct, k2));
    EXPECT_EQ(to_hex(k2), value(e, "K"));
    std::array<std::uint8_t, 32> k_bar{};
    keccak::shake256({hex(value(e, "z")), ct}, k_bar);
    EXPECT_EQ(to_hex(k_bar), value(e, "KBar"));
    ct.back() ^= 1U;
    ASSERT_TRUE(decaps(p, dk, ct, k2));
    keccak::shake256({hex(value(e, "z")), ct}, k_bar);
    EXPECT_EQ(to_hex(k2), to_hex(k_bar));
}

TEST(MlKem, CctvIntermediateValues) {
    for (const Params* p : kAll) {
        check_intermediate(*p);
    }
}

TEST(MlKem, CctvModulusInvalidKeysRejected) {
    const KeInfo* infos[] = {test::registry().ke(ke::kMlKem512), test::registry().ke(ke::kMlKem768),
                             test::registry().ke(ke::kMlKem1024)};
    for (std::size_t s = 0; s < 3; ++s) {
        const Params& p = *kAll[s];
        SCOPED_TRACE(p.name);
        const std::string path = ikeplex::test::vector_path(file_of(p, "modulus") + ".gz").string();
        gzFile f = gzopen(path.c_str(), "rb");
        ASSERT_NE(f, nullptr) << path;
        std::vector<char> line(2 * p.ek_size() + 8);
        std::size_t n = 0;
        while (gzgets(f, line.data(), static_cast<int>(line.size())) != nullptr) {
            std::string text(line.data());
            while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
                text.pop_back();
            }
            if (text.empty()) {
                continue;
            }
            const Bytes ek = hex(text);
            ASSERT_EQ(ek.size(), p.ek_size());
            auto r = check_encaps_key(p, ek);
            ASSERT_FALSE(r) << "line " << n;
            EXPECT_EQ(r.error().code, Errc::kInvalidSyntax);
            if (n++ % 97 == 0) {  // and through the KE interface's responder
                auto kx = KeyExchange::generate(*infos[s]).value();
                auto k = kx->respond(ek);
                ASSERT_FALSE(k);
                EXPECT_EQ(k.error().code, Errc::kInvalidSyntax);
            }
        }
        gzclose(f);
        EXPECT_GT(n, 700U);
    }
}

TEST(MlKem, CctvUnluckySampling) {
    for (const Params* p : kAll) {
        SCOPED_TRACE(p->name);
        const Entries e = read_entries(file_of(*p, "unluckysample"));
        std::array<std::uint8_t, 64> g{};
        keccak::sha3_512({hex(value(e, "d"))}, g);  // the draft's G(d), as the vectors
        Bytes ek(p->ek_size());
        Bytes dk(p->dk_size());
        keygen_from_g(*p, g.data(), hex(value(e, "z")).data(), ek, dk);
        EXPECT_EQ(to_hex(ek), value(e, "ek"));
        EXPECT_EQ(to_hex(dk), value(e, "dk"));
        Bytes ct(p->ct_size());
        std::array<std::uint8_t, 32> k{};
        ASSERT_TRUE(encaps(*p, ek, hex(value(e, "m")).data(), ct, k));
        EXPECT_EQ(to_hex(ct), value(e, "c"));
        EXPECT_EQ(to_hex(k), value(e, "K"));
        ASSERT_TRUE(decaps(*p, dk, ct, k));
        EXPECT_EQ(to_hex(k), value(e, "K"));
    }
}

TEST(MlKem, CctvStrcmp) {
    for (const Params* p : kAll) {
        SCOPED_TRACE(p->name);
        const Entries e = read_entries(file_of(*p, "strcmp"));
        std::array<std::uint8_t, 32> k{};
        ASSERT_TRUE(decaps(*p, hex(value(e, "dk")), hex(value(e, "c")), k));
        EXPECT_EQ(to_hex(k), value(e, "K"));
    }
}

/// The 10,000-test runs take minutes under ASan (164 s CPU, 263 s wall for the three sets on the
/// loaded CI machine, 2026-12-06): they run here when IKEPLEX_MLKEM_ACCUMULATED is set, and on
/// every CI run in the release build (bench/mlkem_accumulated, scripts/test.sh), which takes
/// seconds.
bool long_runs_wanted() {
    return std::getenv("IKEPLEX_MLKEM_ACCUMULATED") != nullptr;
}

TEST(MlKem, CctvAccumulated10000) {
    if (!long_runs_wanted()) {
        GTEST_SKIP() << "set IKEPLEX_MLKEM_ACCUMULATED (release: bench/mlkem_accumulated)";
    }
    for (const auto& run : ikeplex::test::kMlKemAccumulatedRuns) {
        if (run.n != 10000) {
            continue;
        }
        SCOPED_TRACE(run.what);
        const auto r =
                ikeplex::test::mlkem_accumulated(*run.params, run.n, run.draft_g, run.hash_dk);
        EXPECT_EQ(r.hash, run.hash);
        EXPECT_EQ(r.mismatches, 0U);
    }
}

TEST(MlKem, FinalAccumulatedGo768Short) {
    // Go's crypto/internal/fips140/mlkem TestAccumulated in -short mode: 100 tests of the final
    // standard (ML-KEM-768, the same draws as CCTV's, dk not hashed).
    const auto r = ikeplex::test::mlkem_accumulated(kMlKem768, 100, false, false);
    EXPECT_EQ(r.hash, "1114b1b6699ed191734fa339376afa7e285c9e6acf6ff0177d346696ce564415");
    EXPECT_EQ(r.mismatches, 0U);
}

TEST(MlKem, KeyExchangeSeedIsDZ) {
    // The KE interface's seed is d ‖ z (FIPS 203 §7.1); its public value is ML-KEM.KeyGen's ek.
    std::array<std::uint8_t, 64> seed{};
    for (std::size_t i = 0; i < seed.size(); ++i) {
        seed[i] = static_cast<std::uint8_t>(i);
    }
    Bytes ek(kMlKem768.ek_size());
    Bytes dk(kMlKem768.dk_size());
    keygen(kMlKem768, seed.data(), seed.data() + 32, ek, dk);
    auto kx = KeyExchange::from_private(*test::registry().ke(ke::kMlKem768), seed).value();
    EXPECT_EQ(to_hex(kx->public_value()), to_hex(ek));
    // A wrong-length ciphertext is the peer's error: INVALID_SYNTAX.
    auto r = kx->shared_secret(Bytes(kMlKem768.ct_size() - 1, 0));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kInvalidSyntax);
}

}  // namespace
}  // namespace ikeplex::crypto::mlkem
