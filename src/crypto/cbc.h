// AES-CBC (RFC 3602) without padding: the cipher of IKE messages protected with a separate
// integrity algorithm (the SK payload itself is ike/sk_cipher.h).
#pragma once

#include "crypto/registry.h"
#include "util/bytes.h"
#include "util/result.h"

namespace ikeplex::crypto {

/// AES-CBC of `data` in place, a whole number of blocks, no padding added.
Status aes_cbc(const EncrInfo& encr, ByteView key, ByteView iv, MutByteView data, bool encrypt);

}  // namespace ikeplex::crypto
