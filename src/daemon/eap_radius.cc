// EAP-RADIUS in the daemon: see eap_radius.h.
#include "daemon/eap_radius.h"

#include <algorithm>
#include <ctime>
#include <utility>

#include "ike/config_payload.h"
#include "ike/ike_sa.h"
#include "util/log.h"

namespace ikeplex::daemon {
using log::Subsystem;

Result<std::unique_ptr<EapRadius>> EapRadius::create(asio::io_context& io, EngineHost& host,
                                                     config::RadiusSettings settings) {
    auto self = std::make_unique<EapRadius>(Token{}, io, host);
    self->client_ = IKEPLEX_TRY(RadiusClient::create(io, std::move(settings), self->random_));
    self->host_.set_retire_tap(
            [raw = self.get()](const std::vector<ike::BackendCommand>& c) { raw->on_commands(c); });
    self->host_.set_eap_sink([raw = self.get()](std::vector<ike::EapBackendQuery> q) {
        raw->on_queries(std::move(q));
    });
    self->listener_ =
            self->host_.add_listener([raw = self.get()](const ike::Event& e) { raw->on_event(e); });
    return self;
}

EapRadius::EapRadius(Token /*create()*/, asio::io_context& io, EngineHost& host)
    : io_(io),
      host_(host),
      prune_timer_(io),
      epoch_unix_(static_cast<std::int64_t>(std::time(nullptr))) {}

EapRadius::~EapRadius() {
    host_.set_eap_sink({});
    host_.set_retire_tap({});
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
        // A conversation stays on the client (the settings) it started on.
        RadiusClient* client = client_.get();
        if (const auto it = conversations_.find(q.ike_id); it != conversations_.end()) {
            r.state = it->second.state;
            r.server = it->second.server;
            client = it->second.client.get();
        } else {
            conversations_[q.ike_id].client = client_;
        }
        std::weak_ptr<int> alive = life_;
        client->authenticate(std::move(r), [this, alive, id = q.ike_id,
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
        end_conversation(ike_id);
        warn("EAP-RADIUS: no usable answer for IKE SA #" + std::to_string(ike_id) + ": " +
             reply.error().to_string());
        answer(ike_id, seq, std::move(a));
        return;
    }
    switch (reply->code) {
        case radius::Code::kAccessChallenge:
            ++counters_.challenges;
            conversations_[ike_id].state = std::move(reply->state);
            conversations_[ike_id].server = reply->server;
            a.kind = ike::EapBackendAnswer::Kind::kRequest;
            a.eap = std::move(reply->eap);
            break;
        case radius::Code::kAccessAccept:
            ++counters_.accepts;
            end_conversation(ike_id);
            a.kind = ike::EapBackendAnswer::Kind::kAccept;
            a.eap = std::move(reply->eap);
            a.msk = std::move(reply->msk);
            a.framed_ip = reply->framed_ip;
            accepted_[ike_id] = Accepted{std::move(reply->classes), reply->interim_interval};
            log::info(Subsystem::kCfg, "RADIUS authentication of IKE SA #{} accepted by '{}'",
                      ike_id, reply->server_name);
            break;
        default:
            ++counters_.rejects;
            end_conversation(ike_id);
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
                for (auto& [sa, owner] : owners_) {
                    owner = owner == e.ike_id ? e.new_id : owner;
                }
            }
            break;
        case ike::EventKind::kChildUp:
        case ike::EventKind::kChildRekeyed:
            if (sessions_.contains(e.ike_id)) {
                track_children(e.ike_id);
            }
            break;
        case ike::EventKind::kIkeDown:
            stop_session(e.ike_id, e.reason);
            break;
        case ike::EventKind::kIkeFailed:
            end_conversation(e.ike_id);
            accepted_.erase(e.ike_id);
            break;
        default:
            break;
    }
}

void EapRadius::end_conversation(std::uint32_t ike_id) {
    if (auto n = conversations_.extract(ike_id)) {
        retire(std::move(n.mapped().client));
    }
}

Status EapRadius::reconfigure(config::RadiusSettings settings) {
    auto fresh = IKEPLEX_TRY(RadiusClient::create(io_, std::move(settings), random_));
    retire(std::exchange(client_, std::shared_ptr<RadiusClient>(std::move(fresh))));
    log::info(Subsystem::kCfg, "RADIUS settings reloaded ({} server{}, accounting {})",
              client_->settings().servers.size(),
              client_->settings().servers.size() == 1 ? "" : "s",
              client_->settings().accounting ? "on" : "off");
    return ok();
}

void EapRadius::retire(std::shared_ptr<RadiusClient> c) {
    // The caller may be inside one of c's callbacks: c is never freed here, only later by the
    // timer, once nothing refers to it and none of its requests is pending.
    const auto held = [&](const std::shared_ptr<RadiusClient>& r) { return r == c; };
    if (c && c != client_ && std::none_of(retired_.begin(), retired_.end(), held)) {
        retired_.push_back(c);
    }
    if (retired_.empty() || prune_armed_) {
        return;
    }
    prune_armed_ = true;
    prune_timer_.expires_after(std::chrono::milliseconds(200));
    prune_timer_.async_wait([this, alive = std::weak_ptr<int>(life_)](const asio::error_code& ec) {
        if (ec || alive.expired()) {
            return;
        }
        prune_armed_ = false;
        std::erase_if(retired_, [](const std::shared_ptr<RadiusClient>& r) {
            return r.use_count() == 1 && r->pending() == 0;
        });
        retire(nullptr);  // again while some remain
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
