// EAP-RADIUS accounting (RFC 2866): Start, Interim-Update and Stop of each IKE SA with the
// traffic of its Child SAs (eap_radius.h).
#include <algorithm>

#include "daemon/eap_radius.h"
#include "ike/config_payload.h"
#include "ike/ike_sa.h"
#include "util/log.h"

namespace ikeplex::daemon {
namespace {

using log::Subsystem;

/// Acct-Terminate-Cause (RFC 2866 §5.10) of an IKE SA that went for `reason`, as strongSwan's
/// eap-radius picks it: Lost-Service when the peer stopped answering, Session-Timeout when a
/// lifetime ran out, else User-Request.
std::uint32_t terminate_cause(const std::string& reason) {
    constexpr std::uint32_t kUserRequest = 1;
    constexpr std::uint32_t kLostService = 3;
    constexpr std::uint32_t kSessionTimeout = 5;
    const auto has = [&](const char* w) { return reason.find(w) != std::string::npos; };
    if (has("not responding") || has("dpd") || has("dead") || has("retransmit")) {
        return kLostService;
    }
    if (has("expire") || has("lifetime")) {
        return kSessionTimeout;
    }
    return kUserRequest;
}

std::uint32_t seconds_since(std::chrono::steady_clock::time_point t) {
    const auto s =
            std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - t);
    return static_cast<std::uint32_t>(std::max<std::int64_t>(0, s.count()));
}

}  // namespace

void EapRadius::account(radius::AcctStatus status, const RadiusSession& acct, const char* what) {
    client_->account(status, acct, [this, what, alive = std::weak_ptr<int>(life_)](Status st) {
        if (!alive.expired() && !st) {
            ++counters_.acct_failures;
            warn(std::string("RADIUS accounting ") + what + ": " + st.error().to_string());
        }
    });
}

void EapRadius::start_session(std::uint32_t ike_id) {
    auto granted = accepted_.extract(ike_id);
    if (!client_->settings().accounting) {
        return;
    }
    const ike::IkeSa* sa = host_.manager().sa(ike_id);
    if (sa == nullptr) {
        return;
    }
    Session s;
    s.start = std::chrono::steady_clock::now();
    s.acct.session_id = std::to_string(epoch_unix_) + "-" + std::to_string(next_session_++);
    s.acct.user = !sa->remote_eap_id().empty() ? sa->remote_eap_id() : sa->remote_id().to_string();
    if (const ike::VirtualIps* v = ike::virtual_ips(*sa); v != nullptr && !v->remote.empty()) {
        s.acct.framed_ip = v->remote.front();
    }
    s.acct.nas = sa->local();
    s.acct.peer = sa->remote();
    s.acct.nas_port = ike_id;
    // The server's Acct-Interim-Interval wins over accounting_interval (strongSwan's rule).
    s.interval = std::chrono::duration_cast<std::chrono::seconds>(
            client_->settings().accounting_interval);
    if (granted) {
        s.acct.classes = std::move(granted.mapped().classes);
        if (granted.mapped().interim) {
            s.interval = std::chrono::seconds(*granted.mapped().interim);
        }
    }
    account(radius::AcctStatus::kStart, s.acct, "Start");
    auto& placed = sessions_.emplace(ike_id, std::move(s)).first->second;
    track_children(ike_id);
    if (placed.interval.count() > 0) {
        log::info(Subsystem::kCfg, "scheduling RADIUS Interim-Updates every {}s",
                  placed.interval.count());
        arm_interim(placed);
    }
}

void EapRadius::arm_interim(Session& s) {
    if (!s.interim) {
        s.interim = std::make_unique<asio::steady_timer>(io_);
    }
    // The Acct-Session-Id stays across IKE rekeys; the IKE SA's id is looked up again.
    s.interim->expires_after(s.interval);
    s.interim->async_wait([this, id = s.acct.session_id,
                           alive = std::weak_ptr<int>(life_)](const asio::error_code& ec) {
        if (ec || alive.expired()) {
            return;
        }
        for (const auto& [ike, session] : sessions_) {
            if (session.acct.session_id == id) {
                send_interim(ike);
                return;
            }
        }
    });
}

void EapRadius::send_interim(std::uint32_t ike_id) {
    const auto it = sessions_.find(ike_id);
    if (it == sessions_.end()) {
        return;
    }
    Session& s = it->second;
    track_children(ike_id);
    const Usage u = usage(ike_id, s);
    RadiusSession acct = s.acct;
    acct.input_octets = u.in_octets;
    acct.output_octets = u.out_octets;
    acct.input_packets = u.in_packets;
    acct.output_packets = u.out_packets;
    acct.session_time = seconds_since(s.start);
    account(radius::AcctStatus::kInterimUpdate, acct, "Interim-Update");
    arm_interim(s);
}

void EapRadius::stop_session(std::uint32_t ike_id, const std::string& reason) {
    end_conversation(ike_id);
    accepted_.erase(ike_id);
    const auto it = sessions_.find(ike_id);
    if (it == sessions_.end()) {
        return;
    }
    // The Child SAs were deleted before this event (their counters are in `retired`).
    const Usage u = usage(ike_id, it->second);
    RadiusSession acct = std::move(it->second.acct);
    acct.session_time = seconds_since(it->second.start);
    acct.input_octets = u.in_octets;
    acct.output_octets = u.out_octets;
    acct.input_packets = u.in_packets;
    acct.output_packets = u.out_packets;
    acct.terminate_cause = terminate_cause(reason);
    sessions_.erase(it);
    std::erase_if(owners_, [ike_id](const auto& o) { return o.second == ike_id; });
    account(radius::AcctStatus::kStop, acct, "Stop");
}

void EapRadius::track_children(std::uint32_t ike_id) {
    const ike::IkeSa* sa = host_.manager().sa(ike_id);
    if (sa == nullptr) {
        return;
    }
    for (const auto& c : sa->children()) {
        if (c->state == ike::ChildState::kCreating) {
            continue;
        }
        owners_[{c->spi_in, true}] = ike_id;
        owners_[{c->spi_out, false}] = ike_id;
    }
}

void EapRadius::on_commands(const std::vector<ike::BackendCommand>& commands) {
    for (const ike::BackendCommand& cmd : commands) {
        const auto* del = std::get_if<ike::DeleteSa>(&cmd);
        if (del == nullptr) {
            continue;
        }
        const auto owner = owners_.find({del->spi, del->inbound});
        if (owner == owners_.end()) {
            continue;
        }
        const auto session = sessions_.find(owner->second);
        const auto st = host_.backend().stats(del->spi, del->inbound);
        if (session != sessions_.end() && st) {
            Usage& r = session->second.retired;
            (del->inbound ? r.in_octets : r.out_octets) += st->bytes;
            (del->inbound ? r.in_packets : r.out_packets) += st->packets;
        }
        owners_.erase(owner);
    }
}

EapRadius::Usage EapRadius::usage(std::uint32_t ike_id, const Session& s) const {
    Usage u = s.retired;
    for (const auto& [key, owner] : owners_) {
        if (owner != ike_id) {
            continue;
        }
        const auto st = host_.backend().stats(key.first, key.second);
        if (!st) {
            continue;
        }
        (key.second ? u.in_octets : u.out_octets) += st->bytes;
        (key.second ? u.in_packets : u.out_packets) += st->packets;
    }
    return u;
}

}  // namespace ikeplex::daemon
