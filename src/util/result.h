// Result<T> and Error: how every fallible function in ikeplex reports failure.
//
// Result<T> mirrors std::expected<T, Error> (not available with g++ 12 / clang 14 in C++20), so
// it can be swapped for std::expected later. Nothing in src/ throws; see design.md §7.
// Error carries a code, a static detail string for logs and, where the peer must hear of it, the
// IKEv2 notify type to send (kept as a number here so util does not depend on wire).
//
// Spelling: a fallible function that returns nothing returns `Status` (the same type as
// Result<void>, always written `Status`). Objects whose construction can fail have a private
// constructor and a static factory (`create()`, `open()`) returning `Result<T>` (the factory
// calls the constructor) or `Result<std::unique_ptr<T>>` through `std::make_unique`, the
// constructor then public but taking the class's private passkey
// `struct Token { explicit Token() = default; };` as its first parameter (never a raw `new`).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace ikeplex {

/// Error categories. Stable names are given by to_string(Errc).
enum class Errc : std::uint16_t {
    kTruncated = 1,        ///< input ended inside a field
    kBadLength,            ///< a length field disagrees with the data
    kInvalidSyntax,        ///< a value is not allowed where it appears
    kUnsupportedCritical,  ///< unknown payload with the critical bit set
    kUnsupportedVersion,   ///< IKE major version is not 2
    kTooLarge,             ///< a value does not fit its length field
    kInvalidArgument,      ///< caller passed something unusable
    kRuleViolation,        ///< payload count/placement breaks an exchange rule
    kUnsupported,          ///< valid but not implemented (e.g. an unknown exchange type)
    kNoProposal,
    kAuthFailed,
    kIntegrity,
    kReplay,
    kCrypto,
    kNetlink,
    kSystem,
    kNotFound,
    kState,
    kConfig,
    kPassphrase,  ///< a passphrase is missing or wrong (an encrypted key or bundle does not open)
    kInternal,
};

/// Stable lower-case name of an error code, e.g. "truncated".
const char* to_string(Errc code) noexcept;

/// A failure: cheap to copy, no allocation.
struct Error {
    Errc code{Errc::kInternal};
    /// Static description for logs ("SA: proposal length exceeds payload"). Never owned.
    const char* detail{""};
    /// errno of a failed system call, or 0.
    int sys_errno{0};
    /// IKEv2 Notify Message Type to answer with (RFC 7296 §3.10.1), or 0 for none.
    std::uint16_t notify{0};
    /// Extra value for the log or the notify data, e.g. the unknown critical payload type.
    std::uint32_t arg{0};

    /// "truncated: SA: proposal length" plus errno/notify/arg when set.
    [[nodiscard]] std::string to_string() const;
    bool operator==(const Error&) const = default;
};

/// Construct an Error with a code and static detail.
constexpr Error make_error(Errc code, const char* detail, std::uint16_t notify = 0,
                           std::uint32_t arg = 0) noexcept {
    return Error{code, detail, 0, notify, arg};
}

[[noreturn]] void result_access_failure(const Error& e) noexcept;

template <class T>
class [[nodiscard]] Result {
public:
    using value_type = T;

    // Implicit on purpose: `return value;` and `return error;` both work.
    Result(const T& v) : v_(std::in_place_index<0>, v) {}        // NOLINT
    Result(T&& v) : v_(std::in_place_index<0>, std::move(v)) {}  // NOLINT
    Result(Error e) : v_(std::in_place_index<1>, e) {}           // NOLINT
    // The constraint excludes Result itself, so copy and move construction are not hidden.
    // NOLINTBEGIN(bugprone-forwarding-reference-overload)
    template <class U>
    requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::decay_t<U>, T> &&
             !std::is_same_v<std::decay_t<U>, Error> && !std::is_same_v<std::decay_t<U>, Result>)
            Result(U&& v)
        : v_(std::in_place_index<0>, std::forward<U>(v)) {}  // NOLINT(google-explicit-constructor)
    // NOLINTEND(bugprone-forwarding-reference-overload)

    [[nodiscard]] bool has_value() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    // Not [[nodiscard]]: IKEPLEX_TRY(expr); used as a statement discards the value.
    T& value() & {  // NOLINT(modernize-use-nodiscard)
        check();
        return *std::get_if<0>(&v_);
    }
    const T& value() const& {  // NOLINT(modernize-use-nodiscard)
        check();
        return *std::get_if<0>(&v_);
    }
    T&& value() && {  // NOLINT(modernize-use-nodiscard)
        check();
        return std::move(*std::get_if<0>(&v_));
    }
    [[nodiscard]] const Error& error() const& noexcept { return *std::get_if<1>(&v_); }
    [[nodiscard]] Error error() && noexcept { return *std::get_if<1>(&v_); }

    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    template <class U>
    T value_or(U&& fallback) const& {
        return has_value() ? *std::get_if<0>(&v_) : static_cast<T>(std::forward<U>(fallback));
    }

    /// f(T) -> Result<U>; errors pass through.
    template <class F>
    auto and_then(F&& f) && {
        using R = std::invoke_result_t<F, T&&>;
        if (!has_value()) {
            return R(error());
        }
        return std::forward<F>(f)(std::move(*std::get_if<0>(&v_)));
    }
    /// f(T) -> U, wrapped as Result<U>; errors pass through.
    template <class F>
    auto transform(F&& f) && {
        using U = std::invoke_result_t<F, T&&>;
        if (!has_value()) {
            return Result<U>(error());
        }
        return Result<U>(std::forward<F>(f)(std::move(*std::get_if<0>(&v_))));
    }

private:
    void check() const noexcept {
        if (!has_value()) {
            result_access_failure(*std::get_if<1>(&v_));
        }
    }
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    using value_type = void;
    Result() = default;
    Result(Error e) : error_(e), ok_(false) {}  // NOLINT

    [[nodiscard]] bool has_value() const noexcept { return ok_; }
    explicit operator bool() const noexcept { return ok_; }
    void value() const {
        if (!ok_) {
            result_access_failure(error_);
        }
    }
    [[nodiscard]] const Error& error() const noexcept { return error_; }

    template <class F>
    auto and_then(F&& f) const {
        using R = std::invoke_result_t<F>;
        if (!ok_) {
            return R(error_);
        }
        return std::forward<F>(f)();
    }

private:
    Error error_{};
    bool ok_{true};
};

using Status = Result<void>;

/// The success value of Result<void>.
inline Status ok() {
    return {};
}

}  // namespace ikeplex

#define IKEPLEX_CONCAT_INNER(a, b) a##b
#define IKEPLEX_CONCAT(a, b) IKEPLEX_CONCAT_INNER(a, b)

/// Evaluates a Result-returning expression; on error returns the Error from the enclosing
/// function, otherwise yields the value. (GNU statement expression: g++ and clang.)
// NOLINTBEGIN(bugprone-macro-parentheses): `tmp` is a declarator name, it cannot be wrapped.
#define IKEPLEX_TRY(expr) IKEPLEX_TRY_IMPL(expr, IKEPLEX_CONCAT(ikeplex_try_, __COUNTER__))
#define IKEPLEX_TRY_IMPL(expr, tmp)        \
    __extension__({                        \
        auto&& tmp = (expr);               \
        if (!tmp.has_value()) {            \
            return std::move(tmp).error(); \
        }                                  \
        std::move(tmp).value();            \
    })
// NOLINTEND(bugprone-macro-parentheses)
