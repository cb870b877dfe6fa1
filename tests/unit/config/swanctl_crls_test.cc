// swanctl.conf's CRLs and authorities (issue 24): the x509crl/ folder (every PEM or DER file a
// CRL, the newest of an issuer held), `authorities` with strongSwan's keys (cacert or file,
// crl_uris, ocsp_uris, cert_uri_base; file:// CRLs read at load, http(s) kept for the fetcher),
// errors with file:line, and what `ikeplexd --check` says of each CRL (not signed by a loaded
// CA, expired).
#include <string>
#include <vector>

#include <openssl/pem.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cert_factory.h"
#include "config/swanctl.h"
#include "crl_factory.h"
#include "crypto/crl_info.h"
#include "settings_test_util.h"

namespace ikeplex::config {
namespace {

using ikeplex::test::issue;
using ikeplex::test::issue_crl;
using ikeplex::test::issue_numbered_crl;
using ikeplex::test::kPinnedNow;
using ikeplex::test::make_key;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string str_of(const Bytes& b) {
    return {b.begin(), b.end()};
}

std::string pem_of(const crypto::Crl& crl) {
    const crypto::BioPtr bio(BIO_new(BIO_s_mem()));
    EXPECT_EQ(PEM_write_bio_X509_CRL(bio.get(), crl.raw()), 1);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return {data, static_cast<std::size_t>(n)};
}

std::vector<std::string> texts(const std::vector<Diagnostic>& ds) {
    std::vector<std::string> out;
    for (const Diagnostic& d : ds) {
        out.push_back(d.to_string());
    }
    return out;
}

struct Pki {
    crypto::PrivateKey ca_key = make_key(crypto::KeyType::kEcP256);
    crypto::Certificate ca = issue({.cn = "Store CA", .ca = true}, ca_key, nullptr, ca_key);
    crypto::PrivateKey other_key = make_key(crypto::KeyType::kEcP256);
    crypto::Certificate other =
            issue({.cn = "Other CA", .ca = true}, other_key, nullptr, other_key);
    crypto::Certificate leaf =
            issue({.cn = "leaf.test"}, make_key(crypto::KeyType::kEcP256), &ca, ca_key);
};

struct Outcome {
    SwanctlConfig config;
    std::vector<std::string> errors, warnings;
};

Outcome load(const MemoryFileSystem& fs, std::int64_t now = kPinnedNow) {
    Findings f;
    auto r = load_swanctl_file("/sw/swanctl.conf", f, fs);
    EXPECT_TRUE(r);
    if (r) {
        check_crls(*r, now, f);
    }
    return Outcome{r ? std::move(*r) : SwanctlConfig{}, texts(f.errors), texts(f.warnings)};
}

TEST(SwanctlCrls, FolderCrlsPemAndDerTheNewestOfAnIssuerHeld) {
    Pki pki;
    MemoryFileSystem fs;
    fs.add("/sw/x509ca/ca.der", str_of(pki.ca.der()));
    // Two CRLs of one issuer: cRLNumber 2 supersedes 1 though it is read first.
    fs.add("/sw/x509crl/a.crl", pem_of(issue_numbered_crl(pki.ca, pki.ca_key, {&pki.leaf},
                                                          kPinnedNow - 60, kPinnedNow + 3600, 2)));
    fs.add("/sw/x509crl/b.der",
           str_of(crypto::crl_der(
                   issue_numbered_crl(pki.ca, pki.ca_key, {}, kPinnedNow, kPinnedNow + 7200, 1))));
    fs.add("/sw/swanctl.conf", "connections { }\n");
    const Outcome r = load(fs);
    EXPECT_THAT(r.errors, IsEmpty());
    EXPECT_THAT(r.warnings, IsEmpty());
    EXPECT_EQ(r.config.crl_files.size(), 2U);
    ASSERT_EQ(r.config.credentials.crls.size(), 1U);
    const crypto::CrlInfo i = crypto::crl_info(r.config.credentials.crls[0]);
    EXPECT_EQ(i.number, "02");
    EXPECT_EQ(i.revoked, 1U);
    EXPECT_EQ(i.issuer, "O=ikeplex test, CN=Store CA");
    EXPECT_TRUE(r.config.credentials.crls[0].lists(pki.leaf));
}

TEST(SwanctlCrls, CheckNamesTheFileNotSignedByALoadedCaAndExpired) {
    Pki pki;
    MemoryFileSystem fs;
    fs.add("/sw/x509ca/ca.der", str_of(pki.ca.der()));
    fs.add("/sw/x509crl/other.crl", pem_of(issue_crl(pki.other, pki.other_key, {})));
    fs.add("/sw/x509crl/old.crl",
           pem_of(issue_crl(pki.ca, pki.ca_key, {}, kPinnedNow - 7200, kPinnedNow - 3600)));
    fs.add("/sw/x509crl/junk.crl", "not a CRL");
    fs.add("/sw/swanctl.conf", "connections { }\n");
    const Outcome r = load(fs);
    EXPECT_THAT(r.errors, ElementsAre(HasSubstr("/sw/x509crl/junk.crl:0: CRL: not a PEM or DER")));
    EXPECT_THAT(r.warnings,
                ElementsAre("/sw/x509crl/old.crl:0: expired (nextUpdate 2026-11-22 23:00:00 UTC): "
                            "it gives no status, as if absent",
                            "/sw/x509crl/other.crl:0: not signed by any loaded CA (issuer "
                            "'O=ikeplex test, CN=Other CA'): it is not used until its CA is "
                            "loaded"));
}

TEST(SwanctlCrls, AuthorityWithStrongSwansKeys) {
    Pki pki;
    MemoryFileSystem fs;
    fs.add("/sw/x509ca/ca.der", str_of(pki.ca.der()));
    fs.add("/pki/other.der", str_of(pki.other.der()));
    fs.add("/pki/ca.crl", pem_of(issue_crl(pki.ca, pki.ca_key, {&pki.leaf})));
    fs.add("/sw/swanctl.conf", R"(authorities {
  store {
    cacert = ca.der
    crl_uris = file:///pki/ca.crl, http://10.99.220.1/ca.crl
    ocsp_uris = http://10.99.220.1:8080
  }
  other {
    file = /pki/other.der
  }
}
)");
    const Outcome r = load(fs);
    EXPECT_THAT(r.errors, IsEmpty());
    EXPECT_THAT(r.warnings, IsEmpty());
    const auto& a = r.config.credentials.authorities;
    ASSERT_EQ(a.size(), 2U);
    EXPECT_EQ(a[0].name, "store");
    ASSERT_TRUE(a[0].cacert);
    EXPECT_TRUE(a[0].cacert->same_as(pki.ca));
    EXPECT_THAT(a[0].crl_uris, ElementsAre("file:///pki/ca.crl", "http://10.99.220.1/ca.crl"));
    EXPECT_THAT(a[0].ocsp_uris, ElementsAre("http://10.99.220.1:8080"));
    EXPECT_EQ(a[1].name, "other");
    ASSERT_TRUE(a[1].cacert);
    EXPECT_TRUE(a[1].cacert->same_as(pki.other));
    // Both CAs trusted (the folder's once); the file:// CRL read, the http one left to the fetcher.
    EXPECT_EQ(r.config.credentials.ca_certs.size(), 2U);
    ASSERT_EQ(r.config.credentials.crls.size(), 1U);
    EXPECT_TRUE(r.config.credentials.crls[0].lists(pki.leaf));
    ASSERT_EQ(r.config.crl_files.size(), 1U);
    EXPECT_EQ(r.config.crl_files[0].name, "authorities.store.crl_uris file:///pki/ca.crl");
}

TEST(SwanctlCrls, AuthorityErrorsWithFileAndLine) {
    Pki pki;
    MemoryFileSystem fs;
    fs.add("/sw/x509ca/ca.der", str_of(pki.ca.der()));
    fs.add("/pki/leaf.der", str_of(pki.leaf.der()));
    fs.add("/sw/swanctl.conf", R"(authorities {
  nocert {
    crl_uris = http://10.99.220.1/ca.crl
  }
  badkey {
    cacert = ca.der
    colour = blue
  }
  ldap {
    cacert = ca.der
    crl_uris = ldap://10.99.220.1/cn=ca
    ocsp_uris = file:///tmp/x
  }
  missing {
    cacert = ca.der
    crl_uris = file:///nonexistent/ca.crl
  }
  notca {
    cacert = /pki/leaf.der
  }
  token {
    handle = 0102
  }
  base {
    cacert = ca.der
    cert_uri_base = http://10.99.220.1/certs/
  }
}
)");
    const Outcome r = load(fs);
    EXPECT_THAT(
            r.errors,
            ElementsAre(
                    "/sw/swanctl.conf:2: authorities.nocert.cacert: missing: give cacert (a file "
                    "in x509ca/) or file",
                    "/sw/swanctl.conf:7: authorities.badkey.colour: unknown key",
                    "/sw/swanctl.conf:11: authorities.ldap.crl_uris: 'ldap://10.99.220.1/cn=ca': "
                    "only file, http and https URIs are supported",
                    "/sw/swanctl.conf:12: authorities.ldap.ocsp_uris: 'file:///tmp/x': only http "
                    "and https URIs are supported",
                    HasSubstr("/sw/swanctl.conf:16: authorities.missing.crl_uris: "
                              "'file:///nonexistent/ca.crl': "),
                    "/sw/swanctl.conf:19: authorities.notca.cacert: not a CA certificate (no "
                    "basicConstraints CA:TRUE)",
                    "/sw/swanctl.conf:22: authorities.token.handle: PKCS#11 tokens are not "
                    "supported; use cacert or file"));
    EXPECT_THAT(r.warnings,
                ElementsAre("/sw/swanctl.conf:26: authorities.base.cert_uri_base: listed only: "
                            "ikeplex sends whole certificates, not hash and URL (RFC 7296 §3.6)"));
    ASSERT_EQ(r.config.credentials.authorities.size(), 1U);  // only `base` loads
    EXPECT_EQ(r.config.credentials.authorities[0].cert_uri_base, "http://10.99.220.1/certs/");
}

}  // namespace
}  // namespace ikeplex::config
