// Uniqueness (swanctl.conf `unique`, with strongSwan's semantics) and RFC 7296 §2.4
// INITIAL_CONTACT, checked when the responder completes IKE_AUTH of a new IKE SA, before it is
// established (as charon does, only as the responder):
//
//  - INITIAL_CONTACT, under any policy but `never`: the peer holds no other IKE SA with us, so
//    every other IKE SA between the same identities (any connection, any state past IKE_AUTH)
//    is forgotten at once, without a Delete the peer could not read.
//  - `replace`: the established (or rekeying) IKE SAs of the same connection between the same
//    identities are deleted (INFORMATIONAL Delete); the new one stays.
//  - `keep`: while such an IKE SA exists, the new one is refused: the IKE_AUTH response carries
//    AUTHENTICATION_FAILED alone (what charon sends) and the new SA ends. The oldest is kept;
//    other duplicates are deleted (as charon 5.9.8 does).
//  - `no` and `never`: nothing (and `never` sends no INITIAL_CONTACT as the initiator).
//
// Identities as charon compares them: our identity, the peer's EAP identity where it has one
// (else its IKE identity), and the address family of the peer's address. The lookup is the
// identity index, and none is made under `no` without INITIAL_CONTACT (a load generator's many
// IKE SAs with one identity cost nothing).
//
// Never duplicates: an IKE rekey's new IKE SA (made by CREATE_CHILD_SA, never checked here),
// and a new IKE SA without INITIAL_CONTACT from the very address of the one it would replace or
// be refused for: that is the peer reauthenticating make-before-break (manager_reauth.cc), whose
// old IKE SA the peer deletes itself once the new one is up (strongSwan 5.9.8's charon makes the
// same exception under keep and replace: integration_unique).
#include "ike/manager.h"

namespace ikeplex::ike {

namespace {

/// Whether two IKE SAs are between the same identities, as uniqueness compares them.
bool same_identities(const IkeSa& a, const IkeSa& b) {
    if (a.local_id() != b.local_id() || a.remote_eap_id() != b.remote_eap_id() ||
        a.remote().address.family() != b.remote().address.family()) {
        return false;
    }
    return !a.remote_eap_id().empty() || a.remote_id() == b.remote_id();
}

/// The peer as uniqueness names it (log lines).
std::string peer_name(const IkeSa& sa) {
    return sa.remote_eap_id().empty() ? sa.remote_id().to_string() : sa.remote_eap_id();
}

const char* to_string(UniquePolicy p) {
    switch (p) {
        case UniquePolicy::kNo:
            return "no";
        case UniquePolicy::kIgnoreInitialContact:
            return "never";
        case UniquePolicy::kKeep:
            return "keep";
        case UniquePolicy::kReplace:
            return "replace";
    }
    return "?";
}

}  // namespace

bool IkeSaManager::check_uniqueness(IkeSa& fresh, bool initial_contact, Step& step) {
    const PeerConfig* cfg = fresh.config();
    const UniquePolicy policy = cfg != nullptr ? cfg->unique : UniquePolicy::kNo;
    if (policy == UniquePolicy::kIgnoreInitialContact ||
        (policy == UniquePolicy::kNo && !initial_contact)) {
        return true;
    }
    bool refuse = false;
    for (const std::uint32_t id : index_.with_ids(SaIndex::ids_of(fresh))) {
        IkeSa* old = find(id);
        if (old == nullptr || old == &fresh || old->state() == IkeState::kConnecting ||
            !same_identities(*old, fresh)) {
            continue;  // the index holds a hash of the identities
        }
        if (initial_contact) {
            ++counters_.initial_contacts;
            IKE_LOG(info, *old, "INITIAL_CONTACT from '{}': deleting this old IKE_SA",
                    peer_name(fresh));
            old->destroy("replaced after INITIAL_CONTACT", EndCause::kReplaced, step);
            continue;
        }
        if (old->config() == nullptr || old->config()->name != cfg->name ||
            (old->state() != IkeState::kEstablished && old->state() != IkeState::kRekeying)) {
            continue;
        }
        if (old->remote().address == fresh.remote().address) {
            IKE_LOG(info, fresh,
                    "'{}' already has IKE_SA {} from {}: taken for its reauthentication, not "
                    "a duplicate (unique = {})",
                    peer_name(fresh), old->label(), old->remote().address, to_string(policy));
            continue;
        }
        if (policy == UniquePolicy::kKeep && !refuse) {
            refuse = true;
            ++counters_.unique_refused;
            IKE_LOG(info, fresh,
                    "'{}' already has IKE_SA {}: cancelling this IKE_SA setup (unique = keep)",
                    peer_name(fresh), old->label());
            continue;
        }
        ++counters_.unique_replaced;
        IKE_LOG(info, *old, "deleting duplicate IKE_SA of '{}' for {} (unique = {})",
                peer_name(fresh), fresh.label(), to_string(policy));
        old->delete_ike("duplicate (uniqueness policy)", step);
    }
    return !refuse;
}

}  // namespace ikeplex::ike
