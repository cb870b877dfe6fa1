// VICI list-certs and list-authorities as strongSwan's VICI defines them (its vici README):
// list-certs streams one `list-cert` event per credential { type, flag, has_privkey, data (DER) },
// filtered by `type` (X509, X509_AC, X509_CRL, OCSP_RESPONSE, PUBKEY or ANY), `flag` (NONE, CA,
// AA, OCSP or ANY; applied with type X509, as charon does) and `subject`; list-authorities
// streams one `list-authority` event per authority { <name> { cacert (subject DN), crl_uris,
// ocsp_uris, cert_uri_base (if set) } }, filtered by `name`.
//
// The credentials are listed from what the engine holds (swanctl.conf's folders and
// authorities, and what was loaded over VICI): our certificates (with their key, or still
// waiting for it), the trusted CAs, and the CRLs held (type X509_CRL, data the CRL's DER, which
// swanctl decodes itself).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ike/config.h"
#include "ike/identity.h"
#include "vici/message.h"

namespace ikeplex::daemon {

/// A list-cert event's `type`.
enum class CredentialType : std::uint8_t { kX509, kX509Ac, kX509Crl, kOcspResponse, kPubkey };
/// An X.509 certificate's `flag`.
enum class CertFlag : std::uint8_t { kNone, kCa, kAa, kOcsp };

[[nodiscard]] const char* type_name(CredentialType t) noexcept;
[[nodiscard]] const char* flag_name(CertFlag f) noexcept;

/// One listed credential.
struct ListedCredential {
    CredentialType type{CredentialType::kX509};
    CertFlag flag{CertFlag::kNone};  ///< X.509 certificates only
    bool has_privkey{false};
    Bytes der;
    /// Whether it belongs to `id` (a certificate: its subject or a subjectAltName; a CRL: its
    /// issuer's DN).
    std::function<bool(const ike::Identity&)> has_subject;
};

/// Every credential of `c`, each once: our certificates (end entity, `has_privkey` when the
/// key is loaded), then the trusted CA certificates, then the CRLs.
std::vector<ListedCredential> listed_credentials(const ike::Credentials& c);

/// A list-certs request's filters; nullopt = ANY / not given.
struct CertFilter {
    std::optional<CredentialType> type;
    std::optional<CertFlag> flag;
    std::optional<ike::Identity> subject;
};
/// The filters of a list-certs request; nullopt, and in `why` the type, flag or subject that is
/// not one ("invalid certificate type 'X510'").
std::optional<CertFilter> parse_cert_filter(const vici::Message& req, std::string& why);

/// The list-cert events for the credentials that pass `f`.
std::vector<vici::Message> cert_events(const std::vector<ListedCredential>& all,
                                       const CertFilter& f);

/// The list-authority events of `authorities` (those of name `name` if given).
std::vector<vici::Message> authority_events(
        std::span<const ike::Credentials::Authority> authorities,
        std::optional<std::string_view> name);

}  // namespace ikeplex::daemon
