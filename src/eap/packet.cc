// EAP packets (RFC 3748 §4) and method names.
#include <array>
#include <utility>

#include "eap/eap.h"
#include "util/reader.h"
#include "util/writer.h"

namespace ikeplex::eap {
namespace {

constexpr std::array<std::pair<Type, std::string_view>, 6> kNames{{
        {Type::kIdentity, "identity"},
        {Type::kNotification, "notification"},
        {Type::kNak, "nak"},
        {Type::kMd5, "md5"},
        {Type::kTls, "tls"},
        {Type::kMschapv2, "mschapv2"},
}};

bool has_type(Code c) {
    return c == Code::kRequest || c == Code::kResponse;
}

}  // namespace

std::string to_string(Type t) {
    for (const auto& [type, name] : kNames) {
        if (type == t) {
            return std::string(name);
        }
    }
    return "type " + std::to_string(static_cast<unsigned>(t));
}

std::optional<Type> type_from_name(std::string_view name) {
    for (const auto& [type, n] : kNames) {
        if (n == name) {
            return type;
        }
    }
    return std::nullopt;
}

Bytes encode(const Packet& p) {
    Writer w;
    w.write_u8(static_cast<std::uint8_t>(p.code));
    w.write_u8(p.identifier);
    const std::size_t length = 4 + (has_type(p.code) ? 1 + p.type_data.size() : 0);
    w.write_u16(static_cast<std::uint16_t>(length));
    if (has_type(p.code)) {
        w.write_u8(static_cast<std::uint8_t>(p.type));
        w.write_bytes(p.type_data);
    }
    return std::move(w).take();
}

Result<Packet> decode(ByteView bytes) {
    Reader r(bytes);
    Packet p;
    const std::uint8_t code = IKEPLEX_TRY(r.read_u8("EAP code"));
    if (code < 1 || code > 4) {
        return make_error(Errc::kInvalidSyntax, "EAP: unknown code");
    }
    p.code = static_cast<Code>(code);
    p.identifier = IKEPLEX_TRY(r.read_u8("EAP identifier"));
    const std::uint16_t length = IKEPLEX_TRY(r.read_u16("EAP length"));
    if (length < 4 || length > bytes.size()) {
        return make_error(Errc::kBadLength, "EAP: length disagrees with the packet");
    }
    Reader body = IKEPLEX_TRY(r.sub_reader(length - 4U, "EAP data"));
    if (!has_type(p.code)) {
        if (!body.empty()) {
            return make_error(Errc::kBadLength, "EAP: Success or Failure with data");
        }
        return p;
    }
    p.type = static_cast<Type>(IKEPLEX_TRY(body.read_u8("EAP type")));
    const ByteView data = body.read_rest();
    p.type_data.assign(data.begin(), data.end());
    return p;
}

}  // namespace ikeplex::eap
