// Byte containers and views used everywhere in ikeplex.
//
// ByteView / MutByteView are the parameter types for "look at these bytes"; Bytes is for owned
// data. Keys do not live here: they go in SecretBytes (secret_bytes.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace ikeplex {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;
using MutByteView = std::span<std::uint8_t>;

/// Bytes of a string literal or std::string, without the terminating NUL.
inline ByteView as_bytes(std::string_view s) noexcept {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

/// An owned copy of the bytes of a string.
inline Bytes to_bytes(std::string_view s) {
    const ByteView v = as_bytes(s);
    return {v.begin(), v.end()};
}

/// Plain (not constant-time) comparison of two views; secrets use SecretBytes::equals.
inline bool equal_bytes(ByteView a, ByteView b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i] != b[i]) {
            return false;
        }
    }
    return true;
}

}  // namespace ikeplex
