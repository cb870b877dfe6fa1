// CRLs (RFC 5280 §5) generated at test time: a listed certificate is revoked, an unlisted one
// good; a CRL signed by another key, from another issuer, not yet valid or past nextUpdate gives
// no status; and the three `revocation` modes on a missing status (with and without a CDP URI).
#include "crypto/crl.h"

#include <openssl/pem.h>

#include <gtest/gtest.h>

#include "cert_factory.h"

namespace ikeplex::crypto {
namespace {

using ikeplex::test::issue;
using ikeplex::test::issue_crl;
using ikeplex::test::kPinnedNow;
using ikeplex::test::make_key;

struct Pki {
    PrivateKey ca_key = make_key(KeyType::kEcP256);
    Certificate ca = issue({.cn = "CRL Root CA", .ca = true}, ca_key, nullptr, ca_key);
    PrivateKey leaf_key = make_key(KeyType::kEcP256);
    Certificate good = issue({.cn = "good.test"}, leaf_key, &ca, ca_key);
    Certificate revoked = issue({.cn = "revoked.test"}, leaf_key, &ca, ca_key);
    Certificate with_uri =
            issue({.cn = "uri.test", .crl_uri = "http://10.99.0.1/ca.crl"}, leaf_key, &ca, ca_key);
};

TEST(Crl, ListedIsRevokedUnlistedIsGood) {
    Pki pki;
    std::vector<Crl> crls;
    crls.push_back(issue_crl(pki.ca, pki.ca_key, {&pki.revoked}));
    EXPECT_TRUE(crls[0].issued_by(pki.ca));
    EXPECT_EQ(crl_status(pki.revoked, pki.ca, crls, kPinnedNow), CertStatus::kRevoked);
    EXPECT_EQ(crl_status(pki.good, pki.ca, crls, kPinnedNow), CertStatus::kGood);
    for (auto mode : {RevocationMode::kStrict, RevocationMode::kIfUri, RevocationMode::kRelaxed}) {
        auto st = apply_revocation_mode(mode, CertStatus::kRevoked, pki.revoked);
        ASSERT_FALSE(st);
        EXPECT_EQ(st.error().code, Errc::kAuthFailed);
        EXPECT_TRUE(apply_revocation_mode(mode, CertStatus::kGood, pki.good));
    }
}

TEST(Crl, ParsesPemAndDerAndRefusesGarbage) {
    Pki pki;
    Crl crl = issue_crl(pki.ca, pki.ca_key, {&pki.revoked});
    const int len = i2d_X509_CRL(crl.raw(), nullptr);
    Bytes der(static_cast<std::size_t>(len));
    unsigned char* p = der.data();
    i2d_X509_CRL(crl.raw(), &p);
    auto back = Crl::from_any(der);
    ASSERT_TRUE(back);
    EXPECT_TRUE(back->lists(pki.revoked));
    const BioPtr bio(BIO_new(BIO_s_mem()));
    ASSERT_EQ(PEM_write_bio_X509_CRL(bio.get(), crl.raw()), 1);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    auto pem = Crl::from_any(
            ByteView(reinterpret_cast<const std::uint8_t*>(data), static_cast<std::size_t>(n)));
    ASSERT_TRUE(pem);
    EXPECT_EQ(pem->next_update(), kPinnedNow + 7 * 86400);
    Bytes truncated(der.begin(), der.end() - 1);
    EXPECT_FALSE(Crl::from_any(truncated));
    der.push_back(0);
    EXPECT_FALSE(Crl::from_any(der));
    EXPECT_FALSE(Crl::from_any(Bytes{0x30, 0x03, 0x02, 0x01}));
}

TEST(Crl, UntrustedOrStaleCrlGivesNoStatus) {
    Pki pki;
    const PrivateKey other_key = make_key(KeyType::kEcP256);
    // Same issuer name, wrong key: the signature does not verify.
    std::vector<Crl> crls;
    crls.push_back(issue_crl(pki.ca, other_key, {&pki.revoked}));
    EXPECT_FALSE(crls[0].issued_by(pki.ca));
    // Another issuer altogether.
    const Certificate other_ca =
            issue({.cn = "Other CA", .ca = true}, other_key, nullptr, other_key);
    crls.push_back(issue_crl(other_ca, other_key, {&pki.revoked}));
    // Past nextUpdate, and not yet valid.
    crls.push_back(
            issue_crl(pki.ca, pki.ca_key, {&pki.revoked}, kPinnedNow - 7200, kPinnedNow - 1));
    crls.push_back(
            issue_crl(pki.ca, pki.ca_key, {&pki.revoked}, kPinnedNow + 60, kPinnedNow + 120));
    EXPECT_EQ(crl_status(pki.revoked, pki.ca, crls, kPinnedNow), CertStatus::kUnknown);
    // The fresh one decides; no nextUpdate means no expiry.
    crls.push_back(issue_crl(pki.ca, pki.ca_key, {&pki.revoked}, kPinnedNow - 60, 0));
    EXPECT_EQ(crl_status(pki.revoked, pki.ca, crls, kPinnedNow), CertStatus::kRevoked);
}

TEST(Crl, ModesOnUnknownStatus) {
    Pki pki;
    EXPECT_FALSE(has_revocation_uri(pki.good));
    EXPECT_TRUE(has_revocation_uri(pki.with_uri));
    const auto unknown = CertStatus::kUnknown;
    EXPECT_FALSE(apply_revocation_mode(RevocationMode::kStrict, unknown, pki.good));
    EXPECT_FALSE(apply_revocation_mode(RevocationMode::kStrict, unknown, pki.with_uri));
    EXPECT_TRUE(apply_revocation_mode(RevocationMode::kIfUri, unknown, pki.good));
    EXPECT_FALSE(apply_revocation_mode(RevocationMode::kIfUri, unknown, pki.with_uri));
    EXPECT_TRUE(apply_revocation_mode(RevocationMode::kRelaxed, unknown, pki.good));
    EXPECT_TRUE(apply_revocation_mode(RevocationMode::kRelaxed, unknown, pki.with_uri));
    EXPECT_EQ(*revocation_mode_from("ifuri"), RevocationMode::kIfUri);
    EXPECT_FALSE(revocation_mode_from("soft"));
}

}  // namespace
}  // namespace ikeplex::crypto
