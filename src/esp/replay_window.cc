#include "esp/replay_window.h"

#include <algorithm>
#include <bit>
#include <limits>

namespace ikeplex::esp {
namespace {

constexpr std::uint64_t kWordBits = 64;
constexpr std::uint64_t kSubspace = std::uint64_t{1} << 32U;

/// Words in the ring: enough for any `size` consecutive sequence numbers (which may straddle
/// one more word than size / 64), rounded up to a power of two so the index is a mask.
std::size_t ring_words(std::uint32_t size) noexcept {
    const std::uint64_t needed = (std::uint64_t{size} + kWordBits - 1) / kWordBits + 1;
    return static_cast<std::size_t>(std::bit_ceil(needed));
}

}  // namespace

// NOLINTNEXTLINE(bugprone-exception-escape): the ring is allocated once per SA, not per packet
ReplayWindow::ReplayWindow(std::uint32_t size, bool esn) noexcept
    : size_(std::min(size, kMaxSize)), esn_(esn) {
    if (size_ != 0) {
        words_.assign(ring_words(size_), 0);
        mask_ = words_.size() - 1;
    }
}

std::uint64_t ReplayWindow::infer(std::uint32_t seq_low) const noexcept {
    if (!esn_) {
        return seq_low;
    }
    const auto tl = static_cast<std::uint32_t>(top_);
    const std::uint64_t th = top_ >> 32U;
    if (size_ == 0) {
        // No window: the candidate closest to T (at most 2^31 either side).
        const auto diff = static_cast<std::int32_t>(seq_low - tl);
        if (diff < 0) {
            const auto back = static_cast<std::uint64_t>(-static_cast<std::int64_t>(diff));
            return back >= top_ ? 0 : top_ - back;
        }
        const auto fwd = static_cast<std::uint64_t>(diff);
        return fwd > std::numeric_limits<std::uint64_t>::max() - top_ ? 0 : top_ + fwd;
    }
    // RFC 4303 A2.2. Bl = Tl - W + 1 (mod 2^32).
    const std::uint32_t bl = tl - size_ + 1U;
    std::uint64_t seqh = th;
    if (tl >= size_ - 1U) {  // Case A: the window lies within one subspace
        if (seq_low < bl) {
            if (th == kSubspace - 1) {
                return 0;  // would wrap the 64-bit counter
            }
            seqh = th + 1;
        }
    } else if (seq_low >= bl) {  // Case B, the part of the window in the previous subspace
        if (th == 0) {
            return 0;  // before the SA's first subspace: nothing was ever sent there
        }
        seqh = th - 1;
    }
    return (seqh << 32U) | seq_low;
}

bool ReplayWindow::seen(std::uint64_t seq) const noexcept {
    const std::uint64_t word = words_[static_cast<std::size_t>((seq / kWordBits) & mask_)];
    return ((word >> (seq % kWordBits)) & 1U) != 0;
}

std::optional<std::uint64_t> ReplayWindow::check(std::uint32_t seq_low) const noexcept {
    const std::uint64_t seq = infer(seq_low);
    if (seq == 0) {
        return std::nullopt;
    }
    if (size_ == 0 || seq > top_) {
        return seq;
    }
    if (top_ - seq >= size_ || seen(seq)) {
        return std::nullopt;
    }
    return seq;
}

bool ReplayWindow::update(std::uint64_t seq) noexcept {
    if (seq == 0 || (!esn_ && seq > std::numeric_limits<std::uint32_t>::max())) {
        return false;
    }
    if (size_ == 0) {
        top_ = std::max(top_, seq);
        return true;
    }
    if (seq > top_) {
        // Clear the words the window slides into (all of them after a big jump).
        const std::uint64_t old_word = top_ / kWordBits;
        const std::uint64_t new_word = seq / kWordBits;
        const std::uint64_t n = std::min<std::uint64_t>(new_word - old_word, words_.size());
        for (std::uint64_t i = 1; i <= n; ++i) {
            words_[static_cast<std::size_t>((old_word + i) & mask_)] = 0;
        }
        top_ = seq;
    } else if (top_ - seq >= size_ || seen(seq)) {
        return false;
    }
    words_[static_cast<std::size_t>((seq / kWordBits) & mask_)] |= std::uint64_t{1}
                                                                   << (seq % kWordBits);
    return true;
}

}  // namespace ikeplex::esp
