#include "ike/timer_queue.h"

namespace ikeplex::ike {

void TimerQueue::set(TimerKey key, TimePoint at) {
    cancel(key);
    by_key_.emplace(key, by_time_.emplace(at, key));
}

void TimerQueue::cancel(TimerKey key) {
    auto it = by_key_.find(key);
    if (it == by_key_.end()) {
        return;
    }
    by_time_.erase(it->second);
    by_key_.erase(it);
}

void TimerQueue::cancel_all(std::uint32_t ike) {
    auto it = by_key_.lower_bound(TimerKey{ike, TimerKind::kRetransmit, 0});
    while (it != by_key_.end() && it->first.ike == ike) {
        const TimerKey k = it->first;
        ++it;
        cancel(k);
    }
}

std::optional<TimerKey> TimerQueue::pop_due(TimePoint now) {
    if (by_time_.empty() || by_time_.begin()->first > now) {
        return std::nullopt;
    }
    const TimerKey k = by_time_.begin()->second;
    cancel(k);
    return k;
}

TimePoint TimerQueue::next() const noexcept {
    return by_time_.empty() ? kNever : by_time_.begin()->first;
}

std::optional<TimePoint> TimerQueue::deadline(TimerKey key) const {
    auto it = by_key_.find(key);
    if (it == by_key_.end()) {
        return std::nullopt;
    }
    return it->second->first;
}

}  // namespace ikeplex::ike
