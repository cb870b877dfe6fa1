// Small vocabulary of the ESP packet layer (RFC 4303): modes, drop reasons and the ESP header.
// Shared by the codec (esp_codec.h), the workers and the counters they keep.
#pragma once

#include <cstddef>
#include <cstdint>

#include "util/strong_id.h"

namespace ikeplex::esp {

/// How the SA carries traffic. (The IKE layer has its own enum; esp must not include src/ike.)
enum class Mode : std::uint8_t { kTunnel, kTransport };

/// Why a packet was dropped; used as a counter index by workers.
enum class Drop : std::uint8_t {
    kNone = 0,
    kMalformed,     ///< too short, bad alignment, sequence number not the one checked
    kNoSa,          ///< no SA for the SPI / selector
    kReplay,        ///< replay window: seen already or too old
    kIntegrity,     ///< ICV does not verify
    kBadTrailer,    ///< padding bytes not 1, 2, 3, ... or pad length beyond the payload
    kDummy,         ///< next header 59: a TFC dummy packet (RFC 4303 §2.6), dropped silently
    kBadInner,      ///< inner packet not IPv4/IPv6 as next header says, or unsupported headers
    kNoRoom,        ///< no headroom/tailroom in the PacketBuf
    kSeqExhausted,  ///< sequence number 0 or beyond 2^32 - 1 without ESN (RFC 4303 §3.3.3)
    kPolicy,        ///< inner packet outside the SA's traffic selectors
    kLifetime,      ///< SA hard lifetime reached
    kNoRoute,       ///< no policy / route for an outbound packet
    kIo,            ///< the I/O layer failed to send or write
    kCrypto,        ///< the crypto library failed (not for bad input: that is kIntegrity)
    kCount
};
inline constexpr std::size_t kDropCount = static_cast<std::size_t>(Drop::kCount);

/// Stable lower-case names: "none", "malformed", "no_sa", "replay", "integrity", "bad_trailer",
/// "dummy", "bad_inner", "no_room", "seq_exhausted", "policy", "lifetime", "no_route", "io",
/// "crypto" ("unknown" for anything else).
const char* to_string(Drop d) noexcept;

/// SPI and sequence number (low 32 bits) of an ESP packet, from its first 8 bytes.
struct EspHeader {
    Spi spi;
    std::uint32_t seq{0};
};

inline constexpr std::size_t kEspHeaderSize = 8;   ///< SPI | sequence number
inline constexpr std::size_t kEspTrailerSize = 2;  ///< pad length | next header

/// Next header values the codec cares about (IANA protocol numbers).
namespace next_header {
inline constexpr std::uint8_t kIpv4 = 4;
inline constexpr std::uint8_t kIpv6 = 41;
inline constexpr std::uint8_t kNoNext = 59;  ///< dummy packet (RFC 4303 §2.6)
}  // namespace next_header

}  // namespace ikeplex::esp
