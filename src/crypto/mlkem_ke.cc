// ML-KEM behind crypto::KeyExchange (crypto/kem.h). Skeleton: the implementation lands with
// issue 23's ML-KEM work.
#include "crypto/kem.h"

namespace ikeplex::crypto {

Result<KeyExchangePtr> mlkem_generate(const KeInfo& /*info*/, Random* /*random*/) {
    return make_error(Errc::kUnsupported, "KE: ML-KEM is not implemented yet");
}

Result<KeyExchangePtr> mlkem_from_seed(const KeInfo& /*info*/, ByteView /*seed*/) {
    return make_error(Errc::kUnsupported, "KE: ML-KEM is not implemented yet");
}

}  // namespace ikeplex::crypto
