// ScopedNetns: moves the calling thread into a fresh network namespace (loopback up) and back on
// destruction, so the real-kernel tests of the I/O layer never touch the host's interfaces,
// addresses, routes or ports. Threads started while inside inherit the namespace.
// Use: ScopedNetns ns; if (!ns.ok()) GTEST_SKIP() << ns.why();
#pragma once

#include <cerrno>
#include <cstring>
#include <string>

#include <net/if.h>

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include "esp/io/rtnl.h"
#include "util/unique_fd.h"

namespace ikeplex::esp::io::testing {

class ScopedNetns {
public:
    ScopedNetns() {
        original_.reset(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
        if (!original_) {
            why_ = std::string("cannot open own network namespace: ") + std::strerror(errno);
            return;
        }
        if (::unshare(CLONE_NEWNET) != 0) {
            why_ = std::string("unshare(CLONE_NEWNET) impossible here (needs root): ") +
                   std::strerror(errno);
            return;
        }
        entered_ = true;
        auto up = link_up(::if_nametoindex("lo"), 0);
        if (!up) {
            why_ = "cannot set lo up: " + up.error().to_string();
        }
    }
    ~ScopedNetns() {
        if (entered_) {
            static_cast<void>(::setns(original_.get(), CLONE_NEWNET));
        }
    }
    ScopedNetns(const ScopedNetns&) = delete;
    ScopedNetns& operator=(const ScopedNetns&) = delete;

    [[nodiscard]] bool ok() const { return entered_ && why_.empty(); }
    [[nodiscard]] const std::string& why() const { return why_; }

private:
    UniqueFd original_;
    bool entered_{false};
    std::string why_;
};

/// True if TUN devices can be created (/dev/net/tun is there).
inline bool have_tun() {
    return ::access("/dev/net/tun", R_OK | W_OK) == 0;
}

}  // namespace ikeplex::esp::io::testing
