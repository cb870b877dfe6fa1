#include "wire/header.h"

#include "wire/notify_codes.h"

namespace ikeplex::wire {

Result<ParsedHeader> parse_header(Reader& r, std::size_t datagram_size) {
    ParsedHeader p;
    p.header.spi_i = IkeSpi(IKEPLEX_TRY(r.read_u64("header: initiator SPI")));
    p.header.spi_r = IkeSpi(IKEPLEX_TRY(r.read_u64("header: responder SPI")));
    p.next_payload = static_cast<PayloadType>(IKEPLEX_TRY(r.read_u8("header: next payload")));
    const std::uint8_t version = IKEPLEX_TRY(r.read_u8("header: version"));
    p.header.major_version = static_cast<std::uint8_t>(version >> 4U);
    p.header.minor_version = static_cast<std::uint8_t>(version & 0x0fU);
    p.header.exchange = static_cast<ExchangeType>(IKEPLEX_TRY(r.read_u8("header: exchange type")));
    p.header.flags = IKEPLEX_TRY(r.read_u8("header: flags"));
    p.header.message_id = MessageId(IKEPLEX_TRY(r.read_u32("header: message id")));
    p.length = IKEPLEX_TRY(r.read_u32("header: length"));

    // RFC 7296 §2.5: a major version we do not speak is answered with INVALID_MAJOR_VERSION.
    if (p.header.major_version != 2) {
        return error_with_notify(Errc::kUnsupportedVersion, "header: IKE major version is not 2",
                                 NotifyType::kInvalidMajorVersion, p.header.major_version);
    }
    if (p.length != datagram_size) {
        return make_error(Errc::kBadLength, "header: length differs from the datagram size", 0,
                          p.length);
    }
    return p;
}

Writer::LengthMark write_header(Writer& w, const Header& h, PayloadType first) {
    const std::size_t start = w.size();
    w.write_u64(h.spi_i.value());
    w.write_u64(h.spi_r.value());
    w.write_u8(static_cast<std::uint8_t>(first));
    w.write_u8(static_cast<std::uint8_t>((static_cast<unsigned>(h.major_version) << 4U) |
                                         (h.minor_version & 0x0fU)));
    w.write_u8(static_cast<std::uint8_t>(h.exchange));
    w.write_u8(h.flags);
    w.write_u32(h.message_id.value());
    return w.reserve_u32_length(start);
}

}  // namespace ikeplex::wire
