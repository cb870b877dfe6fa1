#include "util/secret_bytes.h"

#include <algorithm>
#include <cstring>  // explicit_bzero (glibc)

namespace ikeplex {

void secure_zero(MutByteView bytes) noexcept {
    if (!bytes.empty()) {
        explicit_bzero(bytes.data(), bytes.size());
    }
}

SecretBytes::SecretBytes(std::size_t n)
    : data_(n > 0 ? std::make_unique<std::uint8_t[]>(n) : nullptr), size_(n) {}

SecretBytes SecretBytes::copy_of(ByteView data) {
    SecretBytes s(data.size());
    std::copy(data.begin(), data.end(), s.data_.get());
    return s;
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : data_(std::move(other.data_)), size_(other.size_) {
    other.size_ = 0;
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
    if (this != &other) {
        clear();
        data_ = std::move(other.data_);
        size_ = other.size_;
        other.size_ = 0;
    }
    return *this;
}

SecretBytes::~SecretBytes() {
    clear();
}

void SecretBytes::clear() noexcept {
    secure_zero(mut_view());
    data_.reset();
    size_ = 0;
}

SecretBytes SecretBytes::slice(std::size_t offset, std::size_t n) const {
    return copy_of(view().subspan(offset, n));
}

bool SecretBytes::equals(ByteView other) const noexcept {
    if (other.size() != size_) {
        return false;
    }
    std::uint8_t diff = 0;
    for (std::size_t i = 0; i < size_; ++i) {
        diff = static_cast<std::uint8_t>(diff | (data_[i] ^ other[i]));
    }
    return diff == 0;
}

}  // namespace ikeplex
