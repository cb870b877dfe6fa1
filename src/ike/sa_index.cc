#include "ike/sa_index.h"

#include <algorithm>
#include <functional>

namespace ikeplex::ike {

namespace {

constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr std::uint64_t kFnvPrime = 0x100000001b3ULL;

std::uint64_t fnv(std::uint64_t h, std::uint8_t byte) noexcept {
    return (h ^ byte) * kFnvPrime;
}

std::uint64_t hash_identity(std::uint64_t h, const Identity& id) noexcept {
    h = fnv(h, static_cast<std::uint8_t>(id.type));
    h = fnv(h, id.any ? 1 : 0);
    const auto n = static_cast<std::uint32_t>(id.data.size());
    for (int shift = 24; shift >= 0; shift -= 8) {
        h = fnv(h, static_cast<std::uint8_t>(n >> shift));
    }
    for (std::uint8_t b : id.data) {
        h = fnv(h, b);
    }
    return h;
}

bool usable(IkeState s) noexcept {
    return s == IkeState::kConnecting || s == IkeState::kEstablished || s == IkeState::kRekeying;
}

bool indexed(IkeState s) noexcept {
    return s != IkeState::kDestroyed && s != IkeState::kConnecting;
}

/// Past this many entries per live one, a group drops its stale entries.
bool too_stale(std::size_t entries, std::uint32_t live) noexcept {
    return entries > 2 * static_cast<std::size_t>(live) + 8;
}

void join(std::vector<std::uint32_t>& heap, std::uint32_t id) {
    heap.push_back(id);
    std::push_heap(heap.begin(), heap.end(), std::greater<>());
}

}  // namespace

std::size_t EndpointHash::operator()(const Endpoint& e) const noexcept {
    std::uint64_t h = kFnvOffset;
    for (std::uint8_t b : e.address.bytes()) {
        h = fnv(h, b);
    }
    h = fnv(h, static_cast<std::uint8_t>(e.address.family()));
    return hash_mix(h ^ (static_cast<std::uint64_t>(e.port) << 48));
}

std::size_t SaIndex::PeerHash::operator()(const PeerKey& k) const noexcept {
    return hash_mix(EndpointHash{}(k.remote) ^ std::hash<const void*>{}(k.conn));
}

std::uint64_t SaIndex::ids_of(const IkeSa& sa) noexcept {
    const std::uint64_t local = hash_identity(kFnvOffset, sa.local_id());
    if (sa.remote_eap_id().empty()) {
        return hash_identity(local, sa.remote_id());
    }
    // The peer's EAP identity stands for it where there is one (as strongSwan's uniqueness
    // check compares): users behind one IKE identity are told apart, one user is one.
    std::uint64_t h = fnv(local, 0xE4);
    for (const char ch : sa.remote_eap_id()) {
        h = fnv(h, static_cast<std::uint8_t>(ch));
    }
    return h;
}

void SaIndex::release(Name* name) {
    if (name != nullptr && --name->second == 0) {
        names_.erase(name->first);
    }
}

std::optional<IkeState> SaIndex::update(const IkeSa& sa) {
    Keys k;
    k.state = sa.state();
    k.initiator = sa.is_original_initiator();
    k.remote = sa.remote();
    k.ids = ids_of(sa);
    Keys* cur = keys_.find(sa.id());
    if (sa.config() != nullptr) {
        // One reference per SA: its own when the name did not change.
        const std::string& name = sa.config()->name;
        const bool same = cur != nullptr && cur->conn != nullptr && cur->conn->first == name;
        k.conn = same ? cur->conn : &*names_.try_emplace(name, 0).first;
        ++k.conn->second;
    }
    if (cur == nullptr) {
        keys_.insert(sa.id(), k);
        insert(sa.id(), k);
        return std::nullopt;
    }
    const Keys before = *cur;
    if (before == k) {
        release(k.conn);  // the reference taken above
        return before.state;
    }
    *cur = k;  // the groups' lookups see the SA as it is now
    erase(before);
    insert(sa.id(), k);
    release(before.conn);
    return before.state;
}

void SaIndex::forget(std::uint32_t id) {
    const Keys* found = keys_.find(id);
    if (found == nullptr) {
        return;
    }
    const Keys k = *found;
    keys_.erase(id);
    erase(k);
    release(k.conn);
}

void SaIndex::insert(std::uint32_t id, const Keys& k) {
    if (!indexed(k.state) && k.state != IkeState::kConnecting) {
        return;  // destroyed
    }
    if (indexed(k.state)) {
        Group& g = ids_[k.ids];
        join(g.heap, id);
        ++g.live;
        ++live_ids_;
    }
    if (k.conn == nullptr) {
        return;
    }
    if (usable(k.state) && k.initiator) {
        Group& g = initiators_[k.conn];
        join(g.heap, id);
        ++g.live;
        ++live_initiators_;
    }
    if (k.state == IkeState::kEstablished) {
        Group& g = established_[k.conn];
        join(g.heap, id);
        ++g.live;
        ++live_established_;
    }
    if (indexed(k.state)) {
        ++peers_[PeerKey{k.conn, k.remote}];
        ++live_peers_;
    }
}

void SaIndex::erase(const Keys& k) {
    if (indexed(k.state)) {
        --live_ids_;
        leave(ids_, k.ids, [&](std::uint32_t id) { return belongs_ids(k.ids, id); });
    }
    if (k.conn == nullptr) {
        return;
    }
    const Name* conn = k.conn;
    if (usable(k.state) && k.initiator) {
        --live_initiators_;
        leave(initiators_, conn, [&](std::uint32_t id) { return belongs(initiators_, conn, id); });
    }
    if (k.state == IkeState::kEstablished) {
        --live_established_;
        leave(established_, conn,
              [&](std::uint32_t id) { return belongs(established_, conn, id); });
    }
    if (indexed(k.state)) {
        --live_peers_;
        auto it = peers_.find(PeerKey{conn, k.remote});
        if (it != peers_.end() && --it->second == 0) {
            peers_.erase(it);
        }
    }
}

template <class K, class Belongs>
void SaIndex::leave(Groups<K>& groups, const K& key, Belongs belongs) {
    auto it = groups.find(key);
    if (it == groups.end()) {
        return;
    }
    Group& g = it->second;
    if (--g.live == 0) {
        groups.erase(it);
        return;
    }
    if (too_stale(g.heap.size(), g.live)) {
        std::sort(g.heap.begin(), g.heap.end());  // sorted is a min-heap under std::greater
        g.heap.erase(std::unique(g.heap.begin(), g.heap.end()), g.heap.end());
        std::erase_if(g.heap, [&](std::uint32_t id) { return !belongs(id); });
    }
}

bool SaIndex::belongs(const Groups<const Name*>& groups, const Name* key, std::uint32_t id) const {
    const Keys* found = keys_.find(id);
    if (found == nullptr || found->conn != key) {
        return false;
    }
    const Keys& k = *found;
    if (&groups == &initiators_) {
        return usable(k.state) && k.initiator;
    }
    return k.state == IkeState::kEstablished;
}

bool SaIndex::belongs_ids(std::uint64_t key, std::uint32_t id) const {
    const Keys* k = keys_.find(id);
    return k != nullptr && k->ids == key && indexed(k->state);
}

std::optional<std::uint32_t> SaIndex::first_of(Groups<const Name*>& groups,
                                               const std::string& conn) const {
    auto n = names_.find(conn);
    if (n == names_.end()) {
        return std::nullopt;
    }
    const Name* key = &*n;
    auto it = groups.find(key);
    if (it == groups.end()) {
        return std::nullopt;
    }
    auto& heap = it->second.heap;
    // Drops the stale entries on top; live > 0, so one that belongs remains.
    while (!heap.empty() && !belongs(groups, key, heap.front())) {
        std::pop_heap(heap.begin(), heap.end(), std::greater<>());
        heap.pop_back();
    }
    if (heap.empty()) {
        return std::nullopt;
    }
    return heap.front();
}

std::optional<std::uint32_t> SaIndex::initiator_of(const std::string& conn) const {
    return first_of(initiators_, conn);
}

std::optional<std::uint32_t> SaIndex::established_of(const std::string& conn) const {
    return first_of(established_, conn);
}

bool SaIndex::other_with_peer(const std::string& conn, const Endpoint& remote,
                              std::uint32_t self) const {
    auto n = names_.find(conn);
    if (n == names_.end()) {
        return false;
    }
    const Name* key = &*n;
    auto it = peers_.find(PeerKey{key, remote});
    if (it == peers_.end()) {
        return false;
    }
    // Each SA counts once: all but `self` if `self` is one of them.
    const Keys* s = keys_.find(self);
    const bool counted = s != nullptr && s->conn == key && s->remote == remote && indexed(s->state);
    return it->second > (counted ? 1U : 0U);
}

std::vector<std::uint32_t> SaIndex::with_ids(std::uint64_t ids) const {
    std::vector<std::uint32_t> out;
    auto it = ids_.find(ids);
    if (it == ids_.end()) {
        return out;
    }
    for (std::uint32_t id : it->second.heap) {
        if (belongs_ids(ids, id)) {
            out.push_back(id);
        }
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

void SaIndex::add_child(std::uint32_t ike, const ChildSa& c) {
    remove_child(c.id);
    children_.insert(c.id, ChildEntry{ike, c.spi_in, c.spi_out});
    spi_in_.emplace(c.spi_in, c.id);
    spi_out_.emplace(c.spi_out, c.id);
}

void SaIndex::erase_spi(SpiMap& map, Spi spi, std::uint32_t child) {
    auto [from, to] = map.equal_range(spi);
    for (auto it = from; it != to; ++it) {
        if (it->second == child) {
            map.erase(it);
            return;
        }
    }
}

void SaIndex::remove_child(std::uint32_t child) {
    const ChildEntry* found = children_.find(child);
    if (found == nullptr) {
        return;
    }
    const ChildEntry e = *found;
    erase_spi(spi_in_, e.spi_in, child);
    erase_spi(spi_out_, e.spi_out, child);
    children_.erase(child);
}

std::optional<std::uint32_t> SaIndex::ike_of(std::uint32_t child) const {
    const ChildEntry* e = children_.find(child);
    if (e == nullptr) {
        return std::nullopt;
    }
    return e->ike;
}

std::vector<std::pair<std::uint32_t, std::uint32_t>> SaIndex::by_spi(Spi spi, bool inbound) const {
    const auto& s = inbound ? spi_in_ : spi_out_;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> out;
    auto [from, to] = s.equal_range(spi);
    for (auto it = from; it != to; ++it) {
        if (const ChildEntry* c = children_.find(it->second)) {
            out.emplace_back(c->ike, it->second);
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::map<std::string, std::size_t> SaIndex::sizes() const {
    return {{"conn-names", names_.size()},        {"ike-keys", keys_.size()},
            {"ike-initiators", live_initiators_}, {"ike-established", live_established_},
            {"ike-peers", live_peers_},           {"ike-ids", live_ids_},
            {"children", children_.size()},       {"child-spi-in", spi_in_.size()},
            {"child-spi-out", spi_out_.size()}};
}

}  // namespace ikeplex::ike
