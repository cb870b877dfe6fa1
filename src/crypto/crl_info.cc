#include "crypto/crl_info.h"

#include <openssl/x509v3.h>

#include "crypto/x509_text.h"

namespace ikeplex::crypto {
namespace {

using Asn1IntegerPtr = std::unique_ptr<ASN1_INTEGER, FnDeleter<&ASN1_INTEGER_free>>;

Asn1IntegerPtr crl_number(const Crl& crl) {
    return Asn1IntegerPtr(static_cast<ASN1_INTEGER*>(
            X509_CRL_get_ext_d2i(crl.raw(), NID_crl_number, nullptr, nullptr)));
}

}  // namespace

CrlInfo crl_info(const Crl& crl) {
    CrlInfo i;
    i.issuer = name_text(X509_CRL_get_issuer(crl.raw()));
    i.this_update = crl.this_update();
    i.next_update = crl.next_update();
    if (const Asn1IntegerPtr n = crl_number(crl)) {
        i.number = serial_text(n.get());
    }
    const STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl.raw());
    i.revoked = revoked != nullptr ? static_cast<std::size_t>(sk_X509_REVOKED_num(revoked)) : 0;
    return i;
}

Bytes crl_der(const Crl& crl) {
    const int len = i2d_X509_CRL(crl.raw(), nullptr);
    if (len <= 0) {
        return {};
    }
    Bytes out(static_cast<std::size_t>(len));
    unsigned char* p = out.data();
    i2d_X509_CRL(crl.raw(), &p);
    return out;
}

Result<Crl> clone_crl(const Crl& crl) {
    X509CrlPtr copy(X509_CRL_dup(crl.raw()));
    if (!copy) {
        return openssl_error("CRL: copy");
    }
    return Crl(std::move(copy));
}

Bytes crl_issuer_der(const Crl& crl) {
    const X509_NAME* name = X509_CRL_get_issuer(crl.raw());
    const int len = i2d_X509_NAME(name, nullptr);
    if (len <= 0) {
        return {};
    }
    Bytes out(static_cast<std::size_t>(len));
    unsigned char* p = out.data();
    i2d_X509_NAME(name, &p);
    return out;
}

bool same_issuer(const Crl& a, const Crl& b) {
    return X509_NAME_cmp(X509_CRL_get_issuer(a.raw()), X509_CRL_get_issuer(b.raw())) == 0;
}

bool supersedes(const Crl& a, const Crl& b) {
    const Asn1IntegerPtr na = crl_number(a);
    const Asn1IntegerPtr nb = crl_number(b);
    if (na && nb) {
        return ASN1_INTEGER_cmp(na.get(), nb.get()) > 0;
    }
    return a.this_update() > b.this_update();
}

bool hold_crl(std::vector<Crl>& crls, Crl crl) {
    for (Crl& held : crls) {
        if (same_issuer(held, crl)) {
            if (!supersedes(crl, held)) {
                return false;
            }
            held = std::move(crl);
            return true;
        }
    }
    crls.push_back(std::move(crl));
    return true;
}

const Certificate* find_crl_issuer(const Crl& crl, std::span<const Certificate> cas) {
    for (const Certificate& ca : cas) {
        if (crl.issued_by(ca)) {
            return &ca;
        }
    }
    return nullptr;
}

}  // namespace ikeplex::crypto
