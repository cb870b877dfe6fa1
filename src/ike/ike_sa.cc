// IkeSa: state, message ids and windows, retransmission, request/response dispatch, timers.
// Protection of messages is in ike_sa_protect.cc, Child SA handling in ike_sa_children.cc.
#include "ike/ike_sa.h"

#include <algorithm>
#include <cmath>

#include "ike/exchange_rules.h"
#include "ike/exchanges.h"
#include "util/log.h"
#include "wire/describe.h"
#include "wire/names.h"
#include "wire/payload_rules.h"

namespace ikeplex::ike {

using wire::ExchangeType;

const char* to_string(IkeState s) noexcept {
    switch (s) {
        case IkeState::kCreated:
            return "CREATED";
        case IkeState::kConnecting:
            return "CONNECTING";
        case IkeState::kEstablished:
            return "ESTABLISHED";
        case IkeState::kRekeying:
            return "REKEYING";
        case IkeState::kRekeyed:
            return "REKEYED";
        case IkeState::kDeleting:
            return "DELETING";
        case IkeState::kDestroyed:
            return "DESTROYED";
    }
    return "UNKNOWN";
}

const char* to_string(EventKind k) noexcept {
    switch (k) {
        case EventKind::kIkeUp:
            return "ike-up";
        case EventKind::kIkeDown:
            return "ike-down";
        case EventKind::kIkeRekeyed:
            return "ike-rekey";
        case EventKind::kChildUp:
            return "child-up";
        case EventKind::kChildDown:
            return "child-down";
        case EventKind::kChildRekeyed:
            return "child-rekey";
        case EventKind::kIkeFailed:
            return "ike-failed";
        case EventKind::kChildFailed:
            return "child-failed";
    }
    return "unknown";
}

void Exchange::abort(IkeSa& /*sa*/, Step& /*step*/) {}

IkeSa::IkeSa(Services& services, SaRegistry& registry, std::uint32_t id, bool initiator,
             Endpoint local, Endpoint remote)
    : resource_salt(services.random.bytes(16)),
      services_(services),
      registry_(registry),
      local_(local),
      remote_(remote),
      id_(id),
      initiator_(initiator) {}

IkeSa::~IkeSa() = default;

std::string IkeSa::label() const {
    return fmt::format("{}[{}]", config_ != nullptr ? config_->name : "(unknown)", id_);
}

void IkeSa::set_spis(IkeSpi i, IkeSpi r) noexcept {
    spi_i_ = i;
    spi_r_ = r;
}

void IkeSa::set_endpoints(Endpoint local, Endpoint remote) noexcept {
    local_ = local;
    remote_ = remote;
}

void IkeSa::set_nat(bool here, bool there) noexcept {
    nat_here_ = here;
    nat_there_ = there;
}

bool IkeSa::udp_encap() const noexcept {
    return nat_here_ || nat_there_ || services_.settings.force_encap ||
           (config_ != nullptr && config_->force_encap);
}

void IkeSa::transition(IkeState to, const char* reason) {
    if (state_ == to) {
        return;
    }
    // A destroyed SA never comes back; nothing else is forbidden outright because the
    // exchange handlers own the protocol rules.
    if (state_ == IkeState::kDestroyed) {
        IKE_LOG(error, *this, "BUG: state change {} => {} after destruction ({})",
                to_string(state_), to_string(to), reason);
        return;
    }
    IKE_LOG(info, *this, "IKE_SA state change: {} => {} ({})", to_string(state_), to_string(to),
            reason);
    state_ = to;
}

void IkeSa::emit(Step& step, EventKind kind, std::uint32_t child_id, std::uint32_t new_id,
                 std::string reason) const {
    const std::string conn = config_ != nullptr ? config_->name : std::string();
    std::string name = conn;
    if (child_id != 0) {
        for (const auto& c : children_) {
            if (c->id == child_id) {
                name = c->name();
            }
        }
    }
    step.out.events.push_back(
            Event{kind, id_, child_id, new_id, std::move(name), std::move(reason), conn});
}

Status IkeSa::set_crypto(const IkeAlgorithms& a, crypto::IkeKeys&& keys) {
    const crypto::Registry& r = services_.registry;
    const bool i = initiator_;
    auto out =
            SkCipher::create(r, *a.suite.encr, a.suite.integ, (i ? keys.sk_ei : keys.sk_er).view(),
                             (i ? keys.sk_ai : keys.sk_ar).view());
    auto in =
            SkCipher::create(r, *a.suite.encr, a.suite.integ, (i ? keys.sk_er : keys.sk_ei).view(),
                             (i ? keys.sk_ar : keys.sk_ai).view());
    if (!out || !in) {
        return out ? in.error() : out.error();
    }
    crypto.emplace(IkeCrypto{a, crypto::Prf(r, *a.suite.prf), std::move(*out), std::move(*in),
                             std::move(keys.sk_d), std::move(keys.sk_pi), std::move(keys.sk_pr)});
    return ok();
}

Bytes IkeSa::make_nonce() {
    return services_.random.bytes(32);
}

Result<crypto::KeyExchangePtr> IkeSa::make_ke(std::uint16_t group) {
    const crypto::KeInfo* info = services_.registry.ke(group);
    if (info == nullptr) {
        return make_error(Errc::kNoProposal, "key exchange method not supported");
    }
    return services_.deterministic_keys ? crypto::KeyExchange::generate(*info, services_.random)
                                        : crypto::KeyExchange::generate(*info);
}

wire::Header IkeSa::header_for(ExchangeType type, std::uint32_t mid, bool response) const {
    wire::Header h;
    h.spi_i = spi_i_;
    h.spi_r = spi_r_;
    h.exchange = type;
    h.flags = static_cast<std::uint8_t>((initiator_ ? wire::kFlagInitiator : 0) |
                                        (response ? wire::kFlagResponse : 0));
    h.message_id = MessageId(mid);
    return h;
}

// ----------------------------------------------------------------------------- requests out

void IkeSa::queue(ExchangePtr ex, Step& step) {
    queue_.push_back(std::move(ex));
    process_queue(step);
}

void IkeSa::queue_later(ExchangePtr ex, Duration delay, Step& step) {
    const TimePoint at = step.now + delay;
    delayed_.emplace_back(at, std::move(ex));
    const auto next =
            std::min_element(delayed_.begin(), delayed_.end(),
                             [](const auto& a, const auto& b) { return a.first < b.first; });
    services_.timers.set({id_, TimerKind::kRetry, 0}, next->first);
}

void IkeSa::move_queue_to(IkeSa& other, Step& step) {
    for (ExchangePtr& e : queue_) {
        other.queue_.push_back(std::move(e));
    }
    queue_.clear();
    for (auto& [at, e] : delayed_) {
        other.delayed_.emplace_back(at, std::move(e));
    }
    if (!delayed_.empty()) {
        services_.timers.cancel({id_, TimerKind::kRetry, 0});
        const auto next =
                std::min_element(other.delayed_.begin(), other.delayed_.end(),
                                 [](const auto& a, const auto& b) { return a.first < b.first; });
        services_.timers.set({other.id_, TimerKind::kRetry, 0}, next->first);
    }
    delayed_.clear();
    other.process_queue(step);
}

void IkeSa::record_init_response(Bytes message) {
    handshake().own_init_message = message;
    responses_[0] = CachedResponse{{std::move(message)}};
    expected_mid_ = 1;
}

bool IkeSa::creating(const ChildConfig& config, ResourceId resource) const noexcept {
    const auto match = [&](const Exchange* e) {
        const auto what = e != nullptr ? e->creates() : std::nullopt;
        return what && what->first->name == config.name && what->second == resource;
    };
    return std::any_of(queue_.begin(), queue_.end(),
                       [&](const ExchangePtr& e) { return match(e.get()); }) ||
           std::any_of(delayed_.begin(), delayed_.end(),
                       [&](const auto& d) { return match(d.second.get()); }) ||
           std::any_of(outstanding_.begin(), outstanding_.end(),
                       [&](const auto& o) { return match(o.second.exchange.get()); });
}

bool IkeSa::busy_with(const char* exchange_name) const noexcept {
    const std::string_view n(exchange_name);
    return std::any_of(queue_.begin(), queue_.end(),
                       [&](const ExchangePtr& e) { return n == e->name(); }) ||
           std::any_of(outstanding_.begin(), outstanding_.end(),
                       [&](const auto& o) { return n == o.second.exchange->name(); });
}

std::uint32_t IkeSa::own_window() const noexcept {
    // The window is announced in IKE_AUTH; until then (and without one) it is 1.
    const bool announced = state_ != IkeState::kCreated && state_ != IkeState::kConnecting;
    return announced && config_ != nullptr ? std::max(config_->window_size, 1U) : 1U;
}

bool IkeSa::busy_with_outstanding(std::string_view exchange_name) const noexcept {
    return std::any_of(outstanding_.begin(), outstanding_.end(), [&](const auto& o) {
        return o.second.exchange && exchange_name == o.second.exchange->name();
    });
}

bool IkeSa::child_exchange_outstanding() const noexcept {
    return busy_with_outstanding("CHILD_CREATE") || busy_with_outstanding("CHILD_REKEY") ||
           busy_with_outstanding("CHILD_DELETE");
}

void IkeSa::process_queue(Step& step) {
    while (!queue_.empty() && state_ != IkeState::kDestroyed) {
        // RFC 7296 §2.3: at most the peer's window of requests outstanding; IKE_SA_INIT and
        // IKE_AUTH go one at a time (the window is only known after IKE_AUTH).
        // The window spans message ids: nothing at or beyond the lowest unanswered + window.
        const std::uint32_t window =
                state_ == IkeState::kConnecting ? 1 : std::max(peer_window, 1U);
        if (!outstanding_.empty() && next_mid_ - outstanding_.begin()->first >= window) {
            return;
        }
        // RFC 7296 §2.25.1/§2.25.2: an IKE rekey does not overlap Child SA exchanges, in
        // either order (the peer would answer TEMPORARY_FAILURE).
        const std::string_view next = queue_.front()->name();
        if ((next == "IKE_REKEY" && !outstanding_.empty()) ||
            (busy_with_outstanding("IKE_REKEY") && next != "IKE_DELETE")) {
            return;
        }
        ExchangePtr ex = std::move(queue_.front());
        queue_.pop_front();
        send_request(std::move(ex), step);
    }
}

void IkeSa::send_request(ExchangePtr ex, Step& step) {
    // Build before taking a message id: an exchange with nothing left to do must not leave a
    // hole in the sequence (the peer would wait for the missing request forever).
    auto datagrams = build_request(*ex, next_mid_, step);
    if (!datagrams) {
        ex->abort(*this, step);
        if (state_ == IkeState::kConnecting) {
            // IKE_AUTH cannot be built (no key or certificate for our identity): the IKE SA can
            // never come up; say so now rather than leave it half-open until it times out.
            const std::string why = "cannot authenticate: " + build_error_;
            destroy(why.c_str(), step);
        }
        return;
    }
    const std::uint32_t mid = next_mid_++;
    Pending& p = outstanding_[mid];
    p.exchange = std::move(ex);
    p.datagrams = std::move(*datagrams);
    transmit(p.datagrams, step);
    services_.timers.set({id_, TimerKind::kRetransmit, mid},
                         step.now + services_.settings.retransmit_timeout);
}

void IkeSa::resend(std::uint32_t mid, Pending& p, Step& step) {
    auto datagrams = build_request(*p.exchange, mid, step);
    if (!datagrams) {
        ExchangePtr ex = std::move(p.exchange);
        outstanding_.erase(mid);
        ex->abort(*this, step);
        destroy("cannot build the request again", step);
        return;
    }
    p.datagrams = std::move(*datagrams);
    p.tries = 0;
    transmit(p.datagrams, step);
    services_.timers.set({id_, TimerKind::kRetransmit, mid},
                         step.now + services_.settings.retransmit_timeout);
}

std::optional<std::vector<Bytes>> IkeSa::build_request(Exchange& ex, std::uint32_t mid,
                                                       Step& step) {
    auto payloads = ex.build(*this, step);
    if (!payloads) {
        build_error_ = wire::describe(payloads.error());
        IKE_LOG(info, *this, "{} not started: {}", ex.name(), build_error_);
        return std::nullopt;
    }
    const wire::Header h = header_for(ex.type(), mid, false);
    log::info(log::Subsystem::kEnc, "{} generating {}", label(), wire::describe(h, *payloads));
    auto datagrams = protect(h, std::move(*payloads));
    if (!datagrams) {
        IKE_LOG(error, *this, "cannot protect {} request: {}", ex.name(),
                wire::describe(datagrams.error()));
        return std::nullopt;
    }
    if (h.exchange == ExchangeType::kIkeSaInit) {
        handshake().own_init_message =
                datagrams->front();  // RealMessage1 for AUTH (RFC 7296 §2.15)
    }
    return std::move(*datagrams);
}

void IkeSa::transmit(const std::vector<Bytes>& datagrams, Step& step) {
    for (const Bytes& d : datagrams) {
        step.out.datagrams.push_back(OutDatagram{d, local_, remote_});
    }
}

void IkeSa::retransmit(std::uint32_t mid, Step& step) {
    auto it = outstanding_.find(mid);
    if (it == outstanding_.end()) {
        return;
    }
    Pending& p = it->second;
    const Settings& s = services_.settings;
    if (p.tries >= s.retransmit_tries) {
        IKE_LOG(info, *this, "giving up after {} retransmits of {} request {}", p.tries,
                p.exchange->name(), mid);
        ExchangePtr ex = std::move(p.exchange);
        outstanding_.erase(it);
        ex->abort(*this, step);
        destroy("peer not responding", step);
        return;
    }
    ++p.tries;
    IKE_LOG(info, *this, "retransmit {} of request with message ID {}", p.tries, mid);
    transmit(p.datagrams, step);
    // RFC 7296 §2.1: exponential back-off.
    const double factor = std::pow(s.retransmit_base, static_cast<double>(p.tries));
    const auto wait = Duration(
            static_cast<std::int64_t>(static_cast<double>(s.retransmit_timeout.count()) * factor));
    services_.timers.set({id_, TimerKind::kRetransmit, mid}, step.now + wait);
}

// ----------------------------------------------------------------------------- messages in

void IkeSa::on_message(const wire::Message& m, ByteView raw, const Endpoint& local,
                       const Endpoint& remote, Step& step) {
    if (state_ == IkeState::kDestroyed) {
        return;
    }
    const Endpoint from[2] = {local, remote};
    if (m.header.is_response()) {
        on_response(m, raw, from, step);
    } else {
        on_request(m, raw, from, step);
    }
}

void IkeSa::follow_peer(const Endpoint (&from)[2], wire::ExchangeType exchange) {
    // RFC 7296 §2.23: behind a NAT, follow the peer's address and port, but only as seen in
    // authenticated messages (and never before IKE_SA_INIT is complete).
    if (exchange == ExchangeType::kIkeSaInit || !udp_encap() ||
        (from[0] == local_ && from[1] == remote_)) {
        return;
    }
    IKE_LOG(info, *this, "peer moved from {} to {}", remote_, from[1]);
    local_ = from[0];
    remote_ = from[1];
}

void IkeSa::on_response(const wire::Message& m, ByteView raw, const Endpoint (&from)[2],
                        Step& step) {
    const std::uint32_t mid = m.header.message_id.value();
    auto it = outstanding_.find(mid);
    if (it == outstanding_.end() || it->second.exchange->type() != m.header.exchange) {
        log::debug(log::Subsystem::kIke, "{} ignoring unexpected response {}", label(),
                   wire::describe(m));
        return;
    }
    auto opened = unprotect(m, raw, step);
    if (!opened) {
        return;
    }
    touch(step.now);
    follow_peer(from, m.header.exchange);
    Status checked = ok();
    if (!*opened) {
        checked = opened->error();
    } else {
        log::info(log::Subsystem::kEnc, "{} parsed {}", label(),
                  wire::describe(m.header, **opened));
        checked = check_response(m.header.exchange, **opened);
    }
    if (!checked) {
        IKE_LOG(info, *this, "invalid {} response: {}", wire::to_string(m.header.exchange),
                wire::describe(checked.error()));
        ExchangePtr ex = std::move(it->second.exchange);
        outstanding_.erase(it);
        services_.timers.cancel({id_, TimerKind::kRetransmit, mid});
        ex->abort(*this, step);
        if (m.header.exchange == ExchangeType::kIkeSaInit ||
            m.header.exchange == ExchangeType::kIkeAuth) {
            destroy("invalid response", step);
        }
        return;
    }
    services_.timers.cancel({id_, TimerKind::kRetransmit, mid});
    Pending& p = it->second;
    if (m.header.exchange == ExchangeType::kIkeSaInit) {
        handshake().peer_init_message.assign(raw.begin(), raw.end());
    }
    if (p.exchange->process(*this, m.header, **opened, step) == Exchange::Outcome::kResend &&
        state_ != IkeState::kDestroyed) {
        resend(mid, p, step);
        return;
    }
    outstanding_.erase(mid);
    if (state_ != IkeState::kDestroyed) {
        process_queue(step);
    }
    return;
}

void IkeSa::on_request(const wire::Message& m, ByteView raw, const Endpoint (&from)[2],
                       Step& step) {
    const std::uint32_t mid = m.header.message_id.value();
    if (auto it = responses_.find(mid); it != responses_.end()) {
        // RFC 7296 §2.1: a retransmitted request gets the cached response again (for a
        // fragmented request, once: on its first fragment).
        const auto* skf = m.skf();
        if (skf == nullptr || skf->fragment_number == 1) {
            IKE_LOG(debug, *this,
                    "received retransmit of request with ID {}, retransmitting response", mid);
            transmit(it->second.datagrams, step);
        }
        return;
    }
    // RFC 7296 §2.3: requests within the window we announced are answered in any order.
    const std::uint32_t window = own_window();
    if (mid < expected_mid_ || mid - expected_mid_ >= window) {
        log::debug(log::Subsystem::kIke,
                   "{} request with message ID {} outside the window ({}..{})", label(), mid,
                   expected_mid_, expected_mid_ + window - 1);
        return;
    }
    auto opened = unprotect(m, raw, step);
    if (!opened) {
        return;
    }
    touch(step.now);
    follow_peer(from, m.header.exchange);
    Response response;
    if (!*opened) {
        // Authentic but malformed (RFC 7296 §2.21.3, §2.5): answer with the notify; an
        // INVALID_SYNTAX closes an authenticated IKE SA on both sides.
        const Error& e = opened->error();
        IKE_LOG(info, *this, "malformed {} request: {}", wire::to_string(m.header.exchange),
                wire::describe(e));
        if (e.code == Errc::kUnsupportedCritical) {
            response = error_response(wire::NotifyType::kUnsupportedCriticalPayload,
                                      Bytes{static_cast<std::uint8_t>(e.arg)});
        } else {
            response = Response{error_response(wire::NotifyType::kInvalidSyntax), true};
        }
    } else {
        log::info(log::Subsystem::kEnc, "{} parsed {}", label(),
                  wire::describe(m.header, **opened));
        response = answer_request(*this, m.header, **opened, step);
    }
    const wire::Header h = header_for(m.header.exchange, mid, true);
    log::info(log::Subsystem::kEnc, "{} generating {}", label(),
              wire::describe(h, response.payloads));
    auto datagrams = protect(h, std::move(response.payloads));
    CachedResponse& cached = responses_[mid];
    if (datagrams) {
        transmit(*datagrams, step);
        cached.datagrams = std::move(*datagrams);
    } else {
        IKE_LOG(error, *this, "cannot protect response: {}", wire::describe(datagrams.error()));
    }
    while (responses_.contains(expected_mid_)) {
        ++expected_mid_;
    }
    // Keep the responses of the last `window` requests below the window for retransmits.
    while (!responses_.empty() && responses_.begin()->first + window < expected_mid_) {
        responses_.erase(responses_.begin());
    }
    if (response.fatal && state_ != IkeState::kDestroyed) {
        destroy("fatal error in a request", step);
    }
}

// ----------------------------------------------------------------------------- timers

void IkeSa::on_timer(TimerKind kind, std::uint32_t arg, Step& step) {
    if (state_ == IkeState::kDestroyed) {
        return;
    }
    switch (kind) {
        case TimerKind::kRetransmit:
            retransmit(arg, step);
            break;
        case TimerKind::kHalfOpen:
            if (before_authentication()) {
                destroy("half-open IKE SA timed out", step);
            }
            break;
        case TimerKind::kDpd:
            if (config_ != nullptr && config_->dpd_delay.count() > 0 &&
                state_ == IkeState::kEstablished) {
                if (step.now - last_inbound_ >= config_->dpd_delay && outstanding_.empty()) {
                    queue(make_dpd(), step);
                }
                schedule_dpd(step);
            }
            break;
        case TimerKind::kIkeRekey:
            rekey(step);
            break;
        case TimerKind::kIkeExpire:
            IKE_LOG(info, *this, "IKE SA lifetime expired");
            delete_ike("lifetime expired", step);
            break;
        case TimerKind::kChildRekey:
            rekey_child(arg, step);
            break;
        case TimerKind::kChildExpire:
            if (child(arg) != nullptr) {
                IKE_LOG(info, *this, "Child SA {} lifetime expired", arg);
                delete_child(arg, step);
            }
            break;
        case TimerKind::kDeleteLater:
            if (arg == 0) {
                delete_ike("rekeyed", step);
            } else if (child(arg) != nullptr) {
                delete_child(arg, step);
            }
            break;
        case TimerKind::kRetry: {
            // Move due delayed exchanges to the queue; re-arm for the rest.
            std::vector<std::pair<TimePoint, ExchangePtr>> later;
            for (auto& [at, ex] : delayed_) {
                if (at <= step.now) {
                    queue_.push_back(std::move(ex));
                } else {
                    later.emplace_back(at, std::move(ex));
                }
            }
            delayed_ = std::move(later);
            if (!delayed_.empty()) {
                const auto next = std::min_element(
                        delayed_.begin(), delayed_.end(),
                        [](const auto& a, const auto& b) { return a.first < b.first; });
                services_.timers.set({id_, TimerKind::kRetry, 0}, next->first);
            }
            process_queue(step);
            break;
        }
    }
}

void IkeSa::schedule_dpd(Step& step) {
    if (config_ == nullptr || config_->dpd_delay.count() == 0) {
        return;
    }
    const TimePoint base = std::max(last_inbound_, step.now);
    services_.timers.set({id_, TimerKind::kDpd, 0}, base + config_->dpd_delay);
}

void IkeSa::arm_ike_lifetimes(Step& step) {
    if (config_ == nullptr || config_->rekey_time.count() == 0) {
        return;
    }
    // RFC 7296 §2.8.1: jitter the rekey so both ends rarely start it together.
    const auto jitter = config_->rand_time.count() > 0
                                ? Duration(static_cast<std::int64_t>(
                                          services_.random.u64() %
                                          static_cast<std::uint64_t>(config_->rand_time.count())))
                                : Duration(0);
    services_.timers.set({id_, TimerKind::kIkeRekey, 0}, step.now + config_->rekey_time - jitter);
    services_.timers.set({id_, TimerKind::kIkeExpire, 0},
                         step.now + config_->rekey_time + config_->over_time);
}

void IkeSa::established(Step& step, bool announce) {
    established_at_ = step.now;
    last_inbound_ = step.now;
    transition(IkeState::kEstablished, announce ? "authenticated" : "rekeyed");
    services_.timers.cancel({id_, TimerKind::kHalfOpen, 0});
    arm_ike_lifetimes(step);
    schedule_dpd(step);
    IKE_LOG(info, *this, "IKE_SA {} established between {}[{}]...{}[{}]", label(), local_.address,
            local_id.to_string(), remote_.address, remote_id.to_string());
    if (announce) {
        up_ = true;
        emit(step, EventKind::kIkeUp);
    }
}

// ----------------------------------------------------------------------------- operations

void IkeSa::start(const PeerConfig& config, const ChildConfig* first_child, ResourceId resource,
                  Step& step) {
    config_ = &config;
    transition(IkeState::kConnecting, "initiating");
    queue_.push_back(make_ike_init());
    queue_.push_back(make_ike_auth(first_child, resource));
    process_queue(step);
}

void IkeSa::create_child(const ChildConfig& child, ResourceId resource, Step& step) {
    queue(make_child_create(child, resource, 0), step);
}

void IkeSa::rekey_child(std::uint32_t child_id, Step& step) {
    ChildSa* c = child(child_id);
    if (c == nullptr || c->state != ChildState::kInstalled || state_ != IkeState::kEstablished) {
        return;
    }
    c->state = ChildState::kRekeying;
    queue(make_child_create(*c->config, c->resource, child_id), step);
}

void IkeSa::delete_child(std::uint32_t child_id, Step& step) {
    ChildSa* c = child(child_id);
    if (c == nullptr || c->state == ChildState::kDeleting) {
        return;
    }
    c->state = ChildState::kDeleting;
    queue(make_delete_child(child_id), step);
}

void IkeSa::rekey(Step& step) {
    if (state_ != IkeState::kEstablished || busy_with("IKE_REKEY")) {
        return;
    }
    queue(make_ike_rekey(), step);
}

void IkeSa::delete_ike(const char* reason, Step& step) {
    if (state_ == IkeState::kDeleting || state_ == IkeState::kDestroyed) {
        return;
    }
    if (before_authentication()) {
        destroy(reason, step);
        return;
    }
    transition(IkeState::kDeleting, reason);
    // The delete goes first: nothing queued before it matters any more.
    for (ExchangePtr& e : queue_) {
        e->abort(*this, step);
    }
    queue_.clear();
    queue_.push_front(make_delete_ike());
    process_queue(step);
}

void IkeSa::destroy(const char* reason, Step& step) {
    if (state_ == IkeState::kDestroyed || destroying_) {
        return;
    }
    destroying_ = true;  // aborted exchanges may ask for destruction again
    const bool was_up = up_;
    up_ = false;
    auto outstanding = std::move(outstanding_);
    auto queued = std::move(queue_);
    auto delayed = std::move(delayed_);
    outstanding_.clear();
    queue_.clear();
    delayed_.clear();
    for (auto& [mid, p] : outstanding) {
        if (p.exchange) {
            p.exchange->abort(*this, step);
        }
    }
    for (ExchangePtr& e : queued) {
        e->abort(*this, step);
    }
    for (auto& [at, e] : delayed) {
        e->abort(*this, step);
    }
    while (!children_.empty()) {
        remove_child(children_.back()->id, reason, step);
    }
    services_.timers.cancel_all(id_);
    transition(IkeState::kDestroyed, reason);
    if (was_up) {
        emit(step, EventKind::kIkeDown, 0, 0, reason);
    } else {
        emit(step, EventKind::kIkeFailed, 0, 0, reason);
    }
}

}  // namespace ikeplex::ike
