#include "esp/sa_crypto.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

#include "esp/byte_order.h"
#include "util/secret_bytes.h"

namespace ikeplex::esp {
namespace {

// IANA transform ids (RFC 7296 §3.3.2; kept here so esp does not include the IKE codec).
constexpr std::uint16_t kEncr3des = 3;  // legacy, accepted on purpose (RFC 8221: SHOULD NOT [R])
constexpr std::uint16_t kEncrAesCbc = 12;
constexpr std::uint16_t kEncrAesGcm16 = 20;
constexpr std::uint16_t kEncrChacha20Poly1305 = 28;

constexpr std::size_t kMaxMac = 64;  // HMAC-SHA2-512 output
constexpr std::size_t kIvKeySize = 16;
constexpr std::size_t kAesBlock = 16;

using detail::store_be32;
using detail::store_be64;

using Aad = std::array<std::uint8_t, 12>;

/// The AEAD associated data: SPI | seq (the ESP header as sent), or SPI | seq high | seq low
/// with ESN (RFC 4106 §5, RFC 7634 §2.1).
ByteView aad_of(ByteView esp, bool esn, std::uint32_t seq_high, Aad& buf) noexcept {
    if (!esn) {
        return esp.first(8);
    }
    std::memcpy(buf.data(), esp.data(), 4);
    store_be32(buf.data() + 4, seq_high);
    std::memcpy(buf.data() + 8, esp.data() + 4, 4);
    return {buf.data(), buf.size()};
}

Result<crypto::EvpCipherCtxPtr> keyed_cipher(const EVP_CIPHER* cipher, ByteView key, bool encrypt) {
    crypto::EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    if (!ctx) {
        return crypto::openssl_error("ESP: cipher context");
    }
    IKEPLEX_TRY(crypto::check(
            EVP_CipherInit_ex2(ctx.get(), cipher, key.data(), nullptr, encrypt ? 1 : 0, nullptr),
            "ESP: cipher key"));
    EVP_CIPHER_CTX_set_padding(ctx.get(), 0);
    return ctx;
}

}  // namespace

SaCrypto::~SaCrypto() = default;

Result<std::unique_ptr<SaCrypto>> SaCrypto::create(const crypto::Registry& reg,
                                                   std::uint16_t encr_id,
                                                   std::uint16_t encr_key_bits,
                                                   std::uint16_t integ_id, ByteView encr_key,
                                                   ByteView integ_key, crypto::IpsecMb* mb) {
    OsRandom rng;
    return create(reg, encr_id, encr_key_bits, integ_id, encr_key, integ_key, mb, rng);
}

Result<std::unique_ptr<SaCrypto>> SaCrypto::create(const crypto::Registry& reg,
                                                   std::uint16_t encr_id,
                                                   std::uint16_t encr_key_bits,
                                                   std::uint16_t integ_id, ByteView encr_key,
                                                   ByteView integ_key, crypto::IpsecMb* mb,
                                                   Random& rng) {
    if (encr_id != kEncrAesCbc && encr_id != kEncr3des && encr_id != kEncrAesGcm16 &&
        encr_id != kEncrChacha20Poly1305) {
        return make_error(Errc::kUnsupported, "ESP: encryption transform not supported");
    }
    const crypto::EncrInfo* encr = reg.encr(encr_id, encr_key_bits);
    if (encr == nullptr) {
        return make_error(Errc::kUnsupported, "ESP: encryption key length not supported");
    }
    if (encr_key.size() != encr->key_size) {
        return make_error(Errc::kInvalidArgument, "ESP: wrong encryption key size");
    }
    auto c = std::make_unique<SaCrypto>(Token{});
    c->iv_size_ = encr->iv_size;
    c->block_size_ = std::max<std::size_t>(encr->block_size, 4);
    if (!std::has_single_bit(c->block_size_)) {
        return make_error(Errc::kUnsupported, "ESP: cipher block size is not a power of two");
    }
    if (encr->aead) {
        if (integ_id != 0 || !integ_key.empty()) {
            return make_error(Errc::kInvalidArgument, "ESP: AEAD with an integrity transform");
        }
        c->aead_ = mb != nullptr ? IKEPLEX_TRY(mb->make_aead(*encr, encr_key))
                                 : IKEPLEX_TRY(crypto::make_openssl_aead(*encr, encr_key));
        c->icv_size_ = encr->icv_size;
        return c;
    }
    const crypto::IntegInfo* integ = reg.integ(integ_id);
    if (integ == nullptr) {
        return make_error(Errc::kUnsupported, "ESP: integrity transform not supported");
    }
    if (integ_key.size() != integ->key_size) {
        return make_error(Errc::kInvalidArgument, "ESP: wrong integrity key size");
    }
    const EVP_MAC_CTX* tmpl = reg.hmac_template(integ->digest);
    if (tmpl == nullptr) {
        return make_error(Errc::kCrypto, "ESP: HMAC digest not in the registry");
    }
    c->icv_size_ = integ->icv_size;
    c->cbc_enc_ = IKEPLEX_TRY(keyed_cipher(encr->cipher, encr_key, true));
    c->cbc_dec_ = IKEPLEX_TRY(keyed_cipher(encr->cipher, encr_key, false));
    SecretBytes iv_key(kIvKeySize);
    rng.fill(iv_key.mut_view());
    c->iv_gen_ = IKEPLEX_TRY(keyed_cipher(EVP_aes_128_ecb(), iv_key.view(), true));
    c->hmac_.reset(EVP_MAC_CTX_dup(tmpl));
    if (!c->hmac_) {
        return crypto::openssl_error("ESP: HMAC context");
    }
    IKEPLEX_TRY(
            crypto::check(EVP_MAC_init(c->hmac_.get(), integ_key.data(), integ_key.size(), nullptr),
                          "ESP: HMAC key"));
    return c;
}

std::size_t SaCrypto::overhead(std::size_t len) const noexcept {
    return 8 + iv_size_ + padding(len) + 2 + icv_size_;
}

const char* SaCrypto::backend_name() const noexcept {
    return aead_ ? crypto::to_string(aead_->backend()) : "openssl-cbc-hmac";
}

void SaCrypto::make_cbc_iv(std::uint64_t seq, MutByteView iv) noexcept {
    std::array<std::uint8_t, kAesBlock> block{};
    store_be64(block.data(), seq);
    std::array<std::uint8_t, kAesBlock> out{};
    int len = 0;
    if (EVP_EncryptUpdate(iv_gen_.get(), out.data(), &len, block.data(),
                          static_cast<int>(block.size())) != 1 ||
        len != static_cast<int>(kAesBlock) || iv.size() > out.size()) {
        // Cannot happen with ECB on one whole block; never send a predictable IV anyway.
        std::abort();
    }
    // AES-CBC takes the whole block; 3DES (RFC 2451: 8-byte IV) its first half.
    std::memcpy(iv.data(), out.data(), iv.size());
}

bool SaCrypto::mac(ByteView esp, bool esn, std::uint32_t seq_high, std::uint8_t* out) noexcept {
    EVP_MAC_CTX* ctx = hmac_.get();
    if (EVP_MAC_init(ctx, nullptr, 0, nullptr) != 1 ||
        EVP_MAC_update(ctx, esp.data(), esp.size()) != 1) {
        return false;
    }
    if (esn) {
        // RFC 4303 §3.3.2.1: the high 32 bits are appended after Next Header, not sent.
        std::array<std::uint8_t, 4> high{};
        store_be32(high.data(), seq_high);
        if (EVP_MAC_update(ctx, high.data(), high.size()) != 1) {
            return false;
        }
    }
    std::size_t len = 0;
    return EVP_MAC_final(ctx, out, &len, kMaxMac) == 1 && len >= icv_size_;
}

bool SaCrypto::seal(MutByteView esp, bool esn, std::uint32_t seq_high, MutByteView icv) noexcept {
    const std::size_t head = 8 + iv_size_;
    if (esp.size() < head || icv.size() != icv_size_ || !aligned(esp.size() - head)) {
        return false;
    }
    const ByteView iv(esp.data() + 8, iv_size_);
    const MutByteView data = esp.subspan(head);
    if (aead_) {
        Aad aad{};
        return aead_->seal(iv, aad_of(esp, esn, seq_high, aad), data, icv);
    }
    int len = 0;
    if (EVP_CipherInit_ex2(cbc_enc_.get(), nullptr, nullptr, iv.data(), 1, nullptr) != 1 ||
        (!data.empty() && EVP_CipherUpdate(cbc_enc_.get(), data.data(), &len, data.data(),
                                           static_cast<int>(data.size())) != 1)) {
        return false;
    }
    std::array<std::uint8_t, kMaxMac> out{};
    if (!mac(esp, esn, seq_high, out.data())) {
        return false;
    }
    std::memcpy(icv.data(), out.data(), icv_size_);
    return true;
}

bool SaCrypto::open(MutByteView esp, bool esn, std::uint32_t seq_high, ByteView icv) noexcept {
    const std::size_t head = 8 + iv_size_;
    if (esp.size() < head || icv.size() != icv_size_ || !aligned(esp.size() - head)) {
        return false;
    }
    const ByteView iv(esp.data() + 8, iv_size_);
    const MutByteView data = esp.subspan(head);
    if (aead_) {
        Aad aad{};
        return aead_->open(iv, aad_of(esp, esn, seq_high, aad), data, icv);
    }
    // Verify before decrypting (RFC 4303 §3.4.4.1), in constant time.
    std::array<std::uint8_t, kMaxMac> out{};
    if (!mac(esp, esn, seq_high, out.data()) ||
        !crypto::constant_time_equal(out.data(), icv.data(), icv_size_)) {
        return false;
    }
    int len = 0;
    return EVP_CipherInit_ex2(cbc_dec_.get(), nullptr, nullptr, iv.data(), 0, nullptr) == 1 &&
           (data.empty() || EVP_CipherUpdate(cbc_dec_.get(), data.data(), &len, data.data(),
                                             static_cast<int>(data.size())) == 1);
}

}  // namespace ikeplex::esp
