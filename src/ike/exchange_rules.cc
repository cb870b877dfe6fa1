#include "ike/exchange_rules.h"

#include "ike/payload_access.h"
#include "wire/notify_codes.h"

namespace ikeplex::ike {
namespace {

using wire::PayloadType;

bool has(std::span<const wire::Payload> ps, PayloadType t) {
    for (const wire::Payload& p : ps) {
        if (p.type == t) {
            return true;
        }
    }
    return false;
}

Error missing(const char* what) {
    return wire::error_with_notify(Errc::kRuleViolation, what, wire::NotifyType::kInvalidSyntax);
}

/// SA, TSi and TSr come together or not at all.
Status child_triplet(std::span<const wire::Payload> ps) {
    const int n = static_cast<int>(has(ps, PayloadType::kSa)) +
                  static_cast<int>(has(ps, PayloadType::kTsi)) +
                  static_cast<int>(has(ps, PayloadType::kTsr));
    if (n != 0 && n != 3) {
        return missing("exchange rules: SA, TSi and TSr must come together");
    }
    return ok();
}

}  // namespace

const char* to_string(Variant v) noexcept {
    switch (v) {
        case Variant::kIkeSaInit:
            return "IKE_SA_INIT";
        case Variant::kIkeAuth:
            return "IKE_AUTH";
        case Variant::kChildCreate:
            return "CREATE_CHILD_SA (new Child SA)";
        case Variant::kChildRekey:
            return "CREATE_CHILD_SA (Child SA rekey)";
        case Variant::kIkeRekey:
            return "CREATE_CHILD_SA (IKE SA rekey)";
        case Variant::kInformational:
            return "INFORMATIONAL";
        case Variant::kFollowupKe:
            return "IKE_FOLLOWUP_KE";
        case Variant::kIntermediate:
            return "IKE_INTERMEDIATE";
    }
    return "unknown";
}

Result<Variant> check_request(wire::ExchangeType type, std::span<const wire::Payload> ps) {
    switch (type) {
        case wire::ExchangeType::kIkeSaInit:
            return Variant::kIkeSaInit;
        case wire::ExchangeType::kIkeAuth:
            // RFC 7296 §1.2, §2.16: the first request has IDi (and AUTH unless the peer
            // wants EAP); EAP rounds carry EAP, the last one AUTH. The responder checks which.
            if (!has(ps, PayloadType::kIdi) && !has(ps, PayloadType::kAuth) &&
                !has(ps, PayloadType::kEap)) {
                return missing("exchange rules: IKE_AUTH request without IDi, AUTH or EAP");
            }
            IKEPLEX_TRY(child_triplet(ps));
            return Variant::kIkeAuth;
        case wire::ExchangeType::kCreateChildSa: {
            const auto* sa = find_payload<wire::SaPayload>(ps, PayloadType::kSa);
            if (sa == nullptr || sa->proposals.empty() || !has(ps, PayloadType::kNonce)) {
                return missing("exchange rules: CREATE_CHILD_SA without SA and Nonce");
            }
            if (has_notify(ps, wire::NotifyType::kRekeySa)) {
                if (!has(ps, PayloadType::kTsi) || !has(ps, PayloadType::kTsr)) {
                    return missing("exchange rules: Child SA rekey without TSi and TSr");
                }
                return Variant::kChildRekey;
            }
            if (sa->proposals.front().protocol == wire::ProtocolId::kIke) {
                // RFC 7296 §1.3.2: SA, Ni, KEi; no TS.
                if (!has(ps, PayloadType::kKe) || has(ps, PayloadType::kTsi) ||
                    has(ps, PayloadType::kTsr)) {
                    return missing("exchange rules: IKE SA rekey needs KE and no TS");
                }
                return Variant::kIkeRekey;
            }
            if (!has(ps, PayloadType::kTsi) || !has(ps, PayloadType::kTsr)) {
                return missing("exchange rules: new Child SA without TSi and TSr");
            }
            return Variant::kChildCreate;
        }
        case wire::ExchangeType::kInformational:
            return Variant::kInformational;
        case wire::ExchangeType::kIkeFollowupKe:
            // RFC 9370 §2.2.4: the link to the CREATE_CHILD_SA it continues, and KEi(n).
            if (!has(ps, PayloadType::kKe) ||
                !has_notify(ps, wire::NotifyType::kAdditionalKeyExchange)) {
                return missing("exchange rules: IKE_FOLLOWUP_KE without KE and link notify");
            }
            return Variant::kFollowupKe;
        case wire::ExchangeType::kIkeIntermediate:
            return Variant::kIntermediate;
        default:
            return make_error(Errc::kUnsupported, "exchange rules: exchange not supported");
    }
}

Status check_response(wire::ExchangeType type, std::span<const wire::Payload> ps) {
    if (first_error(ps) != nullptr) {
        return ok();  // an error answer; the exchange decides what it means
    }
    switch (type) {
        case wire::ExchangeType::kIkeSaInit:
            if (has_notify(ps, wire::NotifyType::kCookie) ||
                has_notify(ps, wire::NotifyType::kRedirect)) {
                return ok();  // RFC 7296 §2.6, RFC 5685 §3
            }
            if (!has(ps, PayloadType::kSa) || !has(ps, PayloadType::kKe) ||
                !has(ps, PayloadType::kNonce)) {
                return missing("exchange rules: IKE_SA_INIT response without SA, KE and Nonce");
            }
            return ok();
        case wire::ExchangeType::kIkeAuth:
            // The first response has IDr and AUTH, or (RFC 7296 §2.16) EAP, with AUTH unless
            // EAP-only (RFC 5998); the answer to an initiator's last certificate or PSK round
            // of RFC 4739 (§2.4) has neither, only [CP,] SA, TSi, TSr. The exchange checks what
            // its phase needs.
            return child_triplet(ps);
        case wire::ExchangeType::kCreateChildSa:
            if (!has(ps, PayloadType::kSa) || !has(ps, PayloadType::kNonce)) {
                return missing("exchange rules: CREATE_CHILD_SA response without SA and Nonce");
            }
            return ok();
        default:
            return ok();
    }
}

}  // namespace ikeplex::ike
