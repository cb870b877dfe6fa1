// Control thread → worker: SA and policy changes. The worker checks one atomic flag per loop
// iteration and takes the lock only when commands are pending, so the packet path never
// waits for the control thread (design.md §1.3). An eventfd wakes a worker blocked in epoll.
#pragma once

#include <atomic>
#include <mutex>
#include <vector>

#include "esp/packet_core.h"
#include "util/unique_fd.h"

namespace ikeplex::esp {

class CommandQueue {
public:
    CommandQueue();
    CommandQueue(const CommandQueue&) = delete;
    CommandQueue& operator=(const CommandQueue&) = delete;
    CommandQueue(CommandQueue&&) = delete;
    CommandQueue& operator=(CommandQueue&&) = delete;
    ~CommandQueue() = default;

    void push(Command c);
    /// Applies everything pending to `core` (worker thread); returns how many.
    std::size_t drain(PacketCore& core);
    [[nodiscard]] bool pending() const noexcept { return pending_.load(std::memory_order_acquire); }
    /// Readable when commands are pending.
    [[nodiscard]] int fd() const noexcept { return fd_.get(); }
    /// Wakes the worker without a command (e.g. to stop).
    void wake() const noexcept;

private:
    std::mutex mu_;
    std::vector<Command> queue_;
    std::atomic<bool> pending_{false};
    UniqueFd fd_;
};

}  // namespace ikeplex::esp
