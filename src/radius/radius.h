// RADIUS (RFC 2865 §3-5, RFC 2866) as a NAS speaks it: packets and their attributes, without
// sockets or keys. Signing, verification and the hidden attributes (Message-Authenticator,
// Response Authenticator, MS-MPPE keys, User-Password) are in radius/security.h; the
// asynchronous client with its retransmissions and servers is the daemon's
// (daemon/radius_client.h).
//
// Every decoding step checks lengths: a packet shorter than its Length field, a Length outside
// 20..4096, an attribute whose length is below 2 or runs past the packet, are errors (RFC 2865
// §3: "silently discarded" — the caller drops them).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/bytes.h"
#include "util/ip_address.h"
#include "util/result.h"

namespace ikeplex::radius {

/// RFC 2865 §3, RFC 2866 §3.
enum class Code : std::uint8_t {
    kAccessRequest = 1,
    kAccessAccept = 2,
    kAccessReject = 3,
    kAccountingRequest = 4,
    kAccountingResponse = 5,
    kAccessChallenge = 11,
};
/// "Access-Accept", ... ("Code N" otherwise).
std::string to_string(Code c);

/// Attribute types (RFC 2865 §5, RFC 2866 §5, RFC 2869 §5, RFC 3162, RFC 3579 §3).
namespace attr {
inline constexpr std::uint8_t kUserName = 1;
inline constexpr std::uint8_t kUserPassword = 2;
inline constexpr std::uint8_t kNasIpAddress = 4;
inline constexpr std::uint8_t kNasPort = 5;
inline constexpr std::uint8_t kServiceType = 6;
inline constexpr std::uint8_t kFramedIpAddress = 8;
inline constexpr std::uint8_t kReplyMessage = 18;
inline constexpr std::uint8_t kState = 24;
inline constexpr std::uint8_t kClass = 25;
inline constexpr std::uint8_t kVendorSpecific = 26;
inline constexpr std::uint8_t kSessionTimeout = 27;
inline constexpr std::uint8_t kCalledStationId = 30;
inline constexpr std::uint8_t kCallingStationId = 31;
inline constexpr std::uint8_t kNasIdentifier = 32;
inline constexpr std::uint8_t kAcctStatusType = 40;
inline constexpr std::uint8_t kAcctInputOctets = 42;
inline constexpr std::uint8_t kAcctOutputOctets = 43;
inline constexpr std::uint8_t kAcctSessionId = 44;
inline constexpr std::uint8_t kAcctSessionTime = 46;
inline constexpr std::uint8_t kAcctInputPackets = 47;
inline constexpr std::uint8_t kAcctOutputPackets = 48;
inline constexpr std::uint8_t kAcctTerminateCause = 49;
inline constexpr std::uint8_t kAcctInputGigawords = 52;
inline constexpr std::uint8_t kAcctOutputGigawords = 53;
inline constexpr std::uint8_t kNasPortType = 61;
inline constexpr std::uint8_t kEapMessage = 79;
inline constexpr std::uint8_t kMessageAuthenticator = 80;
inline constexpr std::uint8_t kAcctInterimInterval = 85;  ///< RFC 2869 §5.16
inline constexpr std::uint8_t kNasPortId = 87;
inline constexpr std::uint8_t kNasIpv6Address = 95;
}  // namespace attr

/// Values of the enumerated attributes ikeplex sends.
inline constexpr std::uint32_t kNasPortTypeVirtual = 5;  ///< RFC 2865 §5.41
inline constexpr std::uint32_t kServiceTypeFramed = 2;   ///< RFC 2865 §5.6
/// RFC 2866 §5.1 Acct-Status-Type.
enum class AcctStatus : std::uint32_t { kStart = 1, kStop = 2, kInterimUpdate = 3 };

/// RFC 2548: Microsoft's Vendor-Id and the MPPE key sub-attributes (§2.4.2, §2.4.3).
inline constexpr std::uint32_t kVendorMicrosoft = 311;
inline constexpr std::uint8_t kMsMppeSendKey = 16;
inline constexpr std::uint8_t kMsMppeRecvKey = 17;

inline constexpr std::size_t kHeaderSize = 20;
inline constexpr std::size_t kMinPacket = 20;    ///< RFC 2865 §3
inline constexpr std::size_t kMaxPacket = 4096;  ///< RFC 2865 §3
inline constexpr std::size_t kMaxValue = 253;    ///< an attribute's value, at most
inline constexpr std::size_t kAuthenticatorSize = 16;

using Authenticator = std::array<std::uint8_t, kAuthenticatorSize>;

struct Attribute {
    std::uint8_t type{0};
    Bytes value;
    bool operator==(const Attribute&) const = default;
};

struct Packet {
    Code code{Code::kAccessRequest};
    std::uint8_t identifier{0};
    Authenticator authenticator{};
    std::vector<Attribute> attributes;  ///< in wire order (RFC 2865 §5: order of a type matters)

    /// The first attribute of `type`, or nullptr.
    [[nodiscard]] const Attribute* find(std::uint8_t type) const noexcept;
    /// Appends an attribute; kTooLarge when the value exceeds 253 bytes.
    Status add(std::uint8_t type, ByteView value);
    Status add_string(std::uint8_t type, std::string_view text) {
        return add(type, as_bytes(text));
    }
    void add_u32(std::uint8_t type, std::uint32_t v);
    /// NAS-IP-Address / Framed-IP-Address: the 4 bytes of an IPv4 address (kInvalidArgument
    /// for IPv6).
    Status add_ipv4(std::uint8_t type, const IpAddress& a);
    bool operator==(const Packet&) const = default;
};

/// The wire form. kTooLarge when the packet exceeds 4096 bytes.
Result<Bytes> encode(const Packet& p);
/// Parses a packet; octets beyond Length are padding and ignored (RFC 2865 §3).
Result<Packet> decode(ByteView bytes);

/// A 4-byte integer attribute (RFC 2865 §5: "integer"); kBadLength otherwise.
Result<std::uint32_t> value_u32(const Attribute& a);
/// A 4-byte address attribute as an IPv4 address.
Result<IpAddress> value_ipv4(const Attribute& a);

// EAP-Message (RFC 3579 §3.1): an EAP packet longer than 253 bytes spans consecutive
// attributes, which the receiver concatenates.

/// Adds `eap` as EAP-Message attributes of at most 253 bytes each (one empty attribute for an
/// empty packet: EAP-Start, RFC 3579 §2.1).
void add_eap_message(Packet& p, ByteView eap);
/// The concatenation of every EAP-Message attribute (empty when there is none).
Bytes eap_message(const Packet& p);

/// One sub-attribute of a Vendor-Specific attribute (RFC 2865 §5.26, with the vendor's
/// type/length/value layout that RFC 2548 uses).
struct VendorAttribute {
    std::uint32_t vendor{0};
    std::uint8_t type{0};
    ByteView value;  ///< a view into the Attribute it came from
};
/// The sub-attributes of a Vendor-Specific attribute, each length-checked.
Result<std::vector<VendorAttribute>> vendor_attributes(const Attribute& a);
/// Appends a Vendor-Specific attribute with one sub-attribute.
Status add_vendor(Packet& p, std::uint32_t vendor, std::uint8_t type, ByteView value);

}  // namespace ikeplex::radius
