// SecretBytes: owned key material that is zeroised when it goes away and never printed.
//
// Move-only; copying a key must be spelled .clone(). The fmt formatter prints
// "<secret N bytes>", so a key that slips into a log line leaks nothing. Contents are reachable
// only as views (view(), mut_view()) for the crypto code that needs them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include <fmt/format.h>

#include "util/bytes.h"

namespace ikeplex {

class SecretBytes {
public:
    SecretBytes() = default;
    /// n zero bytes.
    explicit SecretBytes(std::size_t n);
    /// A copy of `data` (the caller remains responsible for wiping its own copy).
    static SecretBytes copy_of(ByteView data);

    SecretBytes(SecretBytes&& other) noexcept;
    SecretBytes& operator=(SecretBytes&& other) noexcept;
    SecretBytes(const SecretBytes&) = delete;
    SecretBytes& operator=(const SecretBytes&) = delete;
    ~SecretBytes();

    [[nodiscard]] SecretBytes clone() const { return copy_of(view()); }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
    [[nodiscard]] ByteView view() const noexcept { return {data_.get(), size_}; }
    [[nodiscard]] MutByteView mut_view() noexcept { return {data_.get(), size_}; }
    /// The bytes [offset, offset + n) as a new SecretBytes (n and offset must be in range).
    [[nodiscard]] SecretBytes slice(std::size_t offset, std::size_t n) const;
    /// Wipes and releases the contents.
    void clear() noexcept;

    /// Constant-time comparison (length is not secret).
    [[nodiscard]] bool equals(ByteView other) const noexcept;

private:
    std::unique_ptr<std::uint8_t[]> data_;
    std::size_t size_{0};
};

/// Overwrites memory in a way the compiler may not elide.
void secure_zero(MutByteView bytes) noexcept;

}  // namespace ikeplex

template <>
struct fmt::formatter<ikeplex::SecretBytes> : fmt::formatter<std::string_view> {
    template <class Ctx>
    auto format(const ikeplex::SecretBytes& s, Ctx& ctx) const {
        return fmt::format_to(ctx.out(), "<secret {} bytes>", s.size());
    }
};
