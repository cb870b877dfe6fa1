// Legacy IPsec algorithms accepted on purpose (issue 24): HMAC-SHA1 as PRF and as HMAC_SHA1_96
// (RFC 2202 test cases 1, 2 and 5 [R: recalled vectors]), 3DES-CBC (the NIST SP 800-67 example
// key and first block [R]), and MODP 1024 / 1536 built with the right primes.
#include <gtest/gtest.h>

#include "crypto/algorithm_ids.h"
#include "crypto/cbc.h"
#include "crypto/prf.h"
#include "crypto_fixture.h"
#include "util/hex.h"

namespace ikeplex::crypto {
namespace {

using test::registry;

Bytes hex(std::string_view h) {
    return from_hex(h).value();
}

TEST(LegacyIpsec, HmacSha1PrfRfc2202) {
    const Prf prf(registry(), *registry().prf(prf::kHmacSha1));
    EXPECT_EQ(to_hex(prf.compute(Bytes(20, 0x0b), {to_bytes("Hi There")})->view()),
              "b617318655057264e28bc0b6fb378c8ef146be00");
    EXPECT_EQ(to_hex(prf.compute(to_bytes("Jefe"), {to_bytes("what do ya want for nothing?")})
                             ->view()),
              "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
}

TEST(LegacyIpsec, HmacSha1_96Rfc2202Case5) {
    const IntegInfo& integ = *registry().integ(integ::kHmacSha1_96);
    EXPECT_EQ(integ.key_size, 20U);
    EXPECT_EQ(integ.icv_size, 12U);
    const auto mac =
            integrity_mac(registry(), integ, Bytes(20, 0x0c), {to_bytes("Test With Truncation")});
    ASSERT_TRUE(mac);
    EXPECT_EQ(to_hex(*mac), "4c1a03424b55e07fe7f27be1");
}

TEST(LegacyIpsec, TripleDesCbcNistExample) {
    const EncrInfo* e = registry().encr(encr::k3des, 0);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->key_size, 24U);
    EXPECT_EQ(e->iv_size, 8U);
    EXPECT_EQ(e->block_size, 8U);
    // With a zero IV the first CBC block is the ECB block of SP 800-67's example.
    const Bytes key = hex("0123456789abcdef23456789abcdef01456789abcdef0123");
    Bytes data = to_bytes("The qufck brown fox jump");
    const Bytes plain = data;
    ASSERT_TRUE(aes_cbc(*e, key, Bytes(8, 0), data, true));
    EXPECT_EQ(to_hex(data).substr(0, 16), "a826fd8ce53b855f");
    ASSERT_TRUE(aes_cbc(*e, key, Bytes(8, 0), data, false));
    EXPECT_EQ(data, plain);
    // A wrong key size is an error, not a crash.
    EXPECT_FALSE(aes_cbc(*e, Bytes(16, 1), Bytes(8, 0), data, true));
}

TEST(LegacyIpsec, ModpGroupsTwoAndFive) {
    const KeInfo* g2 = registry().ke(ke::kModp1024);
    const KeInfo* g5 = registry().ke(ke::kModp1536);
    ASSERT_NE(g2, nullptr);
    ASSERT_NE(g5, nullptr);
    EXPECT_EQ(g2->public_size, 128U);
    EXPECT_EQ(g5->public_size, 192U);
    // RFC 2409 §6.2 / RFC 3526 §2: both primes start with the same 2^n - 2^(n-64) pattern and
    // pi's digits; group 2 ends in ...ECE65381 FFFFFFFF FFFFFFFF.
    EXPECT_EQ(to_hex(ByteView(g2->prime).first(16)), "ffffffffffffffffc90fdaa22168c234");
    EXPECT_EQ(to_hex(ByteView(g2->prime).last(12)), "ece65381ffffffffffffffff");
    EXPECT_EQ(to_hex(ByteView(g5->prime).first(16)), "ffffffffffffffffc90fdaa22168c234");
}

}  // namespace
}  // namespace ikeplex::crypto
