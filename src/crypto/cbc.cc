#include "crypto/cbc.h"

#include "crypto/ossl.h"

namespace ikeplex::crypto {

Status aes_cbc(const EncrInfo& encr, ByteView key, ByteView iv, MutByteView data, bool encrypt) {
    const EVP_CIPHER* cipher = encr.cipher;
    if (encr.aead || key.size() != encr.key_size || iv.size() != encr.iv_size ||
        data.size() % encr.block_size != 0) {
        return make_error(Errc::kInvalidArgument, "AES-CBC: wrong key, IV or data size");
    }
    const EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    if (!ctx) {
        return openssl_error("AES-CBC: cipher context");
    }
    IKEPLEX_TRY(check(
            EVP_CipherInit_ex2(ctx.get(), cipher, key.data(), iv.data(), encrypt ? 1 : 0, nullptr),
            "AES-CBC: CBC init"));
    EVP_CIPHER_CTX_set_padding(ctx.get(), 0);
    int len = 0;
    IKEPLEX_TRY(check(EVP_CipherUpdate(ctx.get(), data.data(), &len, data.data(),
                                       static_cast<int>(data.size())),
                      "AES-CBC: CBC update"));
    int fin = 0;
    IKEPLEX_TRY(
            check(EVP_CipherFinal_ex(ctx.get(), data.data() + len, &fin), "AES-CBC: CBC final"));
    return ok();
}

}  // namespace ikeplex::crypto
