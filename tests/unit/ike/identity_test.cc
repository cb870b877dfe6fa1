// Identities against certificates (RFC 7296 §3.5): which ID types a certificate can vouch for,
// and through which of its names.
#include "ike/identity.h"

#include <gtest/gtest.h>

#include "cert_factory.h"

namespace ikeplex::ike {
namespace {

using wire::IdType;

TEST(Identity, CertificateNamesEachIdTypeThroughItsKindOfName) {
    const crypto::PrivateKey key = test::make_key(crypto::KeyType::kEcP256);
    const crypto::Certificate cert = test::issue({.cn = "gw.example.test",
                                                  .dns = {"gw.example.test"},
                                                  .email = {"ops@example.test"},
                                                  .ips = {{10, 99, 0, 1}}},
                                                 key, nullptr, key);
    EXPECT_TRUE(certificate_names(cert, IdType::kFqdn, to_bytes("GW.example.test")));
    EXPECT_TRUE(certificate_names(cert, IdType::kRfc822Addr, to_bytes("ops@example.test")));
    EXPECT_TRUE(certificate_names(cert, IdType::kIpv4Addr, Bytes{10, 99, 0, 1}));
    EXPECT_TRUE(certificate_names(cert, IdType::kDerAsn1Dn, cert.subject_der()));
    // A name of another kind does not count: the address is not a DNS name, the DNS name is
    // not a mailbox.
    EXPECT_FALSE(certificate_names(cert, IdType::kFqdn, to_bytes("10.99.0.1")));
    EXPECT_FALSE(certificate_names(cert, IdType::kRfc822Addr, to_bytes("gw.example.test")));
    EXPECT_FALSE(certificate_names(cert, IdType::kIpv6Addr, Bytes(16, 1)));
    // Key ids name no certificate.
    EXPECT_FALSE(certificate_names(cert, IdType::kKeyId, Bytes{1, 2, 3}));
    EXPECT_FALSE(certificate_names(cert, IdType::kKeyId, cert.subject_der()));
}

}  // namespace
}  // namespace ikeplex::ike
