// Big-endian loads and stores of the ESP packet layer, as single moves (the per-packet paths
// write the SPI, sequence number and IV of every packet).
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace ikeplex::esp::detail {

template <class T>
[[nodiscard]] inline T to_big_endian(T v) noexcept {
    if constexpr (std::endian::native == std::endian::little) {
        if constexpr (sizeof(T) == 2) {
            return static_cast<T>(__builtin_bswap16(v));
        } else if constexpr (sizeof(T) == 4) {
            return static_cast<T>(__builtin_bswap32(v));
        } else {
            return static_cast<T>(__builtin_bswap64(v));
        }
    }
    return v;
}

inline void store_be16(std::uint8_t* p, std::uint16_t v) noexcept {
    v = to_big_endian(v);
    std::memcpy(p, &v, sizeof(v));
}
inline void store_be32(std::uint8_t* p, std::uint32_t v) noexcept {
    v = to_big_endian(v);
    std::memcpy(p, &v, sizeof(v));
}
inline void store_be64(std::uint8_t* p, std::uint64_t v) noexcept {
    v = to_big_endian(v);
    std::memcpy(p, &v, sizeof(v));
}
[[nodiscard]] inline std::uint16_t load_be16(const std::uint8_t* p) noexcept {
    std::uint16_t v = 0;
    std::memcpy(&v, p, sizeof(v));
    return to_big_endian(v);
}
[[nodiscard]] inline std::uint32_t load_be32(const std::uint8_t* p) noexcept {
    std::uint32_t v = 0;
    std::memcpy(&v, p, sizeof(v));
    return to_big_endian(v);
}

}  // namespace ikeplex::esp::detail
