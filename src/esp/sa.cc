#include "esp/sa.h"

namespace ikeplex::esp {
namespace {

void add(std::atomic<std::uint64_t>& a, std::uint64_t v, bool shared) noexcept {
    if (shared) {
        a.fetch_add(v, std::memory_order_relaxed);
    } else {  // one writer: a plain load and store, no locked instruction
        a.store(a.load(std::memory_order_relaxed) + v, std::memory_order_relaxed);
    }
}

bool reached(std::uint64_t value, std::uint64_t limit) noexcept {
    return limit != 0 && value >= limit;
}

/// True for the one caller that sets the flag (a load first: no locked instruction after).
bool first_to_set(std::atomic<bool>& flag) noexcept {
    return !flag.load(std::memory_order_relaxed) && !flag.exchange(true, std::memory_order_relaxed);
}

}  // namespace

Sa::Crossed Sa::count(std::size_t bytes, std::int64_t now_s) noexcept {
    add(packets_, 1, shared_);
    add(bytes_, bytes, shared_);
    if (last_use_.load(std::memory_order_relaxed) != now_s) {
        last_use_.store(now_s, std::memory_order_relaxed);
    }
    const Lifetime& l = config_.lifetime;
    if (l.soft_bytes == 0 && l.hard_bytes == 0 && l.soft_packets == 0 && l.hard_packets == 0) {
        return Crossed::kNone;
    }
    const std::uint64_t p = packets();
    const std::uint64_t b = this->bytes();
    if (reached(p, l.hard_packets) || reached(b, l.hard_bytes)) {
        return first_to_set(hard_) ? Crossed::kHard : Crossed::kNone;
    }
    if (reached(p, l.soft_packets) || reached(b, l.soft_bytes)) {
        if (first_to_set(soft_)) {
            return Crossed::kSoft;
        }
    }
    return Crossed::kNone;
}

}  // namespace ikeplex::esp
