// The IANA numbers of the algorithms ikeplex knows: IKEv2 transform IDs per transform type
// (RFC 7296 §3.3.2 and the IANA "Internet Key Exchange Version 2 (IKEv2) Parameters" registry)
// and the hash algorithms of RFC 7427 §7. The registry (registry.h) and every algorithm are
// found by these numbers; the IKE codec carries them as plain numbers.
#pragma once

#include <cstdint>

namespace ikeplex::crypto {

/// Transform IDs used by ikeplex (IANA registries per transform type).
namespace encr {
inline constexpr std::uint16_t kDes = 2;
inline constexpr std::uint16_t k3des = 3;
inline constexpr std::uint16_t kNull = 11;
inline constexpr std::uint16_t kAesCbc = 12;
inline constexpr std::uint16_t kAesCtr = 13;
inline constexpr std::uint16_t kAesCcm8 = 14;
inline constexpr std::uint16_t kAesCcm12 = 15;
inline constexpr std::uint16_t kAesCcm16 = 16;
inline constexpr std::uint16_t kAesGcm8 = 18;
inline constexpr std::uint16_t kAesGcm12 = 19;
inline constexpr std::uint16_t kAesGcm16 = 20;
inline constexpr std::uint16_t kNullAuthAesGmac = 21;
inline constexpr std::uint16_t kChacha20Poly1305 = 28;
}  // namespace encr
namespace prf {
inline constexpr std::uint16_t kHmacMd5 = 1;
inline constexpr std::uint16_t kHmacSha1 = 2;
inline constexpr std::uint16_t kAes128Xcbc = 4;
inline constexpr std::uint16_t kHmacSha2_256 = 5;
inline constexpr std::uint16_t kHmacSha2_384 = 6;
inline constexpr std::uint16_t kHmacSha2_512 = 7;
inline constexpr std::uint16_t kAes128Cmac = 8;
}  // namespace prf
namespace integ {
inline constexpr std::uint16_t kNone = 0;
inline constexpr std::uint16_t kHmacMd5_96 = 1;
inline constexpr std::uint16_t kHmacSha1_96 = 2;
inline constexpr std::uint16_t kAesXcbc96 = 5;
inline constexpr std::uint16_t kHmacSha2_256_128 = 12;
inline constexpr std::uint16_t kHmacSha2_384_192 = 13;
inline constexpr std::uint16_t kHmacSha2_512_256 = 14;
}  // namespace integ
namespace ke {
inline constexpr std::uint16_t kNone = 0;
inline constexpr std::uint16_t kModp1024 = 2;
inline constexpr std::uint16_t kModp1536 = 5;
inline constexpr std::uint16_t kModp2048 = 14;
inline constexpr std::uint16_t kModp3072 = 15;
inline constexpr std::uint16_t kModp4096 = 16;
inline constexpr std::uint16_t kModp6144 = 17;
inline constexpr std::uint16_t kModp8192 = 18;
inline constexpr std::uint16_t kEcp256 = 19;
inline constexpr std::uint16_t kEcp384 = 20;
inline constexpr std::uint16_t kEcp521 = 21;
inline constexpr std::uint16_t kCurve25519 = 31;
inline constexpr std::uint16_t kCurve448 = 32;
inline constexpr std::uint16_t kMlKem512 = 35;
inline constexpr std::uint16_t kMlKem768 = 36;
inline constexpr std::uint16_t kMlKem1024 = 37;
}  // namespace ke
namespace esn {
inline constexpr std::uint16_t kNoEsn = 0;
inline constexpr std::uint16_t kEsn = 1;
}  // namespace esn

/// RFC 7427 §7 hash algorithm identifiers (SIGNATURE_HASH_ALGORITHMS data).
enum class HashAlgorithm : std::uint16_t {
    kSha1 = 1,
    kSha2_256 = 2,
    kSha2_384 = 3,
    kSha2_512 = 4,
    kIdentity = 5,
};

}  // namespace ikeplex::crypto
