#include "wire/describe.h"

#include <fmt/format.h>

#include "util/hex.h"
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

std::string detail_sa(const SaPayload& sa) {
    std::string s;
    for (const Proposal& p : sa.proposals) {
        s += fmt::format("{}proposal {} {} (SPI {} bytes)", s.empty() ? "" : "; ", p.number,
                         to_string(p.protocol), p.spi.size());
        for (const Transform& t : p.transforms) {
            s += fmt::format(" {} {}", to_string(t.type), transform_name(t.type, t.id));
            if (auto kl = t.key_length()) {
                s += fmt::format("/{}", *kl);
            }
        }
    }
    return s;
}

std::string detail_ts(const TsPayload& ts) {
    std::string s;
    for (const TrafficSelector& t : ts.selectors) {
        s += fmt::format("{}{} proto {} ports {}-{} {}..{}", s.empty() ? "" : "; ",
                         to_string(t.type), t.ip_protocol, t.start_port, t.end_port,
                         to_hex(t.start_address), to_hex(t.end_address));
    }
    return s;
}

std::string detail_body(const Payload& p) {
    if (const auto* sa = p.as<SaPayload>()) {
        return detail_sa(*sa);
    }
    if (const auto* ke = p.as<KePayload>()) {
        return fmt::format("group {}, {} bytes", transform_name(TransformType::kKe, ke->group),
                           ke->data.size());
    }
    if (const auto* id = p.as<IdPayload>()) {
        return fmt::format("{} {}", to_string(id->id_type), to_hex(id->data));
    }
    if (const auto* a = p.as<AuthPayload>()) {
        return fmt::format("{}, {} bytes", to_string(a->method), a->data.size());
    }
    if (const auto* n = p.as<NotifyPayload>()) {
        return fmt::format("protocol {}, SPI {} bytes, data {} bytes", to_string(n->protocol),
                           n->spi.size(), n->data.size());
    }
    if (const auto* d = p.as<DeletePayload>()) {
        std::string spis;
        for (const Spi& spi : d->spis) {
            spis += fmt::format(" {:08x}", spi.value());
        }
        return fmt::format("protocol {}, {} SPI(s){}", to_string(d->protocol), d->spis.size(),
                           spis);
    }
    if (const auto* ts = p.as<TsPayload>()) {
        return detail_ts(*ts);
    }
    if (const auto* c = p.as<CertPayload>()) {
        return fmt::format("{}, {} bytes", to_string(c->encoding), c->data.size());
    }
    if (const auto* n = p.as<NoncePayload>()) {
        return fmt::format("{} bytes", n->data.size());
    }
    if (const auto* v = p.as<VendorIdPayload>()) {
        return to_hex(v->data);
    }
    return {};
}

}  // namespace

std::string describe_detail(const Payload& p) {
    std::string body = detail_body(p);
    return fmt::format("{}{}{}{}", describe_payload(p), p.critical ? " (critical)" : "",
                       body.empty() ? "" : ": ", body);
}

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
