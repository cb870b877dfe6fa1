// EAP-RADIUS in the daemon: see eap_radius.h.
#include "daemon/eap_radius.h"

#include <ctime>
#include <utility>

#include "ike/config_payload.h"
#include "ike/ike_sa.h"
#include "util/log.h"

namespace ikeplex::daemon {
namespace {

using log::Subsystem;

/// Acct-Terminate-Cause (RFC 2866 §5.10) of an IKE SA that went for `reason`.
std::uint32_t terminate_cause(const std::string& reason) {
    constexpr std::uint32_t kUserRequest = 1;
    constexpr std::uint32_t kLostCarrier = 2;
    constexpr std::uint32_t kAdminReset = 6;
    const auto has = [&](const char* w) { return reason.find(w) != std::string::npos; };
    if (has("dpd") || has("dead") || has("timeout") || has("retransmit")) {
        return kLostCarrier;
    }
    if (has("shutdown") || has("terminate") || has("admin")) {
        return kAdminReset;
    }
    return kUserRequest;
}

}  // namespace

Result<std::unique_ptr<EapRadius>> EapRadius::create(asio::io_context& io, EngineHost& host,
                                                     config::RadiusSettings settings) {
    auto self = std::make_unique<EapRadius>(Token{}, host);
    self->client_ = IKEPLEX_TRY(RadiusClient::create(io, std::move(settings), self->random_));
    self->host_.set_eap_sink([raw = self.get()](std::vector<ike::EapBackendQuery> q) {
        raw->on_queries(std::move(q));
    });
    self->listener_ =
            self->host_.add_listener([raw = self.get()](const ike::Event& e) { raw->on_event(e); });
    return self;
}

EapRadius::EapRadius(Token /*create()*/, EngineHost& host)
    : host_(host), epoch_unix_(static_cast<std::int64_t>(std::time(nullptr))) {}

EapRadius::~EapRadius() {
    host_.set_eap_sink({});
    if (listener_ != 0) {
        host_.remove_listener(listener_);
    }
}

void EapRadius::on_queries(std::vector<ike::EapBackendQuery> queries) {
    for (ike::EapBackendQuery& q : queries) {
        ++counters_.queries;
        const ike::IkeSa* sa = host_.manager().sa(q.ike_id);
        if (sa == nullptr) {
            continue;  // gone meanwhile
        }
        RadiusAuthRequest r;
        r.eap = std::move(q.eap);
        r.user = q.identity;
        r.nas = sa->local();
        r.peer = sa->remote();
        r.nas_port = q.ike_id;
        r.nas_port_id = sa->config() != nullptr ? sa->config()->name : std::string();
        if (const auto it = conversations_.find(q.ike_id); it != conversations_.end()) {
            r.state = it->second.state;
            r.server = it->second.server;
        }
        std::weak_ptr<int> alive = life_;
        client_->authenticate(std::move(r), [this, alive, id = q.ike_id,
                                             seq = q.seq](Result<RadiusAuthReply> reply) {
            if (alive.expired()) {
                return;
            }
            on_reply(id, seq, std::move(reply));
        });
    }
}

void EapRadius::on_reply(std::uint32_t ike_id, std::uint32_t seq, Result<RadiusAuthReply> reply) {
    ike::EapBackendAnswer a;  // a reject unless the reply says otherwise
    if (!reply) {
        ++counters_.failures;
        conversations_.erase(ike_id);
        warn("EAP-RADIUS: no usable answer for IKE SA #" + std::to_string(ike_id) + ": " +
             reply.error().to_string());
        answer(ike_id, seq, std::move(a));
        return;
    }
    switch (reply->code) {
        case radius::Code::kAccessChallenge:
            ++counters_.challenges;
            conversations_[ike_id] = Conversation{std::move(reply->state), reply->server};
            a.kind = ike::EapBackendAnswer::Kind::kRequest;
            a.eap = std::move(reply->eap);
            break;
        case radius::Code::kAccessAccept:
            ++counters_.accepts;
            conversations_.erase(ike_id);
            a.kind = ike::EapBackendAnswer::Kind::kAccept;
            a.eap = std::move(reply->eap);
            a.msk = std::move(reply->msk);
            if (!reply->classes.empty()) {
                classes_[ike_id] = std::move(reply->classes);
            }
            log::info(Subsystem::kCfg, "RADIUS authentication of IKE SA #{} accepted by '{}'",
                      ike_id, reply->server_name);
            break;
        default:
            ++counters_.rejects;
            conversations_.erase(ike_id);
            a.eap = std::move(reply->eap);
            log::info(Subsystem::kCfg, "RADIUS authentication of IKE SA #{} rejected by '{}'",
                      ike_id, reply->server_name);
            break;
    }
    answer(ike_id, seq, std::move(a));
}

void EapRadius::answer(std::uint32_t ike_id, std::uint32_t seq, ike::EapBackendAnswer a) {
    host_.execute([&](ike::Step& s) {
        host_.manager().on_eap_backend_answer(ike_id, seq, std::move(a), s);
    });
}

void EapRadius::on_event(const ike::Event& e) {
    switch (e.kind) {
        case ike::EventKind::kIkeUp:
            start_session(e.ike_id);
            break;
        case ike::EventKind::kIkeRekeyed:
            if (auto n = sessions_.extract(e.ike_id)) {
                n.key() = e.new_id;
                sessions_.insert(std::move(n));
            }
            break;
        case ike::EventKind::kIkeDown:
            stop_session(e.ike_id, e.reason);
            break;
        case ike::EventKind::kIkeFailed:
            conversations_.erase(e.ike_id);
            classes_.erase(e.ike_id);
            break;
        default:
            break;
    }
}

void EapRadius::start_session(std::uint32_t ike_id) {
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
    if (auto c = classes_.extract(ike_id)) {
        s.acct.classes = std::move(c.mapped());
    }
    client_->account(radius::AcctStatus::kStart, s.acct,
                     [this, alive = std::weak_ptr<int>(life_)](Status st) {
                         if (!alive.expired() && !st) {
                             ++counters_.acct_failures;
                             warn("RADIUS accounting Start: " + st.error().to_string());
                         }
                     });
    sessions_.emplace(ike_id, std::move(s));
}

void EapRadius::stop_session(std::uint32_t ike_id, const std::string& reason) {
    conversations_.erase(ike_id);
    classes_.erase(ike_id);
    const auto it = sessions_.find(ike_id);
    if (it == sessions_.end()) {
        return;
    }
    RadiusSession acct = std::move(it->second.acct);
    const auto lived = std::chrono::steady_clock::now() - it->second.start;
    sessions_.erase(it);
    acct.session_time = static_cast<std::uint32_t>(
            std::chrono::duration_cast<std::chrono::seconds>(lived).count());
    acct.terminate_cause = terminate_cause(reason);
    client_->account(radius::AcctStatus::kStop, acct,
                     [this, alive = std::weak_ptr<int>(life_)](Status st) {
                         if (!alive.expired() && !st) {
                             ++counters_.acct_failures;
                             warn("RADIUS accounting Stop: " + st.error().to_string());
                         }
                     });
}

void EapRadius::warn(const std::string& what) {
    const auto now = std::chrono::steady_clock::now();
    if (last_warning_.time_since_epoch().count() != 0 &&
        now - last_warning_ < std::chrono::seconds(1)) {
        ++suppressed_;
        return;
    }
    last_warning_ = now;
    if (suppressed_ > 0) {
        log::warn(Subsystem::kCfg, "{} ({} similar messages suppressed)", what, suppressed_);
        suppressed_ = 0;
        return;
    }
    log::warn(Subsystem::kCfg, "{}", what);
}

}  // namespace ikeplex::daemon
