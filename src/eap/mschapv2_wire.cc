// EAP-MSCHAPv2 framing; see mschapv2_wire.h.
#include "eap/mschapv2_wire.h"

#include <algorithm>
#include <charconv>
#include <vector>

#include "util/hex.h"
#include "util/reader.h"

namespace ikeplex::eap::mschapv2 {
namespace {

constexpr std::size_t kChallengeSize = 16;
constexpr std::size_t kNtResponseSize = 24;
constexpr std::size_t kReservedSize = 8;
constexpr std::size_t kAuthHexSize = 40;

std::string_view as_text(ByteView data) {
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): bytes viewed as chars
    std::string_view s(reinterpret_cast<const char*>(data.data()), data.size());
    while (!s.empty() && s.back() == '\0') {
        s.remove_suffix(1);
    }
    return s;
}

bool all_hex(std::string_view s) {
    for (const char c : s) {
        const bool digit = c >= '0' && c <= '9';
        const bool upper = c >= 'A' && c <= 'F';
        const bool lower = c >= 'a' && c <= 'f';
        if (!digit && !upper && !lower) {
            return false;
        }
    }
    return true;
}

/// The space-separated fields of a message, M= taking the rest of the text (RFC 2759 §6).
std::vector<std::string_view> fields(std::string_view text) {
    std::vector<std::string_view> out;
    while (!text.empty()) {
        if (text.front() == ' ') {
            text.remove_prefix(1);
            continue;
        }
        if (text.substr(0, 2) == "M=") {
            out.push_back(text);
            break;
        }
        const std::size_t end = text.find(' ');
        out.push_back(text.substr(0, end));
        text = end == std::string_view::npos ? std::string_view() : text.substr(end);
    }
    return out;
}

std::optional<unsigned> parse_unsigned(std::string_view s) {
    unsigned v = 0;
    const char* end = s.data() + s.size();
    const auto [ptr, ec] = std::from_chars(s.data(), end, v);
    if (s.empty() || ec != std::errc() || ptr != end) {
        return std::nullopt;
    }
    return v;
}

std::string upper_hex(ByteView data) {
    static constexpr std::string_view kDigits = "0123456789ABCDEF";
    std::string s;
    for (const std::uint8_t b : data) {
        s.push_back(kDigits[b >> 4U]);
        s.push_back(kDigits[b & 0x0fU]);
    }
    return s;
}

}  // namespace

Bytes encode(OpCode op, std::uint8_t ms_id, ByteView data) {
    const std::size_t ms_length = 4 + data.size();
    Bytes out{static_cast<std::uint8_t>(op), ms_id, static_cast<std::uint8_t>(ms_length >> 8U),
              static_cast<std::uint8_t>(ms_length & 0xffU)};
    out.insert(out.end(), data.begin(), data.end());
    return out;
}

Bytes encode_ack(OpCode op) {
    return Bytes{static_cast<std::uint8_t>(op)};
}

Result<OpCode> opcode_of(ByteView type_data) {
    if (type_data.empty()) {
        return make_error(Errc::kTruncated, "MS-CHAPv2: no OpCode");
    }
    return static_cast<OpCode>(type_data[0]);
}

Result<Message> decode(ByteView type_data) {
    Reader r(type_data);
    Message m;
    m.op = static_cast<OpCode>(IKEPLEX_TRY(r.read_u8("MS-CHAPv2 OpCode")));
    m.ms_id = IKEPLEX_TRY(r.read_u8("MS-CHAPv2-ID"));
    (void)IKEPLEX_TRY(r.read_u16("MS-Length"));
    m.data = r.read_rest();
    return m;
}

Bytes encode_challenge_data(ByteView challenge, std::string_view name) {
    Bytes out{static_cast<std::uint8_t>(challenge.size())};
    out.insert(out.end(), challenge.begin(), challenge.end());
    const ByteView n = as_bytes(name);
    out.insert(out.end(), n.begin(), n.end());
    return out;
}

Result<Challenge> decode_challenge_data(ByteView data) {
    Reader r(data);
    if (IKEPLEX_TRY(r.read_u8("MS-CHAPv2 Value-Size")) != kChallengeSize) {
        return make_error(Errc::kInvalidSyntax, "MS-CHAPv2: challenge Value-Size is not 16");
    }
    Challenge c;
    c.challenge = IKEPLEX_TRY(r.read_bytes(kChallengeSize, "MS-CHAPv2 challenge"));
    const ByteView name = r.read_rest();
    if (name.empty()) {
        return make_error(Errc::kTruncated, "MS-CHAPv2: challenge without a Name");
    }
    c.name = std::string(as_text(name));
    return c;
}

Bytes encode_response_data(ByteView peer_challenge, ByteView nt_response, std::string_view name) {
    Bytes out{kResponseValueSize};
    out.insert(out.end(), peer_challenge.begin(), peer_challenge.end());
    out.insert(out.end(), kReservedSize, 0);
    out.insert(out.end(), nt_response.begin(), nt_response.end());
    out.push_back(0);  // Flags
    const ByteView n = as_bytes(name);
    out.insert(out.end(), n.begin(), n.end());
    return out;
}

Result<Response> decode_response_data(ByteView data) {
    Reader r(data);
    if (IKEPLEX_TRY(r.read_u8("MS-CHAPv2 Value-Size")) != kResponseValueSize) {
        return make_error(Errc::kInvalidSyntax, "MS-CHAPv2: response Value-Size is not 49");
    }
    Response resp;
    resp.peer_challenge = IKEPLEX_TRY(r.read_bytes(kChallengeSize, "MS-CHAPv2 Peer-Challenge"));
    (void)IKEPLEX_TRY(r.read_bytes(kReservedSize, "MS-CHAPv2 reserved"));
    resp.nt_response = IKEPLEX_TRY(r.read_bytes(kNtResponseSize, "MS-CHAPv2 NT-Response"));
    (void)IKEPLEX_TRY(r.read_u8("MS-CHAPv2 Flags"));
    const ByteView name = r.read_rest();
    resp.name = std::string(as_text(name.subspan(0, std::min(name.size(), kMaxNameSize))));
    return resp;
}

std::string success_message(ByteView auth_response, std::string_view message) {
    std::string s = "S=" + upper_hex(auth_response);
    if (!message.empty()) {
        s += " M=";
        s += message;
    }
    return s;
}

Result<Bytes> parse_success_message(ByteView data) {
    for (const std::string_view f : fields(as_text(data))) {
        if (f.substr(0, 2) != "S=") {
            continue;
        }
        const std::string_view digits = f.substr(2);
        if (digits.size() != kAuthHexSize || !all_hex(digits)) {
            return make_error(Errc::kInvalidSyntax, "MS-CHAPv2: S= is not 40 hex digits");
        }
        return from_hex(digits);
    }
    return make_error(Errc::kInvalidSyntax, "MS-CHAPv2: Success without S=");
}

std::string failure_message(unsigned error, bool retriable, ByteView challenge) {
    return "E=" + std::to_string(error) + (retriable ? " R=1 C=" : " R=0 C=") +
           upper_hex(challenge);
}

Failure parse_failure_message(ByteView data) {
    Failure f;
    for (const std::string_view field : fields(as_text(data))) {
        const std::string_view key = field.substr(0, 2);
        const std::string_view value = field.substr(std::min<std::size_t>(2, field.size()));
        if (key == "E=") {
            f.error = parse_unsigned(value);
        } else if (key == "R=") {
            f.retriable = value == "1";
        } else if (key == "C=" && value.size() == 2 * kChallengeSize && all_hex(value)) {
            auto c = from_hex(value);
            if (c) {
                f.challenge = std::move(*c);
            }
        }
    }
    return f;
}

}  // namespace ikeplex::eap::mschapv2
