// Plain hashes where IKEv2 needs them: SHA-1 for NAT detection (RFC 7296 §2.23) and
// certificate-request key hashes (§3.7), SHA-256 for cookies.
#pragma once

#include <initializer_list>

#include "crypto/registry.h"
#include "util/bytes.h"
#include "util/result.h"

namespace ikeplex::crypto {

/// Hash of data1 | data2 | ... with digest "SHA1", "SHA256", "SHA384" or "SHA512".
Result<Bytes> hash(const Registry& registry, const char* digest,
                   std::initializer_list<ByteView> data);

}  // namespace ikeplex::crypto
