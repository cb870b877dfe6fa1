#include "config/decimal_values.h"

#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>

#include <fmt/format.h>

namespace ikeplex::config {
namespace {

/// The whole of `v` as a decimal number (strtod's syntax), or nullopt.
std::optional<double> parse_decimal(std::string_view v) {
    const std::string text(v);
    char* end = nullptr;
    const double d = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || *end != '\0') {
        return std::nullopt;
    }
    return d;
}

}  // namespace

Handler fractional_seconds(Reporter& r, ike::Duration& out) {
    return [&r, &out](std::string_view v, const Setting& s) {
        const auto d = parse_decimal(v);
        if (!d || !(*d > 0) || *d > 86400) {
            r.error(s.pos, s.name, "expected seconds (e.g. 4 or 0.5)");
            return;
        }
        out = ike::Duration(static_cast<std::int64_t>(std::llround(*d * 1000)));
    };
}

Handler factor(Reporter& r, double& out, double lo, double hi) {
    return [&r, &out, lo, hi](std::string_view v, const Setting& s) {
        const auto d = parse_decimal(v);
        if (!d || *d < lo || *d > hi) {
            r.error(s.pos, s.name, fmt::format("expected a factor from {} to {}", lo, hi));
            return;
        }
        out = *d;
    };
}

}  // namespace ikeplex::config
