// swanctl.conf's credentials: certificates and keys from the credential folders and from
// secrets, each checked, with errors naming the file (split from swanctl_test.cc).
#include <string>
#include <vector>

#include <openssl/x509.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cert_factory.h"
#include "config/swanctl.h"
#include "settings_test_util.h"
#include "swanctl_load.h"

namespace ikeplex::config {
namespace {

using test::Loaded;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

Loaded load(std::string_view text, const FileSystem& fs = test::no_files()) {
    return test::load_swanctl_text(text, fs);
}

TEST(Swanctl, MissingCertificateIsAnErrorNamingTheFile) {
    const Loaded l = load(R"(connections {
  c {
    local {
      auth = pubkey
      certs = /nonexistent/gw.pem
    }
  }
}
)");
    ASSERT_EQ(l.errors.size(), 1U);
    EXPECT_THAT(l.errors[0], HasSubstr("swanctl.conf:5: connections.c.local.certs: cannot load "
                                       "certificate '/nonexistent/gw.pem'"));
}

std::string der_of(const crypto::PrivateKey& key) {
    unsigned char* buf = nullptr;
    const int n = i2d_PrivateKey(key.raw(), &buf);
    std::string out(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n > 0 ? n : 0));
    OPENSSL_free(buf);
    return out;
}

std::string str_of(const Bytes& b) {
    return std::string(b.begin(), b.end());
}

TEST(Swanctl, CertificatesFromFoldersAreLoadedOnceAndChecked) {
    const crypto::PrivateKey ca_key = ikeplex::test::make_key(crypto::KeyType::kEcP256);
    const crypto::Certificate ca =
            ikeplex::test::issue({.cn = "ca", .ca = true}, ca_key, nullptr, ca_key);
    const crypto::PrivateKey gw_key = ikeplex::test::make_key(crypto::KeyType::kEcP256);
    const crypto::Certificate gw =
            ikeplex::test::issue({.cn = "gw", .dns = {"gw.example.org"}}, gw_key, &ca, ca_key);
    MemoryFileSystem fs;
    fs.add("/sw/x509/gw.der", str_of(gw.der()));
    fs.add("/sw/private/gw.der", der_of(gw_key));
    fs.add("/sw/x509ca/ca.der", str_of(ca.der()));
    fs.add("/sw/pkcs8/gw.der", der_of(gw_key));  // named by secrets.pkcs8-gw: its folder is pkcs8
    // The certificate and the CA are named again by the connection (as swanctl.conf files do):
    // each is kept once, and the certificate meets its key.
    fs.add("/sw/swanctl.conf", R"(connections {
  good {
    local { auth = pubkey
      certs = gw.der
      id = gw.example.org }
    remote { auth = pubkey
      cacerts = ca.der }
  }
  wrong_id {
    local { auth = pubkey
      id = other.example.org }
  }
}
secrets {
  pkcs8-gw { file = gw.der }
}
authorities {
  main { cacert = ca.der }
}
)");
    Findings f;
    auto r = load_swanctl_file("/sw/swanctl.conf", f, fs);
    ASSERT_TRUE(r);
    EXPECT_TRUE(f.errors.empty());
    // The authority names the CA of the folder again: trusted once, listed by its name.
    ASSERT_EQ(r->credentials.authorities.size(), 1U);
    EXPECT_EQ(r->credentials.authorities[0].name, "main");
    ASSERT_TRUE(r->credentials.authorities[0].cacert);
    EXPECT_EQ(r->credentials.authorities[0].cacert->der(), ca.der());
    EXPECT_EQ(r->credentials.certs.size(), 1U);
    EXPECT_TRUE(r->credentials.pending_certs.empty());
    EXPECT_TRUE(r->credentials.pending_keys.empty());
    EXPECT_EQ(r->credentials.ca_certs.size(), 1U);
    ASSERT_EQ(f.warnings.size(), 1U);
    EXPECT_EQ(f.warnings[0].to_string(),
              "/sw/swanctl.conf:9: connections.wrong_id.local: no certificate with its private key "
              "matches the identity 'other.example.org'; authentication fails until one is loaded");
}

TEST(Swanctl, ACaThatDoesNotLoadIsAnErrorWithFileAndLine) {
    // Wherever a CA comes from (the x509ca folder, an authority, a connection's cacerts), one
    // that does not load is reported where it is named, never dropped without a word.
    MemoryFileSystem fs;
    fs.add("/sw/x509ca/bad.pem",
           "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n"
           "-----END CERTIFICATE-----\n");
    fs.add("/sw/swanctl.conf", R"(connections {
  c {
    remote { auth = pubkey
      cacerts = bad.pem }
  }
}
authorities {
  ca { cacert = bad.pem }
}
)");
    Findings f;
    auto r = load_swanctl_file("/sw/swanctl.conf", f, fs);
    ASSERT_TRUE(r);
    std::vector<std::string> errors;
    for (const Diagnostic& d : f.errors) {
        errors.push_back(d.to_string());
    }
    EXPECT_THAT(errors,
                ElementsAre(HasSubstr("/sw/x509ca/bad.pem:0: certificate: not a PEM"),
                            HasSubstr("/sw/swanctl.conf:4: connections.c.remote.cacerts: cannot "
                                      "load certificate 'bad.pem': "),
                            HasSubstr("/sw/swanctl.conf:8: authorities.ca.cacert: cannot load: ")));
    EXPECT_TRUE(r->credentials.ca_certs.empty());
    EXPECT_TRUE(r->credentials.authorities
                        .empty());  // listed by list-authorities: only those that loaded
    EXPECT_TRUE(r->connections.empty());
    EXPECT_THAT(r->failed_connections, ElementsAre("c"));
}

}  // namespace
}  // namespace ikeplex::config
