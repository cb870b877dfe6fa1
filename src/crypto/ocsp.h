// OCSP (RFC 6960) as a client needs it: a request for one certificate with a nonce (RFC 8954),
// and the checks on a response (the responder's signature by the issuer or by a responder the
// issuer delegated with id-kp-OCSPSigning, the CertID, the nonce, thisUpdate/nextUpdate). Pure
// functions: fetching is the daemon's (docs/revocation.md).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "crypto/crl.h"
#include "crypto/x509.h"
#include "util/bytes.h"
#include "util/result.h"

namespace ikeplex::crypto {

/// One certificate's status as an OCSP responder (or a CRL) gave it.
struct OcspStatus {
    CertStatus status{CertStatus::kUnknown};
    std::int64_t this_update{0};  ///< unix time
    std::int64_t next_update{0};  ///< unix time; 0: none given
    std::int64_t revoked_at{0};   ///< unix time, for kRevoked
};

struct OcspRequest {
    Bytes der;    ///< the DER OCSPRequest, for an HTTP POST (application/ocsp-request)
    Bytes nonce;  ///< the nonce it carries (the response must echo it when it has one)
};

/// A request for `cert` issued by `issuer` (CertID with SHA-1, as RFC 5019 profiles and every
/// responder understands), carrying `nonce` (RFC 8954: 1..32 bytes; callers use 16 random).
Result<OcspRequest> make_ocsp_request(const Certificate& cert, const Certificate& issuer,
                                      ByteView nonce);

/// Checks a DER OCSPResponse for `cert`/`issuer`: responseStatus successful, a BasicOCSPResponse
/// signed by `issuer` or by a certificate it issued with id-kp-OCSPSigning (included in the
/// response), a SingleResponse whose CertID matches, the nonce echoed if the response has one
/// (a different one fails; none is accepted), thisUpdate <= now + 5 min and now - 5 min <
/// nextUpdate when given (clock skew). The status of that SingleResponse; otherwise an error:
/// kInvalidArgument (malformed), kUnsupported (responseStatus not successful, e.g. tryLater),
/// kIntegrity (signer not trusted or signature bad), kNotFound (no SingleResponse for `cert`),
/// kReplay (another nonce), kState (outside thisUpdate/nextUpdate). Implemented in
/// ocsp_verify.cc; the responder's own revocation status is not checked (RFC 6960 §4.2.2.2.1).
Result<OcspStatus> verify_ocsp_response(ByteView der, const Certificate& cert,
                                        const Certificate& issuer, ByteView nonce,
                                        std::int64_t unix_time);

/// The OCSP responder URIs of `cert`'s Authority Information Access (RFC 5280 §4.2.2.1).
std::vector<std::string> ocsp_uris(const Certificate& cert);
/// The URIs of `cert`'s CRL distribution points (RFC 5280 §4.2.1.13), fullName URIs only.
std::vector<std::string> crl_uris(const Certificate& cert);

}  // namespace ikeplex::crypto
