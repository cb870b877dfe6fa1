// Netlink plumbing: request building, message and attribute splitting, the request/dump/event
// socket.
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
// - A dump answers with data messages flagged NLM_F_MULTI and ends with NLMSG_DONE whose
//   payload starts with an int error; NLM_F_DUMP_INTR on a message means the table changed
//   while it was walked and the dump should be repeated. A dump is not acknowledged (the
//   kernel skips the ACK of a request that started a dump), so dumps are sent without
//   NLM_F_ACK, as iproute2 does.
// - recvfrom() reports the sender: nl_pid 0 is the kernel, and nl_groups is the group mask of a
//   multicast delivery (0 for a unicast reply). MSG_PEEK | MSG_TRUNC returns the full length
//   of the next datagram without consuming it. ENOBUFS from recv means the receive buffer
//   overflowed and messages were dropped; the socket stays usable.
// - SO_RCVBUFFORCE (CAP_NET_ADMIN) may exceed net.core.rmem_max; SO_RCVBUF is capped by it.
#include "kernel/xfrm/netlink.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include <linux/netlink.h>
#include <sys/socket.h>

#include <poll.h>
#include <unistd.h>

#include "util/secret_bytes.h"
#include "util/sys_error.h"

namespace ikeplex::kernel::xfrm {

namespace {

constexpr std::size_t kAlign = 4;  // NLMSG_ALIGNTO == NLA_ALIGNTO
constexpr std::size_t kHdrLen = sizeof(nlmsghdr);
constexpr std::size_t kAttrHdrLen = sizeof(nlattr);
constexpr int kRcvBuf = 1 << 20;

constexpr std::size_t align(std::size_t n) noexcept {
    return (n + kAlign - 1) & ~(kAlign - 1);
}

nlmsghdr read_header(ByteView b) noexcept {
    nlmsghdr h{};
    std::memcpy(&h, b.data(), sizeof h);
    return h;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// NlRequest

NlRequest::NlRequest(std::uint16_t type, std::uint16_t flags) {
    buf_.reserve(kMaxRequest);
    nlmsghdr h{};
    std::memset(&h, 0, sizeof h);
    h.nlmsg_len = static_cast<std::uint32_t>(kHdrLen);
    h.nlmsg_type = type;
    h.nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | flags);
    header(&h, sizeof h);
}

NlRequest::~NlRequest() {
    secure_zero(buf_);
}

NlRequest::NlRequest(NlRequest&& o) noexcept : buf_(std::move(o.buf_)), overflow_(o.overflow_) {
    // The buffer moved with its contents; whatever the source might still hold is wiped, and
    // it can no longer be sent.
    secure_zero(o.buf_);
    o.buf_.clear();
    o.overflow_ = true;
}

NlRequest& NlRequest::operator=(NlRequest&& o) noexcept {
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

void NlRequest::header(const void* data, std::size_t n) {
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

void NlRequest::attr(std::uint16_t type, ByteView data) {
    attr(type, data.data(), data.size());
}

void NlRequest::attr(std::uint16_t type, const void* data, std::size_t n) {
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

std::uint16_t NlRequest::type() const noexcept {
    if (buf_.size() < kHdrLen) {
        return 0;
    }
    return read_header(buf_).nlmsg_type;
}

std::uint16_t NlRequest::flags() const noexcept {
    if (buf_.size() < kHdrLen) {
        return 0;
    }
    return read_header(buf_).nlmsg_flags;
}

void NlRequest::add_flags(std::uint16_t flags) noexcept {
    if (buf_.size() < kHdrLen) {
        return;
    }
    nlmsghdr h = read_header(buf_);
    h.nlmsg_flags = static_cast<std::uint16_t>(h.nlmsg_flags | flags);
    std::memcpy(buf_.data(), &h, sizeof h);
}

ByteView NlRequest::finish(std::uint32_t seq, std::uint32_t pid) noexcept {
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

ByteView NlRequest::body() const noexcept {
    if (buf_.size() < kHdrLen) {
        return {};
    }
    return ByteView(buf_).subspan(kHdrLen);
}

// ---------------------------------------------------------------------------------------------
// Parsing

Result<std::vector<NlMessage>> split_messages(ByteView datagram) {
    std::vector<NlMessage> out;
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
        NlMessage m;
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

Result<std::vector<NlAttr>> parse_attrs(ByteView payload, std::size_t header_len) {
    if (payload.size() < header_len) {
        return make_error(Errc::kTruncated, "netlink: payload shorter than its fixed header");
    }
    std::vector<NlAttr> out;
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
        out.push_back(NlAttr{static_cast<std::uint16_t>(a.nla_type & NLA_TYPE_MASK),
                             payload.subspan(off + kAttrHdrLen, a.nla_len - kAttrHdrLen)});
        off += std::min<std::size_t>(align(a.nla_len), left);
    }
    return out;
}

std::optional<ByteView> find_attr(const std::vector<NlAttr>& attrs, std::uint16_t type) {
    for (const NlAttr& a : attrs) {
        if (a.type == type) {
            return a.data;
        }
    }
    return std::nullopt;
}

namespace {

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

}  // namespace

Result<NlAck> parse_ack(const NlMessage& m) {
    if (m.type != NLMSG_ERROR) {
        return make_error(Errc::kInvalidSyntax, "netlink: not an NLMSG_ERROR message");
    }
    nlmsgerr e{};
    if (m.payload.size() < sizeof e) {
        return make_error(Errc::kTruncated, "netlink: NLMSG_ERROR shorter than nlmsgerr");
    }
    std::memcpy(&e, m.payload.data(), sizeof e);
    NlAck ack;
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

// ---------------------------------------------------------------------------------------------
// NetlinkSocket

Result<NetlinkSocket> NetlinkSocket::open(int protocol, std::uint32_t groups) {
    NetlinkSocket s;
    s.fd_.reset(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, protocol));
    if (!s.fd_) {
        return sys_error("netlink: socket", errno);
    }
    // A large buffer keeps bursts of events (acquires, expires of many SAs) from overflowing.
    // FORCE needs CAP_NET_ADMIN; the plain option is capped by net.core.rmem_max.
    const int rcvbuf = kRcvBuf;
    if (::setsockopt(s.fd_.get(), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0) {
        static_cast<void>(::setsockopt(s.fd_.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf));
    }
    // Both are conveniences (shorter errors, the kernel's reason as text); old kernels lack
    // them and parse_ack copes either way.
    const int one = 1;
    static_cast<void>(::setsockopt(s.fd_.get(), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one));
    static_cast<void>(::setsockopt(s.fd_.get(), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one));

    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;
    local.nl_groups = groups;
    if (::bind(s.fd_.get(), reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0) {
        return sys_error("netlink: bind", errno);
    }
    socklen_t len = sizeof local;
    if (::getsockname(s.fd_.get(), reinterpret_cast<sockaddr*>(&local), &len) != 0) {
        return sys_error("netlink: getsockname", errno);
    }
    s.pid_ = local.nl_pid;
    return s;
}

namespace {

/// One datagram read from the socket with its sender.
/// One received datagram. Answers to GETSA carry the SA's keys: wiped when it goes away.
struct Datagram {
    Datagram() = default;
    Datagram(const Datagram&) = delete;
    Datagram& operator=(const Datagram&) = delete;
    Datagram(Datagram&&) = delete;
    Datagram& operator=(Datagram&&) = delete;
    ~Datagram() { secure_zero(MutByteView(bytes.data(), bytes.size())); }
    std::vector<std::uint8_t> bytes;
    std::uint32_t sender_pid{0};
    std::uint32_t groups{0};  ///< non-zero: a multicast delivery
};

enum class RecvStatus { kGot, kEmpty, kOverrun };

/// What a failed receive means: nullopt to try again (EINTR), nothing waiting, an overrun
/// (the kernel dropped messages: ENOBUFS), or an error.
std::optional<Result<RecvStatus>> recv_failed(int err) {
    if (err == EINTR) {
        return std::nullopt;
    }
    if (err == EAGAIN || err == EWOULDBLOCK) {
        return Result<RecvStatus>(RecvStatus::kEmpty);
    }
    if (err == ENOBUFS) {
        return Result<RecvStatus>(RecvStatus::kOverrun);
    }
    return Result<RecvStatus>(sys_error("netlink: receive", err));
}

/// Reads one datagram without blocking. kEmpty: nothing waiting; kOverrun: the kernel dropped
/// messages (ENOBUFS), try again.
Result<RecvStatus> recv_datagram(int fd, Datagram& d) {
    for (;;) {
        const ssize_t size = ::recv(fd, nullptr, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
        if (size < 0) {
            if (auto r = recv_failed(errno)) {
                return *r;
            }
            continue;
        }
        d.bytes.assign(static_cast<std::size_t>(size), 0);
        sockaddr_nl from{};
        socklen_t len = sizeof from;
        const ssize_t n = ::recvfrom(fd, d.bytes.data(), d.bytes.size(), MSG_DONTWAIT,
                                     reinterpret_cast<sockaddr*>(&from), &len);
        if (n < 0) {
            if (auto r = recv_failed(errno)) {
                return *r;
            }
            continue;
        }
        d.bytes.resize(std::min(d.bytes.size(), static_cast<std::size_t>(n)));
        d.sender_pid = from.nl_pid;
        d.groups = from.nl_groups;
        return RecvStatus::kGot;
    }
}

std::vector<std::uint8_t> whole_message(ByteView datagram, const NlMessage& m) {
    // payload points into datagram, just after the message's header.
    const auto start = static_cast<std::size_t>(m.payload.data() - datagram.data()) - kHdrLen;
    const auto v = datagram.subspan(start, kHdrLen + m.payload.size());
    return {v.begin(), v.end()};
}

}  // namespace

Result<NetlinkSocket::Reply> NetlinkSocket::request(NlRequest& req, int timeout_ms) {
    return transact(req, false, timeout_ms);
}

Result<NetlinkSocket::Reply> NetlinkSocket::dump(NlRequest& req, int timeout_ms) {
    return transact(req, true, timeout_ms);
}

Result<NetlinkSocket::Reply> NetlinkSocket::transact(NlRequest& req, bool dump, int timeout_ms) {
    if (!fd_) {
        return make_error(Errc::kState, "netlink: socket not open");
    }
    if (!req.ok()) {
        return make_error(Errc::kInvalidArgument, "netlink: request too long or invalid");
    }
    req.add_flags(static_cast<std::uint16_t>(dump ? NLM_F_DUMP : NLM_F_ACK));
    if (++seq_ == 0) {
        ++seq_;  // 0 is what events carry
    }
    const std::uint32_t seq = seq_;
    const ByteView msg = req.finish(seq, pid_);

    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    for (;;) {
        if (::sendto(fd_.get(), msg.data(), msg.size(), 0,
                     reinterpret_cast<const sockaddr*>(&kernel), sizeof kernel) >= 0) {
            break;
        }
        if (errno != EINTR) {
            return sys_error("netlink: send", errno);
        }
    }

    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    Reply reply;
    bool interrupted = false;
    for (;;) {
        // Checked on every datagram, not only when idle: a stream of events must not keep a
        // request waiting past its timeout.
        const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now())
                        .count();
        if (left <= 0) {
            Error e = make_error(Errc::kNetlink, "netlink: no answer before the timeout");
            e.sys_errno = ETIMEDOUT;
            return e;
        }
        Datagram d;
        const RecvStatus st = IKEPLEX_TRY(recv_datagram(fd_.get(), d));
        if (st == RecvStatus::kOverrun) {
            ++overruns_;
            continue;
        }
        if (st == RecvStatus::kEmpty) {
            pollfd p{fd_.get(), POLLIN, 0};
            const int pr = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 60'000)));
            if (pr < 0 && errno != EINTR) {
                return sys_error("netlink: poll", errno);
            }
            continue;
        }
        if (d.sender_pid != 0) {
            continue;  // not from the kernel
        }
        auto msgs = split_messages(d.bytes);
        if (!msgs) {
            ++malformed_;
            if (d.groups != 0) {
                continue;  // a bad event must not fail an unrelated request
            }
            return msgs.error();
        }
        bool done = false;
        for (const NlMessage& m : *msgs) {
            if (d.groups != 0) {
                pending_events_.push_back(whole_message(d.bytes, m));
                continue;
            }
            if (done || m.seq != seq) {
                continue;  // a late answer to an earlier, timed-out request
            }
            if (m.type == NLMSG_ERROR) {
                auto ack = parse_ack(m);
                if (!ack) {
                    ++malformed_;
                    return ack.error();
                }
                reply.error = ack->error;
                reply.message = std::move(ack->message);
                done = true;
            } else if (m.type == NLMSG_DONE && dump) {
                // NLMSG_DONE carries the dump's final error code (0 on success), possibly
                // followed by extended-ack TLVs.
                int err = 0;
                if (m.payload.size() >= sizeof err) {
                    std::memcpy(&err, m.payload.data(), sizeof err);
                    if ((m.flags & NLM_F_ACK_TLVS) != 0) {
                        auto text = ext_ack_message(m.payload.subspan(align(sizeof err)));
                        if (text) {
                            reply.message = std::move(*text);
                        }
                    }
                }
                reply.error = err;
                interrupted = interrupted || (m.flags & NLM_F_DUMP_INTR) != 0;
                done = true;
            } else if (m.type == NLMSG_NOOP || m.type == NLMSG_OVERRUN || m.type == NLMSG_DONE) {
                continue;
            } else {
                interrupted = interrupted || (m.flags & NLM_F_DUMP_INTR) != 0;
                reply.messages.push_back(whole_message(d.bytes, m));
            }
        }
        if (done) {
            if (interrupted && reply.error == 0) {
                reply.error = -EINTR;  // the dump is inconsistent: the caller repeats it
            }
            return reply;
        }
    }
}

Result<std::vector<std::vector<std::uint8_t>>> NetlinkSocket::take_events() {
    if (!fd_) {
        return make_error(Errc::kState, "netlink: socket not open");
    }
    std::vector<std::vector<std::uint8_t>> out = std::move(pending_events_);
    pending_events_.clear();
    for (;;) {
        Datagram d;
        auto st = recv_datagram(fd_.get(), d);
        if (!st) {
            // Keep what was collected for the next call rather than losing it.
            pending_events_ = std::move(out);
            return st.error();
        }
        if (*st == RecvStatus::kEmpty) {
            return out;
        }
        if (*st == RecvStatus::kOverrun) {
            ++overruns_;
            continue;
        }
        if (d.sender_pid != 0 || d.groups == 0) {
            continue;  // not from the kernel, or a stale unicast answer
        }
        auto msgs = split_messages(d.bytes);
        if (!msgs) {
            ++malformed_;
            continue;
        }
        for (const NlMessage& m : *msgs) {
            out.push_back(whole_message(d.bytes, m));
        }
    }
}

std::string kernel_says(const NetlinkSocket::Reply& r) {
    std::string s = std::strerror(-r.error);
    if (!r.message.empty()) {
        s += " (\"" + r.message + "\")";
    }
    return s;
}

}  // namespace ikeplex::kernel::xfrm
