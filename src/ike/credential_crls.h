// How CRLs join ike::Credentials (one per issuer, the newest: crypto::hold_crl) and what the
// configuration reads of one (crypto/crl_info.h: its listing fields; the CA that signed it), for
// swanctl.conf's x509crl/ folder and authorities (docs/revocation.md, "Files").
#pragma once

#include "crypto/crl_info.h"
#include "crypto/x509_text.h"
#include "ike/config.h"

namespace ikeplex::ike {

/// Adds `crl` to `creds.crls` (crypto::hold_crl); whether it is now held.
bool add_crl(Credentials& creds, crypto::Crl crl);
/// The trusted CA of `creds` that signed `crl` (name and signature), or nullptr.
[[nodiscard]] const crypto::Certificate* crl_issuer(const Credentials& creds,
                                                    const crypto::Crl& crl);

}  // namespace ikeplex::ike
