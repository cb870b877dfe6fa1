// Skeleton (issue 24): the declarations of ocsp.h, implemented on branch h24-ocsp.
#include "crypto/ocsp.h"

namespace ikeplex::crypto {

Result<OcspRequest> make_ocsp_request(const Certificate& /*cert*/, const Certificate& /*issuer*/,
                                      ByteView /*nonce*/) {
    return make_error(Errc::kUnsupported, "OCSP: not implemented yet");
}

Result<OcspStatus> verify_ocsp_response(ByteView /*der*/, const Certificate& /*cert*/,
                                        const Certificate& /*issuer*/, ByteView /*nonce*/,
                                        std::int64_t /*unix_time*/) {
    return make_error(Errc::kUnsupported, "OCSP: not implemented yet");
}

std::vector<std::string> ocsp_uris(const Certificate& /*cert*/) {
    return {};
}
std::vector<std::string> crl_uris(const Certificate& /*cert*/) {
    return {};
}

}  // namespace ikeplex::crypto
