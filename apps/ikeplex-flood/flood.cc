#include "flood.h"

#include <cstring>

#include "ike/proposal.h"
#include "util/writer.h"

namespace ikeplex::flood {

namespace {

/// Size of the KE data of a key exchange method (RFC 7296 §3.4; RFC 8031 for X25519/X448).
std::optional<std::size_t> ke_size(std::uint16_t group) {
    switch (group) {
        case 14:
            return 256;
        case 15:
            return 384;
        case 16:
            return 512;
        case 19:
            return 64;
        case 20:
            return 96;
        case 21:
            return 132;
        case 31:
            return 32;
        case 32:
            return 56;
        default:
            return std::nullopt;
    }
}

Bytes random_bytes(FastRandom& rng, std::size_t n) {
    Bytes b(n);
    rng.fill(b);
    return b;
}

}  // namespace

void FastRandom::fill(MutByteView out) noexcept {
    std::size_t i = 0;
    while (i < out.size()) {
        const std::uint64_t v = next();
        const std::size_t n = std::min<std::size_t>(8, out.size() - i);
        std::memcpy(out.data() + i, &v, n);
        i += n;
    }
}

Result<InitBuilder> InitBuilder::create(std::string_view proposals, FastRandom& rng) {
    auto parsed = ike::parse_proposals(proposals, wire::ProtocolId::kIke);
    if (!parsed) {
        return parsed.error();
    }
    std::optional<std::uint16_t> group;
    for (const auto& t : parsed->front().transforms) {
        if (t.type == wire::TransformType::kKe) {
            group = t.id;
            break;
        }
    }
    const auto size = group ? ke_size(*group) : std::nullopt;
    if (!size) {
        return make_error(Errc::kInvalidArgument,
                          "the proposal needs a key exchange method "
                          "the flood knows (x25519, ecp, modp)");
    }
    wire::Message m;
    m.header.exchange = wire::ExchangeType::kIkeSaInit;
    m.header.flags = wire::kFlagInitiator;
    m.payloads.push_back(wire::make_payload(wire::SaPayload{std::move(*parsed)}));
    m.payloads.push_back(wire::make_payload(wire::KePayload{*group, random_bytes(rng, *size)}));
    m.payloads.push_back(wire::make_payload(wire::NoncePayload{random_bytes(rng, 32)}));
    return InitBuilder(std::move(m));
}

Result<Bytes> InitBuilder::request(IkeSpi spi, const Bytes* cookie) const {
    if (cookie == nullptr) {
        wire::Message m{message_.header, message_.payloads};
        m.header.spi_i = spi;
        return wire::write_message(m);
    }
    wire::Message m;
    m.header = message_.header;
    m.header.spi_i = spi;
    m.payloads.reserve(message_.payloads.size() + 1);
    m.payloads.push_back(wire::make_notify(wire::NotifyType::kCookie, *cookie));
    m.payloads.insert(m.payloads.end(), message_.payloads.begin(), message_.payloads.end());
    return wire::write_message(m);
}

Bytes junk_datagram(FastRandom& rng) {
    Writer w;
    w.write_u64(rng.next() | 1);  // SPIi: never zero
    w.write_u64(rng.next() | 1);
    w.write_u8(static_cast<std::uint8_t>(wire::PayloadType::kSk));
    w.write_u8(0x20);  // IKEv2
    w.write_u8(static_cast<std::uint8_t>(wire::ExchangeType::kInformational));
    w.write_u8(wire::kFlagInitiator);
    w.write_u32(static_cast<std::uint32_t>(rng.next() & 0xffff));
    const std::size_t body = 16 + (rng.next() % 64);  // IV, ciphertext, ICV of some size
    w.write_u32(static_cast<std::uint32_t>(28 + 4 + body));
    w.write_u8(0);  // SK: next payload
    w.write_u8(0);
    w.write_u16(static_cast<std::uint16_t>(4 + body));
    Bytes b = std::move(w).take();
    const std::size_t at = b.size();
    b.resize(at + body);
    rng.fill(MutByteView(b).subspan(at));
    return b;
}

Bytes ipv4_udp_packet(const IpAddress& src, std::uint16_t sport, const IpAddress& dst,
                      std::uint16_t dport, ByteView payload) {
    Writer w;
    w.write_u8(0x45);  // version 4, 5 words
    w.write_u8(0);
    w.write_u16(static_cast<std::uint16_t>(20 + 8 + payload.size()));
    w.write_u16(0);       // id: filled in by the kernel
    w.write_u16(0x4000);  // DF
    w.write_u8(64);
    w.write_u8(17);  // UDP
    w.write_u16(0);  // checksum: filled in by the kernel
    w.write_bytes(src.bytes());
    w.write_bytes(dst.bytes());
    w.write_u16(sport);
    w.write_u16(dport);
    w.write_u16(static_cast<std::uint16_t>(8 + payload.size()));
    w.write_u16(0);
    w.write_bytes(payload);
    return std::move(w).take();
}

Reply classify_reply(ByteView datagram) {
    Reply r;
    auto m = wire::parse_message(datagram);
    if (!m || m->header.exchange != wire::ExchangeType::kIkeSaInit || !m->header.is_response()) {
        return r;
    }
    r.spi_i = m->header.spi_i;
    bool sa = false;
    for (const auto& p : m->payloads) {
        if (const auto* n = p.as<wire::NotifyPayload>()) {
            if (n->type == wire::NotifyType::kCookie) {
                r.kind = ReplyKind::kCookie;
                r.cookie = n->data;
                return r;
            }
            if (static_cast<std::uint16_t>(n->type) < 16384) {
                r.kind = ReplyKind::kRefused;
                return r;
            }
        }
        sa = sa || p.type == wire::PayloadType::kSa;
    }
    r.kind = sa ? ReplyKind::kHalfOpen : ReplyKind::kOther;
    return r;
}

}  // namespace ikeplex::flood
