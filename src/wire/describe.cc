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
        // strongSwan: EAP/REQ/ID, EAP/RES/MD5, EAP/SUCC, EAP/FAIL
        std::string s = "EAP/" + short_name(e->code);
        if (!e->data.empty()) {
            s += "/" + eap_type_short_name(e->data.front());
        }
        return s;
    }
    if (const auto* cp = p.as<CpPayload>()) {
        std::string s = short_name(cp->cfg_type) + "(";
        for (std::size_t i = 0; i < cp->attributes.size(); ++i) {
            s += (i > 0 ? " " : "") + config_attribute_short_name(cp->attributes[i].type);
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
