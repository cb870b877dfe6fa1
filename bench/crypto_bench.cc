// Crypto benchmarks (issue: crypto and key material):
//  - ESP-shaped AEAD seal/open (8-byte AAD = SPI | seq, 8-byte IV, n bytes, 16-byte tag) of
//    64/512/1400/9000 bytes through ikeplex's Aead for each backend, beside a raw-library loop
//    of the same backend in the same binary (OpenSSL: EVP per packet as performance anchors
//    §B.8-1; IPsec-MB: IMB_AESxxx_GCM_ENC/DEC);
//  - key exchange (one key pair + one derivation) per group, signature and verification per
//    scheme; ML-KEM-512/768/1024 KeyGen, Encaps, Decaps with ratio lines against X25519.
// Gates (1400-byte AES-128-GCM and AES-256-GCM): C1 ours/raw >= 0.85 for each backend and
// operation, C2 IPsec-MB/OpenSSL >= 3 for our seal and open. Run it through scripts/bench.sh.
#define NO_COMPAT_IMB_API_053
#include <array>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include <openssl/evp.h>

#include <intel-ipsec-mb.h>

#include "crypto/aead.h"
#include "crypto/algorithm_ids.h"
#include "crypto/ke.h"
#include "crypto/mlkem.h"
#include "crypto/registry.h"
#include "crypto/signature.h"
#include "ratio_reporter.h"
#include "raw_ipsec_mb.h"
#include "util/random.h"
#include "wire/constants.h"

namespace {

using namespace ikeplex;
using namespace ikeplex::crypto;

const Registry& registry() {
    static const auto r = Registry::create().value();
    return *r;
}

IpsecMb& ipsec_mb() {
    static const auto m = IpsecMb::create().value();
    return *m;
}

constexpr std::array<std::uint8_t, 36> kKey = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12,
                                               13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
                                               25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36};

const EncrInfo& gcm(int bits) {
    return *registry().encr(crypto::encr::kAesGcm16, static_cast<std::uint16_t>(bits));
}

/// A packet buffer shaped like ESP: AAD (SPI | seq), IV, payload, tag.
struct Packet {
    std::array<std::uint8_t, 8> aad{0xc1, 0xa2, 0xb3, 0xc4, 0, 0, 0, 0};
    std::array<std::uint8_t, 8> iv{};
    std::vector<std::uint8_t> data;
    std::array<std::uint8_t, 16> tag{};
    explicit Packet(std::size_t n) : data(n, 0x5a) {}
    void next(std::uint64_t seq) {
        for (int i = 0; i < 8; ++i) {
            iv[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(seq >> (8 * (7 - i)));
        }
        std::memcpy(aad.data() + 4, iv.data() + 4, 4);
    }
};

void set_bytes(benchmark::State& state, std::size_t n) {
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(n));
}

AeadPtr our_aead(AeadBackend b, int bits) {
    const EncrInfo& e = gcm(bits);
    const ByteView km(kKey.data(), e.key_size);
    return b == AeadBackend::kOpenSsl ? make_openssl_aead(e, km).value()
                                      : ipsec_mb().make_aead(e, km).value();
}

// ---- ours ----

template <AeadBackend B, int Bits>
void BM_OursSeal(benchmark::State& state) {
    AeadPtr aead = our_aead(B, Bits);
    Packet p(static_cast<std::size_t>(state.range(0)));
    std::uint64_t seq = 0;
    for (auto _ : state) {
        p.next(++seq);
        benchmark::DoNotOptimize(aead->seal(p.iv, p.aad, p.data, p.tag));
    }
    set_bytes(state, p.data.size());
}

template <AeadBackend B, int Bits>
void BM_OursOpen(benchmark::State& state) {
    AeadPtr aead = our_aead(B, Bits);
    Packet p(static_cast<std::size_t>(state.range(0)));
    p.next(1);
    (void)aead->seal(p.iv, p.aad, p.data, p.tag);
    const std::vector<std::uint8_t> ct = p.data;
    for (auto _ : state) {
        std::memcpy(p.data.data(), ct.data(), ct.size());  // open the same valid packet
        benchmark::DoNotOptimize(aead->open(p.iv, p.aad, p.data, p.tag));
    }
    set_bytes(state, p.data.size());
}

// ---- raw OpenSSL (performance anchors §B.8-1) ----

template <int Bits>
void BM_RawOpenSslSeal(benchmark::State& state) {
    const EncrInfo& e = gcm(Bits);
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    EVP_EncryptInit_ex(ctx, e.cipher, nullptr, kKey.data(), nullptr);
    Packet p(static_cast<std::size_t>(state.range(0)));
    std::array<std::uint8_t, 12> nonce{};
    std::memcpy(nonce.data(), kKey.data() + Bits / 8, 4);
    std::uint64_t seq = 0;
    int len = 0;
    for (auto _ : state) {
        p.next(++seq);
        std::memcpy(nonce.data() + 4, p.iv.data(), 8);
        EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce.data());
        EVP_EncryptUpdate(ctx, nullptr, &len, p.aad.data(), 8);
        EVP_EncryptUpdate(ctx, p.data.data(), &len, p.data.data(), static_cast<int>(p.data.size()));
        EVP_EncryptFinal_ex(ctx, p.data.data() + len, &len);
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, p.tag.data());
        benchmark::DoNotOptimize(p.tag.data());
    }
    EVP_CIPHER_CTX_free(ctx);
    set_bytes(state, p.data.size());
}

template <int Bits>
void BM_RawOpenSslOpen(benchmark::State& state) {
    const EncrInfo& e = gcm(Bits);
    AeadPtr sealer = our_aead(AeadBackend::kOpenSsl, Bits);
    Packet p(static_cast<std::size_t>(state.range(0)));
    p.next(1);
    (void)sealer->seal(p.iv, p.aad, p.data, p.tag);
    const std::vector<std::uint8_t> ct = p.data;
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    EVP_DecryptInit_ex(ctx, e.cipher, nullptr, kKey.data(), nullptr);
    std::array<std::uint8_t, 12> nonce{};
    std::memcpy(nonce.data(), kKey.data() + Bits / 8, 4);
    std::memcpy(nonce.data() + 4, p.iv.data(), 8);
    int len = 0;
    for (auto _ : state) {
        std::memcpy(p.data.data(), ct.data(), ct.size());
        EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce.data());
        EVP_DecryptUpdate(ctx, nullptr, &len, p.aad.data(), 8);
        EVP_DecryptUpdate(ctx, p.data.data(), &len, p.data.data(), static_cast<int>(p.data.size()));
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, p.tag.data());
        benchmark::DoNotOptimize(EVP_DecryptFinal_ex(ctx, p.data.data() + len, &len));
    }
    EVP_CIPHER_CTX_free(ctx);
    set_bytes(state, p.data.size());
}

// ---- raw IPsec-MB ----

using ikeplex::bench::RawMb;

template <int Bits, bool Encrypt>
void BM_RawMb(benchmark::State& state) {
    RawMb mb(Bits, kKey.data());
    Packet p(static_cast<std::size_t>(state.range(0)));
    std::array<std::uint8_t, 12> nonce{};
    std::memcpy(nonce.data(), kKey.data() + Bits / 8, 4);
    std::uint64_t seq = 0;
    gcm_context_data ctx;
    std::array<std::uint8_t, 16> computed{};
    for (auto _ : state) {
        p.next(++seq);
        std::memcpy(nonce.data() + 4, p.iv.data(), 8);
        if constexpr (Encrypt) {
            if constexpr (Bits == 128) {
                IMB_AES128_GCM_ENC(mb.mgr, &mb.key, &ctx, p.data.data(), p.data.data(),
                                   p.data.size(), nonce.data(), p.aad.data(), 8, p.tag.data(), 16);
            } else {
                IMB_AES256_GCM_ENC(mb.mgr, &mb.key, &ctx, p.data.data(), p.data.data(),
                                   p.data.size(), nonce.data(), p.aad.data(), 8, p.tag.data(), 16);
            }
        } else {
            if constexpr (Bits == 128) {
                IMB_AES128_GCM_DEC(mb.mgr, &mb.key, &ctx, p.data.data(), p.data.data(),
                                   p.data.size(), nonce.data(), p.aad.data(), 8, computed.data(),
                                   16);
            } else {
                IMB_AES256_GCM_DEC(mb.mgr, &mb.key, &ctx, p.data.data(), p.data.data(),
                                   p.data.size(), nonce.data(), p.aad.data(), 8, computed.data(),
                                   16);
            }
            benchmark::DoNotOptimize(std::memcmp(computed.data(), p.tag.data(), 16));
        }
        benchmark::DoNotOptimize(p.data.data());
    }
    set_bytes(state, p.data.size());
}

#define SIZES ->Arg(64)->Arg(512)->Arg(1400)->Arg(9000)
BENCHMARK(BM_OursSeal<AeadBackend::kOpenSsl, 128>) SIZES;
BENCHMARK(BM_OursOpen<AeadBackend::kOpenSsl, 128>) SIZES;
BENCHMARK(BM_RawOpenSslSeal<128>) SIZES;
BENCHMARK(BM_RawOpenSslOpen<128>) SIZES;
BENCHMARK(BM_OursSeal<AeadBackend::kIpsecMb, 128>) SIZES;
BENCHMARK(BM_OursOpen<AeadBackend::kIpsecMb, 128>) SIZES;
BENCHMARK(BM_RawMb<128, true>) SIZES;
BENCHMARK(BM_RawMb<128, false>) SIZES;
BENCHMARK(BM_OursSeal<AeadBackend::kOpenSsl, 256>) SIZES;
BENCHMARK(BM_OursOpen<AeadBackend::kOpenSsl, 256>) SIZES;
BENCHMARK(BM_RawOpenSslSeal<256>) SIZES;
BENCHMARK(BM_RawOpenSslOpen<256>) SIZES;
BENCHMARK(BM_OursSeal<AeadBackend::kIpsecMb, 256>) SIZES;
BENCHMARK(BM_OursOpen<AeadBackend::kIpsecMb, 256>) SIZES;
BENCHMARK(BM_RawMb<256, true>) SIZES;
BENCHMARK(BM_RawMb<256, false>) SIZES;
#undef SIZES

// ---- key exchange and signatures ----

void BM_KeyExchange(benchmark::State& state) {
    const KeInfo& info = *registry().ke(static_cast<std::uint16_t>(state.range(0)));
    const auto peer = KeyExchange::generate(info).value();
    for (auto _ : state) {
        auto own = KeyExchange::generate(info).value();
        benchmark::DoNotOptimize(own->shared_secret(peer->public_value()));
    }
    state.SetLabel(info.name);
}
BENCHMARK(BM_KeyExchange)
        ->Arg(31)
        ->Arg(32)
        ->Arg(19)
        ->Arg(20)
        ->Arg(21)
        ->Arg(14)
        ->Arg(15)
        ->Unit(benchmark::kMicrosecond);

// ML-KEM (FIPS 203) at the algorithm level: KeyGen, Encaps, Decaps of ML-KEM-512/768/1024
// (arguments: IKEv2 transform 35/36/37), compared with BM_KeyExchange/31 (an X25519 key pair
// plus a derivation, one side's whole DH work) in the ratio lines.
enum class MlKemOp : std::uint8_t { kKeyGen, kEncaps, kDecaps };
template <MlKemOp kOp>
void BM_MlKem(benchmark::State& state) {
    namespace mlkem = ikeplex::crypto::mlkem;
    const mlkem::Params& p = *mlkem::params_for_ke(static_cast<std::uint16_t>(state.range(0)));
    std::array<std::uint8_t, 32> seed{};
    std::vector<std::uint8_t> ek(p.ek_size());
    std::vector<std::uint8_t> dk(p.dk_size());
    std::vector<std::uint8_t> ct(p.ct_size());
    std::array<std::uint8_t, 32> k{};
    mlkem::keygen(p, seed.data(), seed.data(), ek, dk);
    if (!mlkem::encaps(p, ek, seed.data(), ct, k)) {
        state.SkipWithError("encaps");
        return;
    }
    for (auto _ : state) {
        ++seed[0];
        if constexpr (kOp == MlKemOp::kKeyGen) {
            mlkem::keygen(p, seed.data(), seed.data(), ek, dk);
        } else if constexpr (kOp == MlKemOp::kEncaps) {
            benchmark::DoNotOptimize(mlkem::encaps(p, ek, seed.data(), ct, k));
        } else {
            benchmark::DoNotOptimize(mlkem::decaps(p, dk, ct, k));
        }
        benchmark::ClobberMemory();
    }
    state.SetLabel(p.name);
}
BENCHMARK(BM_MlKem<MlKemOp::kKeyGen>)->DenseRange(35, 37)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MlKem<MlKemOp::kEncaps>)->DenseRange(35, 37)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MlKem<MlKemOp::kDecaps>)->DenseRange(35, 37)->Unit(benchmark::kMicrosecond);

struct SigCase {
    KeyType type;
    SignatureScheme scheme;
};
constexpr SigCase kSigCases[] = {
        {KeyType::kEd25519, SignatureScheme::kEd25519},
        {KeyType::kEcP256, SignatureScheme::kEcdsaSha256},
        {KeyType::kEcP384, SignatureScheme::kEcdsaSha384},
        {KeyType::kRsa, SignatureScheme::kRsaPssSha256},
};

PrivateKey make_key(KeyType t) {
    EVP_PKEY* k = nullptr;
    switch (t) {
        case KeyType::kEd25519:
            k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
            break;
        case KeyType::kEcP256:
            k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
            break;
        case KeyType::kEcP384:
            k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
            break;
        default:
            k = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048});
            break;
    }
    return PrivateKey(EvpPkeyPtr(k));
}

void BM_Sign(benchmark::State& state) {
    const SigCase& c = kSigCases[state.range(0)];
    const PrivateKey key = make_key(c.type);
    const Bytes octets(600, 0x42);
    for (auto _ : state) {
        benchmark::DoNotOptimize(key.sign(c.scheme, octets));
    }
    state.SetLabel(to_string(c.scheme));
}
BENCHMARK(BM_Sign)->DenseRange(0, 3)->Unit(benchmark::kMicrosecond);

void BM_Verify(benchmark::State& state) {
    const SigCase& c = kSigCases[state.range(0)];
    const PrivateKey key = make_key(c.type);
    EvpPkeyPtr pub_copy(EVP_PKEY_dup(key.raw()));
    const PublicKey pub(std::move(pub_copy));
    const Bytes octets(600, 0x42);
    const Bytes sig = key.sign(c.scheme, octets).value();
    for (auto _ : state) {
        benchmark::DoNotOptimize(pub.verify(c.scheme, octets, sig));
    }
    state.SetLabel(to_string(c.scheme));
}
BENCHMARK(BM_Verify)->DenseRange(0, 3)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
        return 1;
    }
    ikeplex::bench::RatioReporter r;
    benchmark::RunSpecifiedBenchmarks(&r);
    std::printf("IPsec-MB %s implementation %s\n", IpsecMb::version(), ipsec_mb().arch_name());
    for (const char* bits : {"128", "256"}) {
        const std::string b(bits);
        const std::string n = "/1400";
        const auto name = [&](const std::string& f) { return f + n; };
        r.gate("C1 openssl aes" + b + "gcm 1400 seal ours/raw",
               name("BM_OursSeal<AeadBackend::kOpenSsl, " + b + ">"),
               name("BM_RawOpenSslSeal<" + b + ">"), 0.85);
        r.gate("C1 openssl aes" + b + "gcm 1400 open ours/raw",
               name("BM_OursOpen<AeadBackend::kOpenSsl, " + b + ">"),
               name("BM_RawOpenSslOpen<" + b + ">"), 0.85);
        r.gate("C1 ipsec-mb aes" + b + "gcm 1400 seal ours/raw",
               name("BM_OursSeal<AeadBackend::kIpsecMb, " + b + ">"),
               name("BM_RawMb<" + b + ", true>"), 0.85);
        r.gate("C1 ipsec-mb aes" + b + "gcm 1400 open ours/raw",
               name("BM_OursOpen<AeadBackend::kIpsecMb, " + b + ">"),
               name("BM_RawMb<" + b + ", false>"), 0.85);
        r.gate("C2 aes" + b + "gcm 1400 seal ipsec-mb/openssl",
               name("BM_OursSeal<AeadBackend::kIpsecMb, " + b + ">"),
               name("BM_OursSeal<AeadBackend::kOpenSsl, " + b + ">"), 3.0);
        r.gate("C2 aes" + b + "gcm 1400 open ipsec-mb/openssl",
               name("BM_OursOpen<AeadBackend::kIpsecMb, " + b + ">"),
               name("BM_OursOpen<AeadBackend::kOpenSsl, " + b + ">"), 3.0);
        for (const char* size : {"64", "512", "9000"}) {
            const std::string s = std::string("/") + size;
            ikeplex::bench::RatioReporter::info(
                    "B-aead aes" + b + "gcm " + size + " seal ipsec-mb/openssl",
                    r.speedup("BM_OursSeal<AeadBackend::kIpsecMb, " + b + ">" + s,
                              "BM_OursSeal<AeadBackend::kOpenSsl, " + b + ">" + s));
        }
    }
    // ML-KEM cost in X25519s (no gate): "mlkem768-encaps/x25519=1.8" means an ML-KEM-768
    // encapsulation takes 1.8 times an X25519 key pair plus derivation.
    for (const auto& [set, arg] : {std::pair{"512", "35"}, {"768", "36"}, {"1024", "37"}}) {
        for (const auto& [op, fn] : {std::pair{"keygen", "BM_MlKem<MlKemOp::kKeyGen>"},
                                     {"encaps", "BM_MlKem<MlKemOp::kEncaps>"},
                                     {"decaps", "BM_MlKem<MlKemOp::kDecaps>"}}) {
            ikeplex::bench::RatioReporter::info(
                    std::string("mlkem") + set + "-" + op + "/x25519",
                    r.speedup("BM_KeyExchange/31", std::string(fn) + "/" + arg));
        }
    }
    benchmark::Shutdown();
    return r.failed() ? 2 : 0;
}
