// Configuration (RFC 7296 §3.15), EAP (§3.16) and Encrypted Fragment (RFC 7383 §2.5) bodies.
#include <utility>

#include "wire/notify_codes.h"
#include "wire/payload_codec.h"

namespace ikeplex::wire::codec {

// Configuration payload, RFC 7296 §3.15 / §3.15.1:
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |   CFG Type    |                    RESERVED                   |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |R|         Attribute Type      |            Length             |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                             Value                             ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
Result<CpPayload> parse_cp(ByteView body) {
    Reader r(body);
    CpPayload p;
    p.cfg_type = static_cast<CfgType>(IKEPLEX_TRY(r.read_u8("CP: CFG type")));
    IKEPLEX_TRY(r.read_bytes(3, "CP: reserved"));
    while (!r.empty()) {
        ConfigAttribute a;
        a.type =
                static_cast<std::uint16_t>(IKEPLEX_TRY(r.read_u16("CP attribute: type")) & 0x7fffU);
        const std::uint16_t len = IKEPLEX_TRY(r.read_u16("CP attribute: length"));
        const ByteView v = IKEPLEX_TRY(r.read_bytes(len, "CP attribute: value"));
        a.value.assign(v.begin(), v.end());
        p.attributes.push_back(std::move(a));
    }
    return p;
}

Status write_cp(Writer& w, const CpPayload& p) {
    w.write_u8(static_cast<std::uint8_t>(p.cfg_type));
    w.write_zeros(3);
    for (const ConfigAttribute& a : p.attributes) {
        if (a.type > 0x7fffU || a.value.size() > 0xffffU) {
            return make_error(Errc::kTooLarge, "CP attribute: type or value too large");
        }
        w.write_u16(a.type);
        w.write_u16(static_cast<std::uint16_t>(a.value.size()));
        w.write_bytes(a.value);
    }
    return ok();
}

// EAP payload, RFC 7296 §3.16, carrying an EAP message (RFC 3748 §4):
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |     Code      |  Identifier   |            Length             |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |     Type      |  Type_Data...
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-
Result<EapPayload> parse_eap(ByteView body) {
    Reader r(body);
    EapPayload p;
    p.code = static_cast<EapCode>(IKEPLEX_TRY(r.read_u8("EAP: code")));
    p.identifier = IKEPLEX_TRY(r.read_u8("EAP: identifier"));
    const std::uint16_t len = IKEPLEX_TRY(r.read_u16("EAP: length"));
    if (len != body.size()) {
        return invalid_syntax("EAP: length differs from the payload", len);
    }
    const bool has_type = p.code == EapCode::kRequest || p.code == EapCode::kResponse;
    if (has_type && len < 5) {
        return invalid_syntax("EAP: request or response without a type");
    }
    if (!has_type && (p.code == EapCode::kSuccess || p.code == EapCode::kFailure) && len != 4) {
        return invalid_syntax("EAP: success or failure with data");
    }
    const ByteView rest = r.read_rest();
    p.data.assign(rest.begin(), rest.end());
    return p;
}

Status write_eap(Writer& w, const EapPayload& p) {
    if (p.data.size() + 4 > 0xffffU) {
        return make_error(Errc::kTooLarge, "EAP: message too long");
    }
    w.write_u8(static_cast<std::uint8_t>(p.code));
    w.write_u8(p.identifier);
    w.write_u16(static_cast<std::uint16_t>(p.data.size() + 4));
    w.write_bytes(p.data);
    return ok();
}

// Encrypted Fragment, RFC 7383 §2.5:
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |        Fragment Number        |        Total Fragments        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                     Initialization Vector                     |
// ~                      Encrypted content                        ~
// ~                    Integrity Checksum Data                    ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
Result<SkfPayload> parse_skf(PayloadType next, ByteView body) {
    Reader r(body);
    SkfPayload p;
    p.first_inner = next;
    p.fragment_number = IKEPLEX_TRY(r.read_u16("SKF: fragment number"));
    p.total_fragments = IKEPLEX_TRY(r.read_u16("SKF: total fragments"));
    // RFC 7383 §2.6: both non-zero, number <= total; otherwise discard.
    if (p.fragment_number == 0 || p.total_fragments == 0 || p.fragment_number > p.total_fragments) {
        return invalid_syntax("SKF: fragment number outside 1..total");
    }
    const ByteView rest = r.read_rest();
    p.data.assign(rest.begin(), rest.end());
    return p;
}

Status write_skf(Writer& w, const SkfPayload& p) {
    if (p.fragment_number == 0 || p.total_fragments == 0 || p.fragment_number > p.total_fragments) {
        return make_error(Errc::kInvalidArgument, "SKF: fragment number outside 1..total");
    }
    w.write_u16(p.fragment_number);
    w.write_u16(p.total_fragments);
    w.write_bytes(p.data);
    return ok();
}

}  // namespace ikeplex::wire::codec
