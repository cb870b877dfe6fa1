// How listings print X.509 names and serial numbers (strongSwan's notation), shared by
// certificates (x509_info.cc) and CRLs (crl_info.cc).
#pragma once

#include <string>

#include <openssl/x509.h>

namespace ikeplex::crypto {

/// "O=ikeplex test, CN=a.test"; empty for a null or unprintable name.
std::string name_text(const X509_NAME* name);
/// Hex bytes separated by ':' ("01:a2"); empty for a null one.
std::string serial_text(const ASN1_INTEGER* serial);

}  // namespace ikeplex::crypto
