#include "load_math.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace ikeplex::load {

namespace {

/// Adds `n` to a big-endian address (wrapping is ruled out by the caller's capacity check).
IpAddress add(const IpAddress& a, std::uint64_t n) {
    std::array<std::uint8_t, 16> b{};
    std::copy(a.bytes().begin(), a.bytes().end(), b.begin());
    for (std::size_t i = a.size(); i-- > 0 && n != 0;) {
        const std::uint64_t sum = b[i] + (n & 0xFF);
        b[i] = static_cast<std::uint8_t>(sum);
        n = (n >> 8) + (sum >> 8);
    }
    return IpAddress::from_bytes(ByteView(b.data(), a.size())).value_or(a);
}

/// Rounding room: a token that is due is not refused for a sum of small refills 1e-15 short.
constexpr double kSlack = 1e-9;

unsigned bits(const IpAddress& a) {
    return static_cast<unsigned>(a.size() * 8);
}

/// First host offset from the network address.
std::uint64_t first_host(const Prefix& p) {
    return bits(p.network) - p.length <= 1 ? 0 : 1;
}

}  // namespace

Result<Prefix> parse_prefix(std::string_view text) {
    const auto slash = text.find('/');
    if (slash == std::string_view::npos || slash + 1 == text.size()) {
        return make_error(Errc::kInvalidArgument, "expected address/length");
    }
    auto a = IpAddress::parse(text.substr(0, slash));
    if (!a) {
        return a.error();
    }
    unsigned len = 0;
    for (const char c : text.substr(slash + 1)) {
        if (c < '0' || c > '9' || len > 128) {
            return make_error(Errc::kInvalidArgument, "bad prefix length");
        }
        len = len * 10 + static_cast<unsigned>(c - '0');
    }
    if (len > bits(*a)) {
        return make_error(Errc::kInvalidArgument, "prefix length too large for the family");
    }
    std::array<std::uint8_t, 16> b{};
    std::copy(a->bytes().begin(), a->bytes().end(), b.begin());
    for (unsigned i = len; i < bits(*a); ++i) {
        b[i / 8] = static_cast<std::uint8_t>(b[i / 8] & ~(0x80U >> (i % 8)));
    }
    auto network = IpAddress::from_bytes(ByteView(b.data(), a->size()));
    if (!network) {
        return network.error();
    }
    return Prefix{*network, len};
}

std::uint64_t host_capacity(const Prefix& p) {
    const unsigned host_bits = bits(p.network) - p.length;
    const std::uint64_t cap = std::uint64_t{1} << 32;
    if (host_bits >= 32) {
        return cap;
    }
    const std::uint64_t all = std::uint64_t{1} << host_bits;
    if (host_bits <= 1) {
        return all;
    }
    return p.network.is_v4() ? all - 2 : all - 1;
}

Result<std::vector<IpAddress>> hosts(const Prefix& p, std::size_t n) {
    if (n > host_capacity(p)) {
        return make_error(Errc::kInvalidArgument, "the prefix has fewer host addresses");
    }
    std::vector<IpAddress> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        out.push_back(add(p.network, first_host(p) + i));
    }
    return out;
}

std::string expand_id(std::string_view format, std::size_t index) {
    std::string out;
    const std::string number = std::to_string(index);
    for (std::size_t i = 0; i < format.size(); ++i) {
        if (format.compare(i, 2, "{}") == 0) {
            out += number;
            ++i;
        } else {
            out += format[i];
        }
    }
    return out;
}

Percentiles percentiles(std::vector<double>& values) {
    if (values.empty()) {
        return {};
    }
    std::sort(values.begin(), values.end());
    const auto rank = [&](double q) {
        const auto r = static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size())));
        return values[std::clamp<std::size_t>(r, 1, values.size()) - 1];
    };
    return Percentiles{rank(0.50), rank(0.90), rank(0.99), values.back()};
}

TokenBucket::TokenBucket(double rate, double burst) noexcept
    : rate_(rate), burst_(std::max(burst, 1.0)), tokens_(burst_) {}

void TokenBucket::refill(double now_s) noexcept {
    if (last_ >= 0 && now_s > last_) {
        tokens_ = std::min(burst_, tokens_ + (now_s - last_) * rate_);
    }
    last_ = std::max(last_, now_s);
}

bool TokenBucket::take(double now_s) noexcept {
    if (rate_ <= 0) {
        return true;
    }
    refill(now_s);
    if (tokens_ < 1.0 - kSlack) {
        return false;
    }
    tokens_ -= 1.0;
    return true;
}

double TokenBucket::wait(double now_s) noexcept {
    if (rate_ <= 0) {
        return 0;
    }
    refill(now_s);
    return tokens_ >= 1.0 - kSlack ? 0 : (1.0 - tokens_) / rate_;
}

}  // namespace ikeplex::load
