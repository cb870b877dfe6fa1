// State that an exchange keeps on an IKE SA beyond one message: the handshake between
// IKE_SA_INIT and IKE_AUTH, a rekey collision waiting for the other exchange, Delete requests
// that overtook a response. Each kind is a type of its own, declared in the file of the
// exchange that owns it; the IKE SA holds one of each kind, created on first use, and knows
// nothing of what they hold. A new exchange adds its state here without touching IkeSa.
#pragma once

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

namespace ikeplex::ike {

/// Base of every exchange state kind.
class ExchangeState {
public:
    ExchangeState() = default;
    ExchangeState(const ExchangeState&) = default;
    ExchangeState& operator=(const ExchangeState&) = default;
    ExchangeState(ExchangeState&&) = default;
    ExchangeState& operator=(ExchangeState&&) = default;
    virtual ~ExchangeState() = default;
};

/// The exchange states of one IKE SA: at most one of each type T (derived from
/// ExchangeState and default-constructible).
class ExchangeStates {
public:
    /// The state of kind T, made (default-constructed) if there is none yet.
    template <class T>
    T& get() {
        if (T* t = find<T>()) {
            return *t;
        }
        auto owned = std::make_unique<T>();
        T& t = *owned;
        slots_.emplace_back(key<T>(), std::move(owned));
        return t;
    }
    /// The state of kind T, or null.
    template <class T>
    [[nodiscard]] T* find() const noexcept {
        const auto it = std::find_if(slots_.begin(), slots_.end(),
                                     [](const Slot& s) { return s.first == key<T>(); });
        return it != slots_.end() ? static_cast<T*>(it->second.get()) : nullptr;
    }
    /// Forgets the state of kind T (its destructor wipes what it must).
    template <class T>
    void drop() noexcept {
        std::erase_if(slots_, [](const Slot& s) { return s.first == key<T>(); });
    }

private:
    using Slot = std::pair<const void*, std::unique_ptr<ExchangeState>>;
    /// One distinct address per type: the identity of a kind of state.
    template <class T>
    static const void* key() noexcept {
        static const char k = 0;
        return &k;
    }

    std::vector<Slot> slots_;
};

}  // namespace ikeplex::ike
