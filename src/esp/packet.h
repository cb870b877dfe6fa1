// A packet buffer for the data plane: fixed storage with headroom, so ESP, UDP and IP headers
// are prepended and trailers appended in place, with no allocation per packet. Workers own
// arrays of these (one batch each); nothing here is shared between threads.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "util/bytes.h"

namespace ikeplex::esp {

class PacketBuf {
public:
    /// Room in front of the data for outer headers (IPv6 40 + UDP 8 + ESP 8 + IV 16 + slack).
    static constexpr std::size_t kHeadroom = 128;
    /// Total storage: a 9000-byte jumbo frame plus headroom and ESP trailer/ICV room.
    static constexpr std::size_t kCapacity = 9216 + 256;

    PacketBuf() noexcept = default;

    [[nodiscard]] std::uint8_t* data() noexcept { return storage_.data() + off_; }
    [[nodiscard]] const std::uint8_t* data() const noexcept { return storage_.data() + off_; }
    [[nodiscard]] std::size_t size() const noexcept { return len_; }
    [[nodiscard]] bool empty() const noexcept { return len_ == 0; }
    [[nodiscard]] MutByteView bytes() noexcept { return {data(), len_}; }
    [[nodiscard]] ByteView bytes() const noexcept { return {data(), len_}; }
    [[nodiscard]] std::size_t headroom() const noexcept { return off_; }
    [[nodiscard]] std::size_t tailroom() const noexcept { return kCapacity - off_ - len_; }

    /// Empties the buffer, leaving `headroom` bytes in front.
    void reset(std::size_t headroom = kHeadroom) noexcept {
        off_ = headroom <= kCapacity ? headroom : kCapacity;
        len_ = 0;
    }
    /// Where to read `n` bytes into (after reset()); sets the size to `n` or fails (nullptr).
    [[nodiscard]] std::uint8_t* fill(std::size_t n) noexcept {
        if (n > kCapacity - off_) {
            return nullptr;
        }
        len_ = n;
        return data();
    }
    /// Room for a read of up to tailroom() bytes: call fill(actual) afterwards.
    [[nodiscard]] MutByteView writable() noexcept { return {data(), kCapacity - off_}; }
    /// Replaces the contents with a copy of `b`; false if it does not fit.
    bool assign(ByteView b, std::size_t headroom = kHeadroom) noexcept {
        reset(headroom);
        std::uint8_t* p = fill(b.size());
        if (p == nullptr) {
            return false;
        }
        if (!b.empty()) {
            std::memcpy(p, b.data(), b.size());
        }
        return true;
    }
    /// Grows the front by `n` bytes and returns the new start, or nullptr without headroom.
    [[nodiscard]] std::uint8_t* prepend(std::size_t n) noexcept {
        if (n > off_) {
            return nullptr;
        }
        off_ -= n;
        len_ += n;
        return data();
    }
    /// Grows the back by `n` bytes and returns where they start, or nullptr without room.
    [[nodiscard]] std::uint8_t* append(std::size_t n) noexcept {
        if (n > tailroom()) {
            return nullptr;
        }
        std::uint8_t* p = data() + len_;
        len_ += n;
        return p;
    }
    /// Drops `n` bytes from the front (false if there are fewer).
    bool pull(std::size_t n) noexcept {
        if (n > len_) {
            return false;
        }
        off_ += n;
        len_ -= n;
        return true;
    }
    /// Drops `n` bytes from the back (false if there are fewer).
    bool trim(std::size_t n) noexcept {
        if (n > len_) {
            return false;
        }
        len_ -= n;
        return true;
    }

private:
    // Cache-line aligned, so the data at kHeadroom (and the ESP payload after encapsulation)
    // starts on a cache line: vector crypto and copies run faster on aligned buffers.
    alignas(64) std::array<std::uint8_t, kCapacity> storage_{};
    std::size_t off_{kHeadroom};
    std::size_t len_{0};
};

}  // namespace ikeplex::esp
