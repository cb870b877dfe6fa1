// A netlink socket of any protocol (NETLINK_XFRM for the XFRM backend, NETLINK_ROUTE for
// rtnetlink): it numbers requests, matches replies and acknowledgements by sequence number,
// walks dumps to NLMSG_DONE and keeps the multicast events that arrive meanwhile.
//
// Kernel facts used (include/uapi/linux/netlink.h): a dump ends with NLMSG_DONE; an
// acknowledgement or a refusal is an NLMSG_ERROR (message.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "netlink/message.h"
#include "util/result.h"
#include "util/unique_fd.h"

namespace ikeplex::netlink {

/// Requests are synchronous: request()/dump() send and read until their answer, with a timeout;
/// multicast messages that arrive meanwhile are kept and handed out by take_events(). Not
/// thread-safe; one per thread.
class Socket {
public:
    /// Opens a socket of `protocol` (NETLINK_XFRM, NETLINK_ROUTE) in the caller's network
    /// namespace, subscribed to the multicast `groups` (bit n-1 for group n, e.g.
    /// 1 << (XFRMNLGRP_ACQUIRE - 1)); NETLINK_EXT_ACK and NETLINK_CAP_ACK are set.
    static Result<Socket> open(int protocol, std::uint32_t groups = 0);
    Socket() = default;

    /// The outcome of one request.
    struct Reply {
        /// Data messages answering it (e.g. the NEWSA that ALLOCSPI and GETSA return, the
        /// NEWROUTE that GETROUTE returns), each one whole message (nlmsghdr included).
        std::vector<std::vector<std::uint8_t>> messages;
        int error{0};         ///< negative errno from the kernel's NLMSG_ERROR, or 0
        std::string message;  ///< the kernel's extended-ack text, if any
    };

    /// Sends `req` with NLM_F_ACK and a fresh sequence number; reads until the NLMSG_ERROR
    /// for it. A kernel error is not a failure of this call: it is in Reply::error. Fails
    /// (kSystem / kNetlink) when sending, receiving or parsing fails or `timeout_ms` passes.
    Result<Reply> request(Request& req, int timeout_ms = 2000);
    /// Sends `req` with NLM_F_DUMP and collects every message up to NLMSG_DONE (a kernel error
    /// ends the dump and is in Reply::error).
    Result<Reply> dump(Request& req, int timeout_ms = 2000);
    /// Reads, without blocking, every datagram waiting and returns the multicast messages (plus
    /// those kept by earlier request()/dump() calls), each one whole message. ENOBUFS (the
    /// kernel dropped events) is counted in overruns() and not an error.
    Result<std::vector<std::vector<std::uint8_t>>> take_events();

    [[nodiscard]] int fd() const noexcept { return fd_.get(); }
    [[nodiscard]] std::uint32_t port_id() const noexcept { return pid_; }
    [[nodiscard]] std::uint64_t overruns() const noexcept { return overruns_; }
    [[nodiscard]] std::uint64_t malformed() const noexcept { return malformed_; }

private:
    Result<Reply> transact(Request& req, bool dump, int timeout_ms);

    UniqueFd fd_;
    std::uint32_t pid_{0};
    std::uint32_t seq_{0};
    std::uint64_t overruns_{0};
    std::uint64_t malformed_{0};
    std::vector<std::vector<std::uint8_t>> pending_events_;
};

/// A kernel refusal for logs: "Protocol not supported ("Requested type not found")".
std::string kernel_says(const Socket::Reply& r);

}  // namespace ikeplex::netlink
