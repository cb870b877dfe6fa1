// IP addresses (IPv4 and IPv6) and endpoints (address + UDP port) as small values.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "util/bytes.h"
#include "util/result.h"

namespace ikeplex {

class IpAddress {
public:
    IpAddress() = default;
    static IpAddress v4(std::uint32_t host_order) noexcept;
    /// From 4 or 16 network-order bytes; kInvalidArgument otherwise.
    static Result<IpAddress> from_bytes(ByteView b);
    /// "10.99.0.1", "2001:db8::1".
    static Result<IpAddress> parse(std::string_view text);
    /// The all-zero address of a family (4 or 6).
    static IpAddress any(int family) noexcept;
    /// The all-ones address of a family.
    static IpAddress all_ones(int family) noexcept;

    [[nodiscard]] int family() const noexcept { return family_; }  ///< 4, 6, or 0 when unset
    [[nodiscard]] bool is_v4() const noexcept { return family_ == 4; }
    [[nodiscard]] bool is_set() const noexcept { return family_ != 0; }
    [[nodiscard]] std::size_t size() const noexcept {
        return family_ == 4 ? 4 : family_ == 6 ? 16 : 0;
    }
    /// Network-order bytes (4 or 16).
    [[nodiscard]] ByteView bytes() const noexcept { return {bytes_.data(), size()}; }
    [[nodiscard]] std::string to_string() const;

    auto operator<=>(const IpAddress&) const =
            default;  // NOLINT(modernize-use-nullptr): clang-tidy 14 misreads defaulted <=>

private:
    std::array<std::uint8_t, 16> bytes_{};
    std::uint8_t family_{0};
};

struct Endpoint {
    IpAddress address;
    std::uint16_t port{0};
    [[nodiscard]] std::string to_string() const;  ///< "10.99.0.1[500]" as strongSwan prints it
    auto operator<=>(const Endpoint&) const =
            default;  // NOLINT(modernize-use-nullptr): clang-tidy 14 misreads defaulted <=>
};

}  // namespace ikeplex

template <>
struct fmt::formatter<ikeplex::IpAddress> : fmt::formatter<std::string_view> {
    template <class Ctx>
    auto format(const ikeplex::IpAddress& a, Ctx& ctx) const {
        return fmt::format_to(ctx.out(), "{}", a.to_string());
    }
};
template <>
struct fmt::formatter<ikeplex::Endpoint> : fmt::formatter<std::string_view> {
    template <class Ctx>
    auto format(const ikeplex::Endpoint& e, Ctx& ctx) const {
        return fmt::format_to(ctx.out(), "{}", e.to_string());
    }
};
