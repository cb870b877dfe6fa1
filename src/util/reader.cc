#include "util/reader.h"

namespace ikeplex {

Result<std::uint8_t> Reader::read_u8(const char* field) noexcept {
    if (remaining() < 1) {
        return make_error(Errc::kTruncated, field);
    }
    return data_[pos_++];
}

Result<std::uint16_t> Reader::read_u16(const char* field) noexcept {
    if (remaining() < 2) {
        return make_error(Errc::kTruncated, field);
    }
    auto v = static_cast<std::uint16_t>((data_[pos_] << 8U) | data_[pos_ + 1]);
    pos_ += 2;
    return v;
}

Result<std::uint32_t> Reader::read_u32(const char* field) noexcept {
    if (remaining() < 4) {
        return make_error(Errc::kTruncated, field);
    }
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        v = (v << 8U) | data_[pos_ + i];
    }
    pos_ += 4;
    return v;
}

Result<std::uint64_t> Reader::read_u64(const char* field) noexcept {
    if (remaining() < 8) {
        return make_error(Errc::kTruncated, field);
    }
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 8; ++i) {
        v = (v << 8U) | data_[pos_ + i];
    }
    pos_ += 8;
    return v;
}

Result<ByteView> Reader::read_bytes(std::size_t n, const char* field) noexcept {
    if (remaining() < n) {
        return make_error(Errc::kTruncated, field);
    }
    ByteView v = data_.subspan(pos_, n);
    pos_ += n;
    return v;
}

ByteView Reader::read_rest() noexcept {
    ByteView v = data_.subspan(pos_);
    pos_ = data_.size();
    return v;
}

Result<Reader> Reader::sub_reader(std::size_t n, const char* field) noexcept {
    auto bytes = read_bytes(n, field);
    if (!bytes) {
        return bytes.error();
    }
    return Reader(*bytes);
}

}  // namespace ikeplex
