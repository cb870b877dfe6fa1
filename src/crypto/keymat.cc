#include "crypto/keymat.h"

#include <array>

namespace ikeplex::crypto {
namespace {

std::array<std::uint8_t, 8> spi_bytes(IkeSpi spi) noexcept {
    std::array<std::uint8_t, 8> b{};
    for (std::size_t i = 0; i < 8; ++i) {
        b[i] = static_cast<std::uint8_t>(spi.value() >> (8 * (7 - i)));
    }
    return b;
}

/// Splits `all` into consecutive keys of the given sizes.
template <std::size_t N>
std::array<SecretBytes, N> split(const SecretBytes& all, const std::array<std::size_t, N>& sizes) {
    std::array<SecretBytes, N> out;
    std::size_t offset = 0;
    for (std::size_t i = 0; i < N; ++i) {
        out[i] = all.slice(offset, sizes[i]);
        offset += sizes[i];
    }
    return out;
}

}  // namespace

Result<SecretBytes> skeyseed(const Prf& prf, ByteView ni, ByteView nr, ByteView g_ir) {
    // The key is Ni | Nr; HMAC takes keys of any length, so no truncation rule applies.
    Bytes key(ni.begin(), ni.end());
    key.insert(key.end(), nr.begin(), nr.end());
    auto out = prf.compute(key, {g_ir});
    secure_zero(key);
    return out;
}

Result<SecretBytes> rekey_skeyseed(const Prf& old_prf, ByteView old_sk_d, ByteView g_ir,
                                   ByteView ni, ByteView nr) {
    return old_prf.compute(old_sk_d, {g_ir, ni, nr});
}

Result<IkeKeys> derive_ike_keys(const Prf& prf, const IkeSuite& suite, ByteView skeyseed,
                                ByteView ni, ByteView nr, IkeSpi spi_i, IkeSpi spi_r) {
    if (suite.encr == nullptr || suite.prf == nullptr ||
        (suite.integ == nullptr && !suite.encr->aead)) {
        return make_error(Errc::kInvalidArgument, "IKE keys: incomplete suite");
    }
    const std::size_t prf_size = prf.output_size();
    const std::size_t integ_size = suite.encr->aead ? 0 : suite.integ->key_size;
    const std::size_t encr_size = suite.encr->key_size;
    const std::array<std::size_t, 7> sizes = {prf_size,  integ_size, integ_size, encr_size,
                                              encr_size, prf_size,   prf_size};
    std::size_t total = 0;
    for (std::size_t s : sizes) {
        total += s;
    }
    const auto i = spi_bytes(spi_i);
    const auto r = spi_bytes(spi_r);
    const SecretBytes all = IKEPLEX_TRY(prf.plus(skeyseed, {ni, nr, i, r}, total));
    auto k = split(all, sizes);
    return IkeKeys{std::move(k[0]), std::move(k[1]), std::move(k[2]), std::move(k[3]),
                   std::move(k[4]), std::move(k[5]), std::move(k[6])};
}

Result<PpkKeys> derive_ppk_keys(const Prf& prf, ByteView ppk, ByteView sk_d, ByteView sk_pi,
                                ByteView sk_pr) {
    if (ppk.empty()) {
        return make_error(Errc::kInvalidArgument, "PPK keys: empty PPK");
    }
    PpkKeys out;
    out.sk_d = IKEPLEX_TRY(prf.plus(ppk, {sk_d}, sk_d.size()));
    out.sk_pi = IKEPLEX_TRY(prf.plus(ppk, {sk_pi}, sk_pi.size()));
    out.sk_pr = IKEPLEX_TRY(prf.plus(ppk, {sk_pr}, sk_pr.size()));
    return out;
}

Result<ChildKeys> derive_child_keys(const Prf& prf, ByteView sk_d, ByteView g_ir, ByteView ni,
                                    ByteView nr, std::size_t encr_size, std::size_t integ_size) {
    const std::array<std::size_t, 4> sizes = {encr_size, integ_size, encr_size, integ_size};
    const SecretBytes all =
            IKEPLEX_TRY(prf.plus(sk_d, {g_ir, ni, nr}, 2 * (encr_size + integ_size)));
    auto k = split(all, sizes);
    return ChildKeys{std::move(k[0]), std::move(k[1]), std::move(k[2]), std::move(k[3])};
}

}  // namespace ikeplex::crypto
