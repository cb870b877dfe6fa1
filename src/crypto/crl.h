// X.509 certificate revocation lists (RFC 5280 §5): parsing, the issuer's signature, the
// thisUpdate/nextUpdate window, and a certificate's status under one of strongSwan's
// `revocation` policies (strict | ifuri | relaxed). Only CRLs already held are consulted: fetching
// is asynchronous and elsewhere (docs/revocation.md), so a check never blocks.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "crypto/ossl.h"
#include "crypto/x509.h"
#include "util/bytes.h"
#include "util/result.h"

namespace ikeplex::crypto {

/// strongSwan's `remote.revocation`: what a missing status means (a revoked one always fails).
enum class RevocationMode : std::uint8_t {
    kRelaxed,  ///< fail only on a certificate known to be revoked
    kIfUri,    ///< also fail when the certificate names a CRL/OCSP URI but no status is known
    kStrict,   ///< also fail whenever no status is known
};

/// "strict", "ifuri" or "relaxed"; kInvalidArgument otherwise.
Result<RevocationMode> revocation_mode_from(std::string_view text);

/// The status one CRL set gives a certificate.
enum class CertStatus : std::uint8_t { kGood, kRevoked, kUnknown };

class Crl {
public:
    /// PEM if it looks like PEM, else DER.
    static Result<Crl> from_any(ByteView data);
    explicit Crl(X509CrlPtr crl) noexcept : crl_(std::move(crl)) {}

    Crl(Crl&&) noexcept = default;
    Crl& operator=(Crl&&) noexcept = default;
    Crl(const Crl&) = delete;
    Crl& operator=(const Crl&) = delete;
    ~Crl() = default;

    [[nodiscard]] X509_CRL* raw() const noexcept { return crl_.get(); }
    /// Whether `issuer` names this CRL's issuer and its key verifies the CRL's signature.
    [[nodiscard]] bool issued_by(const Certificate& issuer) const;
    /// thisUpdate <= now and (no nextUpdate or now < nextUpdate).
    [[nodiscard]] bool current_at(std::int64_t unix_time) const;
    /// Unix times; next_update is 0 when the CRL has none.
    [[nodiscard]] std::int64_t this_update() const;
    [[nodiscard]] std::int64_t next_update() const;
    /// Whether `cert` (issued by this CRL's issuer) is listed.
    [[nodiscard]] bool lists(const Certificate& cert) const;

private:
    X509CrlPtr crl_;
};

/// Whether `cert` carries a CRL distribution point or an OCSP responder (AIA) URI: what
/// `revocation = ifuri` asks.
[[nodiscard]] bool has_revocation_uri(const Certificate& cert);

/// `cert`'s status from the CRLs that `issuer` signed and that are current at `unix_time`.
[[nodiscard]] CertStatus crl_status(const Certificate& cert, const Certificate& issuer,
                                    std::span<const Crl> crls, std::int64_t unix_time);

/// The policy on a status: kAuthFailed (AUTHENTICATION_FAILED) for revoked, and for unknown under
/// strict (always) or ifuri (when `cert` names a URI); ok otherwise.
[[nodiscard]] Status apply_revocation_mode(RevocationMode mode, CertStatus status,
                                           const Certificate& cert);

}  // namespace ikeplex::crypto
