// Data-plane AEAD: one direction of one SA (ESP, RFC 4106 / RFC 7634) or of the SK payload
// (RFC 5282), keyed once; per packet only the nonce and the AAD change, nothing is allocated.
//
// The nonce is salt | IV: the 4-byte salt sits at the end of the key material, the 8-byte IV
// travels in the packet. Backends: OpenSSL (EVP, fetched once via the Registry) and Intel's
// IPsec-MB (AES-GCM-128/192/256, ChaCha20-Poly1305), which needs one manager per thread.
// Threading: an Aead is used by one thread at a time (each worker keys its own).
#pragma once

#include <memory>

#include "crypto/registry.h"
#include "util/bytes.h"
#include "util/result.h"

namespace ikeplex::crypto {

enum class AeadBackend : std::uint8_t { kOpenSsl, kIpsecMb };

/// "openssl" / "ipsec-mb".
const char* to_string(AeadBackend b) noexcept;

inline constexpr std::size_t kAeadIvSize = 8;
inline constexpr std::size_t kAeadTagSize = 16;

class Aead {
public:
    Aead() = default;
    Aead(const Aead&) = delete;
    Aead& operator=(const Aead&) = delete;
    Aead(Aead&&) = delete;
    Aead& operator=(Aead&&) = delete;
    virtual ~Aead() = default;

    [[nodiscard]] virtual AeadBackend backend() const noexcept = 0;

    /// Encrypts `data` in place and writes the 16-byte tag to `tag`. `iv` is 8 bytes.
    /// False only on a library failure or wrong sizes (never for valid input).
    [[nodiscard]] virtual bool seal(ByteView iv, ByteView aad, MutByteView data,
                                    MutByteView tag) noexcept = 0;
    /// Decrypts `data` in place if `tag` verifies (constant time); false otherwise, and then
    /// `data` holds garbage.
    [[nodiscard]] virtual bool open(ByteView iv, ByteView aad, MutByteView data,
                                    ByteView tag) noexcept = 0;
};
using AeadPtr = std::unique_ptr<Aead>;

/// An OpenSSL AEAD for `encr` (AES-GCM-16 or ChaCha20-Poly1305) with key material
/// key | salt of encr.key_size bytes.
Result<AeadPtr> make_openssl_aead(const EncrInfo& encr, ByteView key_material);

/// One seal or open with an OpenSSL context keyed for it and freed after: for IKE messages,
/// which are few, so that an SA holds its key but no context (about 1 KiB each). Same
/// arguments as Aead::seal/open plus the key material of make_openssl_aead(). False on a bad
/// key or library failure, and for open() when the tag does not verify.
[[nodiscard]] bool aead_seal_once(const EncrInfo& encr, ByteView key_material, ByteView iv,
                                  ByteView aad, MutByteView data, MutByteView tag) noexcept;
[[nodiscard]] bool aead_open_once(const EncrInfo& encr, ByteView key_material, ByteView iv,
                                  ByteView aad, MutByteView data, ByteView tag) noexcept;

/// Intel IPsec-MB: a multi-buffer manager for one thread, and the AEADs keyed on it. The
/// manager must outlive the AEADs it made.
class IpsecMb {
    /// The passkey of the constructor: only create() makes one (util/result.h).
    struct Token {
        explicit Token() = default;
    };
    struct Manager;

public:
    /// Allocates a manager and lets IPsec-MB pick the best implementation for this CPU.
    static Result<std::unique_ptr<IpsecMb>> create();
    IpsecMb(Token /*create()*/, std::unique_ptr<Manager> m) noexcept;

    IpsecMb(const IpsecMb&) = delete;
    IpsecMb& operator=(const IpsecMb&) = delete;
    IpsecMb(IpsecMb&&) = delete;
    IpsecMb& operator=(IpsecMb&&) = delete;
    ~IpsecMb();

    /// The implementation IPsec-MB selected: "AVX512", "AVX2", "AVX", "SSE" or "NO-AESNI".
    [[nodiscard]] const char* arch_name() const noexcept;
    /// The library version, e.g. "1.3.0".
    [[nodiscard]] static const char* version() noexcept;

    Result<AeadPtr> make_aead(const EncrInfo& encr, ByteView key_material);

private:
    std::unique_ptr<Manager> mgr_;
};

}  // namespace ikeplex::crypto
