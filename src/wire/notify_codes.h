// Errors that carry the notify to answer the peer with (RFC 7296 §3.10.1).
#pragma once

#include <cstdint>
#include <optional>

#include "util/result.h"
#include "wire/constants.h"

namespace ikeplex::wire {

constexpr Error error_with_notify(Errc code, const char* detail, NotifyType notify,
                                  std::uint32_t arg = 0) noexcept {
    return make_error(code, detail, static_cast<std::uint16_t>(notify), arg);
}

/// INVALID_SYNTAX (RFC 7296 §3.10.1): the catch-all answer to a malformed request.
constexpr Error invalid_syntax(const char* detail, std::uint32_t arg = 0) noexcept {
    return error_with_notify(Errc::kInvalidSyntax, detail, NotifyType::kInvalidSyntax, arg);
}

/// The notify an error asks us to send, if any.
inline std::optional<NotifyType> notify_of(const Error& e) noexcept {
    if (e.notify == 0) {
        return std::nullopt;
    }
    return static_cast<NotifyType>(e.notify);
}

}  // namespace ikeplex::wire
