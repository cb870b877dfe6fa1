// swanctl.conf's PKCS#12 bundles (bundles made by openssl(1) at test time): the pkcs12/ folder
// and secrets { pkcs12<suffix> { file, secret } }. The bundle's key and certificate become our
// credential, its CA certificates are held as CAs (the root a trust anchor, the intermediate
// sent after our certificate); a modern and a -legacy bundle; a wrong passphrase, a bundle no
// secret opens and one without a key are `file:line: what`, and the passphrase never appears.
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/swanctl.h"
#include "swanctl_load.h"
#include "test_pki.h"

namespace ikeplex::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

using ikeplex::test::TestPki;
using test::Loaded;

std::string text_of(const Bytes& b) {
    return {b.begin(), b.end()};
}

/// swanctl.conf with `secrets` and the bundle `file` of `pki` as /sw/pkcs12/gw.p12.
Loaded load_with(const TestPki& pki, const std::string& file, const std::string& secrets) {
    MemoryFileSystem fs;
    fs.add("/sw/pkcs12/gw.p12", text_of(pki.read(file)));
    return test::load_secrets(fs, secrets, "sesame");
}

const std::string kSecret = "  pkcs12-gw {\n    file = gw.p12\n    secret = \"open sesame\"\n  }\n";

void expect_credential(const Loaded& l, const TestPki& pki) {
    const ike::Credentials& c = l.config.credentials;
    ASSERT_EQ(c.certs.size(), 1U);  // key and certificate met
    EXPECT_TRUE(c.pending_keys.empty());
    EXPECT_EQ(c.ca_certs.size(), 2U);  // the root and the intermediate
    const auto im = crypto::Certificate::from_any(pki.read("im.pem"));
    ASSERT_TRUE(im);
    const auto chain = c.chain_of(c.certs.front().cert);
    ASSERT_EQ(chain.size(), 1U);
    EXPECT_TRUE(chain.front()->same_as(*im));
    EXPECT_TRUE(c.find_own(*ike::Identity::parse("a.test")) != nullptr);
}

TEST(SwanctlPkcs12, ModernBundleOpensWithItsSecret) {
    const TestPki pki;
    ASSERT_TRUE(pki.ok());
    ASSERT_TRUE(pki.pkcs12("b.p12"));
    const Loaded l = load_with(pki, "b.p12", kSecret);
    EXPECT_THAT(l.errors, IsEmpty());
    EXPECT_THAT(l.warnings, IsEmpty());
    expect_credential(l, pki);
}

TEST(SwanctlPkcs12, LegacyBundleOpensWithItsSecret) {
    const TestPki pki;
    ASSERT_TRUE(pki.ok());
    ASSERT_TRUE(pki.pkcs12("b.p12", "-legacy"));
    const Loaded l = load_with(pki, "b.p12", kSecret);
    EXPECT_THAT(l.errors, IsEmpty());
    expect_credential(l, pki);
}

TEST(SwanctlPkcs12, WrongOrMissingSecretIsFileLine) {
    const TestPki pki;
    ASSERT_TRUE(pki.ok());
    ASSERT_TRUE(pki.pkcs12("b.p12"));
    EXPECT_THAT(
            load_with(pki, "b.p12", "  pkcs12-gw {\n    file = gw.p12\n    secret = nope\n  }\n")
                    .errors,
            ElementsAre("/sw/swanctl.conf:3: secrets.pkcs12-gw.file: cannot load the PKCS#12 "
                        "bundle: cannot open the PKCS#12 bundle: wrong passphrase (its MAC does "
                        "not verify)",
                        "/sw/pkcs12/gw.p12:0: a PKCS#12 bundle no secrets section opens: give "
                        "its passphrase in secrets { pkcs12-<name> { file = ..., secret = ... } "
                        "}"));
    EXPECT_THAT(load_with(pki, "b.p12", "").errors,
                ElementsAre("/sw/pkcs12/gw.p12:0: a PKCS#12 bundle no secrets section opens: give "
                            "its passphrase in secrets { pkcs12-<name> { file = ..., secret = ... "
                            "} }"));
    EXPECT_THAT(load_with(pki, "b.p12", "  pkcs12-gw {\n    file = gw.p12\n  }\n").errors,
                ::testing::Contains("/sw/swanctl.conf:2: secrets.pkcs12-gw: no secret given (the "
                                    "bundle's passphrase)"));
    EXPECT_THAT(
            load_with(pki, "b.p12", "  pkcs12-gw {\n    file = other.p12\n    secret = x\n  }\n")
                    .errors,
            ::testing::Contains(HasSubstr("/sw/swanctl.conf:3: secrets.pkcs12-gw.file: "
                                          "cannot load the PKCS#12 bundle: ")));
}

TEST(SwanctlPkcs12, BundleWithoutKeyIsAWarning) {
    const TestPki pki;
    ASSERT_TRUE(pki.ok());
    ASSERT_TRUE(pki.pkcs12("b.p12", "-nokeys"));
    const Loaded l = load_with(pki, "b.p12", kSecret);
    EXPECT_THAT(l.errors, IsEmpty());
    EXPECT_THAT(l.warnings, ElementsAre("/sw/pkcs12/gw.p12:0: the PKCS#12 bundle holds no private "
                                        "key (only certificates)"));
    EXPECT_TRUE(l.config.credentials.certs.empty());
    EXPECT_EQ(l.config.credentials.pending_certs.size(), 1U);
}

TEST(SwanctlPkcs12, GarbageInTheFolderIsFileLine) {
    const TestPki pki;
    ASSERT_TRUE(pki.ok());
    MemoryFileSystem fs;
    fs.add("/sw/pkcs12/junk.p12", "not a bundle");
    fs.add("/sw/swanctl.conf", "");
    Findings f;
    ASSERT_TRUE(load_swanctl_file("/sw/swanctl.conf", f, fs));
    ASSERT_EQ(f.errors.size(), 1U);
    EXPECT_EQ(f.errors.front().to_string(), "/sw/pkcs12/junk.p12:0: not a PKCS#12 bundle (DER)");
}

}  // namespace
}  // namespace ikeplex::config
