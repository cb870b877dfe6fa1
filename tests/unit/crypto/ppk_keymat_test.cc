// RFC 8784 §3 key derivation: SK_d, SK_pi, SK_pr = prf+(PPK, SK_x') of SK_x's size; for the
// PRFs IKEv2 has (output size = key size) that is prf(PPK, SK_x' | 0x01), checked here against
// OpenSSL's one-shot HMAC, not against our prf+.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <gtest/gtest.h>

#include "crypto/algorithm_ids.h"
#include "crypto/keymat.h"
#include "crypto_fixture.h"

namespace ikeplex::crypto {
namespace {

Bytes hmac(const EVP_MD* md, ByteView key, ByteView data) {
    Bytes in(data.begin(), data.end());
    in.push_back(0x01);
    Bytes out(EVP_MAX_MD_SIZE);
    unsigned int len = 0;
    HMAC(md, key.data(), static_cast<int>(key.size()), in.data(), in.size(), out.data(), &len);
    out.resize(len);
    return out;
}

Bytes filled(std::size_t n, std::uint8_t start) {
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i) {
        b[i] = static_cast<std::uint8_t>(start + i);
    }
    return b;
}

TEST(PpkKeymat, PrfPlusOfPpkOverEachKey) {
    for (const auto& [id, md] :
         {std::pair{prf::kHmacSha2_256, EVP_sha256()}, std::pair{prf::kHmacSha2_384, EVP_sha384()},
          std::pair{prf::kHmacSha2_512, EVP_sha512()}}) {
        const Prf prf(test::registry(), *test::registry().prf(id));
        const std::size_t n = prf.output_size();
        const Bytes ppk = filled(32, 0xa0);
        const Bytes d = filled(n, 0x01);
        const Bytes pi = filled(n, 0x41);
        const Bytes pr = filled(n, 0x81);
        const auto k = derive_ppk_keys(prf, ppk, d, pi, pr);
        ASSERT_TRUE(k);
        EXPECT_TRUE(k->sk_d.equals(hmac(md, ppk, d)));
        EXPECT_TRUE(k->sk_pi.equals(hmac(md, ppk, pi)));
        EXPECT_TRUE(k->sk_pr.equals(hmac(md, ppk, pr)));
        EXPECT_EQ(k->sk_d.size(), n);
    }
}

TEST(PpkKeymat, EmptyPpkIsRefused) {
    const Prf prf(test::registry(), *test::registry().prf(prf::kHmacSha2_256));
    const Bytes k = filled(32, 0);
    EXPECT_FALSE(derive_ppk_keys(prf, {}, k, k, k));
}

}  // namespace
}  // namespace ikeplex::crypto
