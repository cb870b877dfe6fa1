// MOBIKE (RFC 4555), the side that follows: an INFORMATIONAL request's COOKIE2 echoed (§3.7),
// NAT detection answered (§3.8), UPDATE_SA_ADDRESSES carried out for the IKE SA's original
// initiator only (§3.5), the peer's additional addresses stored (§3.6); and, for both sides,
// the Child SAs moved to the IKE SA's endpoints.
#include <algorithm>

#include "ike/exchanges.h"
#include "ike/mobike.h"
#include "ike/payload_access.h"
#include "util/log.h"

namespace ikeplex::ike {

using wire::NotifyType;
using wire::Payload;

namespace {

/// Local policy on the initiator's new address (§3.5): a connection with fixed remote_addrs
/// takes only those.
bool acceptable(const IkeSa& sa, const Endpoint& remote) {
    const PeerConfig* cfg = sa.config();
    return cfg == nullptr || cfg->remote_addrs.empty() ||
           std::find(cfg->remote_addrs.begin(), cfg->remote_addrs.end(), remote.address) !=
                   cfg->remote_addrs.end();
}

/// Carries out an UPDATE_SA_ADDRESSES of the original initiator from the request's path.
/// False (refused) if the path is not acceptable.
bool update_addresses(IkeSa& sa, const MobikeNotifies& notes, Step& step) {
    const Endpoint& local = sa.request_local();
    const Endpoint& remote = sa.request_remote();
    MobikeInfo& m = sa.mobike();
    if (m.newest_update && *m.newest_update > sa.request_mid()) {
        return true;  // §3.5: a newer update came first (window > 1): answer, change nothing
    }
    if (!acceptable(sa, remote)) {
        sa.registry().note_mobike_refused(sa, "new address not in remote_addrs", step.now);
        return false;
    }
    m.newest_update = sa.request_mid();
    sa.registry().note_mobike_update();
    if (auto nat = mobike_nat(sa, notes, local, remote)) {
        sa.set_nat(nat->first, nat->second);
    }
    IKE_LOG(info, sa, "peer updated addresses: {} - {} (was {} - {}){}", local, remote, sa.local(),
            sa.remote(), sa.udp_encap() ? ", UDP encapsulation" : "");
    sa.set_endpoints(local, remote);
    move_children(sa, step);
    return true;
}

}  // namespace

void answer_mobike(IkeSa& sa, std::span<const Payload> request, std::vector<Payload>& out,
                   Step& step) {
    auto notes = parse_mobike(request);
    if (!notes) {
        // Hostile or broken data (§4.2 lengths): nothing of it is used, nothing echoed.
        sa.registry().note_mobike_refused(sa, "malformed MOBIKE notify, request not acted upon",
                                          step.now);
        return;
    }
    const bool natd = notes->natd_dst != nullptr && !notes->natd_src.empty();
    bool refused = false;
    if (notes->update) {
        if (!sa.mobike().on) {
            sa.registry().note_mobike_refused(sa, "UPDATE_SA_ADDRESSES without MOBIKE, ignored",
                                              step.now);
        } else if (sa.mobike().mover) {
            // §3.5: only the original initiator decides the addresses.
            sa.registry().note_mobike_refused(
                    sa, "UPDATE_SA_ADDRESSES from the IKE SA's responder, refused", step.now);
            refused = true;
        } else {
            refused = !update_addresses(sa, *notes, step);
        }
    }
    if (refused) {
        out.push_back(wire::make_notify(NotifyType::kUnacceptableAddresses));
    } else if (sa.mobike().on && natd) {
        // §3.8: NAT detection in a request is answered, for the path it came by.
        (void)append_natd(sa.services().registry, sa.spi_i(), sa.spi_r(), sa.request_local(),
                          sa.request_remote(), fakes_nat(sa), sa.services().random, out);
    }
    if (sa.mobike().on && notes->addresses_given()) {
        sa.mobike().peer_addresses = notes->additional;  // §3.6: the whole list, replaced
        IKE_LOG(info, sa, "peer announced {} additional address(es)", notes->additional.size());
    }
    if (notes->cookie2) {
        out.push_back(wire::make_notify(NotifyType::kCookie2, *notes->cookie2));  // §3.7
    }
}

void move_children(IkeSa& sa, Step& step) {
    const bool encap = sa.udp_encap();
    for (const auto& owned : sa.children()) {
        ChildSa& c = *owned;
        if (c.state == ChildState::kCreating ||
            (c.local == sa.local() && c.remote == sa.remote() && c.udp_encap == encap)) {
            continue;
        }
        step.out.commands.emplace_back(UpdateSaAddresses{c.id, c.spi_in, true, c.remote, c.local,
                                                         sa.remote(), sa.local(), encap});
        if (c.pending_outbound) {
            // Held back until the SA it replaces goes (hold_outbound): installed as it is now.
            c.pending_outbound->src = sa.local();
            c.pending_outbound->dst = sa.remote();
            c.pending_outbound->udp_encap = encap;
        } else if (!c.outbound_removed) {
            step.out.commands.emplace_back(UpdateSaAddresses{
                    c.id, c.spi_out, false, c.local, c.remote, sa.local(), sa.remote(), encap});
        }
        c.local = sa.local();
        c.remote = sa.remote();
        c.udp_encap = encap;
        sa.registry().move_policy(c.reqid, c.local_ts, c.remote_ts, sa.local(), sa.remote(), step);
    }
}

}  // namespace ikeplex::ike
