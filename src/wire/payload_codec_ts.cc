// Traffic Selector payloads TSi/TSr (RFC 7296 §3.13).
#include "wire/notify_codes.h"
#include "wire/payload_codec.h"

namespace ikeplex::wire::codec {
namespace {

// TS payload body, RFC 7296 §3.13:
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Number of TSs |                 RESERVED                      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                       <Traffic Selectors>                     ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Traffic selector, RFC 7296 §3.13.1:
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |   TS Type     |IP Protocol ID*|       Selector Length         |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |           Start Port*         |           End Port*           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                         Starting Address*                     ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                         Ending Address*                       ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

std::size_t address_size(TsType t) noexcept {
    switch (t) {
        case TsType::kIpv4AddrRange:
            return 4;
        case TsType::kIpv6AddrRange:
            return 16;
        default:
            return 0;
    }
}

Result<TrafficSelector> parse_selector(Reader& r) {
    TrafficSelector ts;
    ts.type = static_cast<TsType>(IKEPLEX_TRY(r.read_u8("TS: selector type")));
    ts.ip_protocol = IKEPLEX_TRY(r.read_u8("TS: IP protocol id"));
    const std::uint16_t len = IKEPLEX_TRY(r.read_u16("TS: selector length"));
    Reader body = IKEPLEX_TRY(substructure(r, len, "TS: selector length below 4",
                                           "TS: selector length exceeds the payload"));
    const std::size_t addr = address_size(ts.type);
    if (addr == 0) {
        const ByteView rest = body.read_rest();
        ts.opaque.assign(rest.begin(), rest.end());
        return ts;
    }
    ts.start_port = IKEPLEX_TRY(body.read_u16("TS: start port"));
    ts.end_port = IKEPLEX_TRY(body.read_u16("TS: end port"));
    const ByteView start = IKEPLEX_TRY(body.read_bytes(addr, "TS: starting address"));
    const ByteView end = IKEPLEX_TRY(body.read_bytes(addr, "TS: ending address"));
    ts.start_address.assign(start.begin(), start.end());
    ts.end_address.assign(end.begin(), end.end());
    if (!body.empty()) {
        return invalid_syntax("TS: selector longer than its address family allows", len);
    }
    return ts;
}

}  // namespace

Result<TsPayload> parse_ts(ByteView bytes) {
    Reader r(bytes);
    TsPayload p;
    const std::uint8_t count = IKEPLEX_TRY(r.read_u8("TS: number of TSs"));
    IKEPLEX_TRY(r.read_bytes(3, "TS: reserved"));
    while (!r.empty()) {
        if (p.selectors.size() == count) {
            return invalid_syntax("TS: more selectors than the number of TSs", count);
        }
        p.selectors.push_back(IKEPLEX_TRY(parse_selector(r)));
    }
    if (p.selectors.size() != count) {
        return invalid_syntax("TS: fewer selectors than the number of TSs", count);
    }
    return p;
}

Status write_ts(Writer& w, const TsPayload& p) {
    if (p.selectors.size() > 0xffU) {
        return make_error(Errc::kTooLarge, "TS: more than 255 selectors");
    }
    w.write_u8(static_cast<std::uint8_t>(p.selectors.size()));
    w.write_zeros(3);
    for (const TrafficSelector& ts : p.selectors) {
        const std::size_t start = w.size();
        w.write_u8(static_cast<std::uint8_t>(ts.type));
        w.write_u8(ts.ip_protocol);
        const auto mark = w.reserve_u16_length(start);
        const std::size_t addr = address_size(ts.type);
        if (addr == 0) {
            w.write_bytes(ts.opaque);
        } else {
            if (ts.start_address.size() != addr || ts.end_address.size() != addr ||
                !ts.opaque.empty()) {
                return make_error(Errc::kInvalidArgument,
                                  "TS: address size does not match the selector type");
            }
            w.write_u16(ts.start_port);
            w.write_u16(ts.end_port);
            w.write_bytes(ts.start_address);
            w.write_bytes(ts.end_address);
        }
        IKEPLEX_TRY(w.patch_length(mark, "TS: selector length"));
    }
    return ok();
}

}  // namespace ikeplex::wire::codec
