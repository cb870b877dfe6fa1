#include "ike/cookies.h"

#include <algorithm>
#include <array>

#include "crypto/hash.h"

namespace ikeplex::ike {
namespace {

constexpr Duration kRotation = std::chrono::minutes(2);
constexpr std::size_t kSecretSize = 32;

}  // namespace

CookieJar::CookieJar(const crypto::Registry& registry, Random& random)
    : registry_(registry), random_(random), current_(kSecretSize), previous_(kSecretSize) {
    random_.fill(current_.mut_view());
    random_.fill(previous_.mut_view());
}

Bytes CookieJar::compute(std::uint8_t version, const SecretBytes& secret, ByteView ni,
                         const IpAddress& ip, IkeSpi spi_i) const {
    std::array<std::uint8_t, 8> spi{};
    for (std::size_t i = 0; i < 8; ++i) {
        spi[i] = static_cast<std::uint8_t>(spi_i.value() >> (8 * (7 - i)));
    }
    Bytes out{version};
    auto h = crypto::hash(registry_, "SHA256", {ni, ip.bytes(), spi, secret.view()});
    if (h) {
        out.insert(out.end(), h->begin(), h->end());
    }
    return out;
}

Bytes CookieJar::make(ByteView ni, const IpAddress& ip, IkeSpi spi_i) const {
    return compute(version_, current_, ni, ip, spi_i);
}

bool CookieJar::verify(ByteView cookie, ByteView ni, const IpAddress& ip, IkeSpi spi_i) const {
    if (cookie.empty()) {
        return false;
    }
    const auto matches = [&](std::uint8_t version, const SecretBytes& secret) {
        const Bytes expect = compute(version, secret, ni, ip, spi_i);
        return expect.size() == cookie.size() &&
               std::equal(expect.begin(), expect.end(), cookie.begin());
    };
    if (cookie[0] == version_) {
        return matches(version_, current_);
    }
    return cookie[0] == static_cast<std::uint8_t>(version_ - 1) && matches(cookie[0], previous_);
}

void CookieJar::rotate(TimePoint now) {
    if (now - created_ < kRotation) {
        return;
    }
    previous_ = std::move(current_);
    current_ = SecretBytes(kSecretSize);
    random_.fill(current_.mut_view());
    ++version_;
    created_ = now;
}

}  // namespace ikeplex::ike
