// The legacy provider's algorithms (crypto/legacy.h): RFC 1320's MD4 test suite, a DES-ECB
// known answer, and the policy that OpenSSL's default context does not gain them.
#include "crypto/legacy.h"

#include <thread>
#include <vector>

#include <openssl/evp.h>

#include <gtest/gtest.h>

#include "crypto/ossl.h"
#include "util/hex.h"

namespace ikeplex::crypto {
namespace {

Bytes hex(std::string_view h) {
    return from_hex(h).value();
}

bool default_context_has_md4() {
    const EvpMdPtr md(EVP_MD_fetch(nullptr, "MD4", nullptr));
    return md != nullptr;
}

TEST(Legacy, Md4Rfc1320TestSuite) {
    ASSERT_TRUE(legacy::available()) << legacy::available().error().to_string();
    // RFC 1320 §A.5.
    EXPECT_EQ(to_hex(legacy::md4(as_bytes("")).value().view()), "31d6cfe0d16ae931b73c59d7e0c089c0");
    EXPECT_EQ(to_hex(legacy::md4(as_bytes("abc")).value().view()),
              "a448017aaf21d8525fc10ae87aa6729d");
    EXPECT_EQ(to_hex(legacy::md4(as_bytes("message digest")).value().view()),
              "d9130a8164549fe818874806e1c7014b");
}

TEST(Legacy, DesEcbKnownAnswer) {
    // The classic worked example (key 133457799BBCDFF1, plaintext 0123456789ABCDEF); the
    // ciphertext agrees with `openssl enc -des-ecb -K 133457799BBCDFF1 -nopad -provider legacy`.
    auto c = legacy::des_ecb_encrypt(hex("133457799bbcdff1"), hex("0123456789abcdef"));
    ASSERT_TRUE(c);
    EXPECT_EQ(to_hex(*c), "85e813540f0ab405");
    // Parity bits do not matter: the same key with every low bit flipped.
    auto d = legacy::des_ecb_encrypt(hex("123556789abcdef0"), hex("0123456789abcdef"));
    ASSERT_TRUE(d);
    EXPECT_EQ(to_hex(*d), "85e813540f0ab405");
}

TEST(Legacy, RejectsBadSizes) {
    EXPECT_FALSE(legacy::des_ecb_encrypt(hex("13345779"), hex("0123456789abcdef")));
    EXPECT_FALSE(legacy::des_ecb_encrypt(hex("133457799bbcdff1"), hex("0123")));
}

TEST(Legacy, DefaultContextStaysWithoutLegacyAlgorithms) {
    const bool before = default_context_has_md4();
    ASSERT_TRUE(legacy::md4(as_bytes("x")));
    EXPECT_EQ(default_context_has_md4(), before);
    // Debian's openssl.cnf does not activate the legacy provider, so nothing else has MD4.
    EXPECT_FALSE(before);
}

TEST(Legacy, ConcurrentFirstUse) {
    std::vector<std::thread> threads;
    std::vector<int> good(4, 0);
    for (std::size_t i = 0; i < good.size(); ++i) {
        threads.emplace_back([&good, i] {
            auto r = legacy::md4(as_bytes("abc"));
            good[i] = r && to_hex(r->view()) == "a448017aaf21d8525fc10ae87aa6729d" ? 1 : 0;
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(good, std::vector<int>(4, 1));
}

}  // namespace
}  // namespace ikeplex::crypto
