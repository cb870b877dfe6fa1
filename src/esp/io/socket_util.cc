#include "esp/io/socket_util.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include <netinet/in.h>

#include "util/sys_error.h"
#include "util/unique_fd.h"

namespace ikeplex::esp::io {

Result<Endpoint> local_endpoint(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
        return sys_error("getsockname");
    }
    return from_sockaddr(ss);
}

bool transient_errno(int err) noexcept {
    return err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS || err == EINTR;
}

Result<std::size_t> recv_direct(int fd, std::span<PacketBuf> bufs, std::span<Endpoint> from,
                                std::uint64_t& truncated) {
    const std::size_t n = std::min({bufs.size(), from.size(), kMaxBatch});
    if (n == 0) {
        return std::size_t{0};
    }
    std::array<mmsghdr, kMaxBatch> msgs{};
    std::array<iovec, kMaxBatch> iov{};
    std::array<sockaddr_storage, kMaxBatch> names{};
    for (std::size_t i = 0; i < n; ++i) {
        bufs[i].reset();
        const MutByteView w = bufs[i].writable();
        iov[i] = iovec{w.data(), w.size()};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &names[i];
        msgs[i].msg_hdr.msg_namelen = sizeof names[i];
    }
    int r = 0;
    do {
        r = ::recvmmsg(fd, msgs.data(), static_cast<unsigned>(n), MSG_DONTWAIT, nullptr);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return std::size_t{0};
        }
        return sys_error("recvmmsg");
    }
    std::size_t out = 0;
    for (std::size_t i = 0; i < static_cast<std::size_t>(r); ++i) {
        if ((msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0) {
            ++truncated;
            continue;
        }
        if (out != i) {  // a truncated datagram before this one left a hole
            bufs[out].assign(ByteView{bufs[i].data(), msgs[i].msg_len});
        } else {
            static_cast<void>(bufs[out].fill(msgs[i].msg_len));
        }
        from[out] = from_sockaddr(names[i]);
        ++out;
    }
    return out;
}

}  // namespace ikeplex::esp::io
