#include "ike/timer_queue.h"

#include <utility>

namespace ikeplex::ike {

bool TimerQueue::before(Node a, Node b) noexcept {
    const Entry& x = a->second;
    const Entry& y = b->second;
    return x.at < y.at || (x.at == y.at && x.seq < y.seq);
}

void TimerQueue::place(std::size_t slot, Node n) noexcept {
    heap_[slot] = n;
    n->second.slot = slot;
}

void TimerQueue::sift_up(std::size_t slot) noexcept {
    const Node n = heap_[slot];
    while (slot > 0) {
        const std::size_t parent = (slot - 1) / 2;
        if (!before(n, heap_[parent])) {
            break;
        }
        place(slot, heap_[parent]);
        slot = parent;
    }
    place(slot, n);
}

void TimerQueue::sift_down(std::size_t slot) noexcept {
    const Node n = heap_[slot];
    const std::size_t size = heap_.size();
    for (;;) {
        std::size_t child = 2 * slot + 1;
        if (child >= size) {
            break;
        }
        if (child + 1 < size && before(heap_[child + 1], heap_[child])) {
            ++child;
        }
        if (!before(heap_[child], n)) {
            break;
        }
        place(slot, heap_[child]);
        slot = child;
    }
    place(slot, n);
}

void TimerQueue::remove(Node n) {
    const std::size_t slot = n->second.slot;
    const Node last = heap_.back();
    heap_.pop_back();
    if (last != n) {
        place(slot, last);
        sift_up(slot);
        sift_down(last->second.slot);
    }
    by_key_.erase(n);
    // After a mass deletion, hand the heap's capacity back (it is 8 bytes per timer).
    if (heap_.capacity() > 4096 && heap_.size() < heap_.capacity() / 4) {
        heap_.shrink_to_fit();
    }
}

void TimerQueue::set(TimerKey key, TimePoint at) {
    const std::uint64_t seq = next_seq_++;  // as if cancelled and set again
    auto [it, added] = by_key_.try_emplace(key, Entry{at, seq, heap_.size()});
    if (added) {
        heap_.push_back(it);
        sift_up(heap_.size() - 1);
        return;
    }
    it->second.at = at;
    it->second.seq = seq;
    sift_up(it->second.slot);
    sift_down(it->second.slot);
}

void TimerQueue::cancel(TimerKey key) {
    if (auto it = by_key_.find(key); it != by_key_.end()) {
        remove(it);
    }
}

void TimerQueue::cancel_all(std::uint32_t ike) {
    auto it = by_key_.lower_bound(TimerKey{ike, TimerKind::kRetransmit, 0});
    while (it != by_key_.end() && it->first.ike == ike) {
        const Node n = it;
        ++it;
        remove(n);
    }
}

std::optional<TimerKey> TimerQueue::pop_due(TimePoint now) {
    if (heap_.empty() || heap_.front()->second.at > now) {
        return std::nullopt;
    }
    const Node n = heap_.front();
    const TimerKey k = n->first;
    remove(n);
    return k;
}

TimePoint TimerQueue::next() const noexcept {
    return heap_.empty() ? kNever : heap_.front()->second.at;
}

std::optional<TimePoint> TimerQueue::deadline(TimerKey key) const {
    auto it = by_key_.find(key);
    if (it == by_key_.end()) {
        return std::nullopt;
    }
    return it->second.at;
}

}  // namespace ikeplex::ike
