// The netlink socket: open and bind, request/acknowledgement and dump exchanges matched by
// sequence number, multicast events kept for take_events().
//
// Kernel facts used (include/uapi/linux/netlink.h, net/netlink/af_netlink.c):
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
#include "netlink/socket.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <utility>

#include <linux/netlink.h>
#include <sys/socket.h>

#include <poll.h>

#include "util/secret_bytes.h"
#include "util/sys_error.h"

namespace ikeplex::netlink {

namespace {

constexpr std::size_t kHdrLen = sizeof(nlmsghdr);
constexpr int kRcvBuf = 1 << 20;

}  // namespace

Result<Socket> Socket::open(int protocol, std::uint32_t groups) {
    Socket s;
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

/// One received datagram. Answers may carry keys (XFRM GETSA): wiped when it goes away.
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

std::vector<std::uint8_t> whole_message(ByteView datagram, const Message& m) {
    // payload points into datagram, just after the message's header.
    const auto start = static_cast<std::size_t>(m.payload.data() - datagram.data()) - kHdrLen;
    const auto v = datagram.subspan(start, kHdrLen + m.payload.size());
    return {v.begin(), v.end()};
}

/// Appends each of `msgs` (of `datagram`) to `out`, whole.
void keep_whole(ByteView datagram, const std::vector<Message>& msgs,
                std::vector<std::vector<std::uint8_t>>& out) {
    for (const Message& m : msgs) {
        out.push_back(whole_message(datagram, m));
    }
}

/// The answer being collected for one request.
struct Answer {
    Socket::Reply reply;
    bool interrupted{false};  ///< a message carried NLM_F_DUMP_INTR
    bool done{false};         ///< its NLMSG_ERROR, or the dump's NLMSG_DONE, has come
};

/// NLMSG_DONE of a dump: it carries the dump's final error code (0 on success), possibly
/// followed by extended-ack TLVs.
void take_done(const Message& m, Answer& a) {
    int err = 0;
    if (m.payload.size() >= sizeof err) {
        std::memcpy(&err, m.payload.data(), sizeof err);
        if ((m.flags & NLM_F_ACK_TLVS) != 0) {
            auto text = ext_ack_message(m.payload.subspan(align(sizeof err)));
            if (text) {
                a.reply.message = std::move(*text);
            }
        }
    }
    a.reply.error = err;
    a.interrupted = a.interrupted || (m.flags & NLM_F_DUMP_INTR) != 0;
    a.done = true;
}

/// Sorts the messages of one unicast datagram from the kernel into `a`: those answering `seq`
/// until the answer is complete. Fails only on an NLMSG_ERROR that cannot be decoded.
Status collect(ByteView datagram, const std::vector<Message>& msgs, std::uint32_t seq, bool dump,
               Answer& a) {
    for (const Message& m : msgs) {
        if (a.done || m.seq != seq) {
            continue;  // a late answer to an earlier, timed-out request
        }
        if (m.type == NLMSG_ERROR) {
            Ack ack = IKEPLEX_TRY(parse_ack(m));
            a.reply.error = ack.error;
            a.reply.message = std::move(ack.message);
            a.done = true;
        } else if (m.type == NLMSG_DONE && dump) {
            take_done(m, a);
        } else if (m.type == NLMSG_NOOP || m.type == NLMSG_OVERRUN || m.type == NLMSG_DONE) {
            continue;
        } else {
            a.interrupted = a.interrupted || (m.flags & NLM_F_DUMP_INTR) != 0;
            a.reply.messages.push_back(whole_message(datagram, m));
        }
    }
    return ok();
}

Status send_to_kernel(int fd, ByteView msg) {
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    for (;;) {
        if (::sendto(fd, msg.data(), msg.size(), 0, reinterpret_cast<const sockaddr*>(&kernel),
                     sizeof kernel) >= 0) {
            return ok();
        }
        if (errno != EINTR) {
            return sys_error("netlink: send", errno);
        }
    }
}

/// Waits at most `left_ms` (and at most a minute) for the socket to become readable.
Status wait_readable(int fd, long long left_ms) {
    pollfd p{fd, POLLIN, 0};
    const int pr = ::poll(&p, 1, static_cast<int>(std::min<long long>(left_ms, 60'000)));
    if (pr < 0 && errno != EINTR) {
        return sys_error("netlink: poll", errno);
    }
    return ok();
}

}  // namespace

Result<Socket::Reply> Socket::request(Request& req, int timeout_ms) {
    return transact(req, false, timeout_ms);
}

Result<Socket::Reply> Socket::dump(Request& req, int timeout_ms) {
    return transact(req, true, timeout_ms);
}

Result<Socket::Reply> Socket::transact(Request& req, bool dump, int timeout_ms) {
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
    IKEPLEX_TRY(send_to_kernel(fd_.get(), req.finish(seq, pid_)));

    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    Answer a;
    while (!a.done) {
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
            IKEPLEX_TRY(wait_readable(fd_.get(), left));
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
        if (d.groups != 0) {
            keep_whole(d.bytes, *msgs, pending_events_);
            continue;
        }
        if (auto c = collect(d.bytes, *msgs, seq, dump, a); !c) {
            ++malformed_;
            return c.error();
        }
    }
    if (a.interrupted && a.reply.error == 0) {
        a.reply.error = -EINTR;  // the dump is inconsistent: the caller repeats it
    }
    return std::move(a.reply);
}

Result<std::vector<std::vector<std::uint8_t>>> Socket::take_events() {
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
        keep_whole(d.bytes, *msgs, out);
    }
}

std::string kernel_says(const Socket::Reply& r) {
    std::string s = std::strerror(-r.error);
    if (!r.message.empty()) {
        s += " (\"" + r.message + "\")";
    }
    return s;
}

}  // namespace ikeplex::netlink
