#include "wire/payloads.h"

#include <utility>

namespace ikeplex::wire {

std::optional<std::uint16_t> Transform::key_length() const noexcept {
    for (const TransformAttribute& a : attributes) {
        if (a.type == kAttrKeyLength && a.tv) {
            return a.value;
        }
    }
    return std::nullopt;
}

bool is_known_payload_type(PayloadType t) noexcept {
    switch (t) {
        case PayloadType::kSa:
        case PayloadType::kKe:
        case PayloadType::kIdi:
        case PayloadType::kIdr:
        case PayloadType::kCert:
        case PayloadType::kCertReq:
        case PayloadType::kAuth:
        case PayloadType::kNonce:
        case PayloadType::kNotify:
        case PayloadType::kDelete:
        case PayloadType::kVendorId:
        case PayloadType::kTsi:
        case PayloadType::kTsr:
        case PayloadType::kSk:
        case PayloadType::kCp:
        case PayloadType::kEap:
        case PayloadType::kSkf:
            return true;
        default:
            return false;
    }
}

bool body_matches_type(PayloadType t, const PayloadBody& body) noexcept {
    switch (t) {
        case PayloadType::kSa:
            return std::holds_alternative<SaPayload>(body);
        case PayloadType::kKe:
            return std::holds_alternative<KePayload>(body);
        case PayloadType::kIdi:
        case PayloadType::kIdr:
            return std::holds_alternative<IdPayload>(body);
        case PayloadType::kCert:
            return std::holds_alternative<CertPayload>(body);
        case PayloadType::kCertReq:
            return std::holds_alternative<CertReqPayload>(body);
        case PayloadType::kAuth:
            return std::holds_alternative<AuthPayload>(body);
        case PayloadType::kNonce:
            return std::holds_alternative<NoncePayload>(body);
        case PayloadType::kNotify:
            return std::holds_alternative<NotifyPayload>(body);
        case PayloadType::kDelete:
            return std::holds_alternative<DeletePayload>(body);
        case PayloadType::kVendorId:
            return std::holds_alternative<VendorIdPayload>(body);
        case PayloadType::kTsi:
        case PayloadType::kTsr:
            return std::holds_alternative<TsPayload>(body);
        case PayloadType::kSk:
            return std::holds_alternative<SkPayload>(body);
        case PayloadType::kCp:
            return std::holds_alternative<CpPayload>(body);
        case PayloadType::kEap:
            return std::holds_alternative<EapPayload>(body);
        case PayloadType::kSkf:
            return std::holds_alternative<SkfPayload>(body);
        default:
            return std::holds_alternative<UnknownPayload>(body);
    }
}

namespace {
template <class T>
Payload wrap(PayloadType t, T&& body) {
    return Payload{t, false, PayloadBody(std::forward<T>(body))};
}
}  // namespace

Payload make_payload(SaPayload p) {
    return wrap(PayloadType::kSa, std::move(p));
}
Payload make_payload(KePayload p) {
    return wrap(PayloadType::kKe, std::move(p));
}
Payload make_payload(CertPayload p) {
    return wrap(PayloadType::kCert, std::move(p));
}
Payload make_payload(CertReqPayload p) {
    return wrap(PayloadType::kCertReq, std::move(p));
}
Payload make_payload(AuthPayload p) {
    return wrap(PayloadType::kAuth, std::move(p));
}
Payload make_payload(NoncePayload p) {
    return wrap(PayloadType::kNonce, std::move(p));
}
Payload make_payload(NotifyPayload p) {
    return wrap(PayloadType::kNotify, std::move(p));
}
Payload make_payload(DeletePayload p) {
    return wrap(PayloadType::kDelete, std::move(p));
}
Payload make_payload(VendorIdPayload p) {
    return wrap(PayloadType::kVendorId, std::move(p));
}
Payload make_payload(SkPayload p) {
    return wrap(PayloadType::kSk, std::move(p));
}
Payload make_payload(SkfPayload p) {
    return wrap(PayloadType::kSkf, std::move(p));
}
Payload make_payload(CpPayload p) {
    return wrap(PayloadType::kCp, std::move(p));
}
Payload make_payload(EapPayload p) {
    return wrap(PayloadType::kEap, std::move(p));
}
Payload make_idi(IdPayload p) {
    return wrap(PayloadType::kIdi, std::move(p));
}
Payload make_idr(IdPayload p) {
    return wrap(PayloadType::kIdr, std::move(p));
}
Payload make_tsi(TsPayload p) {
    return wrap(PayloadType::kTsi, std::move(p));
}
Payload make_tsr(TsPayload p) {
    return wrap(PayloadType::kTsr, std::move(p));
}

Payload make_notify(NotifyType type, Bytes data) {
    return make_payload(NotifyPayload{ProtocolId::kNone, {}, type, std::move(data)});
}

Payload make_sa_resource_info(Bytes identifier) {
    return make_notify(NotifyType::kSaResourceInfo, std::move(identifier));
}

Payload make_ts_max_queue() {
    return make_notify(NotifyType::kTsMaxQueue);
}

}  // namespace ikeplex::wire
