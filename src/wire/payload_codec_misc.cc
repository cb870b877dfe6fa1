// Configuration (RFC 7296 §3.15), EAP (§3.16), Encrypted Fragment (RFC 7383 §2.5) bodies, and the
// dispatch from payload type to body codec.
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

Result<Reader> substructure(Reader& r, std::uint16_t len, const char* below_header,
                            const char* exceeds) {
    if (len < kPayloadHeaderSize) {
        return invalid_syntax(below_header, len);
    }
    if (len - kPayloadHeaderSize > r.remaining()) {
        return invalid_syntax(exceeds, len);
    }
    return r.sub_reader(len - kPayloadHeaderSize, exceeds);
}

namespace {
template <class T>
Result<PayloadBody> lift(Result<T>&& r) {
    if (!r) {
        return std::move(r).error();
    }
    return PayloadBody(std::move(r).value());
}
}  // namespace

Result<PayloadBody> parse_body(PayloadType type, PayloadType next, ByteView body) {
    switch (type) {
        case PayloadType::kSa:
            return lift(parse_sa(body));
        case PayloadType::kKe:
            return lift(parse_ke(body));
        case PayloadType::kIdi:
        case PayloadType::kIdr:
            return lift(parse_id(body));
        case PayloadType::kCert:
            return lift(parse_cert(body));
        case PayloadType::kCertReq:
            return lift(parse_certreq(body));
        case PayloadType::kAuth:
            return lift(parse_auth(body));
        case PayloadType::kNonce:
            return lift(parse_nonce(body));
        case PayloadType::kNotify:
            return lift(parse_notify(body));
        case PayloadType::kDelete:
            return lift(parse_delete(body));
        case PayloadType::kVendorId:
            return PayloadBody(VendorIdPayload{{body.begin(), body.end()}});
        case PayloadType::kTsi:
        case PayloadType::kTsr:
            return lift(parse_ts(body));
        case PayloadType::kSk:
            return PayloadBody(SkPayload{next, {body.begin(), body.end()}});
        case PayloadType::kCp:
            return lift(parse_cp(body));
        case PayloadType::kEap:
            return lift(parse_eap(body));
        case PayloadType::kSkf:
            return lift(parse_skf(next, body));
        default:
            return PayloadBody(UnknownPayload{{body.begin(), body.end()}});
    }
}

Status write_body(Writer& w, const Payload& p) {
    if (!body_matches_type(p.type, p.body)) {
        return make_error(Errc::kInvalidArgument, "payload body does not match its type");
    }
    return std::visit(
            [&w](const auto& b) -> Status {
                using T = std::decay_t<decltype(b)>;
                if constexpr (std::is_same_v<T, SaPayload>) {
                    return write_sa(w, b);
                } else if constexpr (std::is_same_v<T, KePayload>) {
                    return write_ke(w, b);
                } else if constexpr (std::is_same_v<T, IdPayload>) {
                    return write_id(w, b);
                } else if constexpr (std::is_same_v<T, CertPayload>) {
                    return write_cert(w, b);
                } else if constexpr (std::is_same_v<T, CertReqPayload>) {
                    return write_certreq(w, b);
                } else if constexpr (std::is_same_v<T, AuthPayload>) {
                    return write_auth(w, b);
                } else if constexpr (std::is_same_v<T, NoncePayload>) {
                    return write_nonce(w, b);
                } else if constexpr (std::is_same_v<T, NotifyPayload>) {
                    return write_notify(w, b);
                } else if constexpr (std::is_same_v<T, DeletePayload>) {
                    return write_delete(w, b);
                } else if constexpr (std::is_same_v<T, VendorIdPayload> ||
                                     std::is_same_v<T, SkPayload>) {
                    w.write_bytes(b.data);  // opaque to the codec
                    return ok();
                } else if constexpr (std::is_same_v<T, TsPayload>) {
                    return write_ts(w, b);
                } else if constexpr (std::is_same_v<T, SkfPayload>) {
                    return write_skf(w, b);
                } else if constexpr (std::is_same_v<T, CpPayload>) {
                    return write_cp(w, b);
                } else if constexpr (std::is_same_v<T, EapPayload>) {
                    return write_eap(w, b);
                } else {
                    w.write_bytes(b.body);
                    return ok();
                }
            },
            p.body);
}

}  // namespace ikeplex::wire::codec
