// UniqueFd: the one owner of a file descriptor in ikeplex (RAII, move-only). Every descriptor
// that code of ours opens (sockets, TUN queues, eventfds, epoll instances, BPF programs,
// netlink sockets, files being read) lives in one of these, so it is closed exactly once.
#pragma once

#include <utility>

#include <unistd.h>

namespace ikeplex {

class UniqueFd {
public:
    UniqueFd() noexcept = default;
    /// Takes ownership of `fd` (a negative value: owns nothing, e.g. a failed open()).
    explicit UniqueFd(int fd) noexcept : fd_(fd) {}
    ~UniqueFd() { reset(); }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&& o) noexcept {
        if (this != &o) {
            reset(std::exchange(o.fd_, -1));
        }
        return *this;
    }

    /// The descriptor (-1 when none), still owned by this object.
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

}  // namespace ikeplex
