// IKE identities (RFC 7296 §3.5) in strongSwan's notation: "a.test" / "@a.test" (FQDN),
// "user@a.test" (RFC 822), "10.99.0.1" / "2001:db8::1" (IP), "C=CH, O=Example, CN=gw" (DN),
// "@#0a1b2c" (key id), "%any" (matches every identity).
#pragma once

#include <string>
#include <string_view>

#include "crypto/x509.h"
#include "util/bytes.h"
#include "util/ip_address.h"
#include "util/result.h"
#include "wire/payloads.h"

namespace ikeplex::ike {

struct Identity {
    wire::IdType type{wire::IdType::kFqdn};
    Bytes data;
    bool any{false};  ///< "%any": matches every identity (only for the remote side)

    static Result<Identity> parse(std::string_view text);
    /// The address as an identity (ID_IPV4_ADDR / ID_IPV6_ADDR): the default local id.
    static Identity from_address(const IpAddress& a);
    static Identity from_payload(const wire::IdPayload& p);
    [[nodiscard]] wire::IdPayload to_payload() const;

    /// Whether a received identity satisfies this configured one (exact, or "%any"; names
    /// compare without regard to case).
    [[nodiscard]] bool matches(const Identity& received) const;
    [[nodiscard]] std::string to_string() const;
    bool operator==(const Identity&) const = default;
};

/// Whether certificate `c` vouches for the identity (type, data): an ID_DER_ASN1_DN is its
/// subject, an FQDN, RFC 822 address or IP address one of its subjectAltNames (RFC 7296 §3.5);
/// other identity types (key ids) never match a certificate.
bool certificate_names(const crypto::Certificate& c, wire::IdType type, ByteView data);

}  // namespace ikeplex::ike
