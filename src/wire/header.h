// The IKE header (RFC 7296 §3.1).
//
//                      1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                       IKE SA Initiator's SPI                  |
// |                                                               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                       IKE SA Responder's SPI                  |
// |                                                               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Next Payload | MjVer | MnVer | Exchange Type |     Flags     |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                          Message ID                           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                            Length                             |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Next Payload and Length are not stored: the writer derives them from the payloads.
#pragma once

#include <cstdint>

#include "util/reader.h"
#include "util/result.h"
#include "util/strong_id.h"
#include "util/writer.h"
#include "wire/constants.h"

namespace ikeplex::wire {

struct Header {
    IkeSpi spi_i;
    IkeSpi spi_r;
    std::uint8_t major_version{2};
    std::uint8_t minor_version{0};
    ExchangeType exchange{ExchangeType::kIkeSaInit};
    /// Raw flags byte: kFlagInitiator, kFlagResponse, kFlagVersion; reserved bits kept as received.
    std::uint8_t flags{0};
    MessageId message_id;

    /// The I bit: sent by the original initiator of the IKE SA.
    [[nodiscard]] bool from_initiator() const noexcept { return (flags & kFlagInitiator) != 0; }
    /// The R bit: this message is a response.
    [[nodiscard]] bool is_response() const noexcept { return (flags & kFlagResponse) != 0; }
    bool operator==(const Header&) const = default;
};

/// A header as read from the wire, with the two derived fields.
struct ParsedHeader {
    Header header;
    PayloadType next_payload{PayloadType::kNone};
    std::uint32_t length{0};
};

/// Reads and checks the header: major version 2 (else INVALID_MAJOR_VERSION, RFC 7296 §2.5),
/// Length equal to `datagram_size` (a message fills its datagram exactly).
Result<ParsedHeader> parse_header(Reader& r, std::size_t datagram_size);

/// Writes the header with Next Payload = first and a reserved Length field; returns the mark to
/// patch once the payloads are written.
Writer::LengthMark write_header(Writer& w, const Header& h, PayloadType first);

}  // namespace ikeplex::wire
