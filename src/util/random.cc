#include "util/random.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include <unistd.h>

namespace ikeplex {

std::uint32_t Random::u32() noexcept {
    std::uint8_t b[4];
    fill(b);
    return (std::uint32_t{b[0]} << 24U) | (std::uint32_t{b[1]} << 16U) |
           (std::uint32_t{b[2]} << 8U) | b[3];
}

std::uint64_t Random::u64() noexcept {
    return (std::uint64_t{u32()} << 32U) | u32();
}

Bytes Random::bytes(std::size_t n) {
    Bytes b(n);
    fill(b);
    return b;
}

namespace {

void os_fill(MutByteView out) noexcept {
    for (std::size_t done = 0; done < out.size();) {
        const std::size_t n = std::min<std::size_t>(256, out.size() - done);  // getentropy's limit
        if (::getentropy(out.data() + done, n) != 0) {
            std::abort();  // no randomness means no security: never carry on without it
        }
        done += n;
    }
}

}  // namespace

OsRandom::~OsRandom() {
    ::explicit_bzero(pool_.data(), pool_.size());
}

void OsRandom::fill(MutByteView out) noexcept {
    if (out.size() > kPooled) {
        os_fill(out);
        return;
    }
    if (left_ < out.size()) {
        os_fill(MutByteView(pool_.data(), pool_.size()));
        left_ = pool_.size();
    }
    std::uint8_t* from = pool_.data() + (pool_.size() - left_);
    std::copy_n(from, out.size(), out.data());
    ::explicit_bzero(from, out.size());  // handed out: never again, and not left in memory
    left_ -= out.size();
}

namespace {
std::uint64_t splitmix(std::uint64_t& x) noexcept {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30U)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27U)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31U);
}
std::uint64_t rotl(std::uint64_t x, unsigned k) noexcept {
    return (x << k) | (x >> (64U - k));
}
}  // namespace

DeterministicRandom::DeterministicRandom(std::uint64_t seed) noexcept {
    for (auto& s : s_) {
        s = splitmix(seed);
    }
}

std::uint64_t DeterministicRandom::next() noexcept {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17U;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
}

void DeterministicRandom::fill(MutByteView out) noexcept {
    std::size_t i = 0;
    while (i < out.size()) {
        std::uint64_t v = next();
        for (int k = 0; k < 8 && i < out.size(); ++k, ++i) {
            out[i] = static_cast<std::uint8_t>(v);
            v >>= 8U;
        }
    }
}

}  // namespace ikeplex
