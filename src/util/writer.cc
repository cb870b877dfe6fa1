#include "util/writer.h"

#include <limits>

namespace ikeplex {

void Writer::write_u16(std::uint16_t v) {
    buf_.push_back(static_cast<std::uint8_t>(v >> 8U));
    buf_.push_back(static_cast<std::uint8_t>(v));
}

void Writer::write_u32(std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) {
        buf_.push_back(static_cast<std::uint8_t>(v >> static_cast<unsigned>(shift)));
    }
}

void Writer::write_u64(std::uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) {
        buf_.push_back(static_cast<std::uint8_t>(v >> static_cast<unsigned>(shift)));
    }
}

Writer::LengthMark Writer::reserve_u16_length(std::size_t start_pos) {
    LengthMark m{buf_.size(), start_pos, 2};
    write_u16(0);
    return m;
}

Writer::LengthMark Writer::reserve_u32_length(std::size_t start_pos) {
    LengthMark m{buf_.size(), start_pos, 4};
    write_u32(0);
    return m;
}

Status Writer::patch_length(const LengthMark& mark, const char* field) {
    const std::size_t len = buf_.size() - mark.start_pos;
    const std::size_t max = mark.width == 2 ? std::numeric_limits<std::uint16_t>::max()
                                            : std::numeric_limits<std::uint32_t>::max();
    if (len > max) {
        return make_error(Errc::kTooLarge, field);
    }
    for (std::size_t i = 0; i < mark.width; ++i) {
        const auto shift = static_cast<unsigned>(8 * (mark.width - 1 - i));
        buf_[mark.field_pos + i] = static_cast<std::uint8_t>(len >> shift);
    }
    return ok();
}

}  // namespace ikeplex
