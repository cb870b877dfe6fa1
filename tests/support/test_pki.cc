#include "test_pki.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace ikeplex::test {

Bytes run_shell(const std::string& cmd) {
    Bytes out;
    FILE* p = ::popen(("(" + cmd + ") 2>/dev/null").c_str(), "r");
    if (p == nullptr) {
        return out;
    }
    unsigned char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) {
        out.insert(out.end(), buf, buf + n);
    }
    if (::pclose(p) != 0) {
        out.clear();
    }
    return out;
}

SecretBytes secret_of(const std::string& text) {
    return SecretBytes::copy_of({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
}

namespace {

std::string newkey(const std::string& keyalg) {
    if (keyalg == "rsa") {
        return "-newkey rsa:2048";
    }
    if (keyalg == "rsa-pss") {
        return "-newkey rsa-pss -pkeyopt rsa_keygen_bits:2048";
    }
    if (keyalg == "ed25519") {
        return "-newkey ed25519";
    }
    return "-newkey ec -pkeyopt ec_paramgen_curve:P-256";
}

}  // namespace

TestPki::TestPki(const std::string& keyalg) {
    char tmpl[] = "/tmp/ikeplex-pki-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
        return;
    }
    dir_ = tmpl;
    const std::string ec = newkey("ec");
    // Each CA: basicConstraints CA:TRUE, keyCertSign; the leaf: its DNS name.
    const std::string script =
            "cd " + dir_ +
            " && printf 'basicConstraints=critical,CA:TRUE\\nkeyUsage=keyCertSign,cRLSign\\n"
            "subjectKeyIdentifier=hash\\nauthorityKeyIdentifier=keyid\\n' > ca.ext"
            " && printf 'subjectAltName=DNS:a.test\\nauthorityKeyIdentifier=keyid\\n' > leaf.ext"
            " && openssl req -x509 " +
            ec +
            " -nodes -keyout root.key -out root.pem -days 3650 -subj '/O=ikeplex test/CN=Root CA'"
            " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign,cRLSign"
            " && openssl req " +
            ec +
            " -nodes -keyout im.key -out im.csr -subj '/O=ikeplex test/CN=Intermediate CA'"
            " && openssl x509 -req -in im.csr -CA root.pem -CAkey root.key -set_serial 2"
            " -days 3650 -extfile ca.ext -out im.pem"
            " && openssl req " +
            newkey(keyalg) +
            " -nodes -keyout leaf.key -out leaf.csr -subj '/O=ikeplex test/CN=a.test'"
            " && openssl x509 -req -in leaf.csr -CA im.pem -CAkey im.key -set_serial 3"
            " -days 3650 -extfile leaf.ext -out leaf.pem && echo done";
    ok_ = !run_shell(script).empty();
}

TestPki::~TestPki() {
    if (!dir_.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
}

Bytes TestPki::read(const std::string& name) const {
    std::ifstream in(path(name), std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool TestPki::pkcs12(const std::string& name, const std::string& options, bool chain) const {
    const std::string cmd = "cd " + dir_ + " && " +
                            (chain ? "cat im.pem root.pem > chain.pem && " : "") +
                            "openssl pkcs12 -export " + options + " -inkey leaf.key -in leaf.pem " +
                            (chain ? "-certfile chain.pem " : "") +
                            "-passout 'pass:" + kPkiPassphrase + "' -out " + name + " && echo done";
    return !run_shell(cmd).empty();
}

bool TestPki::encrypted_key(const std::string& name) const {
    const std::string cmd = "cd " + dir_ + " && openssl pkcs8 -topk8 -v2 aes-256-cbc -in leaf.key" +
                            " -passout 'pass:" + kPkiPassphrase + "' -out " + name +
                            " && echo done";
    return !run_shell(cmd).empty();
}

}  // namespace ikeplex::test
