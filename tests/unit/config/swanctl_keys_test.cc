// swanctl.conf's encrypted private keys: secrets { private-<name> { file, secret } } opens a key
// of the private/rsa/ecdsa/pkcs8 folders with its passphrase; a wrong passphrase, a missing one,
// or an encrypted key in a folder that no secret opens is `file:line: what is wrong`, and the
// passphrase never appears in a message.
#include <string>
#include <vector>

#include <openssl/pem.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cert_factory.h"
#include "config/swanctl.h"
#include "swanctl_load.h"

namespace ikeplex::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

/// `key` as encrypted PKCS#8 PEM (PBES2, AES-256-CBC) under `passphrase`.
std::string encrypted_pem(const crypto::PrivateKey& key, const std::string& passphrase) {
    const crypto::BioPtr bio(BIO_new(BIO_s_mem()));
    EXPECT_EQ(PEM_write_bio_PKCS8PrivateKey(bio.get(), key.raw(), EVP_aes_256_cbc(), nullptr, 0,
                                            nullptr, const_cast<char*>(passphrase.c_str())),
              1);
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return {data, static_cast<std::size_t>(len)};
}

using test::Loaded;

/// swanctl.conf with `secrets` and an EC key encrypted under "open sesame" as /sw/private/gw.pem.
Loaded load_with(const std::string& secrets) {
    const crypto::PrivateKey key = ikeplex::test::make_key(crypto::KeyType::kEcP256);
    MemoryFileSystem fs;
    fs.add("/sw/private/gw.pem", encrypted_pem(key, "open sesame"));
    return test::load_secrets(fs, secrets, "sesame");
}

TEST(SwanctlKeys, EncryptedKeyOpensWithItsPassphrase) {
    for (const char* kind : {"private", "ecdsa", "pkcs8"}) {
        SCOPED_TRACE(kind);
        const std::string folder = std::string(kind) == "private" ? "gw.pem" : "../private/gw.pem";
        const Loaded l = load_with(std::string("  ") + kind + "-gw {\n    file = " + folder +
                                   "\n    secret = \"open sesame\"\n  }\n");
        EXPECT_THAT(l.errors, IsEmpty());
        EXPECT_EQ(l.config.credentials.pending_keys.size(), 1U);
    }
    // An absolute path works too.
    EXPECT_THAT(load_with("  private-gw {\n    file = /sw/private/gw.pem\n"
                          "    secret = \"open sesame\"\n  }\n")
                        .errors,
                IsEmpty());
}

TEST(SwanctlKeys, WrongOrMissingPassphraseIsFileLine) {
    EXPECT_THAT(load_with("  private-gw {\n    file = gw.pem\n    secret = \"open says me\"\n  }\n")
                        .errors,
                ElementsAre("/sw/swanctl.conf:3: secrets.private-gw.file: cannot load the key: "
                            "cannot decrypt the key: wrong passphrase, or a cipher OpenSSL does "
                            "not offer",
                            "/sw/private/gw.pem:0: an encrypted key no secrets section opens: give "
                            "its passphrase in secrets { private-<name> { file = ..., secret = "
                            "... } }"));
    EXPECT_THAT(load_with("  private-gw {\n    file = gw.pem\n  }\n").errors,
                ElementsAre("/sw/swanctl.conf:3: secrets.private-gw.file: the key is encrypted: "
                            "give its passphrase as secret = ...",
                            "/sw/private/gw.pem:0: an encrypted key no secrets section opens: give "
                            "its passphrase in secrets { private-<name> { file = ..., secret = "
                            "... } }"));
    EXPECT_THAT(load_with("  private-gw {\n    file = gw.pem\n    secret = 0xq\n  }\n").errors,
                testing::Contains("/sw/swanctl.conf:4: secrets.private-gw.secret: not a usable "
                                  "passphrase (empty, or bad 0x/0s encoding)"));
    // The folder's encrypted key alone: the folder loads what it can and says what it cannot.
    const Loaded l = load_with("");
    EXPECT_THAT(l.errors, ElementsAre(HasSubstr("/sw/private/gw.pem:0: an encrypted key")));
    EXPECT_TRUE(l.config.credentials.pending_keys.empty());
}

}  // namespace
}  // namespace ikeplex::config
