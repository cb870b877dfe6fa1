#include "vici/packet.h"

#include <utility>

#include "util/reader.h"
#include "util/writer.h"

namespace ikeplex::vici {
namespace {

constexpr std::uint8_t kLastType = static_cast<std::uint8_t>(PacketType::kEvent);

Error frame_too_long(std::uint32_t length) {
    return make_error(Errc::kTooLarge, "vici: frame longer than the limit", 0, length);
}

}  // namespace

bool is_named(PacketType t) noexcept {
    return t == PacketType::kCmdRequest || t == PacketType::kEventRegister ||
           t == PacketType::kEventUnregister || t == PacketType::kEvent;
}

bool has_message(PacketType t) noexcept {
    return t == PacketType::kCmdRequest || t == PacketType::kCmdResponse || t == PacketType::kEvent;
}

const char* to_string(PacketType t) noexcept {
    switch (t) {
        case PacketType::kCmdRequest:
            return "CMD_REQUEST";
        case PacketType::kCmdResponse:
            return "CMD_RESPONSE";
        case PacketType::kCmdUnknown:
            return "CMD_UNKNOWN";
        case PacketType::kEventRegister:
            return "EVENT_REGISTER";
        case PacketType::kEventUnregister:
            return "EVENT_UNREGISTER";
        case PacketType::kEventConfirm:
            return "EVENT_CONFIRM";
        case PacketType::kEventUnknown:
            return "EVENT_UNKNOWN";
        case PacketType::kEvent:
            return "EVENT";
    }
    return "UNKNOWN";
}

Result<Bytes> encode_packet(const Packet& p) {
    if (static_cast<std::uint8_t>(p.type) > kLastType) {
        return make_error(Errc::kInvalidArgument, "vici: unknown packet type", 0,
                          static_cast<std::uint8_t>(p.type));
    }
    Writer w;
    w.write_u8(static_cast<std::uint8_t>(p.type));
    if (is_named(p.type)) {
        if (p.name.empty()) {
            return make_error(Errc::kInvalidArgument, "vici: packet type needs a name");
        }
        if (p.name.size() > kMaxNameLength) {
            return make_error(Errc::kTooLarge, "vici: packet name longer than 255 bytes", 0,
                              static_cast<std::uint32_t>(p.name.size()));
        }
        w.write_u8(static_cast<std::uint8_t>(p.name.size()));
        w.write_bytes(as_bytes(p.name));
    } else if (!p.name.empty()) {
        return make_error(Errc::kInvalidArgument, "vici: packet type has no name");
    }
    if (has_message(p.type)) {
        IKEPLEX_TRY(encode(p.message, w));
    } else if (!p.message.empty()) {
        return make_error(Errc::kInvalidArgument, "vici: packet type has no message");
    }
    if (w.size() > kMaxFrameLength) {
        return make_error(Errc::kTooLarge, "vici: packet longer than the frame limit", 0,
                          static_cast<std::uint32_t>(w.size()));
    }
    return std::move(w).take();
}

Result<Bytes> encode_frame(const Packet& p) {
    const Bytes payload = IKEPLEX_TRY(encode_packet(p));
    Writer w;
    w.write_u32(static_cast<std::uint32_t>(payload.size()));
    w.write_bytes(payload);
    return std::move(w).take();
}

Result<Packet> decode_packet(ByteView payload) {
    if (payload.size() > kMaxFrameLength) {
        return make_error(Errc::kTooLarge, "vici: packet longer than the frame limit", 0,
                          static_cast<std::uint32_t>(payload.size()));
    }
    Reader r(payload);
    const std::uint8_t type = IKEPLEX_TRY(r.read_u8("vici: packet type"));
    if (type > kLastType) {
        return make_error(Errc::kUnsupported, "vici: unknown packet type", 0, type);
    }
    Packet p;
    p.type = static_cast<PacketType>(type);
    if (is_named(p.type)) {
        const std::uint8_t len = IKEPLEX_TRY(r.read_u8("vici: packet name length"));
        if (len == 0) {
            return make_error(Errc::kInvalidSyntax, "vici: empty packet name");
        }
        const ByteView name = IKEPLEX_TRY(r.read_bytes(len, "vici: packet name"));
        p.name.assign(name.begin(), name.end());
    }
    if (has_message(p.type)) {
        p.message = IKEPLEX_TRY(decode(r.read_rest()));
    } else if (!r.empty()) {
        return make_error(Errc::kBadLength, "vici: bytes after a packet without message", 0,
                          static_cast<std::uint32_t>(r.remaining()));
    }
    return p;
}

void FrameReader::feed(ByteView chunk) {
    if (failed_ || chunk.empty()) {
        return;
    }
    // Drop what has been returned before the buffer grows (keeps it at about one frame).
    if (pos_ != 0) {
        buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos_));
        pos_ = 0;
    }
    buf_.insert(buf_.end(), chunk.begin(), chunk.end());
}

Result<std::optional<Packet>> FrameReader::next() {
    if (failed_) {
        return frame_too_long(failed_length_);
    }
    Reader r(ByteView(buf_).subspan(pos_));
    auto length = r.read_u32("vici: frame length");
    if (!length) {
        settle();
        return std::optional<Packet>{};
    }
    if (*length > max_length_) {
        failed_ = true;
        failed_length_ = *length;
        buf_ = Bytes{};
        pos_ = 0;
        return frame_too_long(failed_length_);
    }
    auto data = r.read_bytes(*length, "vici: frame data");
    if (!data) {
        return std::optional<Packet>{};
    }
    pos_ += kFrameHeaderLength + *length;
    auto packet = decode_packet(*data);
    if (!packet) {
        return std::move(packet).error();
    }
    return std::optional<Packet>(std::move(packet).value());
}

void FrameReader::settle() {
    if (pos_ != buf_.size()) {
        return;
    }
    if (buf_.capacity() > kKeepCapacity) {
        buf_ = Bytes{};
    } else {
        buf_.clear();
    }
    pos_ = 0;
}

}  // namespace ikeplex::vici
