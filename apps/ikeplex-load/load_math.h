// Pure helpers of ikeplex-load: source addresses from a prefix, identities, percentiles, and
// the token bucket that paces new IKE SAs and deletes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/ip_address.h"
#include "util/result.h"

namespace ikeplex::load {

struct Prefix {
    IpAddress network;  ///< host bits cleared
    unsigned length{0};
};

/// "10.99.16.0/20", "fd00:99:16::/64"; host bits set in the address are cleared.
Result<Prefix> parse_prefix(std::string_view text);

/// How many host addresses hosts() can give (IPv4 below /31: without the network and
/// broadcast addresses; IPv6: without the subnet-router anycast address). Saturates at 2^32.
std::uint64_t host_capacity(const Prefix& p);

/// The first `n` host addresses of `p` (network + 1, + 2, ...; /31, /32, /127 and /128 from the
/// network address). kInvalidArgument when the prefix has fewer.
Result<std::vector<IpAddress>> hosts(const Prefix& p, std::size_t n);

/// `format` with every "{}" replaced by `index`.
std::string expand_id(std::string_view format, std::size_t index);

struct Percentiles {
    double p50{0};
    double p90{0};
    double p99{0};
    double max{0};
};
/// Nearest-rank percentiles of `values` (sorted in place); all zero when empty.
Percentiles percentiles(std::vector<double>& values);

/// A token bucket: `rate` tokens per second up to `burst`, starting full. Rate 0: unlimited.
class TokenBucket {
public:
    TokenBucket(double rate, double burst) noexcept;
    /// Takes one token at time `now_s` (seconds, monotonic) if there is one.
    bool take(double now_s) noexcept;
    /// Seconds from `now_s` until take() can succeed (0: now).
    [[nodiscard]] double wait(double now_s) noexcept;

private:
    void refill(double now_s) noexcept;

    double rate_;
    double burst_;
    double tokens_;
    double last_{-1};
};

}  // namespace ikeplex::load
