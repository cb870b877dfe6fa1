#include "ike/sa_index.h"

#include <algorithm>

namespace ikeplex::ike {

namespace {

void append_identity(Bytes& out, const Identity& id) {
    const auto n = static_cast<std::uint32_t>(id.data.size());
    out.push_back(static_cast<std::uint8_t>(id.type));
    out.push_back(id.any ? 1 : 0);
    for (int shift = 24; shift >= 0; shift -= 8) {
        out.push_back(static_cast<std::uint8_t>(n >> shift));
    }
    out.insert(out.end(), id.data.begin(), id.data.end());
}

}  // namespace

SaIndex::Keys SaIndex::keys_of(const IkeSa& sa) {
    Keys k;
    k.state = sa.state();
    k.initiator = sa.is_original_initiator();
    if (sa.config() != nullptr) {
        k.conn = sa.config()->name;
    }
    k.remote = sa.remote();
    append_identity(k.ids, sa.local_id());
    append_identity(k.ids, sa.remote_id());
    return k;
}

std::optional<IkeState> SaIndex::update(std::uint32_t id, Keys keys) {
    auto it = keys_.find(id);
    if (it == keys_.end()) {
        insert(id, keys);
        keys_.emplace(id, std::move(keys));
        return std::nullopt;
    }
    const IkeState before = it->second.state;
    if (it->second != keys) {
        erase(id, it->second);
        insert(id, keys);
        it->second = std::move(keys);
    }
    return before;
}

void SaIndex::forget(std::uint32_t id) {
    auto it = keys_.find(id);
    if (it != keys_.end()) {
        erase(id, it->second);
        keys_.erase(it);
    }
}

void SaIndex::insert(std::uint32_t id, const Keys& k) {
    if (k.state == IkeState::kDestroyed) {
        return;
    }
    const bool connecting = k.state == IkeState::kConnecting;
    if (!connecting) {
        ids_.emplace(k.ids, id);
    }
    if (!k.conn) {
        return;
    }
    const bool usable =
            connecting || k.state == IkeState::kEstablished || k.state == IkeState::kRekeying;
    if (usable && k.initiator) {
        initiators_.emplace(*k.conn, id);
    }
    if (k.state == IkeState::kEstablished) {
        established_.emplace(*k.conn, id);
    }
    if (!connecting) {
        peers_.emplace(*k.conn, k.remote, id);
    }
}

void SaIndex::erase(std::uint32_t id, const Keys& k) {
    ids_.erase({k.ids, id});
    if (k.conn) {
        initiators_.erase({*k.conn, id});
        established_.erase({*k.conn, id});
        peers_.erase({*k.conn, k.remote, id});
    }
}

namespace {

std::optional<std::uint32_t> first_of(const std::set<std::pair<std::string, std::uint32_t>>& s,
                                      const std::string& conn) {
    auto it = s.lower_bound({conn, 0});
    if (it != s.end() && it->first == conn) {
        return it->second;
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::uint32_t> SaIndex::initiator_of(const std::string& conn) const {
    return first_of(initiators_, conn);
}

std::optional<std::uint32_t> SaIndex::established_of(const std::string& conn) const {
    return first_of(established_, conn);
}

bool SaIndex::other_with_peer(const std::string& conn, const Endpoint& remote,
                              std::uint32_t self) const {
    // At most two entries to look at: `self` and the one after it.
    for (auto it = peers_.lower_bound({conn, remote, 0}); it != peers_.end(); ++it) {
        const auto& [c, r, id] = *it;
        if (c != conn || r != remote) {
            return false;
        }
        if (id != self) {
            return true;
        }
    }
    return false;
}

std::vector<std::uint32_t> SaIndex::with_ids(const Bytes& ids) const {
    std::vector<std::uint32_t> out;
    for (auto it = ids_.lower_bound({ids, 0}); it != ids_.end() && it->first == ids; ++it) {
        out.push_back(it->second);
    }
    return out;
}

void SaIndex::add_child(std::uint32_t ike, const ChildSa& c) {
    remove_child(c.id);
    children_[c.id] = ChildEntry{ike, c.spi_in, c.spi_out};
    spi_in_.emplace(c.spi_in, c.id);
    spi_out_.emplace(c.spi_out, c.id);
}

void SaIndex::remove_child(std::uint32_t child) {
    auto it = children_.find(child);
    if (it == children_.end()) {
        return;
    }
    spi_in_.erase({it->second.spi_in, child});
    spi_out_.erase({it->second.spi_out, child});
    children_.erase(it);
}

std::optional<std::uint32_t> SaIndex::ike_of(std::uint32_t child) const {
    auto it = children_.find(child);
    if (it == children_.end()) {
        return std::nullopt;
    }
    return it->second.ike;
}

std::vector<std::pair<std::uint32_t, std::uint32_t>> SaIndex::by_spi(Spi spi, bool inbound) const {
    const auto& s = inbound ? spi_in_ : spi_out_;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> out;
    for (auto it = s.lower_bound({spi, 0}); it != s.end() && it->first == spi; ++it) {
        if (auto c = children_.find(it->second); c != children_.end()) {
            out.emplace_back(c->second.ike, it->second);
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::map<std::string, std::size_t> SaIndex::sizes() const {
    return {{"ike-keys", keys_.size()},
            {"ike-initiators", initiators_.size()},
            {"ike-established", established_.size()},
            {"ike-peers", peers_.size()},
            {"ike-ids", ids_.size()},
            {"children", children_.size()},
            {"child-spi-in", spi_in_.size()},
            {"child-spi-out", spi_out_.size()}};
}

}  // namespace ikeplex::ike
