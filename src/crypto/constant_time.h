// Comparison of secrets in constant time.
#pragma once

#include <cstddef>

namespace ikeplex::crypto {

/// Constant-time equality of two buffers of the same length (CRYPTO_memcmp).
bool constant_time_equal(const unsigned char* a, const unsigned char* b, std::size_t n) noexcept;

}  // namespace ikeplex::crypto
