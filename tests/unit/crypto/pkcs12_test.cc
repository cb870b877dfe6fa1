// PKCS#12 bundles made by openssl(1) at test time (crypto/pkcs12.h): a modern one (OpenSSL 3's
// default: PBES2/PBKDF2/AES-256-CBC, HMAC-SHA-256 MAC) and a -legacy one (RC2-40 certificates,
// 3DES key: opened through the private legacy context, never the default one), each holding the
// key, its certificate and the two CAs above it; a wrong passphrase; a bundle without a key.
// Also the chain that goes out after our certificate (crypto::issuers_of).
#include "crypto/pkcs12.h"

#include <openssl/provider.h>

#include <gtest/gtest.h>

#include "test_pki.h"

namespace ikeplex::crypto {
namespace {

using test::kPkiPassphrase;
using test::secret_of;
using test::TestPki;

void expect_full_bundle(const Pkcs12Contents& c, const TestPki& pki) {
    ASSERT_EQ(c.keys.size(), 1U);
    ASSERT_EQ(c.certs.size(), 3U);
    const auto leaf = Certificate::from_any(pki.read("leaf.pem"));
    ASSERT_TRUE(leaf);
    // The key belongs to the end-entity certificate; the two others are the CAs.
    int matched = 0;
    int cas = 0;
    for (const Certificate& cert : c.certs) {
        matched += cert.same_as(*leaf) && cert.matches_key(c.keys.front()) ? 1 : 0;
        cas += cert.is_ca() ? 1 : 0;
    }
    EXPECT_EQ(matched, 1);
    EXPECT_EQ(cas, 2);
}

TEST(Pkcs12, ModernBundleOpens) {
    const TestPki pki;
    ASSERT_TRUE(pki.ok());
    ASSERT_TRUE(pki.pkcs12("modern.p12"));
    const auto c = read_pkcs12(pki.read("modern.p12"), secret_of(kPkiPassphrase));
    ASSERT_TRUE(c) << c.error().detail;
    EXPECT_FALSE(c->legacy);
    expect_full_bundle(*c, pki);
}

TEST(Pkcs12, LegacyBundleOpensThroughThePrivateContext) {
    const TestPki pki;
    ASSERT_TRUE(pki.ok());
    ASSERT_TRUE(pki.pkcs12("legacy.p12", "-legacy"));
    const auto c = read_pkcs12(pki.read("legacy.p12"), secret_of(kPkiPassphrase));
    ASSERT_TRUE(c) << c.error().detail;
    EXPECT_TRUE(c->legacy);  // RC2-40 needed the legacy provider
    expect_full_bundle(*c, pki);
    // ... which never reached OpenSSL's default context.
    EXPECT_EQ(OSSL_PROVIDER_available(nullptr, "legacy"), 0);
}

TEST(Pkcs12, WrongPassphraseIsRefused) {
    const TestPki pki;
    ASSERT_TRUE(pki.ok());
    ASSERT_TRUE(pki.pkcs12("modern.p12"));
    ASSERT_TRUE(pki.pkcs12("legacy.p12", "-legacy"));
    for (const char* name : {"modern.p12", "legacy.p12"}) {
        SCOPED_TRACE(name);
        const auto c = read_pkcs12(pki.read(name), secret_of("open says me"));
        ASSERT_FALSE(c);
        EXPECT_EQ(c.error().code, Errc::kPassphrase);
        EXPECT_NE(std::string(c.error().detail).find("wrong passphrase"), std::string::npos);
        // No passphrase at all (the pkcs12/ folder's first try) is the same code.
        const auto none = read_pkcs12(pki.read(name), SecretBytes{});
        ASSERT_FALSE(none);
        EXPECT_EQ(none.error().code, Errc::kPassphrase);
    }
}

TEST(Pkcs12, BundleWithoutKeyHoldsOnlyCertificates) {
    const TestPki pki;
    ASSERT_TRUE(pki.ok());
    ASSERT_TRUE(pki.pkcs12("nokey.p12", "-nokeys"));
    const auto c = read_pkcs12(pki.read("nokey.p12"), secret_of(kPkiPassphrase));
    ASSERT_TRUE(c) << c.error().detail;
    EXPECT_TRUE(c->keys.empty());
    EXPECT_EQ(c->certs.size(), 3U);
}

TEST(Pkcs12, GarbageIsNoBundle) {
    const Bytes junk = {0x30, 0x03, 0x02, 0x01, 0x03};
    EXPECT_FALSE(read_pkcs12(junk, secret_of("x")));
    // Garbage needs no passphrase: the pkcs12/ folder reports it instead of waiting for one.
    EXPECT_EQ(read_pkcs12(junk, SecretBytes{}).error().code, Errc::kInvalidArgument);
    EXPECT_FALSE(read_pkcs12({}, secret_of("x")));
    const TestPki pki;
    ASSERT_TRUE(pki.ok());
    ASSERT_TRUE(pki.pkcs12("modern.p12"));
    Bytes cut = pki.read("modern.p12");
    cut.resize(cut.size() / 2);
    EXPECT_FALSE(read_pkcs12(cut, secret_of(kPkiPassphrase)));
}

TEST(CertificateChain, IssuersUpToButWithoutTheRoot) {
    const TestPki pki;
    ASSERT_TRUE(pki.ok());
    const auto leaf = Certificate::from_any(pki.read("leaf.pem"));
    const auto im = Certificate::from_any(pki.read("im.pem"));
    const auto root = Certificate::from_any(pki.read("root.pem"));
    ASSERT_TRUE(leaf && im && root);
    EXPECT_TRUE(root->self_signed());
    EXPECT_FALSE(im->self_signed());
    EXPECT_TRUE(im->is_ca());
    EXPECT_FALSE(leaf->is_ca());
    EXPECT_TRUE(im->issued(*leaf));
    EXPECT_FALSE(root->issued(*leaf));
    const Certificate* held[] = {&*root, &*leaf, &*im};
    const auto chain = issuers_of(*leaf, held);
    ASSERT_EQ(chain.size(), 1U);
    EXPECT_EQ(chain.front(), &*im);
    // Without the intermediate nothing is sent, and a root has nothing above it.
    const Certificate* only_root[] = {&*root};
    EXPECT_TRUE(issuers_of(*leaf, only_root).empty());
    EXPECT_TRUE(issuers_of(*root, held).empty());
}

}  // namespace
}  // namespace ikeplex::crypto
