// Small helpers to find payloads and notifies in a parsed payload list.
#pragma once

#include <optional>
#include <span>

#include "wire/payloads.h"

namespace ikeplex::ike {

/// The first payload of `type` with body T, or nullptr.
template <class T>
const T* find_payload(std::span<const wire::Payload> ps, wire::PayloadType type) noexcept {
    for (const wire::Payload& p : ps) {
        if (p.type == type) {
            return p.as<T>();
        }
    }
    return nullptr;
}

inline const wire::NotifyPayload* find_notify(std::span<const wire::Payload> ps,
                                              wire::NotifyType type) noexcept {
    for (const wire::Payload& p : ps) {
        if (const auto* n = p.as<wire::NotifyPayload>(); n != nullptr && n->type == type) {
            return n;
        }
    }
    return nullptr;
}

inline bool has_notify(std::span<const wire::Payload> ps, wire::NotifyType type) noexcept {
    return find_notify(ps, type) != nullptr;
}

/// The first error notify (type < 16384), if any.
inline const wire::NotifyPayload* first_error(std::span<const wire::Payload> ps) noexcept {
    for (const wire::Payload& p : ps) {
        if (const auto* n = p.as<wire::NotifyPayload>(); n != nullptr && wire::is_error(n->type)) {
            return n;
        }
    }
    return nullptr;
}

}  // namespace ikeplex::ike
