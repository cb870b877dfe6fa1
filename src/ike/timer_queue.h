// Timers of all IKE SAs in one ordered queue. Setting a key replaces its previous deadline;
// the host learns only the earliest deadline (Output::wakeup).
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <unordered_map>
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
    kIkeReauth,    ///< reauthentication due (reauth_time)
    kRestart,      ///< the manager's (ike 0): a connection to initiate again; arg: its restart slot
    kEapBackend,   ///< the AAA backend did not answer an EAP query (eap_backend.h)
    kFollowupKe,   ///< RFC 9370: the next IKE_FOLLOWUP_KE did not come; arg: its pending id
    kRevocation,   ///< a RevocationQuery was not answered in time; arg: its seq
};

struct TimerKey {
    std::uint32_t ike{0};
    TimerKind kind{TimerKind::kRetransmit};
    std::uint32_t arg{0};
    auto operator<=>(const TimerKey&) const =
            default;  // NOLINT(modernize-use-nullptr): clang-tidy 14 misreads defaulted <=>
};

/// One queue for the whole engine. The deadlines form a min-heap ordered by (deadline, order
/// of setting): timers pop in deadline order, those with the same deadline in the order they
/// were set. Re-arming or cancelling leaves the old heap entry behind, stale (O(1) instead of
/// a search tree's rebalancing); stale entries are dropped when they reach the top or when
/// they outnumber the armed timers.
class TimerQueue {
public:
    TimerQueue() = default;
    TimerQueue(const TimerQueue&) = delete;
    TimerQueue& operator=(const TimerQueue&) = delete;
    TimerQueue(TimerQueue&&) = default;
    TimerQueue& operator=(TimerQueue&&) = default;
    ~TimerQueue() = default;

    void set(TimerKey key, TimePoint at);
    void cancel(TimerKey key);
    /// Cancels every timer of an IKE SA.
    void cancel_all(std::uint32_t ike);
    /// The earliest timer due at `now`, removed from the queue.
    std::optional<TimerKey> pop_due(TimePoint now);
    [[nodiscard]] TimePoint next() const noexcept;
    [[nodiscard]] std::optional<TimePoint> deadline(TimerKey key) const;
    [[nodiscard]] std::size_t size() const noexcept { return size_; }

private:
    /// A deadline in the heap; current while its key is armed with the same `seq`.
    struct Entry {
        TimePoint at;
        std::uint64_t seq{0};
        TimerKey key;
    };
    /// One armed timer of an IKE SA.
    struct Armed {
        TimerKind kind{TimerKind::kRetransmit};
        std::uint32_t arg{0};
        std::uint64_t seq{0};
        TimePoint at;
    };
    using Armeds = std::vector<Armed>;

    [[nodiscard]] static Armeds::iterator find(Armeds& armed, const TimerKey& key) noexcept;
    [[nodiscard]] bool current(const Entry& e) const noexcept;
    void remove(std::unordered_map<std::uint32_t, Armeds>::iterator ike, Armeds::iterator it);
    /// Pops stale entries off the top.
    void drop_stale_top() const noexcept;
    /// Rebuilds the heap from its current entries once the stale ones dominate.
    void compact_if_stale();

    mutable std::vector<Entry> heap_;
    /// Each IKE SA's armed timers (a few): O(1) in the number of IKE SAs.
    std::unordered_map<std::uint32_t, Armeds> by_ike_;
    std::uint64_t next_seq_{0};
    std::size_t size_{0};
};

}  // namespace ikeplex::ike
