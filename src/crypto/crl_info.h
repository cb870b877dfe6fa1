// What a listing shows of a CRL (swanctl --list-certs --type x509crl, ikeplex list-certs), and
// how CRLs of one issuer supersede each other (RFC 5280 §5.2.3: the cRLNumber increases).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "crypto/crl.h"
#include "crypto/x509.h"
#include "util/bytes.h"
#include "util/result.h"

namespace ikeplex::crypto {

struct CrlInfo {
    std::string issuer;           ///< strongSwan's notation, as CertificateInfo::subject
    std::int64_t this_update{0};  ///< unix time
    std::int64_t next_update{0};  ///< unix time; 0: the CRL has no nextUpdate
    std::string number;           ///< cRLNumber as hex bytes ("01:0a"); empty: none
    std::size_t revoked{0};       ///< revoked certificates listed
};

[[nodiscard]] CrlInfo crl_info(const Crl& crl);
/// The CRL's DER encoding (what a list-cert event of type X509_CRL carries).
[[nodiscard]] Bytes crl_der(const Crl& crl);
/// An independent copy.
[[nodiscard]] Result<Crl> clone_crl(const Crl& crl);
/// The issuer's DN, DER-encoded (an ID_DER_ASN1_DN identity's data).
[[nodiscard]] Bytes crl_issuer_der(const Crl& crl);
/// Whether both CRLs name the same issuer.
[[nodiscard]] bool same_issuer(const Crl& a, const Crl& b);
/// Whether `a` supersedes `b` (same issuer): a larger cRLNumber when both carry one, else a
/// later thisUpdate.
[[nodiscard]] bool supersedes(const Crl& a, const Crl& b);
/// Adds `crl` to `crls` (ike::Credentials::crls), one per issuer: it replaces a CRL of its
/// issuer that it supersedes; one that does not supersede the held CRL is dropped. Returns
/// whether it is now held.
bool hold_crl(std::vector<Crl>& crls, Crl crl);
/// The first of `cas` that issued `crl` (its name and signature), or nullptr.
[[nodiscard]] const Certificate* find_crl_issuer(const Crl& crl, std::span<const Certificate> cas);

}  // namespace ikeplex::crypto
