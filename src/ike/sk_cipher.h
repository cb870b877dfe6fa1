// Protection of IKE messages in the Encrypted payload (RFC 7296 §3.14) and the Encrypted
// Fragment payload (RFC 7383 §2.5), with AEAD ciphers (RFC 5282, RFC 7634) or AES-CBC plus
// HMAC-SHA2 (RFC 3602, RFC 4868). One SkCipher per direction (SK_ei/SK_ai or SK_er/SK_ar).
//
// seal() builds the whole datagram, so the associated data / integrity coverage (header through
// the SK payload header, RFC 5282 §5.1; the whole message for HMAC) is always right; open() takes
// a datagram that wire::parse_message() accepted and whose last payload is SK or SKF.
#pragma once

#include "crypto/aead.h"
#include "crypto/registry.h"
#include "util/secret_bytes.h"
#include "wire/message.h"

namespace ikeplex::ike {

class SkCipher {
public:
    /// `integ`/`integ_key` only for non-AEAD ciphers.
    static Result<SkCipher> create(const crypto::Registry& registry, const crypto::EncrInfo& encr,
                                   const crypto::IntegInfo* integ, ByteView encr_key,
                                   ByteView integ_key);

    [[nodiscard]] std::size_t iv_size() const noexcept { return encr_->iv_size; }
    /// ICV bytes after the ciphertext (AEAD tag or truncated HMAC).
    [[nodiscard]] std::size_t icv_size() const noexcept;
    /// The smallest padding (zeros) that aligns payloads + padding + Pad Length to the block.
    [[nodiscard]] Bytes default_padding(std::size_t plaintext_size) const;
    /// Bytes an SK payload adds around `plaintext_size` bytes with `padding_size` padding:
    /// generic header, IV, Pad Length, ICV.
    [[nodiscard]] std::size_t overhead(std::size_t padding_size) const noexcept;

    /// The datagram HDR, SK{plaintext}: `plaintext` is the inner payload chain (first payload
    /// `first_inner`), `iv` iv_size() bytes, `padding` any bytes that keep the alignment.
    [[nodiscard]] Result<Bytes> seal(const wire::Header& header, wire::PayloadType first_inner,
                                     ByteView plaintext, ByteView iv, ByteView padding) const;
    /// The same as fragment `number` of `total` (RFC 7383 §2.5).
    [[nodiscard]] Result<Bytes> seal_fragment(const wire::Header& header,
                                              wire::PayloadType first_inner, std::uint16_t number,
                                              std::uint16_t total, ByteView plaintext, ByteView iv,
                                              ByteView padding) const;

    struct Opened {
        Bytes plaintext;  ///< the inner payload chain (or fragment contents)
        Bytes padding;
        Bytes iv;
    };
    /// Verifies and decrypts the SK/SKF payload of `datagram` (`parsed` is its parse).
    /// kIntegrity if the ICV does not verify; kInvalidSyntax for bad sizes or padding.
    [[nodiscard]] Result<Opened> open(ByteView datagram, const wire::Message& parsed) const;

private:
    SkCipher() = default;
    Result<Bytes> seal_message(wire::Message&& shell, ByteView plaintext, ByteView iv,
                               ByteView padding) const;

    const crypto::Registry* registry_{nullptr};
    const crypto::EncrInfo* encr_{nullptr};
    const crypto::IntegInfo* integ_{nullptr};
    // AEAD ciphers key an OpenSSL context per message (IKE messages are few): none is kept.
    SecretBytes encr_key_;
    SecretBytes integ_key_;
};

}  // namespace ikeplex::ike
