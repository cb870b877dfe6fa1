// The ESP anti-replay window (RFC 4303 §3.4.3) with extended sequence numbers (RFC 4303
// Appendix A): a bitmap of the last `size` sequence numbers below the highest one authenticated.
//
// The bitmap is a ring of 64-bit words with one spare word (the shape RFC 6479 describes), so
// sliding the window clears whole words instead of shifting bits: O(1) per packet for small
// jumps, at most one pass over the ring for big ones. Checking happens twice per packet:
// check() before the ICV is verified (cheap rejection, and the ESN high bits the ICV needs),
// update() after it verified (the only call that changes the window).
//
// Sequence number 0 is never accepted: the first packet of an SA carries 1 (RFC 4303 §3.3.3),
// and with ESN the 64-bit value 0 is never sent either.
//
// Threading: one window per inbound SA, used by one worker; not thread safe.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace ikeplex::esp {

class ReplayWindow {
public:
    /// Largest supported window, in packets.
    static constexpr std::uint32_t kMaxSize = 4096;

    /// `size` 0 disables replay protection (every sequence number passes; with ESN the high
    /// bits are still inferred, as the one closest to the highest seen); sizes above kMaxSize
    /// are clamped to it. `esn`: 64-bit sequence numbers of which packets carry the low half.
    ReplayWindow(std::uint32_t size, bool esn) noexcept;

    /// Before the ICV check: the full 64-bit sequence number the packet stands for (ESN:
    /// inferred high bits, RFC 4303 A2.2), or nullopt if it is a replay / too old.
    [[nodiscard]] std::optional<std::uint64_t> check(std::uint32_t seq_low) const noexcept;
    /// After the ICV verified: slide / mark. Returns false if it became a replay meanwhile
    /// (or is 0 / too old).
    bool update(std::uint64_t seq) noexcept;
    /// The highest sequence number authenticated so far (0 before the first packet).
    [[nodiscard]] std::uint64_t highest() const noexcept { return top_; }

    [[nodiscard]] std::uint32_t size() const noexcept { return size_; }
    [[nodiscard]] bool esn() const noexcept { return esn_; }

private:
    [[nodiscard]] std::uint64_t infer(std::uint32_t seq_low) const noexcept;
    [[nodiscard]] bool seen(std::uint64_t seq) const noexcept;

    std::vector<std::uint64_t> words_;  // ring; its size is a power of two
    std::uint64_t mask_{0};             // words_.size() - 1
    std::uint64_t top_{0};              // T: highest authenticated
    std::uint32_t size_;                // W
    bool esn_;
};

}  // namespace ikeplex::esp
