// Fd: an owned file descriptor (RAII, movable, not copyable), and the helper that turns a failed
// system call into an Error (Errc::kSystem with errno). Every descriptor of the data-plane I/O
// layer (TUN queues, UDP and raw sockets, netlink, BPF programs) lives in one of these.
#pragma once

#include <cerrno>
#include <utility>

#include <unistd.h>

#include "util/result.h"

namespace ikeplex::esp::io {

class Fd {
public:
    Fd() noexcept = default;
    explicit Fd(int fd) noexcept : fd_(fd) {}
    ~Fd() { reset(); }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Fd& operator=(Fd&& o) noexcept {
        if (this != &o) {
            reset(std::exchange(o.fd_, -1));
        }
        return *this;
    }

    [[nodiscard]] int get() const noexcept { return fd_; }
    [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
    explicit operator bool() const noexcept { return valid(); }
    /// Gives up ownership without closing.
    [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }
    /// Closes the current descriptor (if any) and takes `fd`.
    void reset(int fd = -1) noexcept {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        fd_ = fd;
    }

private:
    int fd_{-1};
};

/// Error{kSystem, detail, errno} for the errno of the call that just failed.
inline Error sys_error(const char* detail, int err = errno) noexcept {
    Error e = make_error(Errc::kSystem, detail);
    e.sys_errno = err;
    return e;
}

}  // namespace ikeplex::esp::io
