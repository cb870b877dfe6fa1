// Strong id types: an ESP SPI is not an IKE SPI is not a message id, and the compiler says so.
//
// Spi (ESP/AH, 32 bit), IkeSpi (64 bit), MessageId, ReqId (the policy/SA pairing id, as in
// XFRM) and ResourceId (RFC 9611: a CPU / worker index, or none for the fallback SA).
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <limits>

#include <fmt/format.h>

namespace ikeplex {

template <class Tag, class Rep>
class StrongId {
public:
    using rep_type = Rep;
    constexpr StrongId() = default;
    constexpr explicit StrongId(Rep v) noexcept : v_(v) {}
    [[nodiscard]] constexpr Rep value() const noexcept { return v_; }
    constexpr auto operator<=>(const StrongId&) const =
            default;  // NOLINT(modernize-use-nullptr): clang-tidy 14 misreads defaulted <=>

private:
    Rep v_{};
};

using Spi = StrongId<struct SpiTag, std::uint32_t>;
using IkeSpi = StrongId<struct IkeSpiTag, std::uint64_t>;
using MessageId = StrongId<struct MessageIdTag, std::uint32_t>;
using ReqId = StrongId<struct ReqIdTag, std::uint32_t>;

/// RFC 9611 resource: a CPU (worker) index, or none — the group's fallback SA.
class ResourceId {
public:
    constexpr ResourceId() = default;
    static constexpr ResourceId none() noexcept { return {}; }
    static constexpr ResourceId cpu(std::uint32_t index) noexcept { return ResourceId(index); }

    [[nodiscard]] constexpr bool is_none() const noexcept { return v_ == kNone; }
    /// The CPU index; meaningful only when !is_none().
    [[nodiscard]] constexpr std::uint32_t index() const noexcept { return v_; }
    constexpr auto operator<=>(const ResourceId&) const =
            default;  // NOLINT(modernize-use-nullptr): clang-tidy 14 misreads defaulted <=>

private:
    static constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();
    constexpr explicit ResourceId(std::uint32_t v) noexcept : v_(v) {}
    std::uint32_t v_{kNone};
};

}  // namespace ikeplex

template <class Tag, class Rep>
struct std::hash<ikeplex::StrongId<Tag, Rep>> {
    std::size_t operator()(const ikeplex::StrongId<Tag, Rep>& id) const noexcept {
        return std::hash<Rep>{}(id.value());
    }
};

// Formatting as strongSwan prints them: SPIs in hex ("c1a2b3c4", "1f2e3d4c5b6a7988"),
// message ids in decimal, resources as "cpu 3" / "cpu -".
template <>
struct fmt::formatter<ikeplex::Spi> : fmt::formatter<std::string_view> {
    template <class Ctx>
    auto format(ikeplex::Spi s, Ctx& ctx) const {
        return fmt::format_to(ctx.out(), "{:08x}", s.value());
    }
};
template <>
struct fmt::formatter<ikeplex::IkeSpi> : fmt::formatter<std::string_view> {
    template <class Ctx>
    auto format(ikeplex::IkeSpi s, Ctx& ctx) const {
        return fmt::format_to(ctx.out(), "{:016x}", s.value());
    }
};
template <>
struct fmt::formatter<ikeplex::MessageId> : fmt::formatter<std::string_view> {
    template <class Ctx>
    auto format(ikeplex::MessageId m, Ctx& ctx) const {
        return fmt::format_to(ctx.out(), "{}", m.value());
    }
};
template <>
struct fmt::formatter<ikeplex::ReqId> : fmt::formatter<std::string_view> {
    template <class Ctx>
    auto format(ikeplex::ReqId r, Ctx& ctx) const {
        return fmt::format_to(ctx.out(), "{}", r.value());
    }
};
template <>
struct fmt::formatter<ikeplex::ResourceId> : fmt::formatter<std::string_view> {
    template <class Ctx>
    auto format(ikeplex::ResourceId r, Ctx& ctx) const {
        if (r.is_none()) {
            return fmt::format_to(ctx.out(), "cpu -");
        }
        return fmt::format_to(ctx.out(), "cpu {}", r.index());
    }
};
