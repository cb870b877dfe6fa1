#include "esp/io/checksum.h"

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#define IKEPLEX_CSUM_AVX2 1
#endif

namespace ikeplex::esp::io {

namespace {

/// The scalar tail: 8 bytes a round, then 4, 2 and 1.
std::uint64_t sum_tail(const std::uint8_t* p, std::size_t n, std::uint64_t sum) noexcept {
    while (n >= 8) {
        std::uint32_t w0 = 0;
        std::uint32_t w1 = 0;
        std::memcpy(&w0, p, 4);
        std::memcpy(&w1, p + 4, 4);
        sum += std::uint64_t{w0} + w1;
        p += 8;
        n -= 8;
    }
    if (n >= 4) {
        std::uint32_t w = 0;
        std::memcpy(&w, p, 4);
        sum += w;
        p += 4;
        n -= 4;
    }
    if (n >= 2) {
        std::uint16_t w = 0;
        std::memcpy(&w, p, 2);
        sum += w;
        p += 2;
        n -= 2;
    }
    if (n == 1) {
        const std::uint8_t last[2] = {p[0], 0};
        std::uint16_t w = 0;
        std::memcpy(&w, last, 2);
        sum += w;
    }
    return sum;
}

#if defined(__SSE2__)
/// Sums (and with `dst`, copies) the 32-byte rounds of p[0..n); returns the bytes done. Each
/// lane gains < 2^33 a round, so 64-bit lanes cannot overflow for any packet length.
template <bool kCopy>
std::size_t sum_rounds(std::uint8_t* dst, const std::uint8_t* p, std::size_t n,
                       std::uint64_t& sum) noexcept {
    const __m128i zero = _mm_setzero_si128();
    __m128i acc0 = zero;
    __m128i acc1 = zero;
    std::size_t done = 0;
    for (; done + 32 <= n; done += 32) {
        const __m128i v0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + done));
        const __m128i v1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + done + 16));
        if constexpr (kCopy) {
            _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + done), v0);
            _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + done + 16), v1);
        }
        acc0 = _mm_add_epi64(acc0, _mm_unpacklo_epi32(v0, zero));
        acc1 = _mm_add_epi64(acc1, _mm_unpackhi_epi32(v0, zero));
        acc0 = _mm_add_epi64(acc0, _mm_unpacklo_epi32(v1, zero));
        acc1 = _mm_add_epi64(acc1, _mm_unpackhi_epi32(v1, zero));
    }
    alignas(16) std::uint64_t lanes[2];
    _mm_store_si128(reinterpret_cast<__m128i*>(lanes), _mm_add_epi64(acc0, acc1));
    // Fold each lane to 32 bits before adding: the running sum may already be large.
    for (const std::uint64_t l : lanes) {
        sum += (l & 0xFFFFFFFFU) + (l >> 32U);
    }
    return done;
}
#endif

#if defined(IKEPLEX_CSUM_AVX2)
/// sum_rounds with AVX2, 64 bytes a round (chosen at run time: the build targets plain x86-64).
template <bool kCopy>
__attribute__((target("avx2"))) std::size_t sum_rounds_avx2(std::uint8_t* dst,
                                                            const std::uint8_t* p, std::size_t n,
                                                            std::uint64_t& sum) noexcept {
    const __m256i zero = _mm256_setzero_si256();
    __m256i acc0 = zero;
    __m256i acc1 = zero;
    std::size_t done = 0;
    for (; done + 64 <= n; done += 64) {
        const __m256i v0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + done));
        const __m256i v1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + done + 32));
        if constexpr (kCopy) {
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + done), v0);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + done + 32), v1);
        }
        acc0 = _mm256_add_epi64(acc0, _mm256_unpacklo_epi32(v0, zero));
        acc1 = _mm256_add_epi64(acc1, _mm256_unpackhi_epi32(v0, zero));
        acc0 = _mm256_add_epi64(acc0, _mm256_unpacklo_epi32(v1, zero));
        acc1 = _mm256_add_epi64(acc1, _mm256_unpackhi_epi32(v1, zero));
    }
    alignas(32) std::uint64_t lanes[4];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), _mm256_add_epi64(acc0, acc1));
    for (const std::uint64_t l : lanes) {
        sum += (l & 0xFFFFFFFFU) + (l >> 32U);
    }
    return done;
}

const bool have_avx2 = static_cast<bool>(__builtin_cpu_supports("avx2"));
#endif

/// The vector rounds available here; returns the bytes done (a multiple of 32).
template <bool kCopy>
std::size_t vector_rounds(std::uint8_t* dst, const std::uint8_t* p, std::size_t n,
                          std::uint64_t& sum) noexcept {
    std::size_t done = 0;
#if defined(IKEPLEX_CSUM_AVX2)
    if (have_avx2 && n >= 64) {
        done = sum_rounds_avx2<kCopy>(dst, p, n, sum);
    }
#endif
#if defined(__SSE2__)
    done += sum_rounds<kCopy>(kCopy ? dst + done : nullptr, p + done, n - done, sum);
#endif
    return done;
}

}  // namespace

std::uint64_t csum_add(ByteView b, std::uint64_t sum) noexcept {
    const std::uint8_t* p = b.data();
    std::size_t n = b.size();
    if (n >= 32) {
        const std::size_t done = vector_rounds<false>(nullptr, p, n, sum);
        p += done;
        n -= done;
    }
    return sum_tail(p, n, sum);
}

std::uint64_t csum_copy(std::uint8_t* dst, const std::uint8_t* src, std::size_t n,
                        std::uint64_t sum) noexcept {
    if (n >= 32) {
        const std::size_t done = vector_rounds<true>(dst, src, n, sum);
        dst += done;
        src += done;
        n -= done;
    }
    std::memcpy(dst, src, n);
    return sum_tail(src, n, sum);
}

std::uint16_t csum_fold(std::uint64_t sum) noexcept {
    while ((sum >> 16U) != 0) {
        sum = (sum & 0xFFFFU) + (sum >> 16U);
    }
    return static_cast<std::uint16_t>(sum);
}

std::uint64_t pseudo_header_sum(ByteView src, ByteView dst, std::uint8_t proto,
                                std::uint32_t l4_len) noexcept {
    // IPv6 form (length as 32 bits); for IPv4 lengths < 65536 it sums the same as the 12-byte
    // IPv4 pseudo-header.
    std::uint8_t tail[6] = {0, proto, 0, 0, 0, 0};
    tail[2] = static_cast<std::uint8_t>(l4_len >> 24U);
    tail[3] = static_cast<std::uint8_t>(l4_len >> 16U);
    tail[4] = static_cast<std::uint8_t>(l4_len >> 8U);
    tail[5] = static_cast<std::uint8_t>(l4_len);
    return csum_add(tail, csum_add(dst, csum_add(src)));
}

}  // namespace ikeplex::esp::io
