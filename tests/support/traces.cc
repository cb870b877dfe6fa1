#include "traces.h"

namespace ikeplex::test {

const wire::NotifyPayload* notify_in(const ike::MessageTrace& m, wire::NotifyType type) {
    for (const wire::Payload& p : m.payloads) {
        if (const auto* n = p.as<wire::NotifyPayload>(); n != nullptr && n->type == type) {
            return n;
        }
    }
    return nullptr;
}

std::optional<Spi> spi_from(ByteView data) {
    if (data.size() != 4) {
        return std::nullopt;
    }
    std::uint32_t v = 0;
    for (std::uint8_t b : data) {
        v = (v << 8U) | b;
    }
    return Spi(v);
}

namespace {

const wire::Proposal* first_proposal(const ike::MessageTrace& m) {
    for (const wire::Payload& p : m.payloads) {
        if (const auto* sa = p.as<wire::SaPayload>(); sa != nullptr && !sa->proposals.empty()) {
            return &sa->proposals.front();
        }
    }
    return nullptr;
}

}  // namespace

std::optional<Spi> proposed_spi(const ike::MessageTrace& m) {
    const wire::Proposal* p = first_proposal(m);
    return p != nullptr ? spi_from(p->spi) : std::nullopt;
}

std::optional<IkeSpi> proposed_ike_spi(const ike::MessageTrace& m) {
    const wire::Proposal* p = first_proposal(m);
    if (p == nullptr || p->spi.size() != 8) {
        return std::nullopt;
    }
    std::uint64_t v = 0;
    for (std::uint8_t b : p->spi) {
        v = (v << 8U) | b;
    }
    return IkeSpi(v);
}

std::vector<Spi> deleted_spis(const ike::MessageTrace& m) {
    std::vector<Spi> out;
    for (const wire::Payload& p : m.payloads) {
        if (const auto* d = p.as<wire::DeletePayload>();
            d != nullptr && d->protocol == wire::ProtocolId::kEsp) {
            out.insert(out.end(), d->spis.begin(), d->spis.end());
        }
    }
    return out;
}

bool deletes_ike(const ike::MessageTrace& m) {
    for (const wire::Payload& p : m.payloads) {
        if (const auto* d = p.as<wire::DeletePayload>();
            d != nullptr && d->protocol == wire::ProtocolId::kIke) {
            return true;
        }
    }
    return false;
}

Bytes nonce_of(const ike::MessageTrace& m) {
    for (const wire::Payload& p : m.payloads) {
        if (const auto* n = p.as<wire::NoncePayload>()) {
            return n->data;
        }
    }
    return {};
}

std::uint16_t ke_group_of(const ike::MessageTrace& m) {
    for (const wire::Payload& p : m.payloads) {
        if (const auto* k = p.as<wire::KePayload>()) {
            return k->group;
        }
    }
    return 0;
}

namespace {

std::vector<const ike::MessageTrace*> informational_requests(const Node& n) {
    return n.find(
            {.sent = true, .exchange = wire::ExchangeType::kInformational, .response = false});
}

}  // namespace

std::vector<Spi> deleted_child_spis(const Node& n) {
    std::vector<Spi> out;
    for (const ike::MessageTrace* m : informational_requests(n)) {
        const auto spis = deleted_spis(*m);
        out.insert(out.end(), spis.begin(), spis.end());
    }
    return out;
}

std::vector<IkeSpis> deleted_ike_sas(const Node& n) {
    std::vector<IkeSpis> out;
    for (const ike::MessageTrace* m : informational_requests(n)) {
        if (deletes_ike(*m)) {
            out.emplace_back(m->header.spi_i, m->header.spi_r);
        }
    }
    return out;
}

}  // namespace ikeplex::test
