// The cryptography of one direction of one ESP SA, keyed once at install time.
//
//  - AEAD: AES-GCM-16 128/192/256 (RFC 4106) and ChaCha20-Poly1305 (RFC 7634) through
//    crypto::Aead — Intel IPsec-MB when a manager is given, else OpenSSL. The 8-byte IV is the
//    64-bit sequence number (RFC 4106 §3.1, RFC 7634 §2: a counter is allowed and never repeats
//    within an SA). AAD = SPI | seq (32 bit), or SPI | seq high | seq low with ESN (RFC 4106 §5,
//    RFC 7634 §2.1).
//  - AES-CBC 128/192/256 (RFC 3602), or legacy 3DES-CBC (RFC 2451, 8-byte IV), with
//    HMAC-SHA2-256-128/384-192/512-256 (RFC 4868) or legacy HMAC-SHA1-96 (RFC 2404) through
//    OpenSSL: one EVP_CIPHER_CTX per operation keyed once, one EVP_MAC_CTX keyed once and
//    re-initialised per packet. CBC IVs must be unpredictable (RFC 3602 §2.4): each IV is the
//    64-bit sequence number encrypted (AES-128-ECB, one block) under a random per-SA IV key,
//    i.e. NIST SP 800-38A Appendix C's "encrypt a nonce" method — no syscall per packet. The ICV
//    covers ESP header | IV | ciphertext, plus the ESN high half with ESN (RFC 4303 §3.3.2.1).
//
// Per packet nothing is allocated by ikeplex and no lock is taken. (OpenSSL 3.0's HMAC re-init
// duplicates a digest context internally; the AEAD paths do no such thing.)
//
// Threading: one SaCrypto is used by one thread at a time; with IPsec-MB, by the thread that
// owns the manager (the manager must outlive it).
#pragma once

#include <cstdint>
#include <memory>

#include "crypto/aead.h"
#include "crypto/ossl.h"
#include "crypto/registry.h"
#include "esp/byte_order.h"
#include "util/bytes.h"
#include "util/random.h"
#include "util/result.h"

namespace ikeplex::esp {

class SaCrypto {
    /// The passkey of the constructor: only create() makes one (util/result.h).
    struct Token {
        explicit Token() = default;
    };

public:
    /// `encr_id`/`encr_key_bits`: the ENCR transform (12 AES-CBC, 20 AES-GCM-16, 28
    /// ChaCha20-Poly1305; bits 0 or 256 for ChaCha20). `integ_id`: 0 for AEAD, else 12/13/14
    /// (HMAC-SHA2-256-128/384-192/512-256). `encr_key`: KEYMAT for the cipher, salt included for
    /// AEAD. `mb`: an IPsec-MB manager of the calling thread, or nullptr for OpenSSL.
    static Result<std::unique_ptr<SaCrypto>> create(const crypto::Registry& reg,
                                                    std::uint16_t encr_id,
                                                    std::uint16_t encr_key_bits,
                                                    std::uint16_t integ_id, ByteView encr_key,
                                                    ByteView integ_key, crypto::IpsecMb* mb);
    /// The same with the source of the CBC IV key given (tests; the above uses OsRandom).
    static Result<std::unique_ptr<SaCrypto>> create(const crypto::Registry& reg,
                                                    std::uint16_t encr_id,
                                                    std::uint16_t encr_key_bits,
                                                    std::uint16_t integ_id, ByteView encr_key,
                                                    ByteView integ_key, crypto::IpsecMb* mb,
                                                    Random& rng);
    explicit SaCrypto(Token /*create()*/) noexcept {}

    SaCrypto(const SaCrypto&) = delete;
    SaCrypto& operator=(const SaCrypto&) = delete;
    SaCrypto(SaCrypto&&) = delete;
    SaCrypto& operator=(SaCrypto&&) = delete;
    ~SaCrypto();

    [[nodiscard]] std::size_t iv_size() const noexcept { return iv_size_; }
    /// Alignment of payload | padding | pad length | next header: the cipher's block size,
    /// at least 4 (RFC 4303 §2.4).
    [[nodiscard]] std::size_t block_size() const noexcept { return block_size_; }
    /// Whether `n` is a multiple of block_size() (a power of two: no division per packet).
    [[nodiscard]] bool aligned(std::size_t n) const noexcept {
        return (n & (block_size_ - 1)) == 0;
    }
    [[nodiscard]] std::size_t icv_size() const noexcept { return icv_size_; }
    /// Bytes added by encapsulation for an ESP payload (tunnel: the inner packet) of `len`
    /// bytes: ESP header, IV, padding, pad length, next header, ICV (TFC padding not counted).
    [[nodiscard]] std::size_t overhead(std::size_t len) const noexcept;
    /// Padding bytes for a payload of `len` bytes (0 .. block_size() - 1).
    [[nodiscard]] std::size_t padding(std::size_t len) const noexcept {
        const std::size_t mask = block_size_ - 1;
        return (block_size_ - ((len + 2) & mask)) & mask;
    }

    [[nodiscard]] bool is_aead() const noexcept { return aead_ != nullptr; }
    /// "openssl", "ipsec-mb" (AEAD backends) or "openssl-cbc-hmac".
    [[nodiscard]] const char* backend_name() const noexcept;

    /// The IV for the packet with sequence number `seq` (iv_size() bytes into `iv`).
    void make_iv(std::uint64_t seq, MutByteView iv) noexcept {
        if (aead_) {
            detail::store_be64(iv.data(), seq);
            return;
        }
        make_cbc_iv(seq, iv);
    }
    /// `esp` = ESP header | IV | plaintext (payload, padding, pad length, next header): encrypts
    /// the plaintext in place and writes icv_size() bytes to `icv`. `seq_high`: the ESN high
    /// half (used only when `esn`). False only on a library failure or wrong sizes.
    [[nodiscard]] bool seal(MutByteView esp, bool esn, std::uint32_t seq_high,
                            MutByteView icv) noexcept;
    /// `esp` = ESP header | IV | ciphertext: verifies `icv` (constant time) and then decrypts
    /// in place. False if the ICV does not verify (or on wrong sizes); the ciphertext is then
    /// left as it was (CBC) or garbage (AEAD).
    [[nodiscard]] bool open(MutByteView esp, bool esn, std::uint32_t seq_high,
                            ByteView icv) noexcept;

private:
    void make_cbc_iv(std::uint64_t seq, MutByteView iv) noexcept;
    [[nodiscard]] bool mac(ByteView esp, bool esn, std::uint32_t seq_high,
                           std::uint8_t* out) noexcept;

    crypto::AeadPtr aead_;             // AEAD ciphers
    crypto::EvpCipherCtxPtr cbc_enc_;  // CBC: keyed, IV set per packet
    crypto::EvpCipherCtxPtr cbc_dec_;
    crypto::EvpCipherCtxPtr iv_gen_;  // CBC: AES-128-ECB under the random IV key
    crypto::EvpMacCtxPtr hmac_;       // CBC: keyed HMAC, re-initialised per packet
    std::size_t iv_size_{0};
    std::size_t block_size_{4};
    std::size_t icv_size_{0};
};

}  // namespace ikeplex::esp
