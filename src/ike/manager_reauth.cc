// Reauthentication (reauth_time, issue 19): the IKE SA and its Child SAs set up again from
// IKE_SA_INIT, with fresh authentication, as strongSwan does.
//
//  - make_before_break (the default, as strongSwan 6): a new IKE SA to the same peer, with
//    every Child SA config the old one holds (RFC 9611 groups: the fallback, and the members
//    as on a first set-up), is made beside the old one; once it is established and has no
//    request left to send, the old one is deleted. Traffic moves to the new Child SAs as they
//    are installed (the data plane sends on the newest), so nothing is lost. The new IKE SA
//    carries no INITIAL_CONTACT (the old one is still there), and the peer, seeing an IKE SA
//    made long after the old one, does not take it for a duplicate. If the new one fails, the
//    old one stays and tries again a minute later, until its hard end (over_time).
//  - otherwise: the old IKE SA is deleted first, and what it held is set up again when it is
//    gone (manager_heal.cc, EndInfo::reauth).
#include <algorithm>

#include "ike/config_payload.h"
#include "ike/manager.h"

namespace ikeplex::ike {

namespace {

constexpr Duration kRetryFailedReauth = std::chrono::seconds(60);

/// The Child SA configs `sa` holds (not the ones a rekey replaced, not group members: their
/// fallback brings them), in order, once each.
std::vector<std::string> held_children(const IkeSa& sa) {
    std::vector<std::string> out;
    for (const auto& c : sa.children()) {
        if (c->config == nullptr || c->resource != ResourceId::none() ||
            c->state == ChildState::kRekeyed || c->state == ChildState::kDeleting) {
            continue;
        }
        if (std::find(out.begin(), out.end(), c->config->name) == out.end()) {
            out.push_back(c->config->name);
        }
    }
    return out;
}

}  // namespace

void IkeSaManager::reauthenticate(IkeSa& old, Step& step) {
    if (stopping_ || old.config() == nullptr || old.closing()) {
        return;
    }
    for (const auto& [fresh, replaced] : reauths_) {
        if (replaced == old.id()) {
            return;  // under way
        }
    }
    // The connection as loaded now, if it still is (else the one the SA was made with).
    ConfigPtr cfg = configs_.find(old.config()->name);
    if (cfg == nullptr) {
        cfg = old.config_ptr();
    }
    std::vector<std::string> children = held_children(old);
    std::erase_if(children, [&](const std::string& n) { return cfg->child(n) == nullptr; });
    ++counters_.reauths;
    if (!settings_.make_before_break) {
        IKE_LOG(info, old, "reauthenticating IKE_SA {}: deleting it, then setting it up again",
                old.label());
        old.mark_reauth(std::move(children));
        old.delete_ike("reauthenticating", step);
        return;
    }
    auto sa = std::make_unique<IkeSa>(services_, *this, next_ike_id(), true, old.local(),
                                      old.remote());
    sa->set_spis(new_ike_spi(), IkeSpi(0));
    sa->set_config(cfg);
    // RFC 4555: the current path (above) and the peer's additional addresses carry over; its
    // own IKE_AUTH negotiates MOBIKE again.
    sa->mobike().peer_addresses = old.mobike().peer_addresses;
    IkeSa& fresh = adopt(std::move(sa));
    reauths_[fresh.id()] = old.id();
    IKE_LOG(info, old, "reauthenticating IKE_SA {}: {} replaces it (make-before-break)",
            old.label(), fresh.label());
    const ChildConfig* first = children.empty() ? nullptr : cfg->child(children.front());
    reuse_virtual_ips(old, fresh);
    fresh.start(cfg, first, ResourceId::none(), step);
    for (std::size_t k = 1; k < children.size(); ++k) {
        fresh.create_child(*cfg->child(children[k]), ResourceId::none(), step);
    }
}

void IkeSaManager::finish_reauths(Step& step) {
    for (auto it = reauths_.begin(); it != reauths_.end();) {
        IkeSa* fresh = find(it->first);
        IkeSa* old = find(it->second);
        if (old == nullptr || old->closing()) {
            it = reauths_.erase(it);  // the old one went anyway: the new one simply stays
            continue;
        }
        if (fresh == nullptr || fresh->closing()) {
            ++counters_.reauth_failures;
            IKE_LOG(info, *old, "reauthentication failed: keeping IKE_SA {}, trying again in {} s",
                    old->label(), kRetryFailedReauth.count() / 1000);
            old->retry_reauth(kRetryFailedReauth, step);
            it = reauths_.erase(it);
            continue;
        }
        if (fresh->state() == IkeState::kEstablished && fresh->idle()) {
            IKE_LOG(info, *old, "reauthenticated as {}: deleting IKE_SA {}", fresh->label(),
                    old->label());
            old->delete_ike("reauthenticated", step);
            it = reauths_.erase(it);
            continue;
        }
        ++it;
    }
}

}  // namespace ikeplex::ike
