#include "util/reader.h"

namespace ikeplex {

Result<std::uint8_t> Reader::read_u8(const char* field) noexcept {
    if (remaining() < 1) {
        return make_error(Errc::kTruncated, field);
    }
    return data_[pos_++];
}

namespace {
/// Big-endian value of the first sizeof(T) bytes of `b` (caller checked the size).
template <class T>
T load_be(ByteView b) noexcept {
    T v = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) {
        v = static_cast<T>((v << 8U) | b[i]);
    }
    return v;
}
}  // namespace

template <class T>
Result<T> Reader::read_be(const char* field) noexcept {
    if (remaining() < sizeof(T)) {
        return make_error(Errc::kTruncated, field);
    }
    const T v = load_be<T>(data_.subspan(pos_, sizeof(T)));
    pos_ += sizeof(T);
    return v;
}

Result<std::uint16_t> Reader::read_u16(const char* field) noexcept {
    return read_be<std::uint16_t>(field);
}
Result<std::uint32_t> Reader::read_u32(const char* field) noexcept {
    return read_be<std::uint32_t>(field);
}
Result<std::uint64_t> Reader::read_u64(const char* field) noexcept {
    return read_be<std::uint64_t>(field);
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
