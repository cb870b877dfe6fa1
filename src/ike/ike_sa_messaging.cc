// IkeSa's messaging (RFC 7296 §2.1-§2.3): the queue of requests we initiate and the peer's
// window, message ids, retransmission with back-off, and the answers to the peer's requests
// (in any order within our window, a retransmitted request answered from the cache).
#include <algorithm>
#include <cmath>

#include "ike/exchange_rules.h"
#include "ike/exchanges.h"
#include "ike/ike_intermediate.h"
#include "ike/ike_sa.h"
#include "ike/payload_access.h"
#include "ike/redirect.h"
#include "util/log.h"
#include "wire/describe.h"
#include "wire/names.h"

namespace ikeplex::ike {

using wire::ExchangeType;

// ----------------------------------------------------------------------------- requests out

void IkeSa::queue(ExchangePtr ex, Step& step) {
    queue_.push_back(std::move(ex));
    process_queue(step);
}

void IkeSa::queue_first(ExchangePtr ex) {
    queue_.insert(queue_.begin(), std::move(ex));
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

std::size_t IkeSa::child_sas_counted(bool with_queued) const noexcept {
    const auto new_child = [](const Exchange* e) { return e != nullptr && e->creates(); };
    std::size_t n = 0;
    for (const auto& c : children_) {
        n += c->state != ChildState::kRekeyed && c->state != ChildState::kDeleting ? 1U : 0U;
    }
    n += static_cast<std::size_t>(
            std::count_if(outstanding_.begin(), outstanding_.end(),
                          [&](const auto& o) { return new_child(o.second.exchange.get()); }));
    if (with_queued) {
        n += static_cast<std::size_t>(
                std::count_if(queue_.begin(), queue_.end(),
                              [&](const ExchangePtr& e) { return new_child(e.get()); }));
        n += static_cast<std::size_t>(
                std::count_if(delayed_.begin(), delayed_.end(),
                              [&](const auto& d) { return new_child(d.second.get()); }));
    }
    return n;
}

bool IkeSa::at_child_limit(bool with_queued) const noexcept {
    return child_sas_counted(with_queued) >= services_.settings.max_child_sas;
}

bool IkeSa::queued(std::string_view exchange_name) const noexcept {
    return std::any_of(queue_.begin(), queue_.end(),
                       [&](const ExchangePtr& e) { return exchange_name == e->name(); });
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
                state_ == IkeState::kConnecting ? 1 : std::max(peer_window_, 1U);
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
        queue_.erase(queue_.begin());
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
    trace_message(services_, step, true, id_, h, *payloads, label());
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
    transmit_to(datagrams, local_, remote_, step);
}

void IkeSa::transmit_to(const std::vector<Bytes>& datagrams, const Endpoint& local,
                        const Endpoint& remote, Step& step) {
    for (const Bytes& d : datagrams) {
        log_datagram(true, d, local, remote);
        step.out.datagrams.push_back(OutDatagram{d, local, remote});
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
        // What the request was creating counts among what the IKE SA held (dpd_action):
        // noted before the exchange goes.
        note_wanted_children();
        ExchangePtr ex = std::move(p.exchange);
        outstanding_.erase(it);
        ex->abort(*this, step);
        // Dead, unless we were deleting it anyway (an operator, a rekey's predecessor).
        const bool ending = state_ == IkeState::kDeleting || state_ == IkeState::kRekeyed;
        destroy("peer not responding", ending ? EndCause::kLocal : EndCause::kDead, step);
        return;
    }
    ++p.tries;
    registry_.note_retransmit();
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

std::optional<Result<std::vector<wire::Payload>>> IkeSa::open_authentic(const wire::Message& m,
                                                                        ByteView raw,
                                                                        const Endpoint (&from)[2],
                                                                        Step& step) {
    auto opened = unprotect(m, raw, step);
    if (opened) {
        touch(step.now);
        follow_peer(from, m.header.exchange);
    }
    return opened;
}

void IkeSa::follow_peer(const Endpoint (&from)[2], wire::ExchangeType exchange) {
    // RFC 7296 §2.23: behind a NAT, follow the peer's address and port, but only as seen in
    // authenticated messages (and never before IKE_SA_INIT is complete).
    if (exchange == ExchangeType::kIkeSaInit || (from[0] == local_ && from[1] == remote_)) {
        return;
    }
    // RFC 4555 §3.3: the IKE SA's addresses are those of the first IKE_AUTH request (the
    // initiator moves to port 4500 for it with MOBIKE, even without a NAT).
    // With IKE_INTERMEDIATE (RFC 9242) the first request after IKE_SA_INIT is one of those.
    const Handshake* hs = states_.find<Handshake>();
    const std::uint32_t first_auth_mid = 1 + (hs != nullptr ? hs->intermediate_exchanges : 0);
    const bool auth_request =
            !initiator_ && state_ == IkeState::kConnecting &&
            (exchange == ExchangeType::kIkeIntermediate ||
             (exchange == ExchangeType::kIkeAuth && expected_mid_ == first_auth_mid));
    // RFC 4555 §3.8: with MOBIKE, the host not behind a NAT does not follow IKE messages;
    // UPDATE_SA_ADDRESSES moves the SA.
    if (!auth_request && (!udp_encap() || (mobike_.on && !nat_here_))) {
        return;
    }
    IKE_LOG(info, *this, "peer moved from {} to {}", remote_, from[1]);
    local_ = from[0];
    remote_ = from[1];
    registry_.note_changed(*this);
}

void IkeSa::on_response(const wire::Message& m, ByteView raw, const Endpoint (&from)[2],
                        Step& step) {
    const std::uint32_t mid = m.header.message_id.value();
    auto it = outstanding_.find(mid);
    if (held_mid_ == mid) {
        IKE_LOG(debug, *this, "response with ID {} already received, its processing waits", mid);
        return;
    }
    if (it == outstanding_.end() || it->second.exchange->type() != m.header.exchange) {
        log::debug(log::Subsystem::kIke, "{} ignoring unexpected response {}", label(),
                   wire::describe(m));
        return;
    }
    auto opened = open_authentic(m, raw, from, step);
    if (!opened) {
        return;
    }
    Status checked = ok();
    if (!*opened) {
        checked = opened->error();
    } else {
        log::info(log::Subsystem::kEnc, "{} parsed {}", label(),
                  wire::describe(m.header, **opened));
        trace_message(services_, step, false, id_, m.header, **opened, label());
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
    if (m.header.exchange == ExchangeType::kIkeSaInit &&
        !init_redirect_acceptable(*this, **opened)) {
        return;  // RFC 5685 §3: a REDIRECT not for our request; the real response may come
    }
    services_.timers.cancel({id_, TimerKind::kRetransmit, mid});
    Pending& p = it->second;
    if (m.header.exchange == ExchangeType::kIkeSaInit) {
        handshake().peer_init_message.assign(raw.begin(), raw.end());
    }
    after_process(mid, p.exchange->process(*this, m.header, **opened, step), step);
}

void IkeSa::after_process(std::uint32_t mid, Exchange::Outcome outcome, Step& step) {
    auto it = outstanding_.find(mid);
    if (it == outstanding_.end()) {
        return;
    }
    Pending& p = it->second;
    if (outcome == Exchange::Outcome::kHold && state_ != IkeState::kDestroyed) {
        held_mid_ = mid;  // resume_held() goes on; the request is not retransmitted meanwhile
        return;
    }
    if (outcome == Exchange::Outcome::kResend && state_ != IkeState::kDestroyed) {
        resend(mid, p, step);
        return;
    }
    if (outcome == Exchange::Outcome::kNext && state_ != IkeState::kDestroyed) {
        ExchangePtr ex = std::move(p.exchange);
        outstanding_.erase(mid);
        send_request(std::move(ex), step);
        return;
    }
    outstanding_.erase(mid);
    if (state_ != IkeState::kDestroyed) {
        process_queue(step);
    }
}

void IkeSa::resume_held(bool passed, Step& step) {
    if (!held_mid_ || state_ == IkeState::kDestroyed) {
        return;
    }
    const std::uint32_t mid = *held_mid_;
    held_mid_.reset();
    auto it = outstanding_.find(mid);
    if (it == outstanding_.end()) {
        return;
    }
    after_process(mid, it->second.exchange->resume(*this, passed, step), step);
}

void IkeSa::on_request(const wire::Message& m, ByteView raw, const Endpoint (&from)[2],
                       Step& step) {
    const std::uint32_t mid = m.header.message_id.value();
    if (deferred_ && deferred_->mid == mid) {
        // Its response waits for the AAA backend: a retransmit changes nothing.
        IKE_LOG(debug, *this, "request with ID {} still waits for {}, dropped", mid,
                deferred_->revocation ? "a revocation status" : "the AAA backend");
        if (deferred_->revocation) {
            registry_.note_revocation(SaRegistry::RevocationEvent::kRetransmitDropped);
        }
        return;
    }
    if (auto it = responses_.find(mid); it != responses_.end()) {
        // RFC 7296 §2.1: a retransmitted request gets the cached response again (for a
        // fragmented request, once: on its first fragment).
        const auto* skf = m.skf();
        if (skf == nullptr || skf->fragment_number == 1) {
            IKE_LOG(debug, *this,
                    "received retransmit of request with ID {}, retransmitting response", mid);
            transmit_to(it->second.datagrams, from[0], from[1], step);  // RFC 7296 §2.11
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
    request_from_[0] = from[0];
    request_from_[1] = from[1];
    request_mid_ = mid;
    auto opened = open_authentic(m, raw, from, step);
    if (!opened) {
        return;
    }
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
        // A peer sends requests at will (an authenticated one too): rate-limited lines.
        PEER_LOG(services_.peer_log, step.now, info, log::Subsystem::kEnc, "{} parsed {}", label(),
                 wire::describe(m.header, **opened));
        trace_message(services_, step, false, id_, m.header, **opened, label());
        response = answer_request(*this, m.header, **opened, step);
    }
    if (response.deferred) {
        deferred_ = Deferred{mid, m.header.exchange, from[0], from[1], response.revocation_hold};
        if (!response.revocation_hold) {
            services_.timers.set({id_, TimerKind::kEapBackend, mid},
                                 step.now + services_.settings.eap_backend_timeout);
        }
        return;
    }
    send_response(m.header.exchange, mid, std::move(response), step);
}

void IkeSa::answer_deferred(Response&& response, Step& step) {
    if (!deferred_ || state_ == IkeState::kDestroyed) {
        return;
    }
    const Deferred d = *deferred_;
    deferred_.reset();
    request_from_[0] = d.local;
    request_from_[1] = d.remote;
    services_.timers.cancel({id_, TimerKind::kEapBackend, d.mid});
    send_response(d.exchange, d.mid, std::move(response), step);
}

void IkeSa::send_response(wire::ExchangeType exchange, std::uint32_t mid, Response&& response,
                          Step& step) {
    const std::uint32_t window = own_window();
    const wire::Header h = header_for(exchange, mid, true);
    PEER_LOG(services_.peer_log, step.now, info, log::Subsystem::kEnc, "{} generating {}", label(),
             wire::describe(h, response.payloads));
    // Why the IKE SA ends with a fatal response: the error it sends ("sent
    // AUTHENTICATION_FAILED"), for the state change and the ike-updown/initiate reason.
    std::string fatal_reason = "fatal error in a request";
    if (const auto* err = first_error(response.payloads); response.fatal && err != nullptr) {
        fatal_reason = "sent " + wire::to_string(err->type);
    }
    trace_message(services_, step, true, id_, h, response.payloads, label());
    auto datagrams = protect(h, std::move(response.payloads));
    if (exchange == ExchangeType::kIkeIntermediate) {
        // RFC 9370 §2.2.2: the response went out under the old keys; the new ones apply now.
        install_intermediate_keys(*this, step);
    }
    CachedResponse& cached = responses_[mid];
    if (datagrams) {
        // RFC 7296 §2.11: back to the address and port the request came from, from where it
        // arrived (an initiator that moved, RFC 4555, gets its retransmitted requests answered).
        transmit_to(*datagrams, request_from_[0], request_from_[1], step);
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
        destroy(fatal_reason.c_str(), step);
    }
}

}  // namespace ikeplex::ike
