#include "crypto/ossl.h"

#include <array>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "util/log.h"

namespace ikeplex::crypto {

Error openssl_error(const char* detail) {
    unsigned long code = 0;
    std::array<char, 256> text{};
    while ((code = ERR_get_error()) != 0) {
        ERR_error_string_n(code, text.data(), text.size());
        log::debug(log::Subsystem::kLib, "{}: OpenSSL: {}", detail, text.data());
    }
    return make_error(Errc::kCrypto, detail);
}

bool constant_time_equal(const unsigned char* a, const unsigned char* b, std::size_t n) noexcept {
    return CRYPTO_memcmp(a, b, n) == 0;
}

}  // namespace ikeplex::crypto
