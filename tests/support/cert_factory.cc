#include "cert_factory.h"

#include <openssl/x509v3.h>

#include <gtest/gtest.h>

namespace ikeplex::test {

using namespace ikeplex::crypto;

PrivateKey make_key(KeyType type) {
    EVP_PKEY* key = nullptr;
    switch (type) {
        case KeyType::kRsa:
            key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048});
            break;
        case KeyType::kEcP256:
            key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
            break;
        case KeyType::kEcP384:
            key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
            break;
        case KeyType::kEcP521:
            key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-521");
            break;
        case KeyType::kEd25519:
            key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
            break;
        case KeyType::kOther:
            break;
    }
    EXPECT_NE(key, nullptr);
    return PrivateKey(EvpPkeyPtr(key));
}

namespace {

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    ASSERT_NE(ext, nullptr) << value;
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

std::string ip_text(const Bytes& ip) {
    char buf[64] = {};
    if (ip.size() == 4) {
        std::snprintf(buf, sizeof(buf), "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
    } else {
        std::string s;
        for (std::size_t i = 0; i < ip.size(); i += 2) {
            char part[8];
            std::snprintf(part, sizeof(part), "%s%x", i == 0 ? "" : ":", (ip[i] << 8U) | ip[i + 1]);
            s += part;
        }
        return s;
    }
    return buf;
}

}  // namespace

Certificate issue(const CertSpec& spec, const PrivateKey& subject_key, const Certificate* issuer,
                  const PrivateKey& issuer_key) {
    X509Ptr cert(X509_new());
    X509_set_version(cert.get(), 2);
    static long serial = 1000;
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), ++serial);
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(spec.org.c_str()), -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(spec.cn.c_str()), -1, -1, 0);
    X509_set_issuer_name(cert.get(),
                         issuer != nullptr ? X509_get_subject_name(issuer->raw()) : name);
    ASN1_TIME_set(X509_getm_notBefore(cert.get()), static_cast<time_t>(spec.not_before));
    ASN1_TIME_set(X509_getm_notAfter(cert.get()), static_cast<time_t>(spec.not_after));
    X509_set_pubkey(cert.get(), subject_key.raw());
    add_ext(cert.get(), issuer ? issuer->raw() : nullptr, NID_basic_constraints,
            spec.ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    add_ext(cert.get(), issuer ? issuer->raw() : nullptr, NID_key_usage,
            spec.ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
    add_ext(cert.get(), issuer ? issuer->raw() : nullptr, NID_subject_key_identifier, "hash");
    std::string san;
    for (const auto& d : spec.dns) {
        san += (san.empty() ? "" : ",") + std::string("DNS:") + d;
    }
    for (const auto& e : spec.email) {
        san += (san.empty() ? "" : ",") + std::string("email:") + e;
    }
    for (const auto& ip : spec.ips) {
        san += (san.empty() ? "" : ",") + std::string("IP:") + ip_text(ip);
    }
    if (!san.empty()) {
        add_ext(cert.get(), issuer ? issuer->raw() : nullptr, NID_subject_alt_name, san);
    }
    if (!spec.crl_uri.empty()) {
        add_ext(cert.get(), issuer ? issuer->raw() : nullptr, NID_crl_distribution_points,
                "URI:" + spec.crl_uri);
    }
    if (!spec.ocsp_uri.empty()) {
        add_ext(cert.get(), issuer ? issuer->raw() : nullptr, NID_info_access,
                "OCSP;URI:" + spec.ocsp_uri);
    }
    if (spec.ocsp_signing) {
        add_ext(cert.get(), issuer ? issuer->raw() : nullptr, NID_ext_key_usage, "OCSPSigning");
    }
    const bool ed = issuer_key.type() == KeyType::kEd25519;
    EXPECT_GT(X509_sign(cert.get(), issuer_key.raw(), ed ? nullptr : EVP_sha256()), 0);
    return Certificate(std::move(cert));
}

Crl issue_crl(const Certificate& issuer, const PrivateKey& issuer_key,
              const std::vector<const Certificate*>& revoked, std::int64_t this_update,
              std::int64_t next_update) {
    X509CrlPtr crl(X509_CRL_new());
    X509_CRL_set_version(crl.get(), 1);
    X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer.raw()));
    const std::unique_ptr<ASN1_TIME, FnDeleter<&ASN1_TIME_free>> t(ASN1_TIME_new());
    ASN1_TIME_set(t.get(), static_cast<time_t>(this_update));
    X509_CRL_set1_lastUpdate(crl.get(), t.get());
    if (next_update != 0) {
        ASN1_TIME_set(t.get(), static_cast<time_t>(next_update));
        X509_CRL_set1_nextUpdate(crl.get(), t.get());
    }
    for (const Certificate* c : revoked) {
        X509_REVOKED* r = X509_REVOKED_new();
        X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(c->raw()));
        ASN1_TIME_set(t.get(), static_cast<time_t>(this_update));
        X509_REVOKED_set_revocationDate(r, t.get());
        X509_CRL_add0_revoked(crl.get(), r);
    }
    X509_CRL_sort(crl.get());
    const bool ed = issuer_key.type() == KeyType::kEd25519;
    EXPECT_GT(X509_CRL_sign(crl.get(), issuer_key.raw(), ed ? nullptr : EVP_sha256()), 0);
    return Crl(std::move(crl));
}

}  // namespace ikeplex::test
