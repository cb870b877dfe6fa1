#include "wire/payload_rules.h"

#include <array>
#include <cstdint>

#include "wire/notify_codes.h"

namespace ikeplex::wire {
namespace {

constexpr std::uint16_t kMany = 0xffff;

struct PayloadRule {
    PayloadType type;
    std::uint16_t min;
    std::uint16_t max;
};

// RFC 7296 §1.2: HDR, SAi1, KEi, Ni  /  HDR, SAr1, KEr, Nr, [CERTREQ]; notifies and vendor IDs
// anywhere. An error response (INVALID_KE_PAYLOAD, COOKIE, NO_PROPOSAL_CHOSEN) has only N, so
// the response's minimums are zero and the engine checks the variant.
constexpr PayloadRule kIkeSaInitRequest[] = {
        {PayloadType::kNotify, 0, kMany},   {PayloadType::kSa, 1, 1},
        {PayloadType::kKe, 1, 1},           {PayloadType::kNonce, 1, 1},
        {PayloadType::kVendorId, 0, kMany},
};
constexpr PayloadRule kIkeSaInitResponse[] = {
        {PayloadType::kNotify, 0, kMany},  {PayloadType::kSa, 0, 1},
        {PayloadType::kKe, 0, 1},          {PayloadType::kNonce, 0, 1},
        {PayloadType::kCertReq, 0, kMany}, {PayloadType::kVendorId, 0, kMany},
};
// RFC 7296 §1.2 / §2.16 (EAP rounds carry only EAP or AUTH, so nothing is required here).
constexpr PayloadRule kIkeAuthRequest[] = {
        {PayloadType::kNotify, 0, kMany}, {PayloadType::kIdi, 0, 1},
        {PayloadType::kCert, 0, kMany},   {PayloadType::kCertReq, 0, kMany},
        {PayloadType::kIdr, 0, 1},        {PayloadType::kAuth, 0, 1},
        {PayloadType::kEap, 0, 1},        {PayloadType::kSa, 0, 1},
        {PayloadType::kTsi, 0, 1},        {PayloadType::kTsr, 0, 1},
        {PayloadType::kCp, 0, 1},         {PayloadType::kVendorId, 0, kMany},
};
constexpr PayloadRule kIkeAuthResponse[] = {
        {PayloadType::kNotify, 0, kMany}, {PayloadType::kIdr, 0, 1},
        {PayloadType::kCert, 0, kMany},   {PayloadType::kAuth, 0, 1},
        {PayloadType::kEap, 0, 1},        {PayloadType::kSa, 0, 1},
        {PayloadType::kTsi, 0, 1},        {PayloadType::kTsr, 0, 1},
        {PayloadType::kCp, 0, 1},         {PayloadType::kVendorId, 0, kMany},
};
// RFC 7296 §1.3: HDR, SK {[N(REKEY_SA)], SA, Ni, [KEi], [TSi, TSr]}; the response may be a
// lone error notify (NO_PROPOSAL_CHOSEN, TS_UNACCEPTABLE, RFC 9611 TS_MAX_QUEUE, ...).
constexpr PayloadRule kCreateChildSaRequest[] = {
        {PayloadType::kNotify, 0, kMany}, {PayloadType::kSa, 1, 1},
        {PayloadType::kNonce, 1, 1},      {PayloadType::kKe, 0, 1},
        {PayloadType::kTsi, 0, 1},        {PayloadType::kTsr, 0, 1},
        {PayloadType::kCp, 0, 1},         {PayloadType::kVendorId, 0, kMany},
};
constexpr PayloadRule kCreateChildSaResponse[] = {
        {PayloadType::kNotify, 0, kMany}, {PayloadType::kSa, 0, 1},
        {PayloadType::kNonce, 0, 1},      {PayloadType::kKe, 0, 1},
        {PayloadType::kTsi, 0, 1},        {PayloadType::kTsr, 0, 1},
        {PayloadType::kCp, 0, 1},         {PayloadType::kVendorId, 0, kMany},
};
// RFC 9370 §2.2.4: HDR, SK {KEi(n), N(ADDITIONAL_KEY_EXCHANGE)}; the response KEr(n) with the
// next round's notify, or a lone error notify (STATE_NOT_FOUND): IKE_INTERMEDIATE's rules.
constexpr PayloadRule kFollowupKeRequest[] = {
        {PayloadType::kNotify, 1, kMany},
        {PayloadType::kKe, 1, 1},
        {PayloadType::kVendorId, 0, kMany},
};
// RFC 9242 §3, RFC 9370 §2.2.2: HDR, SK {KEi(n)} / HDR, SK {KEr(n)}; an IKE_INTERMEDIATE may
// also be empty or carry notifies (the responder checks that a key exchange round has its KE).
constexpr PayloadRule kIkeIntermediate[] = {
        {PayloadType::kNotify, 0, kMany},
        {PayloadType::kKe, 0, 1},
        {PayloadType::kVendorId, 0, kMany},
};
// RFC 7296 §1.4: HDR, SK {[N,] [D,] [CP,] ...}.
constexpr PayloadRule kInformational[] = {
        {PayloadType::kNotify, 0, kMany},
        {PayloadType::kDelete, 0, kMany},
        {PayloadType::kCp, 0, 1},
        {PayloadType::kVendorId, 0, kMany},
};

Result<std::span<const PayloadRule>> rules_for(const Header& h) {
    const bool response = h.is_response();
    switch (h.exchange) {
        case ExchangeType::kIkeSaInit:
            return response ? std::span<const PayloadRule>(kIkeSaInitResponse)
                            : std::span<const PayloadRule>(kIkeSaInitRequest);
        case ExchangeType::kIkeAuth:
            return response ? std::span<const PayloadRule>(kIkeAuthResponse)
                            : std::span<const PayloadRule>(kIkeAuthRequest);
        case ExchangeType::kCreateChildSa:
            return response ? std::span<const PayloadRule>(kCreateChildSaResponse)
                            : std::span<const PayloadRule>(kCreateChildSaRequest);
        case ExchangeType::kInformational:
            return std::span<const PayloadRule>(kInformational);
        case ExchangeType::kIkeFollowupKe:
            return response ? std::span<const PayloadRule>(kIkeIntermediate)
                            : std::span<const PayloadRule>(kFollowupKeRequest);
        case ExchangeType::kIkeIntermediate:
            return std::span<const PayloadRule>(kIkeIntermediate);
        default:
            return make_error(Errc::kUnsupported, "rules: exchange type not supported", 0,
                              static_cast<std::uint8_t>(h.exchange));
    }
}

Status check_counts(std::span<const PayloadRule> rules, std::span<const Payload> payloads) {
    std::array<std::uint16_t, 256> counts{};
    for (const Payload& p : payloads) {
        const auto t = static_cast<std::uint8_t>(p.type);
        if (!is_known_payload_type(p.type)) {
            continue;  // non-critical unknown payloads are skipped (critical ones fail parsing)
        }
        bool allowed = false;
        for (const PayloadRule& r : rules) {
            allowed = allowed || r.type == p.type;
        }
        if (!allowed) {
            return error_with_notify(Errc::kRuleViolation, "rules: payload not allowed here",
                                     NotifyType::kInvalidSyntax, t);
        }
        ++counts[t];
    }
    for (const PayloadRule& r : rules) {
        const std::uint16_t n = counts[static_cast<std::uint8_t>(r.type)];
        if (n < r.min) {
            return error_with_notify(Errc::kRuleViolation, "rules: required payload missing",
                                     NotifyType::kInvalidSyntax, static_cast<std::uint8_t>(r.type));
        }
        if (n > r.max) {
            return error_with_notify(Errc::kRuleViolation, "rules: payload appears too often",
                                     NotifyType::kInvalidSyntax, static_cast<std::uint8_t>(r.type));
        }
    }
    return ok();
}

}  // namespace

Result<bool> is_encrypted_exchange(ExchangeType t) {
    switch (t) {
        case ExchangeType::kIkeSaInit:
            return false;
        case ExchangeType::kIkeAuth:
        case ExchangeType::kCreateChildSa:
        case ExchangeType::kInformational:
        case ExchangeType::kIkeFollowupKe:
        case ExchangeType::kIkeIntermediate:
            return true;
        default:
            return make_error(Errc::kUnsupported, "rules: exchange type not supported", 0,
                              static_cast<std::uint8_t>(t));
    }
}

Status check_header_rules(const Header& h) {
    if (h.spi_i.value() == 0) {
        return invalid_syntax("rules: initiator SPI is zero");
    }
    if (h.exchange == ExchangeType::kIkeSaInit) {
        if (h.message_id.value() != 0) {
            return invalid_syntax("rules: IKE_SA_INIT with a non-zero message id");
        }
        if (!h.is_response() && h.spi_r.value() != 0) {
            return invalid_syntax("rules: IKE_SA_INIT request with a responder SPI");
        }
    }
    return ok();
}

Status check_outer_rules(const Header& h, std::span<const Payload> outer) {
    const bool encrypted = IKEPLEX_TRY(is_encrypted_exchange(h.exchange));
    if (!encrypted) {
        for (const Payload& p : outer) {
            if (p.type == PayloadType::kSk || p.type == PayloadType::kSkf) {
                return error_with_notify(
                        Errc::kRuleViolation, "rules: encrypted payload in IKE_SA_INIT",
                        NotifyType::kInvalidSyntax, static_cast<std::uint8_t>(p.type));
            }
        }
        return check_counts(IKEPLEX_TRY(rules_for(h)), outer);
    }
    // RFC 7296 §3.14: after IKE_SA_INIT everything is inside SK (or SKF, RFC 7383), which is
    // the last payload; only payloads we do not know (and may skip) can precede it.
    if (outer.empty()) {
        return error_with_notify(Errc::kRuleViolation, "rules: encrypted exchange without SK",
                                 NotifyType::kInvalidSyntax);
    }
    for (std::size_t i = 0; i + 1 < outer.size(); ++i) {
        if (is_known_payload_type(outer[i].type)) {
            return error_with_notify(
                    Errc::kRuleViolation, "rules: unencrypted payload in an encrypted exchange",
                    NotifyType::kInvalidSyntax, static_cast<std::uint8_t>(outer[i].type));
        }
    }
    const PayloadType last = outer.back().type;
    if (last != PayloadType::kSk && last != PayloadType::kSkf) {
        return error_with_notify(Errc::kRuleViolation, "rules: encrypted exchange without SK",
                                 NotifyType::kInvalidSyntax, static_cast<std::uint8_t>(last));
    }
    return ok();
}

Status check_inner_rules(const Header& h, std::span<const Payload> inner) {
    const bool encrypted = IKEPLEX_TRY(is_encrypted_exchange(h.exchange));
    if (!encrypted) {
        return error_with_notify(Errc::kRuleViolation, "rules: IKE_SA_INIT has no SK contents",
                                 NotifyType::kInvalidSyntax);
    }
    return check_counts(IKEPLEX_TRY(rules_for(h)), inner);
}

}  // namespace ikeplex::wire
