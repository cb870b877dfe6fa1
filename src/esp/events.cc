#include "esp/events.h"

#include <sys/eventfd.h>

#include <unistd.h>

namespace ikeplex::esp {
namespace {
constexpr std::size_t kMaxPending = 4096;
}

EventQueue::EventQueue() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

void EventQueue::push(const Event& e) {
    {
        const std::lock_guard lock(mu_);
        if (pending_.size() >= kMaxPending) {
            ++dropped_;
            return;
        }
        pending_.push_back(e);
    }
    if (fd_) {
        const std::uint64_t one = 1;
        [[maybe_unused]] const ssize_t n = ::write(fd_.get(), &one, sizeof one);
    }
}

std::vector<Event> EventQueue::drain() {
    if (fd_) {
        std::uint64_t v = 0;
        [[maybe_unused]] const ssize_t n = ::read(fd_.get(), &v, sizeof v);
    }
    std::vector<Event> out;
    const std::lock_guard lock(mu_);
    out.swap(pending_);
    return out;
}

std::uint64_t EventQueue::dropped() const noexcept {
    const std::lock_guard lock(mu_);
    return dropped_;
}

}  // namespace ikeplex::esp
