// Keccak-f[1600] and its sponges, from FIPS 202 §3 (the step mappings θ, ρ, π, χ, ι) and §4-6.
// The round constants and rotation offsets are computed from their definitions (Algorithm 5
// rc(t) and the (x, y) walk of §3.2.2), not tabulated by hand.
#include "crypto/keccak.h"

#include <array>

#include <openssl/crypto.h>

namespace ikeplex::crypto::keccak {
namespace {

constexpr int kRounds = 24;

/// FIPS 202 Algorithm 5: the LFSR bit rc(t).
constexpr bool rc_bit(int t) {
    unsigned r = 1;
    for (int i = 0; i < t % 255; ++i) {
        r <<= 1U;
        if ((r & 0x100U) != 0) {
            r ^= 0x171U;  // x^8 + x^6 + x^5 + x^4 + 1: bits 0, 4, 5, 6 take R[8], R[8] drops
        }
    }
    return (r & 1U) != 0;
}

/// FIPS 202 Algorithm 6, step 2-3: RC of round ir has bit 2^j - 1 = rc(j + 7 ir).
constexpr std::array<std::uint64_t, kRounds> make_round_constants() {
    std::array<std::uint64_t, kRounds> rc{};
    for (int ir = 0; ir < kRounds; ++ir) {
        for (int j = 0; j <= 6; ++j) {
            if (rc_bit(j + 7 * ir)) {
                rc[static_cast<std::size_t>(ir)] |= std::uint64_t{1} << ((1U << j) - 1);
            }
        }
    }
    return rc;
}

/// FIPS 202 §3.2.2-3 (ρ then π): π moves lane (x, y) to (y, 2x + 3y), ρ rotates the lane at
/// step t of the walk from (1, 0) by (t+1)(t+2)/2. The 24 lanes other than (0, 0) form one
/// cycle of π, so both steps run in place along the walk: kWalk[t] is the lane index x + 5y
/// of step t (kWalk[24] = kWalk[0]), kRho[t] its rotation.
struct Walk {
    std::array<unsigned, 25> lane{};
    std::array<unsigned, 24> rot{};
};
constexpr Walk make_walk() {
    Walk w;
    unsigned x = 1;
    unsigned y = 0;
    for (unsigned t = 0; t < 25; ++t) {
        w.lane[t] = x + 5 * y;
        if (t < 24) {
            w.rot[t] = ((t + 1) * (t + 2) / 2) % 64;
        }
        const unsigned nx = y;
        y = (2 * x + 3 * y) % 5;
        x = nx;
    }
    return w;
}

constexpr auto kRoundConstants = make_round_constants();
constexpr Walk kWalk = make_walk();
static_assert(kRoundConstants[0] == 1 && kWalk.rot[0] == 1 && kWalk.lane[24] == kWalk.lane[0]);

constexpr std::uint64_t rotl(std::uint64_t v, unsigned n) {
    return n == 0 ? v : (v << n) | (v >> (64 - n));
}

void absorb_into(std::uint64_t* state, std::size_t pos, std::uint8_t byte) noexcept {
    state[pos / 8] ^= std::uint64_t{byte} << (8 * (pos % 8));
}

}  // namespace

void permute(std::uint64_t a[25]) noexcept {
    for (int round = 0; round < kRounds; ++round) {
        std::uint64_t c[5];
#pragma GCC unroll 5
        for (unsigned x = 0; x < 5; ++x) {  // θ
            c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
        }
#pragma GCC unroll 5
        for (unsigned x = 0; x < 5; ++x) {
            const std::uint64_t d = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1);
#pragma GCC unroll 5
            for (unsigned y = 0; y < 25; y += 5) {
                a[x + y] ^= d;
            }
        }
        std::uint64_t moving = a[kWalk.lane[0]];  // ρ and π along the cycle
#pragma GCC unroll 24
        for (unsigned t = 0; t < 24; ++t) {
            const std::uint64_t next = a[kWalk.lane[t + 1]];
            a[kWalk.lane[t + 1]] = rotl(moving, kWalk.rot[t]);
            moving = next;
        }
#pragma GCC unroll 5
        for (unsigned y = 0; y < 25; y += 5) {  // χ
            std::uint64_t row[5];
#pragma GCC unroll 5
            for (unsigned x = 0; x < 5; ++x) {
                row[x] = a[x + y];
            }
#pragma GCC unroll 5
            for (unsigned x = 0; x < 5; ++x) {
                a[x + y] = row[x] ^ (~row[(x + 1) % 5] & row[(x + 2) % 5]);
            }
        }
        a[0] ^= kRoundConstants[static_cast<std::size_t>(round)];  // ι
    }
}

Sponge::Sponge(Kind kind) noexcept {
    switch (kind) {
        case Kind::kSha3_256:
            rate_ = 136;
            suffix_ = 0x06;  // SHA-3: suffix 01, then the first pad bit
            break;
        case Kind::kSha3_512:
            rate_ = 72;
            suffix_ = 0x06;
            break;
        case Kind::kShake128:
            rate_ = 168;
            suffix_ = 0x1f;  // SHAKE: suffix 1111, then the first pad bit
            break;
        case Kind::kShake256:
        default:
            rate_ = 136;
            suffix_ = 0x1f;
            break;
    }
}

Sponge::~Sponge() {
    OPENSSL_cleanse(state_, sizeof(state_));
}

void Sponge::absorb(ByteView data) noexcept {
    for (const std::uint8_t byte : data) {
        absorb_into(state_, pos_, byte);
        if (++pos_ == rate_) {
            permute(state_);
            pos_ = 0;
        }
    }
}

void Sponge::squeeze(MutByteView out) noexcept {
    if (!squeezing_) {
        absorb_into(state_, pos_, suffix_);
        absorb_into(state_, rate_ - 1, 0x80);  // pad10*1: the last bit of the block
        permute(state_);
        pos_ = 0;
        squeezing_ = true;
    }
    for (std::uint8_t& byte : out) {
        if (pos_ == rate_) {
            permute(state_);
            pos_ = 0;
        }
        byte = static_cast<std::uint8_t>(state_[pos_ / 8] >> (8 * (pos_ % 8)));
        ++pos_;
    }
}

namespace {
void one_shot(Sponge::Kind kind, std::initializer_list<ByteView> in, MutByteView out) noexcept {
    Sponge s(kind);
    for (const ByteView part : in) {
        s.absorb(part);
    }
    s.squeeze(out);
}
}  // namespace

void sha3_256(std::initializer_list<ByteView> in, MutByteView out32) noexcept {
    one_shot(Sponge::Kind::kSha3_256, in, out32.first(32));
}
void sha3_512(std::initializer_list<ByteView> in, MutByteView out64) noexcept {
    one_shot(Sponge::Kind::kSha3_512, in, out64.first(64));
}
void shake256(std::initializer_list<ByteView> in, MutByteView out) noexcept {
    one_shot(Sponge::Kind::kShake256, in, out);
}

}  // namespace ikeplex::crypto::keccak
