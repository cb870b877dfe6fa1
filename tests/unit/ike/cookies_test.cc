// Stateless COOKIEs (RFC 7296 §2.6): Cookie = <VersionIDofSecret> | Hash(Ni | IPi | SPIi |
// <secret>). A cookie verifies only for the nonce, address and SPI it was made for; the secret
// rotates, and a cookie made with the previous one still verifies, not one older.
#include "ike/cookies.h"

#include <gtest/gtest.h>

#include "exchange_harness.h"

namespace ikeplex::ike {
namespace {

constexpr Duration kRotation = std::chrono::minutes(2);  // cookies.cc

class Cookies : public ::testing::Test {
protected:
    [[nodiscard]] Bytes make() const { return jar.make(ni, ip, spi); }
    [[nodiscard]] bool verify(const Bytes& cookie) const { return jar.verify(cookie, ni, ip, spi); }

    DeterministicRandom random{7};
    CookieJar jar{test::test_registry(), random};
    Bytes ni = Bytes(32, 0x11);
    IpAddress ip = *IpAddress::parse("192.0.2.1");
    IkeSpi spi{0x0123456789abcdefULL};
};

TEST_F(Cookies, VerifiesForTheSameInitiatorOnly) {
    const Bytes cookie = make();
    EXPECT_EQ(cookie.size(), 1U + 32U);  // version, SHA-256
    EXPECT_EQ(make(), cookie);           // stateless: the same inputs, the same cookie
    EXPECT_TRUE(verify(cookie));
    Bytes other_ni = ni;
    other_ni.back() ^= 1U;
    EXPECT_FALSE(jar.verify(cookie, other_ni, ip, spi));
    EXPECT_FALSE(jar.verify(cookie, Bytes(31, 0x11), ip, spi));
    EXPECT_FALSE(jar.verify(cookie, ni, *IpAddress::parse("192.0.2.2"), spi));
    EXPECT_FALSE(jar.verify(cookie, ni, *IpAddress::parse("2001:db8::1"), spi));
    EXPECT_FALSE(jar.verify(cookie, ni, ip, IkeSpi{spi.value() ^ 1U}));
    EXPECT_NE(jar.make(other_ni, ip, spi), cookie);
}

TEST_F(Cookies, AnAlteredCookieFails) {
    const Bytes cookie = make();
    for (std::size_t i = 0; i < cookie.size(); ++i) {
        Bytes bad = cookie;
        bad[i] ^= 0x80U;
        EXPECT_FALSE(verify(bad)) << "octet " << i;
    }
    EXPECT_FALSE(verify(Bytes(cookie.begin(), cookie.end() - 1)));  // truncated
    Bytes longer = cookie;
    longer.push_back(0);
    EXPECT_FALSE(verify(longer));
    EXPECT_FALSE(verify({}));
    EXPECT_FALSE(verify(Bytes{cookie[0]}));
}

TEST_F(Cookies, AnotherRespondersCookieFails) {
    DeterministicRandom other_random{8};
    const CookieJar other{test::test_registry(), other_random};
    EXPECT_FALSE(verify(other.make(ni, ip, spi)));
    EXPECT_FALSE(other.verify(make(), ni, ip, spi));
}

TEST_F(Cookies, SurvivesOneRotationNotTwo) {
    // RFC 7296 §2.6: the secret changes periodically; cookies made with the previous one are
    // accepted for a while (they may be in flight), older ones not.
    const TimePoint start{0};
    const Bytes first = make();
    jar.rotate(start + kRotation - Duration(1));  // too early: nothing changes
    EXPECT_EQ(make(), first);
    jar.rotate(start + kRotation);
    const Bytes second = make();
    EXPECT_NE(second, first);
    EXPECT_EQ(second[0], static_cast<std::uint8_t>(first[0] + 1));  // a new VersionIDofSecret
    EXPECT_TRUE(verify(first));
    EXPECT_TRUE(verify(second));
    jar.rotate(start + 2 * kRotation - Duration(1));  // the period counts from the rotation
    EXPECT_EQ(make(), second);
    jar.rotate(start + 2 * kRotation);
    EXPECT_FALSE(verify(first));
    EXPECT_TRUE(verify(second));
    EXPECT_TRUE(verify(make()));
    // A cookie with the previous version but another secret's hash: still refused.
    Bytes forged = first;
    forged[0] = second[0];
    EXPECT_FALSE(verify(forged));
}

}  // namespace
}  // namespace ikeplex::ike
