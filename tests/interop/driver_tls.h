// EAP-TLS credentials for the test drivers (eap_peer_driver, eap_server_driver) from PEM files:
// --cert, --key, --ca, and --tls-max 1.2|1.3 (TLS 1.2 at least).
#pragma once

#include <ctime>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>

#include "crypto/signature.h"
#include "crypto/x509.h"
#include "eap/eap.h"

namespace ikeplex::test {

struct DriverTls {
    std::optional<crypto::Certificate> cert;
    std::optional<crypto::PrivateKey> key;
    crypto::CertStore trusted;
    eap::TlsVersions versions;
    std::int64_t now{static_cast<std::int64_t>(std::time(nullptr))};

    /// False if a file does not load.
    bool load(std::map<std::string, std::string>& args) {
        auto c = crypto::Certificate::from_pem(slurp(args["--cert"]));
        auto k = crypto::PrivateKey::from_pem(slurp(args["--key"]));
        auto ca = crypto::Certificate::from_pem(slurp(args["--ca"]));
        if (!c || !k || !ca || !trusted.add_trusted(*ca)) {
            return false;
        }
        cert.emplace(std::move(*c));
        key.emplace(std::move(*k));
        versions.max = args["--tls-max"] == "1.3" ? eap::kTls13 : eap::kTls12;
        return true;
    }

    static std::string slurp(const std::string& path) {
        std::ifstream f(path);
        std::stringstream s;
        s << f.rdbuf();
        return s.str();
    }
};

}  // namespace ikeplex::test
