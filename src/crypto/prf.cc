#include "crypto/prf.h"

#include <algorithm>
#include <span>
#include <vector>

namespace ikeplex::crypto {
namespace {

/// HMAC(key, data...) into `out` (EVP_MAC_CTX_dup of a template with the digest already set).
Status hmac(const EVP_MAC_CTX* tmpl, ByteView key, std::span<const ByteView> data,
            MutByteView out) {
    const EvpMacCtxPtr ctx(EVP_MAC_CTX_dup(tmpl));
    if (!ctx) {
        return openssl_error("HMAC: context");
    }
    // A zero-length key still needs a non-null pointer.
    static constexpr unsigned char kEmpty = 0;
    IKEPLEX_TRY(
            check(EVP_MAC_init(ctx.get(), key.empty() ? &kEmpty : key.data(), key.size(), nullptr),
                  "HMAC: key"));
    for (ByteView d : data) {
        IKEPLEX_TRY(check(EVP_MAC_update(ctx.get(), d.data(), d.size()), "HMAC: update"));
    }
    std::size_t len = 0;
    IKEPLEX_TRY(check(EVP_MAC_final(ctx.get(), out.data(), &len, out.size()), "HMAC: final"));
    if (len != out.size()) {
        return make_error(Errc::kCrypto, "HMAC: unexpected output size");
    }
    return ok();
}

}  // namespace

Prf::Prf(const Registry& registry, const PrfInfo& info) noexcept
    : template_(registry.hmac_template(info.digest)), info_(&info) {}

Result<SecretBytes> Prf::compute(ByteView key, std::initializer_list<ByteView> data) const {
    SecretBytes out(info_->output_size);
    IKEPLEX_TRY(hmac(template_, key, std::span<const ByteView>(data.begin(), data.size()),
                     out.mut_view()));
    return out;
}

Result<SecretBytes> Prf::plus(ByteView key, std::initializer_list<ByteView> seed,
                              std::size_t length) const {
    const std::size_t n = info_->output_size;
    if (length > 255 * n) {
        return make_error(Errc::kInvalidArgument, "prf+: more than 255 blocks requested");
    }
    SecretBytes out(length);
    SecretBytes t(n);
    std::size_t done = 0;
    std::vector<ByteView> parts;
    parts.reserve(seed.size() + 2);
    for (std::uint8_t i = 1; done < length; ++i) {
        const std::uint8_t counter[1] = {i};
        // Tn = prf(K, Tn-1 | S | n); the seed may come in parts.
        parts.clear();
        if (i > 1) {
            parts.emplace_back(t.view());
        }
        parts.insert(parts.end(), seed.begin(), seed.end());
        parts.emplace_back(counter);
        IKEPLEX_TRY(hmac(template_, key, parts, t.mut_view()));
        const std::size_t take = std::min(n, length - done);
        std::copy_n(t.view().begin(), take,
                    out.mut_view().begin() + static_cast<std::ptrdiff_t>(done));
        done += take;
    }
    return out;
}

Result<Bytes> integrity_mac(const Registry& registry, const IntegInfo& integ, ByteView key,
                            std::initializer_list<ByteView> data) {
    const EVP_MAC_CTX* tmpl = registry.hmac_template(integ.digest);
    if (tmpl == nullptr) {
        return make_error(Errc::kCrypto, "INTEG: digest not in the registry");
    }
    SecretBytes full(integ.key_size);  // HMAC-SHA2 output size equals the key size (RFC 4868)
    IKEPLEX_TRY(
            hmac(tmpl, key, std::span<const ByteView>(data.begin(), data.size()), full.mut_view()));
    return Bytes(full.view().begin(),
                 full.view().begin() + static_cast<std::ptrdiff_t>(integ.icv_size));
}

}  // namespace ikeplex::crypto
