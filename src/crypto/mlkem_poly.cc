// FIPS 203 §4.2-4.3: NTT over Z_3329 with ζ = 17, CBD and rejection sampling, compression and
// ByteEncode/ByteDecode. The ζ tables are computed from their definitions at compile time.
#include "crypto/mlkem_poly.h"

#include "crypto/keccak.h"
#include "util/secret_bytes.h"

namespace ikeplex::crypto::mlkem {
namespace {

constexpr unsigned kZeta = 17;      // a primitive 256th root of unity mod q
constexpr unsigned kInv128 = 3303;  // 128⁻¹ mod q

constexpr unsigned bitrev7(unsigned i) {
    unsigned r = 0;
    for (unsigned b = 0; b < 7; ++b) {
        r |= ((i >> b) & 1U) << (6 - b);
    }
    return r;
}

constexpr unsigned pow_mod(unsigned base, unsigned e) {
    unsigned r = 1;
    for (unsigned i = 0; i < e; ++i) {
        r = r * base % kQ;
    }
    return r;
}

/// ζ^BitRev7(i) (Algorithms 9, 10) and ζ^(2 BitRev7(i) + 1) (Algorithm 11), i < 128.
struct Tables {
    std::array<std::uint16_t, 128> zetas{};
    std::array<std::uint16_t, 128> gammas{};
};
constexpr Tables make_tables() {
    Tables t;
    for (unsigned i = 0; i < 128; ++i) {
        t.zetas[i] = static_cast<std::uint16_t>(pow_mod(kZeta, bitrev7(i)));
        t.gammas[i] = static_cast<std::uint16_t>(pow_mod(kZeta, 2 * bitrev7(i) + 1));
    }
    return t;
}
constexpr Tables kTables = make_tables();
static_assert(kTables.zetas[1] == 1729 && kTables.gammas[0] == 17);
static_assert(kInv128 * 128 % kQ == 1);

/// x - q if x >= q, for x < 2q, by a mask (no branch).
constexpr std::uint16_t csub(std::uint32_t x) noexcept {
    const std::uint32_t d = x - kQ;
    const std::uint32_t mask = 0U - (d >> 31);  // all ones when x < q
    return static_cast<std::uint16_t>(d + (kQ & mask));
}

/// floor(n / q) for n < 2^23 by multiplication: 10321340 = ceil(2^35 / q).
constexpr std::uint32_t div_q(std::uint32_t n) noexcept {
    return static_cast<std::uint32_t>((std::uint64_t{n} * 10321340U) >> 35);
}

}  // namespace

std::uint16_t reduce(std::uint32_t x) noexcept {
    // Barrett: 1290167 = floor(2^32 / q); the quotient estimate is at most one short.
    const auto t = static_cast<std::uint32_t>((std::uint64_t{x} * 1290167U) >> 32);
    return csub(x - t * kQ);
}

void ntt(Poly& f) noexcept {
    auto& a = f.c;
    std::size_t k = 1;
    for (std::size_t len = 128; len >= 2; len /= 2) {
        for (std::size_t start = 0; start < kN; start += 2 * len) {
            const std::uint32_t zeta = kTables.zetas[k++];
            for (std::size_t j = start; j < start + len; ++j) {
                const std::uint16_t t = reduce(zeta * a[j + len]);
                a[j + len] = csub(a[j] + kQ - t);
                a[j] = csub(a[j] + t);
            }
        }
    }
}

void inv_ntt(Poly& f) noexcept {
    auto& a = f.c;
    std::size_t k = 127;
    for (std::size_t len = 2; len <= 128; len *= 2) {
        for (std::size_t start = 0; start < kN; start += 2 * len) {
            const std::uint32_t zeta = kTables.zetas[k--];
            for (std::size_t j = start; j < start + len; ++j) {
                const std::uint16_t t = a[j];
                a[j] = csub(t + a[j + len]);
                a[j + len] = reduce(zeta * (a[j + len] + kQ - t));
            }
        }
    }
    for (auto& x : a) {
        x = reduce(x * kInv128);
    }
}

void mul_acc(Poly& acc, const Poly& f, const Poly& g) noexcept {
    for (std::size_t i = 0; i < 128; ++i) {
        const std::uint32_t a0 = f.c[2 * i];
        const std::uint32_t a1 = f.c[2 * i + 1];
        const std::uint32_t b0 = g.c[2 * i];
        const std::uint32_t b1 = g.c[2 * i + 1];
        const std::uint32_t c0 = reduce(a0 * b0 + reduce(a1 * b1) * kTables.gammas[i]);
        const std::uint32_t c1 = reduce(a0 * b1 + a1 * b0);
        acc.c[2 * i] = csub(acc.c[2 * i] + c0);
        acc.c[2 * i + 1] = csub(acc.c[2 * i + 1] + c1);
    }
}

void add(Poly& acc, const Poly& g) noexcept {
    for (std::size_t i = 0; i < kN; ++i) {
        acc.c[i] = csub(acc.c[i] + g.c[i]);
    }
}

void sub(Poly& acc, const Poly& g) noexcept {
    for (std::size_t i = 0; i < kN; ++i) {
        acc.c[i] = csub(acc.c[i] + kQ - g.c[i]);
    }
}

void sample_ntt(Poly& out, ByteView rho, std::uint8_t j, std::uint8_t i) noexcept {
    keccak::Sponge xof(keccak::Sponge::Kind::kShake128);
    const std::uint8_t idx[2] = {j, i};
    xof.absorb(rho);
    xof.absorb(idx);
    std::uint8_t block[168];  // one SHAKE128 block per squeeze: as many as rejection needs
    std::size_t n = 0;
    while (n < kN) {
        xof.squeeze(block);
        for (std::size_t p = 0; p + 3 <= sizeof(block) && n < kN; p += 3) {
            const unsigned d1 = block[p] | ((block[p + 1] & 0x0fU) << 8);
            const unsigned d2 = (block[p + 1] >> 4) | (unsigned{block[p + 2]} << 4);
            if (d1 < kQ) {
                out.c[n++] = static_cast<std::uint16_t>(d1);
            }
            if (d2 < kQ && n < kN) {
                out.c[n++] = static_cast<std::uint16_t>(d2);
            }
        }
    }
}

void sample_cbd(Poly& out, ByteView s, std::uint8_t b, std::size_t eta) noexcept {
    std::uint8_t buf[64 * 3] = {};
    keccak::Sponge prf(keccak::Sponge::Kind::kShake256);
    prf.absorb(s);
    prf.absorb(ByteView(&b, 1));
    prf.squeeze(MutByteView(buf, 64 * eta));
    auto bit = [&buf](std::size_t k) -> std::uint32_t { return (buf[k / 8] >> (k % 8)) & 1U; };
    for (std::size_t i = 0; i < kN; ++i) {
        std::uint32_t x = 0;
        std::uint32_t y = 0;
        for (std::size_t e = 0; e < eta; ++e) {
            x += bit(2 * i * eta + e);
            y += bit(2 * i * eta + eta + e);
        }
        out.c[i] = csub(x + kQ - y);
    }
    secure_zero(MutByteView(buf, sizeof(buf)));
}

void compress(Poly& f, std::size_t d) noexcept {
    const std::uint32_t mask = (1U << d) - 1;
    for (auto& x : f.c) {
        x = static_cast<std::uint16_t>(div_q((std::uint32_t{x} << d) + kQ / 2) & mask);
    }
}

void decompress(Poly& f, std::size_t d) noexcept {
    for (auto& x : f.c) {
        x = static_cast<std::uint16_t>((std::uint32_t{x} * kQ + (1U << (d - 1))) >> d);
    }
}

void encode(const Poly& f, std::size_t d, std::uint8_t* out) noexcept {
    std::uint32_t acc = 0;
    std::size_t bits = 0;
    for (const std::uint16_t x : f.c) {
        acc |= std::uint32_t{x} << bits;
        bits += d;
        while (bits >= 8) {
            *out++ = static_cast<std::uint8_t>(acc);
            acc >>= 8;
            bits -= 8;
        }
    }
}

void decode(Poly& f, std::size_t d, const std::uint8_t* in) noexcept {
    const std::uint32_t mask = (1U << d) - 1;
    std::uint32_t acc = 0;
    std::size_t bits = 0;
    for (auto& x : f.c) {
        while (bits < d) {
            acc |= std::uint32_t{*in++} << bits;
            bits += 8;
        }
        x = static_cast<std::uint16_t>(acc & mask);
        acc >>= d;
        bits -= d;
        if (d == 12) {
            x = csub(x);  // ByteDecode12 is mod q (§4.2.1)
        }
    }
}

bool decode12_in_range(const std::uint8_t* in) noexcept {
    std::uint32_t bad = 0;
    for (std::size_t i = 0; i < kN / 2; ++i, in += 3) {
        const std::uint32_t d1 = in[0] | ((in[1] & 0x0fU) << 8);
        const std::uint32_t d2 = (in[1] >> 4) | (std::uint32_t{in[2]} << 4);
        bad |= ((kQ - 1 - d1) | (kQ - 1 - d2)) >> 31;  // sets bit 0 when a value >= q
    }
    return bad == 0;
}

}  // namespace ikeplex::crypto::mlkem
