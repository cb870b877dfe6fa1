// How listings print X.509 names, serial numbers and times (strongSwan's notation for names),
// shared by certificates (x509_info.cc), CRLs (crl_info.cc) and what prints them.
#pragma once

#include <cstdint>
#include <string>

#include <openssl/x509.h>

#include "util/bytes.h"

namespace ikeplex::crypto {

/// The DER encoding of a name; empty for a null one.
Bytes name_der(const X509_NAME* name);
/// "O=ikeplex test, CN=a.test"; empty for a null or unprintable name.
std::string name_text(const X509_NAME* name);
/// Hex bytes separated by ':' ("01:a2"); empty for a null one.
std::string serial_text(const ASN1_INTEGER* serial);
/// A unix time as "2026-12-06 12:00:00 UTC".
std::string utc_text(std::int64_t unix_time);

}  // namespace ikeplex::crypto
