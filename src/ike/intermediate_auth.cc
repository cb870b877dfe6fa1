#include "ike/intermediate_auth.h"

#include "wire/constants.h"

namespace ikeplex::ike {
namespace {

constexpr std::uint8_t kSk = 46;   // Encrypted and Authenticated (RFC 7296 §3.14)
constexpr std::uint8_t kSkf = 53;  // Encrypted and Authenticated Fragment (RFC 7383 §2.5)
constexpr std::size_t kGeneric = 4;

void put32(Bytes& b, std::size_t at, std::uint32_t v) {
    for (std::size_t i = 0; i < 4; ++i) {
        b[at + i] = static_cast<std::uint8_t>(v >> (8 * (3 - i)));
    }
}

}  // namespace

Result<Bytes> int_auth_a(ByteView datagram, std::size_t plain_size) {
    constexpr std::size_t kHeader = wire::kIkeHeaderSize;
    if (datagram.size() < kHeader + kGeneric) {
        return make_error(Errc::kTruncated, "IntAuth: message too short");
    }
    // Walk the unencrypted payloads (if any) to the SK or SKF payload; `next_at` is the octet
    // that names the payload at `at`.
    std::size_t next_at = 16;
    std::size_t at = kHeader;
    while (datagram[next_at] != kSk && datagram[next_at] != kSkf) {
        if (datagram[next_at] == 0 || at + kGeneric > datagram.size()) {
            return make_error(Errc::kInvalidSyntax, "IntAuth: no Encrypted payload");
        }
        const std::size_t len = (std::size_t{datagram[at + 2]} << 8U) | datagram[at + 3];
        if (len < kGeneric || at + len + kGeneric > datagram.size()) {
            return make_error(Errc::kBadLength, "IntAuth: bad payload length");
        }
        next_at = at;
        at += len;
    }
    Bytes a(datagram.begin(), datagram.begin() + static_cast<std::ptrdiff_t>(at + kGeneric));
    a[next_at] = kSk;  // a fragment counts as the reassembled message
    const std::size_t total = a.size() + plain_size;
    if (total > 0xffffffffU || kGeneric + plain_size > 0xffffU) {
        return make_error(Errc::kTooLarge, "IntAuth: message too large");
    }
    put32(a, 24, static_cast<std::uint32_t>(total));
    const auto sk_len = static_cast<std::uint16_t>(kGeneric + plain_size);
    a[at + 2] = static_cast<std::uint8_t>(sk_len >> 8U);
    a[at + 3] = static_cast<std::uint8_t>(sk_len);
    return a;
}

Result<Bytes> int_auth_step(const crypto::Prf& prf, ByteView sk_p, ByteView previous, ByteView a,
                            ByteView p) {
    const SecretBytes out = IKEPLEX_TRY(prf.compute(sk_p, {previous, a, p}));
    return Bytes(out.view().begin(), out.view().end());
}

Bytes int_auth(ByteView int_auth_i, ByteView int_auth_r, std::uint32_t ike_auth_mid) {
    Bytes out(int_auth_i.begin(), int_auth_i.end());
    out.insert(out.end(), int_auth_r.begin(), int_auth_r.end());
    out.resize(out.size() + 4);
    put32(out, out.size() - 4, ike_auth_mid);
    return out;
}

}  // namespace ikeplex::ike
