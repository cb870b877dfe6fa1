#include "crypto/hash.h"

namespace ikeplex::crypto {

Result<Bytes> hash(const Registry& registry, const char* digest,
                   std::initializer_list<ByteView> data) {
    const EVP_MD* md = registry.digest(digest);
    const EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    if (md == nullptr || !ctx) {
        return make_error(Errc::kCrypto, "hash: digest not in the registry");
    }
    IKEPLEX_TRY(check(EVP_DigestInit_ex2(ctx.get(), md, nullptr), "hash: init"));
    for (ByteView d : data) {
        IKEPLEX_TRY(check(EVP_DigestUpdate(ctx.get(), d.data(), d.size()), "hash: update"));
    }
    Bytes out(static_cast<std::size_t>(EVP_MD_get_size(md)));
    unsigned int len = 0;
    IKEPLEX_TRY(check(EVP_DigestFinal_ex(ctx.get(), out.data(), &len), "hash: final"));
    out.resize(len);
    return out;
}

}  // namespace ikeplex::crypto
