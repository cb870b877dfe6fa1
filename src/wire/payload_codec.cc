// The dispatch from payload type to body codec (payload_codec_*.cc hold the bodies).
#include "wire/payload_codec.h"

#include <utility>

#include "wire/notify_codes.h"

namespace ikeplex::wire::codec {

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
