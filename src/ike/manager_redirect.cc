// RFC 5685 in the manager: the gateway's IKE_SA_INIT redirects (before any state), the
// operator's redirect of an established IKE SA, and the client's move to the new gateway once
// the redirected IKE SA is gone (at most kMaxRedirects per connection in
// kRedirectLoopPeriodSeconds, as strongSwan; RFC 5685 §7).
#include <algorithm>

#include "ike/exchanges.h"
#include "ike/manager.h"
#include "ike/payload_access.h"
#include "ike/redirect.h"

namespace ikeplex::ike {

using wire::NotifyType;

bool IkeSaManager::redirect_init(const wire::Message& m, const wire::NoncePayload& ni,
                                 const Endpoint& local, const Endpoint& remote, Step& step) {
    if (settings_.redirect_rules.empty() ||
        (!has_notify(m.payloads, NotifyType::kRedirectSupported) &&
         !has_notify(m.payloads, NotifyType::kRedirectedFrom)) ||
        ni.data.size() < 16 || ni.data.size() > 256) {
        return false;  // RFC 5685 §3: only peers that announced support
    }
    const RedirectRule* rule = match_redirect(settings_.redirect_rules, false, remote.address,
                                              nullptr, index_.established());
    if (rule == nullptr || rule->gateway.address == local.address) {
        return false;
    }
    wire::Header h = m.header;
    h.flags = wire::kFlagResponse;
    h.spi_r = IkeSpi(0);  // no IKE SA (§3)
    auto reply = wire::write_message(wire::Message{
            h, {wire::make_notify(NotifyType::kRedirect, encode_gateway(rule->gateway, ni.data))}});
    if (!reply) {
        return false;
    }
    ++counters_.redirects_sent;
    PEER_LOG(peer_log_, step.now, info, log::Subsystem::kIke,
             "{} is initiating an IKE_SA, redirecting it to gateway {} (rule {})", remote,
             rule->gateway.to_string(), rule->name);
    trace_reply(*reply, 0, step);
    log_datagram(true, *reply, local, remote);
    step.out.datagrams.push_back(OutDatagram{std::move(*reply), local, remote});
    return true;
}

Status IkeSaManager::redirect(std::uint32_t ike_id, const Gateway& gateway, Step& step) {
    IkeSa* sa = find(ike_id);
    if (sa == nullptr || sa->closing()) {
        return make_error(Errc::kNotFound, "no such IKE_SA");
    }
    if (sa->is_original_initiator()) {
        return make_error(Errc::kState,
                          "only the original responder can redirect an IKE_SA (RFC 5685 §10)");
    }
    if (sa->state() != IkeState::kEstablished) {
        return make_error(Errc::kState, "the IKE_SA is not established");
    }
    const auto* st = sa->states().find<RedirectState>();
    if (st == nullptr || !st->peer_supported) {
        return make_error(Errc::kState, "the peer did not announce REDIRECT_SUPPORTED");
    }
    ++counters_.redirects_sent;
    sa->queue(make_redirect(gateway), step);
    finish(step);
    return ok();
}

bool IkeSaManager::follow_redirect(const IkeSa& sa, const ConfigPtr& conn, Step& step) {
    const auto* st = sa.states().find<RedirectState>();
    if (st == nullptr || !st->target) {
        return false;
    }
    const Gateway& gw = *st->target;
    std::vector<std::string> children = st->children;
    for (const std::string& c : sa.end().children) {
        if (std::find(children.begin(), children.end(), c) == children.end()) {
            children.push_back(c);
        }
    }
    // The loop bound: redirects of this connection within the period.
    std::vector<TimePoint>& times = redirects_[conn->name];
    const TimePoint since = step.now - std::chrono::seconds(kRedirectLoopPeriodSeconds);
    std::erase_if(times, [&](TimePoint t) { return t < since; });
    if (times.size() >= kMaxRedirects) {
        ++counters_.redirects_refused;
        IKE_LOG(error, sa,
                "not following the redirect of {} to {}: {} redirects within {} s, a redirect "
                "loop? giving up",
                conn->name, gw.to_string(), times.size(), kRedirectLoopPeriodSeconds);
        return true;
    }
    std::optional<IpAddress> remote = gw.address;
    if (!remote && host_lookup_) {
        remote = host_lookup_(gw.fqdn);
    }
    if (!remote) {
        ++counters_.redirects_refused;
        IKE_LOG(error, sa, "not following the redirect of {}: cannot resolve gateway {}",
                conn->name, gw.to_string());
        return true;
    }
    std::optional<IpAddress> local;
    for (const IpAddress& a : conn->local_addrs) {
        if (a.family() == remote->family()) {
            local = a;
            break;
        }
    }
    if (!local && source_lookup_) {
        local = source_lookup_(*remote);
    }
    if (!local) {
        ++counters_.redirects_refused;
        IKE_LOG(error, sa, "not following the redirect of {}: no local address reaches {}",
                conn->name, *remote);
        return true;
    }
    times.push_back(step.now);
    ++counters_.redirects_followed;
    auto next = std::make_unique<IkeSa>(services_, *this, next_ike_id(), true,
                                        Endpoint{*local, conn->local_port},
                                        Endpoint{*remote, conn->remote_port});
    next->set_spis(new_ike_spi(), IkeSpi(0));
    next->set_config(conn);
    next->states().get<RedirectState>().redirected_from = sa.remote().address;
    IkeSa& added = adopt(std::move(next));
    IKE_LOG(info, added, "initiating IKE_SA {} to {} (redirected from {})", added.label(), *remote,
            sa.remote().address);
    const ChildConfig* first = children.empty() ? nullptr : conn->child(children.front());
    added.start(conn, first, ResourceId::none(), step);
    for (std::size_t i = 1; i < children.size(); ++i) {
        if (const ChildConfig* c = conn->child(children[i])) {
            added.create_child(*c, ResourceId::none(), step);
        }
    }
    return true;
}

}  // namespace ikeplex::ike
