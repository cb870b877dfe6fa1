// Netlink messages: request building, message and attribute splitting, NLMSG_ERROR decoding.
//
// Kernel facts used (include/uapi/linux/netlink.h, net/netlink/af_netlink.c):
// - struct nlmsghdr is 16 bytes; messages and attributes are padded to 4 bytes (NLMSG_ALIGNTO,
//   NLA_ALIGNTO); struct nlattr is {u16 nla_len (header included), u16 nla_type}, the top two
//   bits of nla_type being NLA_F_NESTED / NLA_F_NET_BYTEORDER (NLA_TYPE_MASK removes them).
// - An acknowledgement or error is NLMSG_ERROR with struct nlmsgerr {int error; struct nlmsghdr
//   msg;}. The kernel echoes the whole request after it unless NETLINK_CAP_ACK is set or the
//   error is 0; then only the header, and NLM_F_CAPPED is in the NLMSG_ERROR's nlmsg_flags.
//   With NETLINK_EXT_ACK, NLM_F_ACK_TLVS says TLVs follow (at NLMSG_ALIGN of what precedes
//   them); NLMSGERR_ATTR_MSG (1) is a NUL-terminated string.
#include "netlink/message.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include <linux/netlink.h>

#include "util/secret_bytes.h"

namespace ikeplex::netlink {

namespace {

constexpr std::size_t kAlign = 4;  // NLMSG_ALIGNTO == NLA_ALIGNTO
constexpr std::size_t kHdrLen = sizeof(nlmsghdr);
constexpr std::size_t kAttrHdrLen = sizeof(nlattr);
static_assert(align(kHdrLen) == kHdrLen && align(kAttrHdrLen) == kAttrHdrLen);

nlmsghdr read_header(ByteView b) noexcept {
    nlmsghdr h{};
    std::memcpy(&h, b.data(), sizeof h);
    return h;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Request

Request::Request(std::uint16_t type, std::uint16_t flags) {
    buf_.reserve(kMaxRequest);
    nlmsghdr h{};
    std::memset(&h, 0, sizeof h);
    h.nlmsg_len = static_cast<std::uint32_t>(kHdrLen);
    h.nlmsg_type = type;
    h.nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | flags);
    header(&h, sizeof h);
}

Request::~Request() {
    secure_zero(buf_);
}

Request::Request(Request&& o) noexcept : buf_(std::move(o.buf_)), overflow_(o.overflow_) {
    // The buffer moved with its contents; whatever the source might still hold is wiped, and
    // it can no longer be sent.
    secure_zero(o.buf_);
    o.buf_.clear();
    o.overflow_ = true;
}

Request& Request::operator=(Request&& o) noexcept {
    if (this != &o) {
        secure_zero(buf_);
        buf_ = std::move(o.buf_);
        overflow_ = o.overflow_;
        secure_zero(o.buf_);
        o.buf_.clear();
        o.overflow_ = true;
    }
    return *this;
}

void Request::header(const void* data, std::size_t n) {
    const std::size_t at = buf_.size();
    // Never past the reserved capacity: a reallocation would leave a copy of keys behind.
    if (overflow_ || buf_.capacity() < kMaxRequest || at + align(n) > kMaxRequest) {
        overflow_ = true;
        return;
    }
    buf_.resize(at + align(n), 0);
    if (n != 0) {
        std::memcpy(buf_.data() + at, data, n);
    }
}

void Request::attr(std::uint16_t type, ByteView data) {
    attr(type, data.data(), data.size());
}

void Request::attr(std::uint16_t type, const void* data, std::size_t n) {
    const std::size_t at = buf_.size();
    const std::size_t len = kAttrHdrLen + n;
    if (overflow_ || buf_.capacity() < kMaxRequest || at + align(len) > kMaxRequest) {
        overflow_ = true;
        return;
    }
    nlattr a{};
    a.nla_len = static_cast<std::uint16_t>(len);  // <= kMaxRequest: fits
    a.nla_type = type;
    buf_.resize(at + align(len), 0);
    std::memcpy(buf_.data() + at, &a, sizeof a);
    if (n != 0) {
        std::memcpy(buf_.data() + at + kAttrHdrLen, data, n);
    }
}

std::uint16_t Request::type() const noexcept {
    if (buf_.size() < kHdrLen) {
        return 0;
    }
    return read_header(buf_).nlmsg_type;
}

std::uint16_t Request::flags() const noexcept {
    if (buf_.size() < kHdrLen) {
        return 0;
    }
    return read_header(buf_).nlmsg_flags;
}

void Request::add_flags(std::uint16_t flags) noexcept {
    if (buf_.size() < kHdrLen) {
        return;
    }
    nlmsghdr h = read_header(buf_);
    h.nlmsg_flags = static_cast<std::uint16_t>(h.nlmsg_flags | flags);
    std::memcpy(buf_.data(), &h, sizeof h);
}

ByteView Request::finish(std::uint32_t seq, std::uint32_t pid) noexcept {
    if (buf_.size() < kHdrLen) {
        return {};
    }
    nlmsghdr h = read_header(buf_);
    h.nlmsg_len = static_cast<std::uint32_t>(buf_.size());
    h.nlmsg_seq = seq;
    h.nlmsg_pid = pid;
    std::memcpy(buf_.data(), &h, sizeof h);
    return buf_;
}

ByteView Request::body() const noexcept {
    if (buf_.size() < kHdrLen) {
        return {};
    }
    return ByteView(buf_).subspan(kHdrLen);
}

// ---------------------------------------------------------------------------------------------
// Parsing

Result<std::vector<Message>> split_messages(ByteView datagram) {
    std::vector<Message> out;
    std::size_t off = 0;
    while (off < datagram.size()) {
        const std::size_t left = datagram.size() - off;
        if (left < kHdrLen) {
            // Up to 3 bytes of alignment padding may trail the last message; anything longer
            // is the start of a message whose header is cut off.
            if (left < kAlign) {
                break;
            }
            return make_error(Errc::kTruncated, "netlink: message header cut off");
        }
        const nlmsghdr h = read_header(datagram.subspan(off));
        if (h.nlmsg_len < kHdrLen) {
            return make_error(Errc::kBadLength, "netlink: nlmsg_len below the header size");
        }
        if (h.nlmsg_len > left) {
            return make_error(Errc::kBadLength, "netlink: message runs past the datagram");
        }
        Message m;
        m.type = h.nlmsg_type;
        m.flags = h.nlmsg_flags;
        m.seq = h.nlmsg_seq;
        m.pid = h.nlmsg_pid;
        m.payload = datagram.subspan(off + kHdrLen, h.nlmsg_len - kHdrLen);
        out.push_back(m);
        off += std::min<std::size_t>(align(h.nlmsg_len), left);
    }
    return out;
}

Result<std::vector<Attr>> parse_attrs(ByteView payload, std::size_t header_len) {
    if (payload.size() < header_len) {
        return make_error(Errc::kTruncated, "netlink: payload shorter than its fixed header");
    }
    std::vector<Attr> out;
    std::size_t off = std::min(align(header_len), payload.size());
    while (off < payload.size()) {
        const std::size_t left = payload.size() - off;
        if (left < kAttrHdrLen) {
            break;  // alignment padding
        }
        nlattr a{};
        std::memcpy(&a, payload.data() + off, sizeof a);
        if (a.nla_len < kAttrHdrLen) {
            return make_error(Errc::kBadLength, "netlink: attribute length below 4");
        }
        if (a.nla_len > left) {
            return make_error(Errc::kBadLength, "netlink: attribute runs past the message");
        }
        out.push_back(Attr{static_cast<std::uint16_t>(a.nla_type & NLA_TYPE_MASK),
                           payload.subspan(off + kAttrHdrLen, a.nla_len - kAttrHdrLen)});
        off += std::min<std::size_t>(align(a.nla_len), left);
    }
    return out;
}

std::optional<ByteView> find_attr(const std::vector<Attr>& attrs, std::uint16_t type) {
    for (const Attr& a : attrs) {
        if (a.type == type) {
            return a.data;
        }
    }
    return std::nullopt;
}

/// NLMSGERR_ATTR_MSG of the TLVs at `tlvs` (the kernel NUL-terminates it; a missing NUL ends
/// the text at the attribute's end).
Result<std::string> ext_ack_message(ByteView tlvs) {
    const auto attrs = IKEPLEX_TRY(parse_attrs(tlvs, 0));
    const auto msg = find_attr(attrs, NLMSGERR_ATTR_MSG);
    if (!msg) {
        return std::string();
    }
    const auto* text = reinterpret_cast<const char*>(msg->data());
    return std::string(text, ::strnlen(text, msg->size()));
}

Result<Ack> parse_ack(const Message& m) {
    if (m.type != NLMSG_ERROR) {
        return make_error(Errc::kInvalidSyntax, "netlink: not an NLMSG_ERROR message");
    }
    nlmsgerr e{};
    if (m.payload.size() < sizeof e) {
        return make_error(Errc::kTruncated, "netlink: NLMSG_ERROR shorter than nlmsgerr");
    }
    std::memcpy(&e, m.payload.data(), sizeof e);
    Ack ack;
    ack.error = e.error;
    ack.seq = e.msg.nlmsg_seq;
    if ((m.flags & NLM_F_ACK_TLVS) == 0) {
        return ack;
    }
    // Capped: the echoed request is its header only. Otherwise the whole request (nlmsg_len
    // bytes, header included) follows the error code.
    std::size_t tlv_off = sizeof e;
    if ((m.flags & NLM_F_CAPPED) == 0) {
        if (e.msg.nlmsg_len < kHdrLen) {
            return make_error(Errc::kBadLength, "netlink: echoed request shorter than a header");
        }
        tlv_off = align(sizeof e.error + static_cast<std::size_t>(e.msg.nlmsg_len));
    }
    if (tlv_off > m.payload.size()) {
        return make_error(Errc::kBadLength, "netlink: echoed request runs past NLMSG_ERROR");
    }
    ack.message = IKEPLEX_TRY(ext_ack_message(m.payload.subspan(tlv_off)));
    return ack;
}

}  // namespace ikeplex::netlink
