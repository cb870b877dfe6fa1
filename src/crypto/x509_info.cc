// Certificate::info(): what a listing shows of a certificate.
#include <ctime>

#include <arpa/inet.h>

#include <fmt/format.h>

#include "crypto/x509.h"
#include "crypto/x509_text.h"

namespace ikeplex::crypto {

std::int64_t unix_time(const ASN1_TIME* t) {
    std::tm tm{};
    if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
        return 0;
    }
    return static_cast<std::int64_t>(timegm(&tm));
}

std::string name_text(const X509_NAME* name) {
    const int len = name != nullptr ? i2d_X509_NAME(name, nullptr) : 0;
    if (len <= 0) {
        return {};
    }
    Bytes der(static_cast<std::size_t>(len));
    unsigned char* p = der.data();
    i2d_X509_NAME(name, &p);
    auto text = dn_to_string(der);
    return text ? *text : std::string();
}

std::string serial_text(const ASN1_INTEGER* serial) {
    const BignumPtr bn(serial != nullptr ? ASN1_INTEGER_to_BN(serial, nullptr) : nullptr);
    if (!bn) {
        return {};
    }
    Bytes raw(static_cast<std::size_t>(BN_num_bytes(bn.get())));
    BN_bn2bin(bn.get(), raw.data());
    if (raw.empty()) {
        raw.push_back(0);
    }
    std::string out;
    for (std::uint8_t b : raw) {
        out += fmt::format("{}{:02x}", out.empty() ? "" : ":", b);
    }
    return out;
}

namespace {

std::string key_text(EVP_PKEY* key) {
    if (key == nullptr) {
        return "unknown key";
    }
    switch (EVP_PKEY_get_base_id(key)) {
        case EVP_PKEY_RSA:
            return fmt::format("RSA {} bits", EVP_PKEY_get_bits(key));
        case EVP_PKEY_EC:
            return fmt::format("ECDSA {} bits", EVP_PKEY_get_bits(key));
        case EVP_PKEY_ED25519:
            return "ED25519";
        case EVP_PKEY_ED448:
            return "ED448";
        default:
            return fmt::format("{} {} bits", OBJ_nid2sn(EVP_PKEY_get_base_id(key)),
                               EVP_PKEY_get_bits(key));
    }
}

std::vector<std::string> alt_names(X509* cert) {
    std::vector<std::string> out;
    const GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
            X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
    for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
        const GENERAL_NAME* n = sk_GENERAL_NAME_value(names.get(), i);
        if (n->type == GEN_DNS || n->type == GEN_EMAIL) {
            out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.ia5)),
                             static_cast<std::size_t>(ASN1_STRING_length(n->d.ia5)));
        } else if (n->type == GEN_IPADD) {
            const int len = ASN1_STRING_length(n->d.iPAddress);
            char buf[INET6_ADDRSTRLEN] = {};
            if ((len == 4 || len == 16) &&
                inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(n->d.iPAddress), buf,
                          sizeof buf) != nullptr) {
                out.emplace_back(buf);
            }
        }
    }
    return out;
}

}  // namespace

CertificateInfo Certificate::info() const {
    X509* c = cert_.get();
    CertificateInfo i;
    i.subject = name_text(X509_get_subject_name(c));
    i.issuer = name_text(X509_get_issuer_name(c));
    i.serial = serial_text(X509_get0_serialNumber(c));
    i.not_before = unix_time(X509_get0_notBefore(c));
    i.not_after = unix_time(X509_get0_notAfter(c));
    i.key = key_text(X509_get0_pubkey(c));
    i.ca = X509_check_ca(c) != 0;
    i.alt_names = alt_names(c);
    return i;
}

}  // namespace ikeplex::crypto
