#include "wire/describe.h"

#include <fmt/format.h>

#include "wire/names.h"
#include "wire/notify_codes.h"

namespace ikeplex::wire {
namespace {

std::string describe_payload(const Payload& p) {
    if (const auto* n = p.as<NotifyPayload>()) {
        return fmt::format("N({})", short_name(n->type));
    }
    if (const auto* e = p.as<EapPayload>()) {
        std::string s = "EAP/";
        const std::string code = to_string(e->code);
        // strongSwan: EAP/REQ/ID, EAP/RES/MD5, EAP/SUCC, EAP/FAIL
        switch (e->code) {
            case EapCode::kRequest:
                s += "REQ";
                break;
            case EapCode::kResponse:
                s += "RES";
                break;
            case EapCode::kSuccess:
                s += "SUCC";
                break;
            case EapCode::kFailure:
                s += "FAIL";
                break;
            default:
                s += code;
                break;
        }
        if (!e->data.empty()) {
            s += "/" + eap_type_short_name(e->data.front());
        }
        return s;
    }
    if (const auto* cp = p.as<CpPayload>()) {
        std::string s;
        switch (cp->cfg_type) {
            case CfgType::kRequest:
                s = "CPRQ";
                break;
            case CfgType::kReply:
                s = "CPRP";
                break;
            case CfgType::kSet:
                s = "CPS";
                break;
            case CfgType::kAck:
                s = "CPA";
                break;
            default:
                s = to_string(cp->cfg_type);
                break;
        }
        s += "(";
        for (std::size_t i = 0; i < cp->attributes.size(); ++i) {
            if (i > 0) {
                s += " ";
            }
            s += config_attribute_short_name(cp->attributes[i].type);
        }
        return s + ")";
    }
    if (const auto* f = p.as<SkfPayload>()) {
        return fmt::format("EF({}/{})", f->fragment_number, f->total_fragments);
    }
    return short_name(p.type);
}

}  // namespace

std::string describe(const Header& h, std::span<const Payload> payloads) {
    std::string s = fmt::format("{} {} {} [ ", to_string(h.exchange),
                                h.is_response() ? "response" : "request", h.message_id.value());
    for (const Payload& p : payloads) {
        s += describe_payload(p);
        s += ' ';
    }
    s += ']';
    return s;
}

std::string describe(const Message& m) {
    return describe(m.header, m.payloads);
}

std::string describe(const Error& e) {
    std::string s = e.to_string();
    if (auto n = notify_of(e)) {
        s += " -> " + to_string(*n);
    }
    return s;
}

}  // namespace ikeplex::wire
