// A root CA, an intermediate CA and an end-entity certificate made by openssl(1) at test time
// (design.md §8: nothing expires), as operators have them, and bundles of them: PKCS#12 (modern
// and -legacy) and encrypted PKCS#8 keys. For the tests of crypto/pkcs12 and swanctl's folders.
#pragma once

#include <string>

#include "util/bytes.h"
#include "util/secret_bytes.h"

namespace ikeplex::test {

/// The stdout of `sh -c cmd` (stderr discarded); empty if the command failed.
Bytes run_shell(const std::string& cmd);

/// The passphrase every file of TestPki is protected with.
inline constexpr const char* kPkiPassphrase = "open sesame";
SecretBytes secret_of(const std::string& text);

/// Files in a fresh temporary folder (removed by the destructor): root.pem, im.pem (issued by
/// the root), leaf.pem (CN and DNS name a.test, issued by im) and leaf.key (unencrypted PEM),
/// of key type `keyalg` ("ec" for P-256, "rsa", "rsa-pss", "ed25519").
class TestPki {
public:
    explicit TestPki(const std::string& keyalg = "ec");
    TestPki(const TestPki&) = delete;
    TestPki& operator=(const TestPki&) = delete;
    ~TestPki();

    [[nodiscard]] bool ok() const noexcept { return ok_; }
    [[nodiscard]] const std::string& dir() const noexcept { return dir_; }
    [[nodiscard]] std::string path(const std::string& name) const { return dir_ + "/" + name; }
    [[nodiscard]] Bytes read(const std::string& name) const;
    /// openssl pkcs12 -export of leaf.key + leaf.pem (+ im.pem and root.pem with `chain`) into
    /// `name` with kPkiPassphrase; `options` e.g. "-legacy" or "-nokeys".
    bool pkcs12(const std::string& name, const std::string& options = "", bool chain = true) const;
    /// leaf.key as encrypted PKCS#8 PEM (PBES2, AES-256) into `name`.
    bool encrypted_key(const std::string& name) const;

private:
    std::string dir_;
    bool ok_{false};
};

}  // namespace ikeplex::test
