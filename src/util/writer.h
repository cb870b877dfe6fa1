// Writer: appends network-order fields to an owned buffer, with length fields patched after the
// fact (LengthMark) instead of computed in a separate pass.
#pragma once

#include <cstddef>
#include <cstdint>

#include "util/bytes.h"
#include "util/result.h"

namespace ikeplex {

class Writer {
public:
    /// Where a length field was reserved and from where the length counts.
    struct LengthMark {
        std::size_t field_pos;  ///< offset of the length field itself
        std::size_t start_pos;  ///< offset the counted length starts from
        std::size_t width;      ///< 2 or 4 bytes
    };

    Writer() = default;
    explicit Writer(Bytes&& reuse) : buf_(std::move(reuse)) { buf_.clear(); }

    void write_u8(std::uint8_t v) { buf_.push_back(v); }
    void write_u16(std::uint16_t v);
    void write_u32(std::uint32_t v);
    void write_u64(std::uint64_t v);
    void write_bytes(ByteView v) { buf_.insert(buf_.end(), v.begin(), v.end()); }
    void write_zeros(std::size_t n) { buf_.insert(buf_.end(), n, 0); }

    /// Reserves a 16-bit length field here; the length is counted from `start_pos`
    /// (an earlier offset, e.g. the start of the enclosing payload header).
    LengthMark reserve_u16_length(std::size_t start_pos);
    LengthMark reserve_u32_length(std::size_t start_pos);
    /// Writes size() - start_pos into the reserved field; kTooLarge when it does not fit.
    Status patch_length(const LengthMark& mark, const char* field);
    /// Overwrites one byte written earlier (e.g. a next-payload field).
    void patch_u8(std::size_t pos, std::uint8_t v) { buf_[pos] = v; }

    [[nodiscard]] std::size_t size() const noexcept { return buf_.size(); }
    [[nodiscard]] ByteView view() const noexcept { return buf_; }
    Bytes take() && { return std::move(buf_); }

private:
    Bytes buf_;
};

}  // namespace ikeplex
