// ESP encapsulation and decapsulation in place on a PacketBuf (RFC 4303 §2, §3), tunnel and
// transport mode, with ESN (RFC 4303 §2.2.1, Appendix A) and TFC padding (§2.4, §2.7).
//
// Pure functions: no I/O, no allocation, no locks. The caller owns sequence numbers (outbound
// counter, inbound ReplayWindow) and the SaCrypto. Inbound, per packet:
//   peek_header → SA lookup by SPI → ReplayWindow::check → decapsulate → ReplayWindow::update.
// On a drop the buffer's contents are unspecified.
#pragma once

#include <cstdint>
#include <optional>

#include "esp/byte_order.h"
#include "esp/esp_types.h"
#include "esp/packet.h"
#include "esp/sa_crypto.h"
#include "util/bytes.h"
#include "util/ip_address.h"

namespace ikeplex::esp {

/// SPI and sequence number of an ESP packet (first 8 bytes), nullopt if < 8 bytes or SPI 0.
/// (Inline: returned through memory, the optional costs a store-forwarding stall per packet.)
inline std::optional<EspHeader> peek_header(ByteView esp) noexcept {
    if (esp.size() < kEspHeaderSize) {
        return std::nullopt;
    }
    const std::uint32_t spi = detail::load_be32(esp.data());
    if (spi == 0) {
        return std::nullopt;
    }
    return EspHeader{Spi(spi), detail::load_be32(esp.data() + 4)};
}

/// In place: `pkt` holds an inner IPv4/IPv6 packet; afterwards it holds
/// ESP header | IV | ciphertext (payload, TFC pad to tfc_pad_to if > 0, padding, pad length,
/// next header) | ICV (RFC 4303 §2). Tunnel: next header 4 or 41 from the IP version.
/// Transport: the IP header is removed and next header is its protocol (IPv4 options go with
/// the header; IPv6 extension headers and IPv4 fragments are refused with kBadInner). TFC
/// padding (zeros) is added in tunnel mode only: the receiver finds the inner packet's end
/// from its own header. ESN: the high 32 bits go into the ICV/AAD as RFC 4303 §2.2.1 /
/// RFC 4106 §5 / RFC 7634 §3 say. `seq` 0, or above 2^32 - 1 without ESN: kSeqExhausted.
/// kNoRoom without headroom (8 + IV) or tailroom (padding, trailer, ICV).
Drop encapsulate(SaCrypto& c, Spi spi, std::uint64_t seq, bool esn, Mode mode, PacketBuf& pkt,
                 std::size_t tfc_pad_to = 0) noexcept;

/// encapsulate() with the IV given (iv_size() bytes) instead of made from `seq`. For
/// known-answer tests only: a repeated AEAD IV or a predictable CBC IV breaks the cipher.
Drop encapsulate_with_iv(SaCrypto& c, Spi spi, std::uint64_t seq, bool esn, Mode mode,
                         PacketBuf& pkt, ByteView iv, std::size_t tfc_pad_to = 0) noexcept;

/// The ESP layer alone: `pkt` holds the payload as is and `next_header` goes in the trailer
/// (e.g. 59 for a TFC dummy packet, RFC 4303 §2.6). TFC padding is added when tfc_pad_to > 0.
Drop encapsulate_payload(SaCrypto& c, Spi spi, std::uint64_t seq, bool esn,
                         std::uint8_t next_header, PacketBuf& pkt,
                         std::size_t tfc_pad_to = 0) noexcept;

/// In place: verify the ICV (constant time) and decrypt `pkt` (ESP header..ICV) using the full
/// sequence number `seq` from ReplayWindow::check; afterwards `pkt` holds the payload without
/// padding/trailer and `next_header` is set. Tunnel mode: check the payload is an IP packet of
/// the version next header says, and trim TFC padding to the inner packet's own length
/// (RFC 4303 §2.4, §2.7). Next header 59 → kDummy. Padding bytes 1,2,3... checked (kBadTrailer).
/// kMalformed: too short, ciphertext not aligned, or the packet's sequence number is not the
/// low half of `seq`.
Drop decapsulate(SaCrypto& c, std::uint64_t seq, bool esn, Mode mode, PacketBuf& pkt,
                 std::uint8_t& next_header) noexcept;

/// Transport mode receive: prepend an IPv4 (with header checksum) or IPv6 header src→dst
/// carrying `protocol` (TTL / hop limit 64). False without headroom, on mismatched or unset
/// families, or if the packet is too long for the header's length field.
bool add_transport_header(PacketBuf& pkt, const IpAddress& src, const IpAddress& dst,
                          std::uint8_t protocol) noexcept;

/// The length an IPv4/IPv6 packet's own header gives (IPv4 total length, IPv6 40 + payload
/// length), or 0 if `p` does not start with a plausible header of that version that fits.
std::size_t ip_packet_length(ByteView p) noexcept;

}  // namespace ikeplex::esp
