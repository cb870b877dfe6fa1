#include "ike/credential_crls.h"

namespace ikeplex::ike {

bool add_crl(Credentials& creds, crypto::Crl crl) {
    return crypto::hold_crl(creds.crls, std::move(crl));
}

const crypto::Certificate* crl_issuer(const Credentials& creds, const crypto::Crl& crl) {
    return crypto::find_crl_issuer(crl, creds.ca_certs);
}

}  // namespace ikeplex::ike
