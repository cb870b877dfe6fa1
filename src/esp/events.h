// What workers tell the control thread (design.md §3): "resource K has no SA of its own for
// policy R" (an acquire, rate-limited by the worker) and lifetimes that ran out. Events are
// rare, so a mutex-protected queue with an eventfd to wake the control loop is enough; the
// packet path never takes the lock unless it has an event to report.
#pragma once

#include <mutex>
#include <variant>
#include <vector>

#include "esp/selector.h"
#include "util/strong_id.h"
#include "util/unique_fd.h"

namespace ikeplex::esp {

struct AcquireEvent {
    ReqId reqid;
    ResourceId resource;  ///< none: no SA at all for the policy
    Flow flow;            ///< the triggering packet
};
struct ExpireEvent {
    Spi spi;
    bool inbound{false};
    bool hard{false};
};
using Event = std::variant<AcquireEvent, ExpireEvent>;

class EventQueue {
public:
    EventQueue();
    EventQueue(const EventQueue&) = delete;
    EventQueue& operator=(const EventQueue&) = delete;
    EventQueue(EventQueue&&) = delete;
    EventQueue& operator=(EventQueue&&) = delete;
    ~EventQueue() = default;

    /// Any thread. Bounded: beyond 4096 pending events new ones are counted and dropped.
    void push(const Event& e);
    /// Control thread: takes everything pending (and clears the eventfd).
    std::vector<Event> drain();
    /// Readable when events are pending (-1 if eventfd creation failed: poll drain()).
    [[nodiscard]] int fd() const noexcept { return fd_.get(); }
    [[nodiscard]] std::uint64_t dropped() const noexcept;

private:
    mutable std::mutex mu_;
    std::vector<Event> pending_;
    std::uint64_t dropped_{0};
    UniqueFd fd_;
};

}  // namespace ikeplex::esp
