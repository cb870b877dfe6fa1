// Netlink plumbing for the XFRM backend (NETLINK_XFRM; nothing in here is XFRM-specific):
// building one request (nlmsghdr, a fixed family header, then attributes), splitting what the
// kernel sends into messages and attributes with every length checked, and a socket that
// numbers requests, matches replies and acknowledgements by sequence number, walks dumps to
// NLMSG_DONE and receives multicast events.
//
// Kernel facts used (include/uapi/linux/netlink.h): messages and attributes are 4-byte aligned
// (NLMSG_ALIGNTO, NLA_ALIGNTO); an NLMSG_ERROR payload is struct nlmsgerr {int error; struct
// nlmsghdr msg;} followed, with NETLINK_EXT_ACK set and NLM_F_ACK_TLVS in the flags, by TLVs of
// which NLMSGERR_ATTR_MSG (1) is the kernel's text ("Requested type not found"); with
// NETLINK_CAP_ACK the original request is not echoed back. A dump ends with NLMSG_DONE.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "util/bytes.h"
#include "util/result.h"
#include "util/unique_fd.h"

namespace ikeplex::kernel::xfrm {

/// One netlink request being built. Its buffer may hold key material: it is wiped when the
/// request goes away and never grows by reallocation (a request beyond kMaxRequest fails).
class NlRequest {
public:
    static constexpr std::size_t kMaxRequest = 4096;

    /// nlmsghdr with `type` and NLM_F_REQUEST | `flags` (NLM_F_ACK is added by the socket).
    NlRequest(std::uint16_t type, std::uint16_t flags);
    ~NlRequest();
    NlRequest(const NlRequest&) = delete;
    NlRequest& operator=(const NlRequest&) = delete;
    NlRequest(NlRequest&&) noexcept;
    NlRequest& operator=(NlRequest&&) noexcept;

    /// Appends a fixed header (e.g. struct xfrm_usersa_info), padded to 4 bytes.
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
    /// request must not be sent; NetlinkSocket refuses it).
    [[nodiscard]] bool ok() const noexcept { return !overflow_; }
    /// Marks the request unusable (a builder's way of failing: build functions return a
    /// request, not a Result).
    void invalidate() noexcept { overflow_ = true; }
    /// ORs `flags` into nlmsg_flags (NetlinkSocket adds NLM_F_ACK or NLM_F_DUMP).
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
struct NlMessage {
    std::uint16_t type{0};
    std::uint16_t flags{0};
    std::uint32_t seq{0};
    std::uint32_t pid{0};
    ByteView payload;  ///< after nlmsghdr, nlmsg_len - 16 bytes
};

/// The messages of one datagram. A message whose nlmsg_len is below the header size or runs
/// past the datagram is an error (kBadLength); trailing padding is allowed.
Result<std::vector<NlMessage>> split_messages(ByteView datagram);

struct NlAttr {
    std::uint16_t type{0};  ///< nla_type without NLA_F_NESTED / NLA_F_NET_BYTEORDER
    ByteView data;
};

/// The attributes after a fixed header of `header_len` bytes of `payload` (kTruncated if the
/// payload is shorter; kBadLength for an attribute whose length is below 4 or past the end).
Result<std::vector<NlAttr>> parse_attrs(ByteView payload, std::size_t header_len);

/// The first attribute of `type`, if any.
std::optional<ByteView> find_attr(const std::vector<NlAttr>& attrs, std::uint16_t type);

/// A decoded NLMSG_ERROR: error 0 is an acknowledgement.
struct NlAck {
    int error{0};          ///< negative errno, or 0
    std::uint32_t seq{0};  ///< nlmsg_seq of the request it answers
    std::string message;   ///< NLMSGERR_ATTR_MSG, if the kernel gave one
};
Result<NlAck> parse_ack(const NlMessage& m);

/// A NETLINK_XFRM (or other protocol) socket. Requests are synchronous: request()/dump() send
/// and read until their answer, with a timeout; multicast messages that arrive meanwhile are
/// kept and handed out by take_events(). Not thread-safe; one per thread.
class NetlinkSocket {
public:
    /// Opens a socket of `protocol` (NETLINK_XFRM) subscribed to the multicast `groups`
    /// (bit n-1 for group n, e.g. 1 << (XFRMNLGRP_ACQUIRE - 1)); NETLINK_EXT_ACK and
    /// NETLINK_CAP_ACK are set.
    static Result<NetlinkSocket> open(int protocol, std::uint32_t groups = 0);
    NetlinkSocket() = default;

    /// The outcome of one request.
    struct Reply {
        /// Data messages answering it (e.g. the NEWSA that ALLOCSPI and GETSA return), each
        /// one whole message (nlmsghdr included).
        std::vector<std::vector<std::uint8_t>> messages;
        int error{0};         ///< negative errno from the kernel's NLMSG_ERROR, or 0
        std::string message;  ///< the kernel's extended-ack text, if any
    };

    /// Sends `req` with NLM_F_ACK and a fresh sequence number; reads until the NLMSG_ERROR
    /// for it. A kernel error is not a failure of this call: it is in Reply::error. Fails
    /// (kSystem / kNetlink) when sending, receiving or parsing fails or `timeout_ms` passes.
    Result<Reply> request(NlRequest& req, int timeout_ms = 2000);
    /// Sends `req` with NLM_F_DUMP and collects every message up to NLMSG_DONE (a kernel error
    /// ends the dump and is in Reply::error).
    Result<Reply> dump(NlRequest& req, int timeout_ms = 2000);
    /// Reads, without blocking, every datagram waiting and returns the multicast messages (plus
    /// those kept by earlier request()/dump() calls), each one whole message. ENOBUFS (the
    /// kernel dropped events) is counted in overruns() and not an error.
    Result<std::vector<std::vector<std::uint8_t>>> take_events();

    [[nodiscard]] int fd() const noexcept { return fd_.get(); }
    [[nodiscard]] std::uint32_t port_id() const noexcept { return pid_; }
    [[nodiscard]] std::uint64_t overruns() const noexcept { return overruns_; }
    [[nodiscard]] std::uint64_t malformed() const noexcept { return malformed_; }

private:
    Result<Reply> transact(NlRequest& req, bool dump, int timeout_ms);

    UniqueFd fd_;
    std::uint32_t pid_{0};
    std::uint32_t seq_{0};
    std::uint64_t overruns_{0};
    std::uint64_t malformed_{0};
    std::vector<std::vector<std::uint8_t>> pending_events_;
};

/// A kernel refusal for logs: "Protocol not supported ("Requested type not found")".
std::string kernel_says(const NetlinkSocket::Reply& r);

}  // namespace ikeplex::kernel::xfrm
