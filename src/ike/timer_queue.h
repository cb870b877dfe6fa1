// Timers of all IKE SAs in one ordered queue. Setting a key replaces its previous deadline;
// the host learns only the earliest deadline (Output::wakeup). Equal deadlines come out in the
// order they were set. One map node per timer (a few per SA) plus its slot in a binary heap.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "ike/time.h"

namespace ikeplex::ike {

enum class TimerKind : std::uint8_t {
    kRetransmit,  ///< arg: message id
    kHalfOpen,    ///< responder: IKE_AUTH did not come
    kDpd,
    kIkeRekey,
    kIkeExpire,
    kChildRekey,   ///< arg: child id
    kChildExpire,  ///< arg: child id
    kRetry,        ///< queued work to retry (e.g. after TEMPORARY_FAILURE); arg: task id
    kDeleteLater,  ///< delete a redundant or rekeyed SA; arg: child id (0 = the IKE SA)
};

struct TimerKey {
    std::uint32_t ike{0};
    TimerKind kind{TimerKind::kRetransmit};
    std::uint32_t arg{0};
    auto operator<=>(const TimerKey&) const =
            default;  // NOLINT(modernize-use-nullptr): clang-tidy 14 misreads defaulted <=>
};

class TimerQueue {
public:
    void set(TimerKey key, TimePoint at);
    void cancel(TimerKey key);
    /// Cancels every timer of an IKE SA.
    void cancel_all(std::uint32_t ike);
    /// The earliest timer due at `now`, removed from the queue.
    std::optional<TimerKey> pop_due(TimePoint now);
    [[nodiscard]] TimePoint next() const noexcept;
    [[nodiscard]] std::optional<TimePoint> deadline(TimerKey key) const;
    [[nodiscard]] std::size_t size() const noexcept { return by_key_.size(); }

private:
    struct Entry {
        TimePoint at;
        std::uint64_t seq{0};  // set() order: ties pop first-set first
        std::size_t slot{0};   // index in heap_
    };
    using Node = std::map<TimerKey, Entry>::iterator;

    /// Orders the heap: earlier deadline, then earlier set().
    static bool before(Node a, Node b) noexcept;
    void place(std::size_t slot, Node n) noexcept;
    void sift_up(std::size_t slot) noexcept;
    void sift_down(std::size_t slot) noexcept;
    void remove(Node n);

    std::map<TimerKey, Entry> by_key_;
    std::vector<Node> heap_;  // min-heap by before()
    std::uint64_t next_seq_{0};
};

}  // namespace ikeplex::ike
