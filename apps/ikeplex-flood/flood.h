// ikeplex-flood's message side: the datagrams a hostile or unlucky peer sends (IKE_SA_INIT
// requests, with or without an echoed COOKIE; junk for unknown IKE SAs), a spoofed IPv4/UDP
// packet around them, and the classification of the responder's replies.
#pragma once

#include <cstdint>
#include <optional>

#include "util/bytes.h"
#include "util/ip_address.h"
#include "util/result.h"
#include "wire/message.h"

namespace ikeplex::flood {

/// A fast non-cryptographic generator (xorshift64*) for SPIs, junk and spoofed sources:
/// a load generator needs variety, not secrecy.
class FastRandom {
public:
    explicit FastRandom(std::uint64_t seed) noexcept : state_(seed != 0 ? seed : 1) {}
    std::uint64_t next() noexcept {
        state_ ^= state_ >> 12;
        state_ ^= state_ << 25;
        state_ ^= state_ >> 27;
        return state_ * 0x2545F4914F6CDD1DULL;
    }
    void fill(MutByteView out) noexcept;

private:
    std::uint64_t state_;
};

/// Builds IKE_SA_INIT requests that differ only in their SPI (and an optional COOKIE): one
/// proposal, one KE payload and one nonce for the whole run, as a flood that costs the sender
/// nothing would have them.
class InitBuilder {
public:
    static Result<InitBuilder> create(std::string_view proposals, FastRandom& rng);
    /// The request with initiator SPI `spi`, preceded by a COOKIE notify if `cookie` is set.
    [[nodiscard]] Result<Bytes> request(IkeSpi spi, const Bytes* cookie = nullptr) const;

private:
    explicit InitBuilder(wire::Message m) : message_(std::move(m)) {}
    wire::Message message_;
};

/// A datagram for an IKE SA that does not exist: a header with random SPIs and an SK payload
/// of random bytes (what a blind attacker or a peer that lost its state sends).
Bytes junk_datagram(FastRandom& rng);

/// An IPv4 header + UDP header + `payload` from `src:sport` to `dst:dport` for a raw socket
/// (IPPROTO_RAW: the kernel fills in the IP checksum; UDP checksum 0 = none, RFC 768).
Bytes ipv4_udp_packet(const IpAddress& src, std::uint16_t sport, const IpAddress& dst,
                      std::uint16_t dport, ByteView payload);

/// What a reply to an IKE_SA_INIT request was.
enum class ReplyKind : std::uint8_t {
    kCookie,    ///< a COOKIE to echo (the responder keeps no state yet)
    kHalfOpen,  ///< SA + KE + Nonce: the responder now holds a half-open IKE SA
    kRefused,   ///< an error notify (NO_PROPOSAL_CHOSEN, INVALID_KE_PAYLOAD, ...)
    kOther,     ///< anything else (another exchange, malformed)
};

struct Reply {
    ReplyKind kind{ReplyKind::kOther};
    IkeSpi spi_i;
    Bytes cookie;  ///< the COOKIE data when kind == kCookie
};

Reply classify_reply(ByteView datagram);

}  // namespace ikeplex::flood
