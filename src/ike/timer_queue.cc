#include "ike/timer_queue.h"

#include <algorithm>

namespace ikeplex::ike {

namespace {

/// The heap's order: std::*_heap keep the greatest on top, so "greater" is the later timer.
template <class E>
bool later(const E& a, const E& b) noexcept {
    return a.at != b.at ? a.at > b.at : a.seq > b.seq;
}

}  // namespace

TimerQueue::Armeds::iterator TimerQueue::find(Armeds& armed, const TimerKey& key) noexcept {
    return std::find_if(armed.begin(), armed.end(),
                        [&](const Armed& a) { return a.kind == key.kind && a.arg == key.arg; });
}

bool TimerQueue::current(const Entry& e) const noexcept {
    auto ike = by_ike_.find(e.key.ike);
    if (ike == by_ike_.end()) {
        return false;
    }
    return std::any_of(ike->second.begin(), ike->second.end(),
                       [&](const Armed& a) { return a.seq == e.seq; });
}

void TimerQueue::set(TimerKey key, TimePoint at) {
    const std::uint64_t seq = next_seq_++;
    Armeds& armed = by_ike_[key.ike];
    if (auto it = find(armed, key); it != armed.end()) {
        it->seq = seq;  // the old entry goes stale
        it->at = at;
    } else {
        armed.push_back(Armed{key.kind, key.arg, seq, at});
        ++size_;
    }
    heap_.push_back(Entry{at, seq, key});
    std::push_heap(heap_.begin(), heap_.end(), later<Entry>);
    compact_if_stale();
}

void TimerQueue::remove(std::unordered_map<std::uint32_t, Armeds>::iterator ike,
                        Armeds::iterator it) {
    Armeds& armed = ike->second;
    *it = armed.back();
    armed.pop_back();
    --size_;
    if (armed.empty()) {
        by_ike_.erase(ike);
    }
}

void TimerQueue::cancel(TimerKey key) {
    auto ike = by_ike_.find(key.ike);
    if (ike == by_ike_.end()) {
        return;
    }
    if (auto it = find(ike->second, key); it != ike->second.end()) {
        remove(ike, it);
        compact_if_stale();
    }
}

void TimerQueue::cancel_all(std::uint32_t ike) {
    auto it = by_ike_.find(ike);
    if (it == by_ike_.end()) {
        return;
    }
    size_ -= it->second.size();
    by_ike_.erase(it);
    compact_if_stale();
}

void TimerQueue::drop_stale_top() const noexcept {
    while (!heap_.empty() && !current(heap_.front())) {
        std::pop_heap(heap_.begin(), heap_.end(), later<Entry>);
        heap_.pop_back();
    }
}

void TimerQueue::compact_if_stale() {
    if (heap_.size() <= 2 * size_ + 64) {
        return;
    }
    std::erase_if(heap_, [&](const Entry& e) { return !current(e); });
    std::make_heap(heap_.begin(), heap_.end(), later<Entry>);
}

std::optional<TimerKey> TimerQueue::pop_due(TimePoint now) {
    drop_stale_top();
    if (heap_.empty() || heap_.front().at > now) {
        return std::nullopt;
    }
    const TimerKey k = heap_.front().key;
    std::pop_heap(heap_.begin(), heap_.end(), later<Entry>);
    heap_.pop_back();
    auto ike = by_ike_.find(k.ike);
    remove(ike, find(ike->second, k));
    return k;
}

TimePoint TimerQueue::next() const noexcept {
    drop_stale_top();
    return heap_.empty() ? kNever : heap_.front().at;
}

std::optional<TimePoint> TimerQueue::deadline(TimerKey key) const {
    auto ike = by_ike_.find(key.ike);
    if (ike == by_ike_.end()) {
        return std::nullopt;
    }
    for (const Armed& a : ike->second) {
        if (a.kind == key.kind && a.arg == key.arg) {
            return a.at;
        }
    }
    return std::nullopt;
}

}  // namespace ikeplex::ike
