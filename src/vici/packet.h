// VICI packets and their framing on a stream socket (strongSwan's vici README, "Transport
// protocol" and "Packet layer").
//
// Transport: each packet travels as a 32-bit big-endian length followed by that many bytes;
// the length counts the data only and may be at most 512 KiB (charon 5.9.8 logs "vici message
// length N exceeds 524288 bytes limit, ignored" and closes the connection above that).
// Packet: 1 byte type; named types (CMD_REQUEST, EVENT_REGISTER, EVENT_UNREGISTER, EVENT) then
// carry a 1-byte length and a 1..255 byte name; types with a message (CMD_REQUEST, CMD_RESPONSE,
// EVENT) end with it (message.h), the others end right there.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "util/bytes.h"
#include "util/result.h"
#include "vici/message.h"

namespace ikeplex::vici {

/// Packet types (the first byte of a packet).
enum class PacketType : std::uint8_t {
    kCmdRequest = 0,       ///< named request with a message (client → server)
    kCmdResponse = 1,      ///< response with a message
    kCmdUnknown = 2,       ///< the server has no such command
    kEventRegister = 3,    ///< named event registration
    kEventUnregister = 4,  ///< named event deregistration
    kEventConfirm = 5,     ///< (de)registration succeeded
    kEventUnknown = 6,     ///< no such event
    kEvent = 7,            ///< named event with a message (server → client)
};

/// Longest frame data (the length prefix not counted): 512 KiB.
inline constexpr std::size_t kMaxFrameLength = std::size_t{512} * 1024;
/// Size of the length prefix of a frame.
inline constexpr std::size_t kFrameHeaderLength = 4;

/// Whether packets of type `t` carry a name.
bool is_named(PacketType t) noexcept;
/// Whether packets of type `t` carry a message.
bool has_message(PacketType t) noexcept;
/// "CMD_REQUEST", ..., "EVENT"; "UNKNOWN" for values outside the enum.
const char* to_string(PacketType t) noexcept;

/// One packet. `name` is empty for unnamed types, `message` empty for types without one.
struct Packet {
    PacketType type{PacketType::kCmdRequest};
    std::string name;
    Message message;

    bool operator==(const Packet&) const = default;
};

/// The packet's bytes without the length prefix. kInvalidArgument when the fields do not fit
/// the type (a named type without a name, a name or a message on a type without one),
/// kTooLarge for a name over 255 bytes or a packet over kMaxFrameLength; message errors as in
/// encode(const Message&).
Result<Bytes> encode_packet(const Packet& p);
/// The packet with its 4-byte length prefix, ready to send (errors as encode_packet).
Result<Bytes> encode_frame(const Packet& p);
/// Reads one packet (the data of one frame). Errors: kTruncated (empty, or ends inside the
/// name), kUnsupported (unknown type, in `arg`; the stream is still in sync), kInvalidSyntax
/// (empty name), kBadLength (bytes after a packet type that has no message), kTooLarge (more
/// than kMaxFrameLength bytes), and the message errors of decode(ByteView).
Result<Packet> decode_packet(ByteView payload);

/// Splits a byte stream into packets. Feed it whatever the socket returned, then call next()
/// until it has no more:
///
///   reader.feed(chunk);
///   for (;;) {
///       auto p = reader.next();
///       if (!p) { if (reader.failed()) { close the connection; } else { log, skip }; ... }
///       else if (!*p) { break; }              // needs more bytes
///       else { handle(**p); }
///   }
///
/// A frame longer than the limit is fatal: next() returns kTooLarge as soon as its length
/// prefix is in, and from then on failed() is true and next() returns the same error. A frame
/// whose packet does not decode is consumed and its error returned once; the stream stays in
/// sync and the next call goes on with the following frame.
class FrameReader {
public:
    /// `max_length` is the longest frame data accepted (kMaxFrameLength by default).
    explicit FrameReader(std::size_t max_length = kMaxFrameLength) noexcept
        : max_length_(max_length) {}

    /// Appends received bytes (ignored once failed()).
    void feed(ByteView chunk);
    /// The next complete packet, std::nullopt when more bytes are needed, or an error.
    Result<std::optional<Packet>> next();

    /// Whether an over-long frame was seen; the connection must then be closed.
    [[nodiscard]] bool failed() const noexcept { return failed_; }
    /// Bytes received but not yet returned as packets.
    [[nodiscard]] std::size_t buffered() const noexcept { return buf_.size() - pos_; }
    /// Bytes the reader holds allocated. Once everything fed has been returned, a buffer that
    /// grew beyond kKeepCapacity (for a large frame) is given back.
    [[nodiscard]] std::size_t capacity() const noexcept { return buf_.capacity(); }
    static constexpr std::size_t kKeepCapacity = std::size_t{64} * 1024;

private:
    /// Everything returned: empties the buffer (and frees it if it grew large).
    void settle();

    Bytes buf_;
    std::size_t pos_{0};  ///< start of the first frame not yet returned
    std::size_t max_length_;
    bool failed_{false};
    std::uint32_t failed_length_{0};
};

}  // namespace ikeplex::vici
