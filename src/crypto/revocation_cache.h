// What the daemon learnt about revocation at run time — CRLs fetched from distribution points
// and OCSP answers — kept across configuration reloads (CRLs from files and VICI live in
// ike::Credentials::crls and are replaced with the configuration). The engine only reads it; the
// daemon's fetcher fills it on the control thread (docs/revocation.md).
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "crypto/crl.h"
#include "crypto/ocsp.h"
#include "crypto/x509.h"

namespace ikeplex::crypto {

class RevocationCache {
public:
    /// A CRL fetched from `uri` (its issuer's signature already verified by the caller); replaces
    /// what `uri` gave before.
    void put_crl(std::string uri, Crl crl, std::int64_t fetched_at);
    /// A checked OCSP answer for `cert` issued by `issuer`; replaces an older one.
    void put_ocsp(const Certificate& cert, const Certificate& issuer, const OcspStatus& status);

    struct CrlEntry {
        std::string uri;
        Crl crl;
        std::int64_t fetched_at{0};
    };
    [[nodiscard]] const std::vector<CrlEntry>& crls() const noexcept { return crls_; }
    /// The cached OCSP answer for `cert`/`issuer`, current at `unix_time`; null if none.
    [[nodiscard]] const OcspStatus* ocsp(const Certificate& cert, const Certificate& issuer,
                                         std::int64_t unix_time) const;
    /// `cert`'s status from the cache: revoked if a current OCSP answer or a current CRL `issuer`
    /// signed says so, good if one says good, unknown otherwise.
    [[nodiscard]] CertStatus status(const Certificate& cert, const Certificate& issuer,
                                    std::int64_t unix_time) const;
    /// Drops OCSP answers and CRLs that expired before `unix_time`.
    void expire(std::int64_t unix_time);
    [[nodiscard]] std::size_t ocsp_count() const noexcept { return ocsp_.size(); }

private:
    std::vector<CrlEntry> crls_;
    std::map<std::string, OcspStatus> ocsp_;  // by issuer subject DER (hex) + '/' + serial
};

/// The status of each certificate of a verified `chain` (CertStore::verify: the leaf first, each
/// certificate's issuer after it, the trust anchor last), but the anchor's: from the held `crls`
/// and the `cache` (may be null). Revoked if either says so, good if either says good.
[[nodiscard]] std::vector<CertStatus> chain_status(std::span<const Certificate> chain,
                                                   std::span<const Crl> crls,
                                                   const RevocationCache* cache,
                                                   std::int64_t unix_time);

}  // namespace ikeplex::crypto
