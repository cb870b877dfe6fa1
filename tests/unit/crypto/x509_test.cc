// X.509: chain validation at a pinned time (valid, expired, not yet valid, untrusted,
// through an intermediate) and the names a certificate carries (subject DN, DNS, mailbox, address).
#include "crypto/x509.h"

#include <gtest/gtest.h>

#include "cert_factory.h"

namespace ikeplex::crypto {
namespace {

using ikeplex::test::CertSpec;
using ikeplex::test::issue;
using ikeplex::test::kPinnedNow;
using ikeplex::test::make_key;

struct Pki {
    PrivateKey ca_key = make_key(KeyType::kEcP256);
    Certificate ca = issue({.cn = "Test Root CA", .ca = true}, ca_key, nullptr, ca_key);
    PrivateKey sub_key = make_key(KeyType::kEcP384);
    Certificate sub = issue({.cn = "Test Sub CA", .ca = true}, sub_key, &ca, ca_key);
    PrivateKey leaf_key = make_key(KeyType::kEd25519);
    Certificate leaf =
            issue({.cn = "gw.example.test",
                   .dns = {"gw.example.test", "vpn.example.test"},
                   .email = {"ops@example.test"},
                   .ips = {{10, 99, 0, 1},
                           Bytes{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}}},
                  leaf_key, &sub, sub_key);
};

TEST(X509, ChainThroughAnIntermediate) {
    const Pki p;
    CertStore store;
    ASSERT_TRUE(store.add_trusted(p.ca));
    const std::vector<Certificate> chain = [&] {
        std::vector<Certificate> v;
        v.push_back(p.sub.clone());
        return v;
    }();
    EXPECT_TRUE(store.verify(p.leaf, chain, kPinnedNow));
    EXPECT_TRUE(store.verify(p.sub, {}, kPinnedNow));
    // Without the intermediate the leaf does not chain.
    const auto missing = store.verify(p.leaf, {}, kPinnedNow);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, Errc::kAuthFailed);
    // Outside the validity window.
    EXPECT_FALSE(store.verify(p.leaf, chain, kPinnedNow - 2 * 86400));
    EXPECT_FALSE(store.verify(p.leaf, chain, kPinnedNow + 400 * 86400));
    // A store that trusts another CA.
    const PrivateKey other_key = make_key(KeyType::kEcP256);
    const Certificate other = issue({.cn = "Other CA", .ca = true}, other_key, nullptr, other_key);
    CertStore wrong;
    ASSERT_TRUE(wrong.add_trusted(other));
    EXPECT_FALSE(wrong.verify(p.leaf, chain, kPinnedNow));
    // A CA that is not a CA cannot issue: the leaf signs a certificate.
    const PrivateKey k = make_key(KeyType::kEcP256);
    const Certificate forged = issue({.cn = "forged"}, k, &p.leaf, p.leaf_key);
    std::vector<Certificate> with_leaf;
    with_leaf.push_back(p.leaf.clone());
    with_leaf.push_back(p.sub.clone());
    EXPECT_FALSE(store.verify(forged, with_leaf, kPinnedNow));
}

TEST(X509, NamesOfEveryKind) {
    const Pki p;
    EXPECT_TRUE(p.leaf.names(NameKind::kDns, to_bytes("gw.example.test")));
    EXPECT_TRUE(p.leaf.names(NameKind::kDns, to_bytes("VPN.Example.TEST")));
    EXPECT_FALSE(p.leaf.names(NameKind::kDns, to_bytes("other.example.test")));
    EXPECT_TRUE(p.leaf.names(NameKind::kEmail, to_bytes("ops@example.test")));
    EXPECT_FALSE(p.leaf.names(NameKind::kEmail, to_bytes("root@example.test")));
    EXPECT_TRUE(p.leaf.names(NameKind::kIpAddress, Bytes{10, 99, 0, 1}));
    EXPECT_FALSE(p.leaf.names(NameKind::kIpAddress, Bytes{10, 99, 0, 2}));
    EXPECT_TRUE(p.leaf.names(NameKind::kIpAddress,
                             Bytes{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}));
    EXPECT_TRUE(p.leaf.names(NameKind::kDistinguishedName, p.leaf.subject_der()));
    EXPECT_FALSE(p.leaf.names(NameKind::kDistinguishedName, p.sub.subject_der()));
    EXPECT_FALSE(p.leaf.names(NameKind::kDistinguishedName, Bytes{0x30, 0x01}));
    EXPECT_FALSE(p.ca.names(NameKind::kDns, to_bytes("Test Root CA")));  // no SAN
    EXPECT_EQ(p.leaf.subject(), "CN=gw.example.test,O=ikeplex test");
}

TEST(X509, ParsingAndRoundTrip) {
    const Pki p;
    const Bytes der = p.leaf.der();
    const auto back = Certificate::from_der(der);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->der(), der);
    EXPECT_FALSE(Certificate::from_der(ByteView(der).first(der.size() - 1)));
    Bytes trailing = der;
    trailing.push_back(0);
    EXPECT_FALSE(Certificate::from_der(trailing));
    EXPECT_FALSE(Certificate::from_pem(
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"));
}

}  // namespace
}  // namespace ikeplex::crypto
