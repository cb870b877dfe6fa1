#include "ike/timer_queue.h"

#include <algorithm>

namespace ikeplex::ike {

TimerQueue::Armeds::iterator TimerQueue::find(Armeds& armed, const TimerKey& key) noexcept {
    return std::find_if(armed.begin(), armed.end(),
                        [&](const Armed& a) { return a.kind == key.kind && a.arg == key.arg; });
}

void TimerQueue::set(TimerKey key, TimePoint at) {
    Armeds& armed = by_ike_[key.ike];
    if (auto it = find(armed, key); it != armed.end()) {
        by_time_.erase(it->at);
        it->at = by_time_.emplace(at, key);
        return;
    }
    armed.push_back(Armed{key.kind, key.arg, by_time_.emplace(at, key)});
    ++size_;
}

void TimerQueue::cancel(TimerKey key) {
    auto ike = by_ike_.find(key.ike);
    if (ike == by_ike_.end()) {
        return;
    }
    Armeds& armed = ike->second;
    auto it = find(armed, key);
    if (it == armed.end()) {
        return;
    }
    by_time_.erase(it->at);
    *it = armed.back();
    armed.pop_back();
    --size_;
    if (armed.empty()) {
        by_ike_.erase(ike);
    }
}

void TimerQueue::cancel_all(std::uint32_t ike) {
    auto it = by_ike_.find(ike);
    if (it == by_ike_.end()) {
        return;
    }
    for (const Armed& a : it->second) {
        by_time_.erase(a.at);
    }
    size_ -= it->second.size();
    by_ike_.erase(it);
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
    auto ike = by_ike_.find(key.ike);
    if (ike == by_ike_.end()) {
        return std::nullopt;
    }
    for (const Armed& a : ike->second) {
        if (a.kind == key.kind && a.arg == key.arg) {
            return a.at->first;
        }
    }
    return std::nullopt;
}

}  // namespace ikeplex::ike
