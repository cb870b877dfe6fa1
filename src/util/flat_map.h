// A hash map from integer keys to small values in one array (open addressing, linear probing,
// deletion by backward shift: no tombstones). For the per-SA lookups by SPI that are hit on
// every set-up and delete: a lookup touches one or two cache lines, where a node-based
// std::unordered_map touches the bucket array, a node and its predecessor, spread over the
// heap (issue 17: their cache misses made deletes cost more per SA as the SA count grew).
// The table grows at 7/8 full and shrinks when it falls below 1/8 (mass deletes give the memory
// back). Not for iteration in any order; pointers from find() are valid until the next change.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

namespace ikeplex {

template <class Key, class Value>
class FlatMap {
    static_assert(std::is_integral_v<Key> && std::is_unsigned_v<Key>, "unsigned integer keys");

public:
    /// The value of `key`, or null.
    [[nodiscard]] Value* find(Key key) noexcept {
        const std::size_t i = slot_of(key);
        return i == kNone ? nullptr : &slots_[i].value;
    }
    [[nodiscard]] const Value* find(Key key) const noexcept {
        const std::size_t i = slot_of(key);
        return i == kNone ? nullptr : &slots_[i].value;
    }
    [[nodiscard]] bool contains(Key key) const noexcept { return slot_of(key) != kNone; }

    /// Inserts `key` with `value` unless present; true if inserted.
    bool insert(Key key, Value value) {
        if (contains(key)) {
            return false;
        }
        if ((size_ + 1) * 8 > slots_.size() * 7) {
            rehash(slots_.empty() ? kMinSlots : slots_.size() * 2);
        }
        place(key, std::move(value));
        ++size_;
        return true;
    }
    /// Sets `key` to `value`, inserting it if absent.
    void assign(Key key, Value value) {
        if (Value* v = find(key)) {
            *v = std::move(value);
            return;
        }
        insert(key, std::move(value));
    }
    /// Removes `key`; true if it was present.
    bool erase(Key key) {
        std::size_t hole = slot_of(key);
        if (hole == kNone) {
            return false;
        }
        const std::size_t mask = slots_.size() - 1;
        // Backward shift: move each following entry of the run into the hole if its home slot
        // does not lie (cyclically) between the hole and its slot.
        for (std::size_t j = (hole + 1) & mask; slots_[j].used; j = (j + 1) & mask) {
            const std::size_t home = hash(slots_[j].key) & mask;
            const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
            if (!stays) {
                slots_[hole] = std::move(slots_[j]);
                hole = j;
            }
        }
        slots_[hole] = Slot{};
        --size_;
        if (slots_.size() > kMinSlots && size_ * 8 < slots_.size()) {
            rehash(std::max(kMinSlots, slots_.size() / 4));
        }
        return true;
    }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
    /// Slots allocated (tests: the table shrinks after deletes).
    [[nodiscard]] std::size_t capacity() const noexcept { return slots_.size(); }

private:
    struct Slot {
        Key key{};
        bool used{false};
        Value value{};
    };
    static constexpr std::size_t kNone = ~std::size_t{0};
    static constexpr std::size_t kMinSlots = 16;

    /// splitmix64's finalizer: keys that differ in any bit land in different slots.
    [[nodiscard]] static std::size_t hash(Key key) noexcept {
        auto z = static_cast<std::uint64_t>(key);
        z = (z ^ (z >> 30U)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27U)) * 0x94d049bb133111ebULL;
        return static_cast<std::size_t>(z ^ (z >> 31U));
    }
    [[nodiscard]] std::size_t slot_of(Key key) const noexcept {
        if (slots_.empty()) {
            return kNone;
        }
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t i = hash(key) & mask; slots_[i].used; i = (i + 1) & mask) {
            if (slots_[i].key == key) {
                return i;
            }
        }
        return kNone;
    }
    void place(Key key, Value value) {
        const std::size_t mask = slots_.size() - 1;
        std::size_t i = hash(key) & mask;
        while (slots_[i].used) {
            i = (i + 1) & mask;
        }
        slots_[i] = Slot{key, true, std::move(value)};
    }
    void rehash(std::size_t slots) {
        std::vector<Slot> old = std::move(slots_);
        slots_ = std::vector<Slot>(slots);
        for (Slot& s : old) {
            if (s.used) {
                place(s.key, std::move(s.value));
            }
        }
    }

    std::vector<Slot> slots_;
    std::size_t size_{0};
};

}  // namespace ikeplex
