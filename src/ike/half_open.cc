#include "ike/half_open.h"

#include "ike/sa_index.h"

namespace ikeplex::ike {

std::size_t AddressHash::operator()(const IpAddress& a) const noexcept {
    return EndpointHash{}(Endpoint{a, 0});
}

void HalfOpenTable::add(std::uint32_t id, const IpAddress& from) {
    if (by_id_.emplace(id, from).second) {
        ++per_address_[from];
    }
}

void HalfOpenTable::remove(std::uint32_t id) {
    auto it = by_id_.find(id);
    if (it == by_id_.end()) {
        return;
    }
    if (auto a = per_address_.find(it->second); a != per_address_.end() && --a->second == 0) {
        per_address_.erase(a);
    }
    by_id_.erase(it);
}

std::uint32_t HalfOpenTable::from(const IpAddress& a) const noexcept {
    auto it = per_address_.find(a);
    return it == per_address_.end() ? 0 : it->second;
}

InitGate init_gate(const HalfOpenTable& t, const InitLimits& l, const IpAddress& from,
                   bool cookie_ok) noexcept {
    const std::uint32_t mine = t.from(from);
    // Cookies first: a spoofed source never gets past them, so it can neither block an
    // address it does not own (cookie_threshold_ip < block_threshold) nor fill the table.
    if (!cookie_ok && (t.size() >= l.cookie_threshold || mine >= l.cookie_threshold_ip)) {
        return InitGate::kNeedCookie;
    }
    if (mine >= l.block_threshold) {
        return InitGate::kBlocked;
    }
    if (t.size() >= l.init_limit_half_open) {
        return InitGate::kGlobalLimit;
    }
    return InitGate::kAdmit;
}

}  // namespace ikeplex::ike
