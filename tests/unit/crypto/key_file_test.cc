// Encrypted private keys as operators have them, made by openssl(1) in the test: PKCS#8 PEM
// (PBES2/AES-256), traditional PEM with Proc-Type: 4,ENCRYPTED (AES-128 and 3DES), and
// PKCS#8 DER. Each opens with its passphrase and is refused, with a clear message, without it.
#include <string>

#include <gtest/gtest.h>

#include "crypto/signature.h"
#include "test_pki.h"

namespace ikeplex::crypto {
namespace {

Bytes run(const std::string& cmd) {
    return test::run_shell(cmd);
}

SecretBytes pass(const std::string& s) {
    return test::secret_of(s);
}

struct Case {
    const char* what;
    const char* cmd;  // writes the encrypted key to stdout, passphrase "open sesame"
    KeyType type;
    bool pem;
};

TEST(KeyFile, EncryptedKeysFromOpensslOpenWithTheirPassphrase) {
    const Case cases[] = {
            {"PKCS#8 PEM, PBES2 AES-256",
             "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -aes-256-cbc "
             "-pass 'pass:open sesame'",
             KeyType::kEcP256, true},
            {"traditional EC PEM, AES-128",
             "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 | openssl ec "
             "-aes128 -passout 'pass:open sesame'",
             KeyType::kEcP384, true},
            {"traditional RSA PEM, 3DES",
             "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 | openssl rsa "
             "-traditional -des3 -passout 'pass:open sesame'",
             KeyType::kRsa, true},
            {"PKCS#8 DER, PBES2 AES-256",
             "openssl genpkey -algorithm ED25519 | openssl pkcs8 -topk8 -v2 aes-256-cbc "
             "-outform DER -passout 'pass:open sesame'",
             KeyType::kEd25519, false},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.what);
        const Bytes key = run(c.cmd);
        ASSERT_FALSE(key.empty());
        EXPECT_EQ(pem_key_is_encrypted(key), c.pem);
        EXPECT_FALSE(PrivateKey::from_any(key));  // no passphrase, no key
        const auto opened = PrivateKey::from_encrypted(key, pass("open sesame"));
        ASSERT_TRUE(opened) << opened.error().detail;
        EXPECT_EQ(opened->type(), c.type);
        const auto wrong = PrivateKey::from_encrypted(key, pass("open says me"));
        ASSERT_FALSE(wrong);
        EXPECT_EQ(wrong.error().code, Errc::kInvalidArgument);
        EXPECT_NE(std::string(wrong.error().detail)
                          .find(c.pem ? "wrong passphrase" : "or a wrong passphrase"),
                  std::string::npos)
                << wrong.error().detail;
    }
}

TEST(KeyFile, UnencryptedKeysAndGarbage) {
    const Bytes plain = run("openssl genpkey -algorithm ED25519");
    ASSERT_FALSE(plain.empty());
    EXPECT_FALSE(pem_key_is_encrypted(plain));
    // A passphrase given for a key that has none is not needed, and harmless.
    EXPECT_TRUE(PrivateKey::from_encrypted(plain, pass("unused")));
    const Bytes junk = {'-', '-', '-', '-', '-', 'B', 'E', 'G', 'I', 'N', 0xff};
    EXPECT_FALSE(PrivateKey::from_encrypted(junk, pass("x")));
    EXPECT_FALSE(PrivateKey::from_encrypted({}, pass("x")));
}

}  // namespace
}  // namespace ikeplex::crypto
