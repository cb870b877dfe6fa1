#include "esp/command_queue.h"

#include <sys/eventfd.h>

#include <unistd.h>

namespace ikeplex::esp {

CommandQueue::CommandQueue() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

void CommandQueue::push(Command c) {
    {
        const std::lock_guard lock(mu_);
        queue_.push_back(std::move(c));
        pending_.store(true, std::memory_order_release);
    }
    wake();
}

void CommandQueue::wake() const noexcept {
    if (fd_) {
        const std::uint64_t one = 1;
        [[maybe_unused]] const ssize_t n = ::write(fd_.get(), &one, sizeof one);
    }
}

std::size_t CommandQueue::drain(PacketCore& core) {
    if (fd_) {
        std::uint64_t v = 0;
        [[maybe_unused]] const ssize_t n = ::read(fd_.get(), &v, sizeof v);
    }
    std::vector<Command> batch;
    {
        const std::lock_guard lock(mu_);
        batch.swap(queue_);
        pending_.store(false, std::memory_order_release);
    }
    for (auto& c : batch) {
        core.apply(c);
    }
    return batch.size();
}

}  // namespace ikeplex::esp
