#include "util/escape.h"

#include <cstddef>
#include <cstdint>

namespace ikeplex {
namespace {

/// The length of the well-formed UTF-8 sequence at `at` that is not a control character (1 to
/// 4), or 0 if the byte there has to be escaped (RFC 3629 §4's table of well-formed octets).
std::size_t keepable(std::string_view text, std::size_t at, bool keep_newlines) noexcept {
    const auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(text[i]); };
    const std::uint8_t b0 = byte(at);
    if (b0 < 0x80) {
        const bool control = b0 < 0x20 || b0 == 0x7f;
        return !control || (keep_newlines && b0 == '\n') ? 1 : 0;
    }
    std::size_t len = 0;
    std::uint8_t lo = 0x80;  // the second byte's range (overlongs, surrogates, > U+10FFFF)
    std::uint8_t hi = 0xbf;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
        len = 2;
        if (b0 == 0xc2) {
            lo = 0xa0;  // U+0080-U+009F are the C1 control characters
        }
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
        len = 3;
        lo = b0 == 0xe0 ? 0xa0 : 0x80;
        hi = b0 == 0xed ? 0x9f : 0xbf;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
        len = 4;
        lo = b0 == 0xf0 ? 0x90 : 0x80;
        hi = b0 == 0xf4 ? 0x8f : 0xbf;
    } else {
        return 0;  // a continuation byte on its own, 0xc0/0xc1, 0xf5-0xff
    }
    if (text.size() - at < len || byte(at + 1) < lo || byte(at + 1) > hi) {
        return 0;
    }
    for (std::size_t i = 2; i < len; ++i) {
        if (byte(at + i) < 0x80 || byte(at + i) > 0xbf) {
            return 0;
        }
    }
    return len;
}

}  // namespace

bool needs_escaping(std::string_view text, bool keep_newlines) noexcept {
    for (std::size_t at = 0; at < text.size();) {
        const std::size_t n = keepable(text, at, keep_newlines);
        if (n == 0) {
            return true;
        }
        at += n;
    }
    return false;
}

std::string escape_nonprintable(std::string_view text, bool keep_newlines) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(text.size());
    for (std::size_t at = 0; at < text.size();) {
        const std::size_t n = keepable(text, at, keep_newlines);
        if (n != 0) {
            out.append(text.substr(at, n));
            at += n;
            continue;
        }
        const auto b = static_cast<std::uint8_t>(text[at]);
        out += "\\x";
        out += kHex[b >> 4U];
        out += kHex[b & 0x0fU];
        ++at;
    }
    return out;
}

}  // namespace ikeplex
