#include "wire/message.h"

#include <utility>

#include "wire/notify_codes.h"
#include "wire/payload_codec.h"

namespace ikeplex::wire {
namespace {

// Generic payload header, RFC 7296 §3.2:
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Next Payload  |C|  RESERVED   |         Payload Length        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
constexpr std::uint8_t kCriticalBit = 0x80;

bool is_encrypted(PayloadType t) noexcept {
    return t == PayloadType::kSk || t == PayloadType::kSkf;
}

/// Errors inside a payload are INVALID_SYNTAX for the peer unless they already name a notify.
Error as_syntax_error(Error e) {
    if (e.notify == 0) {
        e.notify = static_cast<std::uint16_t>(NotifyType::kInvalidSyntax);
    }
    return e;
}

enum class ChainKind { kOuter, kInner };

Result<std::vector<Payload>> parse_chain(PayloadType first, Reader& r, ChainKind kind) {
    std::vector<Payload> out;
    PayloadType type = first;
    while (type != PayloadType::kNone) {
        if (r.empty()) {
            return invalid_syntax("payload chain: next payload announced past the end",
                                  static_cast<std::uint8_t>(type));
        }
        const auto next =
                static_cast<PayloadType>(IKEPLEX_TRY(r.read_u8("payload header: next payload")));
        const std::uint8_t flags = IKEPLEX_TRY(r.read_u8("payload header: flags"));
        const std::uint16_t len = IKEPLEX_TRY(r.read_u16("payload header: length"));
        const ByteView body =
                IKEPLEX_TRY(codec::substructure(r, len, "payload header: length below 4",
                                                "payload header: length exceeds the message"))
                        .read_rest();
        Payload p;
        p.type = type;
        p.critical = (flags & kCriticalBit) != 0;
        if (is_known_payload_type(type)) {
            if (kind == ChainKind::kInner && is_encrypted(type)) {
                return invalid_syntax("payload chain: encrypted payload inside SK",
                                      static_cast<std::uint8_t>(type));
            }
            auto parsed = codec::parse_body(type, next, body);
            if (!parsed) {
                return as_syntax_error(std::move(parsed).error());
            }
            p.body = std::move(parsed).value();
        } else if (p.critical) {
            // RFC 7296 §2.5: reject, and answer with UNSUPPORTED_CRITICAL_PAYLOAD carrying
            // the one-octet payload type.
            return error_with_notify(Errc::kUnsupportedCritical,
                                     "payload chain: unknown payload with the critical bit",
                                     NotifyType::kUnsupportedCriticalPayload,
                                     static_cast<std::uint8_t>(type));
        } else {
            p.body = UnknownPayload{{body.begin(), body.end()}};
        }
        out.push_back(std::move(p));
        if (is_encrypted(type)) {
            // RFC 7296 §3.14: the Encrypted payload is the last payload; its Next Payload field
            // names the first payload inside it.
            if (!r.empty()) {
                return invalid_syntax("payload chain: data after the encrypted payload");
            }
            return out;
        }
        type = next;
    }
    if (!r.empty()) {
        return invalid_syntax("payload chain: data after the last payload");
    }
    return out;
}

Status write_chain(Writer& w, std::span<const Payload> payloads) {
    for (std::size_t i = 0; i < payloads.size(); ++i) {
        const Payload& p = payloads[i];
        const bool last = i + 1 == payloads.size();
        PayloadType next = last ? PayloadType::kNone : payloads[i + 1].type;
        if (const auto* sk = p.as<SkPayload>()) {
            next = sk->first_inner;
        } else if (const auto* skf = p.as<SkfPayload>()) {
            next = skf->first_inner;
        }
        if (is_encrypted(p.type) && !last) {
            return make_error(Errc::kInvalidArgument, "write: encrypted payload is not the last");
        }
        if (p.type == PayloadType::kNone) {
            return make_error(Errc::kInvalidArgument, "write: payload of type NONE");
        }
        const std::size_t start = w.size();
        w.write_u8(static_cast<std::uint8_t>(next));
        w.write_u8(p.critical ? kCriticalBit : 0);
        const auto mark = w.reserve_u16_length(start);
        IKEPLEX_TRY(codec::write_body(w, p));
        IKEPLEX_TRY(w.patch_length(mark, "payload header: length"));
    }
    return ok();
}

}  // namespace

const Payload* Message::find(PayloadType t) const noexcept {
    for (const Payload& p : payloads) {
        if (p.type == t) {
            return &p;
        }
    }
    return nullptr;
}

const SkPayload* Message::sk() const noexcept {
    const Payload* p = find(PayloadType::kSk);
    return p != nullptr ? p->as<SkPayload>() : nullptr;
}

const SkfPayload* Message::skf() const noexcept {
    const Payload* p = find(PayloadType::kSkf);
    return p != nullptr ? p->as<SkfPayload>() : nullptr;
}

Result<Header> peek_header(ByteView datagram) {
    Reader r(datagram);
    return IKEPLEX_TRY(parse_header(r, datagram.size())).header;
}

Result<Message> parse_message(ByteView datagram) {
    Reader r(datagram);
    const ParsedHeader h = IKEPLEX_TRY(parse_header(r, datagram.size()));
    Message m;
    m.header = h.header;
    m.payloads = IKEPLEX_TRY(parse_chain(h.next_payload, r, ChainKind::kOuter));
    return m;
}

Result<Bytes> write_message(const Message& m) {
    Writer w;
    const PayloadType first = m.payloads.empty() ? PayloadType::kNone : m.payloads.front().type;
    const auto mark = write_header(w, m.header, first);
    IKEPLEX_TRY(write_chain(w, m.payloads));
    IKEPLEX_TRY(w.patch_length(mark, "header: length"));
    return std::move(w).take();
}

Result<std::vector<Payload>> parse_payload_chain(PayloadType first, ByteView bytes) {
    Reader r(bytes);
    return parse_chain(first, r, ChainKind::kInner);
}

Result<Bytes> write_payload_chain(std::span<const Payload> payloads) {
    for (const Payload& p : payloads) {
        if (is_encrypted(p.type)) {
            return make_error(Errc::kInvalidArgument, "write: encrypted payload inside SK");
        }
    }
    Writer w;
    IKEPLEX_TRY(write_chain(w, payloads));
    return std::move(w).take();
}

}  // namespace ikeplex::wire
