// Reader: a bounds-checked cursor over received bytes (QUICHE's QuicheDataReader contract).
//
// Every read names the field it reads; on failure it returns Error{kTruncated, field} and leaves
// the cursor where it was, so the error says exactly which field the input ended in. Reads of
// byte ranges return views into the input: nothing is copied. Big-endian (network order) only.
#pragma once

#include <cstddef>
#include <cstdint>

#include "util/bytes.h"
#include "util/result.h"

namespace ikeplex {

class Reader {
public:
    explicit Reader(ByteView data) noexcept : data_(data) {}

    Result<std::uint8_t> read_u8(const char* field) noexcept;
    Result<std::uint16_t> read_u16(const char* field) noexcept;
    Result<std::uint32_t> read_u32(const char* field) noexcept;
    Result<std::uint64_t> read_u64(const char* field) noexcept;
    /// The next n bytes as a view into the input.
    Result<ByteView> read_bytes(std::size_t n, const char* field) noexcept;
    /// Everything not yet read (possibly empty); the cursor moves to the end.
    ByteView read_rest() noexcept;
    /// A sub-reader over the next n bytes (for nested length-delimited structures).
    Result<Reader> sub_reader(std::size_t n, const char* field) noexcept;

    [[nodiscard]] std::size_t remaining() const noexcept { return data_.size() - pos_; }
    [[nodiscard]] bool empty() const noexcept { return remaining() == 0; }
    [[nodiscard]] std::size_t position() const noexcept { return pos_; }
    [[nodiscard]] ByteView peek_rest() const noexcept { return data_.subspan(pos_); }

private:
    template <class T>
    Result<T> read_be(const char* field) noexcept;

    ByteView data_;
    std::size_t pos_{0};
};

}  // namespace ikeplex
