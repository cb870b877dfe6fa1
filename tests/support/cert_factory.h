// Test certificates, generated at test time (design.md §8: nothing expires): keys of every
// type ikeplex signs with, CA and end-entity certificates with subjectAltNames and a validity
// window around a pinned time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "crypto/crl.h"
#include "crypto/signature.h"
#include "crypto/x509.h"

namespace ikeplex::test {

/// 2026-11-23 00:00:00 UTC: the pinned "now" of certificate tests.
inline constexpr std::int64_t kPinnedNow = 1795392000;

crypto::PrivateKey make_key(crypto::KeyType type);

struct CertSpec {
    std::string cn;
    std::string org{"ikeplex test"};
    std::vector<std::string> dns;
    std::vector<std::string> email;
    std::vector<Bytes> ips;  ///< 4 or 16 bytes
    bool ca{false};
    std::int64_t not_before{kPinnedNow - 86400};
    std::int64_t not_after{kPinnedNow + 365 * 86400};
    std::string crl_uri;       ///< a CRL distribution point when set
    std::string ocsp_uri;      ///< an AIA OCSP responder URI when set
    bool ocsp_signing{false};  ///< extendedKeyUsage id-kp-OCSPSigning (a delegated responder)
};

/// A certificate for `subject_key` signed by `issuer_key` (self-signed when `issuer` is null).
crypto::Certificate issue(const CertSpec& spec, const crypto::PrivateKey& subject_key,
                          const crypto::Certificate* issuer, const crypto::PrivateKey& issuer_key);

/// A CRL by `issuer` listing `revoked`, valid from `this_update` until `next_update` (none if 0).
crypto::Crl issue_crl(const crypto::Certificate& issuer, const crypto::PrivateKey& issuer_key,
                      const std::vector<const crypto::Certificate*>& revoked,
                      std::int64_t this_update = kPinnedNow - 3600,
                      std::int64_t next_update = kPinnedNow + 7 * 86400);

}  // namespace ikeplex::test
