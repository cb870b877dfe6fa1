#include "util/hex.h"

namespace ikeplex {
namespace {

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

}  // namespace

std::string to_hex(ByteView data) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(data.size() * 2);
    for (std::uint8_t b : data) {
        out.push_back(kDigits[b >> 4U]);
        out.push_back(kDigits[b & 0x0fU]);
    }
    return out;
}

std::string hex_dump(ByteView data) {
    static constexpr char kDigits[] = "0123456789abcdef";
    constexpr std::size_t kPerLine = 16;
    std::string out;
    for (std::size_t at = 0; at < data.size(); at += kPerLine) {
        if (at > 0) {
            out.push_back('\n');
        }
        std::string offset(4, ' ');
        for (std::size_t i = 0, v = at; i < 4 && (i == 0 || v != 0); ++i, v >>= 4U) {
            offset[3 - i] = kDigits[v & 0x0fU];
        }
        out += offset;
        out.push_back(':');
        for (std::size_t i = at; i < data.size() && i < at + kPerLine; ++i) {
            out.push_back(' ');
            out.push_back(kDigits[data[i] >> 4U]);
            out.push_back(kDigits[data[i] & 0x0fU]);
        }
    }
    return out;
}

Result<Bytes> from_hex(std::string_view text) {
    if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        text.remove_prefix(2);
    }
    Bytes out;
    out.reserve(text.size() / 2);
    int high = -1;
    for (char c : text) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ':') {
            continue;
        }
        const int v = hex_value(c);
        if (v < 0) {
            return make_error(Errc::kInvalidSyntax, "hex: not a hex digit");
        }
        if (high < 0) {
            high = v;
        } else {
            out.push_back(static_cast<std::uint8_t>((high << 4) | v));
            high = -1;
        }
    }
    if (high >= 0) {
        return make_error(Errc::kInvalidSyntax, "hex: odd number of digits");
    }
    return out;
}

}  // namespace ikeplex
