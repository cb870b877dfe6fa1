// Netlink messages, below every netlink protocol ikeplex speaks (NETLINK_XFRM in kernel/xfrm,
// NETLINK_ROUTE in esp/io/rtnl): building one request (nlmsghdr, a fixed family header, then
// attributes), splitting what the kernel sends into messages and attributes with every length
// checked, and decoding NLMSG_ERROR. Nothing here knows a protocol's message types.
//
// Kernel facts used (include/uapi/linux/netlink.h): messages and attributes are 4-byte aligned
// (NLMSG_ALIGNTO, NLA_ALIGNTO); struct nlattr and rtnetlink's struct rtattr are the same
// {u16 len (header included), u16 type}; an NLMSG_ERROR payload is struct nlmsgerr {int error;
// struct nlmsghdr msg;} followed, with NETLINK_EXT_ACK set and NLM_F_ACK_TLVS in the flags, by
// TLVs of which NLMSGERR_ATTR_MSG (1) is the kernel's text ("Requested type not found"); with
// NETLINK_CAP_ACK the original request is not echoed back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "util/bytes.h"
#include "util/result.h"

namespace ikeplex::netlink {

/// NLMSG_ALIGN / NLA_ALIGN: `n` rounded up to 4.
constexpr std::size_t align(std::size_t n) noexcept {
    constexpr std::size_t kAlign = 4;
    return (n + kAlign - 1) & ~(kAlign - 1);
}

/// One request being built. Its buffer may hold key material: it is wiped when the request goes
/// away and never grows by reallocation (a request beyond kMaxRequest fails).
class Request {
public:
    static constexpr std::size_t kMaxRequest = 4096;

    /// nlmsghdr with `type` and NLM_F_REQUEST | `flags` (NLM_F_ACK is added by the socket).
    Request(std::uint16_t type, std::uint16_t flags);
    ~Request();
    Request(const Request&) = delete;
    Request& operator=(const Request&) = delete;
    Request(Request&&) noexcept;
    Request& operator=(Request&&) noexcept;

    /// Appends a fixed header (e.g. struct xfrm_usersa_info, struct rtmsg), padded to 4 bytes.
    void header(const void* data, std::size_t n);
    template <class T>
    void header(const T& t) {
        header(&t, sizeof t);
    }
    /// Appends one attribute (struct nlattr, payload, padding).
    void attr(std::uint16_t type, ByteView data);
    void attr(std::uint16_t type, const void* data, std::size_t n);
    template <class T>
    void attr_struct(std::uint16_t type, const T& t) {
        attr(type, &t, sizeof t);
    }
    void attr_u8(std::uint16_t type, std::uint8_t v) { attr(type, &v, sizeof v); }
    void attr_u32(std::uint16_t type, std::uint32_t v) { attr(type, &v, sizeof v); }

    [[nodiscard]] std::uint16_t type() const noexcept;
    /// False when an append did not fit or a builder found its description unusable (the
    /// request must not be sent; Socket refuses it).
    [[nodiscard]] bool ok() const noexcept { return !overflow_; }
    /// Marks the request unusable (a builder's way of failing: build functions return a
    /// request, not a Result).
    void invalidate() noexcept { overflow_ = true; }
    /// ORs `flags` into nlmsg_flags (Socket adds NLM_F_ACK or NLM_F_DUMP).
    void add_flags(std::uint16_t flags) noexcept;
    /// The whole message with nlmsg_len, nlmsg_seq and nlmsg_pid filled in.
    ByteView finish(std::uint32_t seq, std::uint32_t pid = 0) noexcept;
    /// The bytes after nlmsghdr (family header and attributes): what golden tests compare.
    [[nodiscard]] ByteView body() const noexcept;
    [[nodiscard]] std::uint16_t flags() const noexcept;

private:
    std::vector<std::uint8_t> buf_;
    bool overflow_{false};
};

/// One message of a datagram from the kernel; `payload` points into that datagram.
struct Message {
    std::uint16_t type{0};
    std::uint16_t flags{0};
    std::uint32_t seq{0};
    std::uint32_t pid{0};
    ByteView payload;  ///< after nlmsghdr, nlmsg_len - 16 bytes
};

/// The messages of one datagram. A message whose nlmsg_len is below the header size or runs
/// past the datagram is an error (kBadLength); trailing padding is allowed.
Result<std::vector<Message>> split_messages(ByteView datagram);

struct Attr {
    std::uint16_t type{0};  ///< nla_type without NLA_F_NESTED / NLA_F_NET_BYTEORDER
    ByteView data;
};

/// The attributes after a fixed header of `header_len` bytes of `payload` (kTruncated if the
/// payload is shorter; kBadLength for an attribute whose length is below 4 or past the end).
Result<std::vector<Attr>> parse_attrs(ByteView payload, std::size_t header_len);

/// The first attribute of `type`, if any.
std::optional<ByteView> find_attr(const std::vector<Attr>& attrs, std::uint16_t type);

/// A decoded NLMSG_ERROR: error 0 is an acknowledgement.
struct Ack {
    int error{0};          ///< negative errno, or 0
    std::uint32_t seq{0};  ///< nlmsg_seq of the request it answers
    std::string message;   ///< NLMSGERR_ATTR_MSG, if the kernel gave one
};
Result<Ack> parse_ack(const Message& m);

/// NLMSGERR_ATTR_MSG of the extended-ack TLVs at `tlvs` (empty if there is none).
Result<std::string> ext_ack_message(ByteView tlvs);

}  // namespace ikeplex::netlink
