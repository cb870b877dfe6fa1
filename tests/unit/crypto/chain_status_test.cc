// The verified chain CertStore::verify returns (the leaf first, each issuer after it, the trust
// anchor last) and crypto::chain_status over it: one status per certificate but the anchor's,
// from the held CRLs and the RevocationCache together (revoked wins, then good).
#include <gtest/gtest.h>

#include "cert_factory.h"
#include "crypto/revocation_cache.h"

namespace ikeplex::crypto {
namespace {

using ikeplex::test::issue;
using ikeplex::test::issue_crl;
using ikeplex::test::kPinnedNow;
using ikeplex::test::make_key;

TEST(ChainStatus, VerifiedChainWithHeldCrlsAndCache) {
    const PrivateKey ca_key = make_key(KeyType::kEcP256);
    const Certificate ca = issue({.cn = "Chain Root", .ca = true}, ca_key, nullptr, ca_key);
    const PrivateKey sub_key = make_key(KeyType::kEcP256);
    const Certificate sub = issue({.cn = "Chain Sub", .ca = true}, sub_key, &ca, ca_key);
    const PrivateKey leaf_key = make_key(KeyType::kEcP256);
    const Certificate leaf = issue({.cn = "leaf.test"}, leaf_key, &sub, sub_key);
    CertStore store;
    ASSERT_TRUE(store.add_trusted(ca));
    std::vector<Certificate> sent;
    sent.push_back(sub.clone());
    auto chain = store.verify(leaf, sent, kPinnedNow);
    ASSERT_TRUE(chain);
    ASSERT_EQ(chain->size(), 3U);
    EXPECT_TRUE((*chain)[0].same_as(leaf));
    EXPECT_TRUE((*chain)[1].same_as(sub));
    EXPECT_TRUE((*chain)[2].same_as(ca));

    using S = std::vector<CertStatus>;
    EXPECT_EQ(chain_status(*chain, {}, nullptr, kPinnedNow),
              (S{CertStatus::kUnknown, CertStatus::kUnknown}));
    std::vector<Crl> held;
    held.push_back(issue_crl(sub, sub_key, {}));
    EXPECT_EQ(chain_status(*chain, held, nullptr, kPinnedNow),
              (S{CertStatus::kGood, CertStatus::kUnknown}));
    RevocationCache cache;
    cache.put_ocsp(sub, ca, OcspStatus{CertStatus::kGood, kPinnedNow - 60, kPinnedNow + 3600, 0});
    EXPECT_EQ(chain_status(*chain, held, &cache, kPinnedNow),
              (S{CertStatus::kGood, CertStatus::kGood}));
    // A fetched CRL listing the leaf wins over the held one that does not.
    cache.put_crl("http://10.99.0.9/sub.crl", issue_crl(sub, sub_key, {&leaf}), kPinnedNow);
    EXPECT_EQ(chain_status(*chain, held, &cache, kPinnedNow),
              (S{CertStatus::kRevoked, CertStatus::kGood}));
    // Expired OCSP answers count for nothing.
    EXPECT_EQ(chain_status(*chain, {}, &cache, kPinnedNow + 7200)[1], CertStatus::kUnknown);
    // A trusted leaf alone: nothing to check.
    EXPECT_TRUE(
            chain_status(std::span<const Certificate>(*chain).subspan(2), held, &cache, kPinnedNow)
                    .empty());
}

}  // namespace
}  // namespace ikeplex::crypto
