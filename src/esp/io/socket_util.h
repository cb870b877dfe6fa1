// Helpers shared by the UDP and raw-ESP sockets: sockaddr <-> Endpoint, and recvmmsg straight
// into PacketBufs.
//
// Kernel facts used: recvmmsg(2)/sendmmsg(2) move up to `vlen` messages per call (sendmmsg
// returns how many went; a failure after the first is reported by the next call), MSG_TRUNC in
// msg_flags marks a datagram longer than the buffer, MSG_DONTWAIT / SOCK_NONBLOCK make the
// calls return EAGAIN instead of blocking.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include <sys/socket.h>

#include "esp/packet.h"
#include "util/ip_address.h"
#include "util/result.h"
#include "util/sockaddr.h"

namespace ikeplex::esp::io {

/// Largest batch passed to one recvmmsg/sendmmsg call.
inline constexpr std::size_t kMaxBatch = 64;

// sockaddr <-> Endpoint: util/sockaddr.h.
using ikeplex::from_sockaddr;
using ikeplex::to_sockaddr;
/// The local address of a bound socket.
Result<Endpoint> local_endpoint(int fd);
/// True for errno values that mean "try again later" (EAGAIN, EWOULDBLOCK, ENOBUFS, EINTR).
bool transient_errno(int err) noexcept;

/// One recvmmsg into bufs[0..min(bufs, from, kMaxBatch)) (each reset to the default headroom),
/// the sender of bufs[i] in from[i]. Datagrams longer than a buffer are dropped and counted in
/// `truncated` (the others move up). Returns how many were received (0 on EAGAIN).
Result<std::size_t> recv_direct(int fd, std::span<PacketBuf> bufs, std::span<Endpoint> from,
                                std::uint64_t& truncated);

}  // namespace ikeplex::esp::io
