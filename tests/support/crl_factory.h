// CRLs with a cRLNumber (RFC 5280 §5.2.3), for tests of which CRL of an issuer is the newest:
// issue_crl()'s CRL with the extension added and signed again.
#pragma once

#include <openssl/x509v3.h>

#include <gtest/gtest.h>

#include "cert_factory.h"

namespace ikeplex::test {

inline crypto::Crl issue_numbered_crl(const crypto::Certificate& issuer,
                                      const crypto::PrivateKey& issuer_key,
                                      const std::vector<const crypto::Certificate*>& revoked,
                                      std::int64_t this_update, std::int64_t next_update,
                                      long number) {
    crypto::Crl crl = issue_crl(issuer, issuer_key, revoked, this_update, next_update);
    const std::unique_ptr<ASN1_INTEGER, crypto::FnDeleter<&ASN1_INTEGER_free>> n(
            ASN1_INTEGER_new());
    ASN1_INTEGER_set(n.get(), number);
    EXPECT_EQ(X509_CRL_add1_ext_i2d(crl.raw(), NID_crl_number, n.get(), 0, 0), 1);
    EXPECT_GT(X509_CRL_sign(crl.raw(), issuer_key.raw(), EVP_sha256()), 0);
    return crl;
}

}  // namespace ikeplex::test
