// The IKE SA manager's bookkeeping: the IKE SAs it holds and their lookups. Nothing here walks
// every IKE SA (issue 17) except the listing sas(): the IKE SAs report each change through the
// SaRegistry hooks (note_changed, note_child_added, note_child_removed), which keep the
// indexes (sa_index.h), the half-open set and the list of destroyed SAs in step.
#include <algorithm>
#include <utility>

#include "ike/manager.h"

namespace ikeplex::ike {

namespace {

bool alive(const IkeSa& sa) noexcept {
    return sa.state() != IkeState::kDestroyed;
}

std::string reqid_key(std::string_view conn, std::string_view child) {
    return fmt::format("{}/{}", conn, child);
}

}  // namespace

void IkeSaManager::finish(Step& step) {
    // Acquires are settled once their Child SA is up.
    for (const Event& e : step.out.events) {
        if (e.kind != EventKind::kChildUp) {
            continue;
        }
        if (IkeSa* sa = find(e.ike_id); sa != nullptr) {
            if (const ChildSa* c = sa->child(e.child_id)) {
                // Any resource: after the fallback, the members' acquires must get through.
                const auto from = acquiring_.lower_bound({c->reqid, ResourceId::cpu(0)});
                auto to = from;
                while (to != acquiring_.end() && to->first.first == c->reqid) {
                    ++to;
                }
                acquiring_.erase(from, to);
            }
        }
    }
    for (const std::uint32_t id : std::exchange(established_, {})) {
        resolve_duplicates(id, step);
    }
    if (!reauths_.empty()) {
        finish_reauths(step);
    }
    // Only the SAs destroyed since the last call (ids can repeat; an SA goes once). What
    // follows an SA's end (heal_after) may start another, which may end at once: until none.
    while (!dead_.empty()) {
        const std::vector<std::uint32_t> dead = std::move(dead_);
        dead_.clear();
        for (std::uint32_t id : dead) {
            auto it = sas_.find(id);
            if (it == sas_.end() || alive(*it->second)) {
                continue;
            }
            ++sa_visits_;
            unindex(*it->second);
            const std::unique_ptr<IkeSa> gone = std::move(it->second);
            sas_.erase(it);
            heal_after(*gone, step);
        }
    }
    step.out.wakeup = timers_.next();
}

void IkeSaManager::unindex(const IkeSa& sa) {
    if (const std::uint32_t* id = by_spi_.find(sa.own_spi().value());
        id != nullptr && *id == sa.id()) {
        by_spi_.erase(sa.own_spi().value());
    }
    forget_init(sa.id());
    half_open_.remove(sa.id());
    for (const auto& c : sa.children()) {
        index_.remove_child(c->id);
    }
    index_.forget(sa.id());
}

void IkeSaManager::forget_init(std::uint32_t id) {
    if (auto it = init_keys_.find(id); it != init_keys_.end()) {
        if (auto b = by_init_.find(it->second); b != by_init_.end() && b->second == id) {
            by_init_.erase(b);
        }
        init_keys_.erase(it);
    }
}

bool IkeSaManager::adopted(const IkeSa& sa) const noexcept {
    auto it = sas_.find(sa.id());
    return it != sas_.end() && it->second.get() == &sa;
}

void IkeSaManager::note_changed(IkeSa& sa) {
    if (!adopted(sa)) {
        return;  // adopt() indexes it
    }
    const auto before = index_.update(sa);
    if (before == IkeState::kConnecting && sa.state() != IkeState::kConnecting) {
        // IKE_SA_INIT retransmits are answered only while half-open: the initiator sent
        // IKE_AUTH, so it has our response (and the entry would cost memory per SA)
        half_open_.remove(sa.id());
        forget_init(sa.id());
    }
    if (sa.state() == IkeState::kDestroyed && before != IkeState::kDestroyed) {
        dead_.push_back(sa.id());
    }
    if (sa.state() == IkeState::kEstablished && before != IkeState::kEstablished) {
        restart_succeeded(sa);
        if (before == IkeState::kConnecting) {
            established_.push_back(sa.id());  // made by IKE_AUTH, not by an IKE rekey
        }
    }
}

void IkeSaManager::note_child_added(IkeSa& sa, const ChildSa& child) {
    if (adopted(sa)) {
        index_.add_child(sa.id(), child);
    }
}

void IkeSaManager::note_child_removed(const ChildSa& child) {
    index_.remove_child(child.id);
}

std::map<std::string, std::size_t> IkeSaManager::index_sizes() const {
    auto out = index_.sizes();
    out["ike-spis"] = by_spi_.size();
    out["init-requests"] = by_init_.size();
    out["init-keys"] = init_keys_.size();
    out["half-open"] = half_open_.size();
    out["half-open-addresses"] = half_open_.addresses();
    out["destroyed"] = dead_.size();
    return out;
}

std::vector<const IkeSa*> IkeSaManager::sas() const {
    std::vector<const IkeSa*> out;
    for (const auto& [id, sa] : sas_) {
        if (alive(*sa)) {
            out.push_back(sa.get());
        }
    }
    std::sort(out.begin(), out.end(),
              [](const IkeSa* a, const IkeSa* b) { return a->id() < b->id(); });
    return out;
}

const IkeSa* IkeSaManager::sa(std::uint32_t id) const noexcept {
    auto it = sas_.find(id);
    return it != sas_.end() && alive(*it->second) ? it->second.get() : nullptr;
}

IkeSa* IkeSaManager::find(std::uint32_t id) noexcept {
    ++sa_visits_;
    auto it = sas_.find(id);
    return it != sas_.end() && alive(*it->second) ? it->second.get() : nullptr;
}

IkeSa* IkeSaManager::sa_of_child(std::uint32_t child_id) noexcept {
    const auto ike = index_.ike_of(child_id);
    IkeSa* sa = ike ? find(*ike) : nullptr;
    return sa != nullptr && sa->child(child_id) != nullptr ? sa : nullptr;
}

std::size_t IkeSaManager::half_open() const noexcept {
    return half_open_.size();
}

std::optional<std::pair<IkeSa*, ChildSa*>> IkeSaManager::find_child_by_spi(Spi spi,
                                                                           bool inbound) noexcept {
    // In IKE SA id order, as a walk of all SAs would find it.
    for (const auto& [ike, child] : index_.by_spi(spi, inbound)) {
        IkeSa* sa = find(ike);
        ChildSa* c = sa != nullptr ? sa->child(child) : nullptr;
        if (c != nullptr && (inbound || c->state != ChildState::kCreating)) {
            return std::make_pair(sa, c);
        }
    }
    return std::nullopt;
}

IkeSa* IkeSaManager::sa_of_config(const PeerConfig& conn) noexcept {
    if (auto id = index_.initiator_of(conn.name)) {
        return find(*id);
    }
    // A responder SA for the same connection will do as well once established.
    if (auto id = index_.established_of(conn.name)) {
        return find(*id);
    }
    return nullptr;
}

std::optional<std::pair<const PeerConfig*, const ChildConfig*>> IkeSaManager::by_reqid(
        ReqId reqid) const {
    auto it = reqid_names_.find(reqid);
    if (it == reqid_names_.end()) {
        return std::nullopt;
    }
    const ConfigPtr c = configs_.find(it->second.first);
    const ChildConfig* ch = c != nullptr ? c->child(it->second.second) : nullptr;
    if (ch == nullptr) {
        return std::nullopt;
    }
    return std::make_pair(c.get(), ch);  // configs_ keeps it alive
}

// ----------------------------------------------------------------------------- SaRegistry

IkeSpi IkeSaManager::new_ike_spi() {
    for (;;) {
        const IkeSpi spi(services_.random.u64());
        if (spi.value() != 0 && !by_spi_.contains(spi.value())) {
            return spi;
        }
    }
}

IkeSa& IkeSaManager::adopt(std::unique_ptr<IkeSa> sa) {
    IkeSa& ref = *sa;
    by_spi_.assign(ref.own_spi().value(), ref.id());
    sas_[ref.id()] = std::move(sa);
    note_changed(ref);
    for (const auto& c : ref.children()) {
        index_.add_child(ref.id(), *c);
    }
    return ref;
}

ReqId IkeSaManager::reqid_for(const PeerConfig& conn, const ChildConfig& child) {
    auto [it, added] = reqids_.try_emplace(reqid_key(conn.name, child.name), ReqId(next_reqid_));
    if (added) {
        reqid_names_.emplace(it->second, std::make_pair(conn.name, child.name));
        ++next_reqid_;
    }
    return it->second;
}

bool IkeSaManager::first_of_config(const IkeSa& sa) const {
    // Connections are the same by name: a reload replaces the object, not the connection.
    return sa.config() == nullptr ||
           !index_.other_with_peer(sa.config()->name, sa.remote(), sa.id());
}

}  // namespace ikeplex::ike
