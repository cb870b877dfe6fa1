// EAP-TLS framing (RFC 5216 §3.1, §3.2): the Flags octet, the TLS Message Length, acks,
// fragmentation of outgoing TLS messages and reassembly of incoming ones. No TLS here: the
// bytes are opaque. Internal to the eap layer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "util/bytes.h"
#include "util/result.h"

namespace ikeplex::eap::tls {

/// RFC 5216 §3.1 Flags: L (length included), M (more fragments), S (start); the other five
/// bits are reserved (sent as zero, ignored on receipt).
inline constexpr std::uint8_t kFlagLength = 0x80;
inline constexpr std::uint8_t kFlagMore = 0x40;
inline constexpr std::uint8_t kFlagStart = 0x20;
/// Code, Identifier, Length, Type, Flags: what every EAP-TLS packet spends before its data.
inline constexpr std::size_t kHeaderSize = 6;
inline constexpr std::size_t kLengthFieldSize = 4;
inline constexpr std::size_t kMinFragmentSize = 16;

/// One received EAP-TLS Type-Data (Flags [TLS Message Length] [TLS Data]); `data` points into
/// the packet.
struct Fragment {
    std::uint8_t flags{0};
    std::optional<std::uint32_t> message_length;  ///< with the L flag
    ByteView data;
};

/// kTruncated if the Flags octet or the announced length field is missing.
Result<Fragment> parse(ByteView type_data);
/// An acknowledgement (§3.2: "EAP-Request/Response with no data"): no data, and neither L, M
/// nor S.
bool is_ack(const Fragment& f) noexcept;
/// Type-Data of an acknowledgement and of the server's EAP-TLS/Start.
Bytes ack_type_data();
Bytes start_type_data();

/// Collects the fragments of one incoming TLS message: the first fragment of a fragmented
/// message carries L (RFC 5216 §3.1 MUST), later ones may repeat the same length; the total is
/// bounded by `cap` and by the announced length, and must equal it at the end.
class Reassembler {
public:
    explicit Reassembler(std::size_t cap) noexcept : cap_(cap) {}
    /// A fragment with data. nullopt: more to come (acknowledge it); a value: the whole message.
    Result<std::optional<Bytes>> add(const Fragment& f);
    [[nodiscard]] bool in_progress() const noexcept { return in_progress_; }

private:
    std::size_t cap_;
    bool in_progress_{false};
    std::optional<std::uint32_t> announced_;
    Bytes buffer_;
};

/// Cuts one outgoing TLS message into Type-Data of at most `fragment_size` EAP bytes each: the
/// first carries L and the TLS Message Length (also when it is the only one), all but the last
/// carry M.
class Fragmenter {
public:
    explicit Fragmenter(std::size_t fragment_size) noexcept : fragment_size_(fragment_size) {}
    void load(Bytes message);
    [[nodiscard]] bool pending() const noexcept { return offset_ < message_.size(); }
    /// The next fragment's Type-Data (pending() must be true).
    Bytes next();

private:
    std::size_t fragment_size_;
    Bytes message_;
    std::size_t offset_{0};
};

}  // namespace ikeplex::eap::tls
