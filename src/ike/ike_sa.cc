// IkeSa: identity, lifecycle, keys, timers and the operations that queue exchanges. Message
// ids, windows, the request queue, retransmission and the response cache are in
// ike_sa_messaging.cc, protection of messages in ike_sa_protect.cc, Child SAs in
// ike_sa_children.cc.
#include "ike/ike_sa.h"

#include <algorithm>
#include <cmath>

#include "ike/config_payload.h"
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
        case EventKind::kIkeRekeyFailed:
            return "ike-rekey-failed";
        case EventKind::kHeal:
            return "heal";
    }
    return "unknown";
}

void Exchange::abort(IkeSa& /*sa*/, Step& /*step*/) {}

IkeSa::IkeSa(Services& services, SaRegistry& registry, std::uint32_t id, bool initiator,
             Endpoint local, Endpoint remote)
    : services_(services),
      registry_(registry),
      local_(local),
      remote_(remote),
      id_(id),
      initiator_(initiator) {
    groups_of(*this).salt = services.random.bytes(16);
}

IkeSa::~IkeSa() = default;

void IkeSa::hold_config(ConfigPtr c) {
    if (c != config_ &&
        std::find(held_configs_.begin(), held_configs_.end(), c) == held_configs_.end()) {
        held_configs_.push_back(std::move(c));
    }
}

void IkeSa::set_config(ConfigPtr c) {
    config_ = std::move(c);
    registry_.note_changed(*this);
}

void IkeSa::set_local_id(Identity id) {
    local_id_ = std::move(id);
    registry_.note_changed(*this);
}

void IkeSa::set_remote_id(Identity id) {
    remote_id_ = std::move(id);
    registry_.note_changed(*this);
}

void IkeSa::inherit_peer(const IkeSa& old) {
    set_nat(old.nat_here_, old.nat_there_);
    peer_fragmentation_ = old.peer_fragmentation_;
    mobike_ = old.mobike_;
    mobike_.newest_update.reset();  // message ids start again
    peer_window_ = old.peer_window_;
    local_id_ = old.local_id_;
    remote_id_ = old.remote_id_;
    remote_eap_id_ = old.remote_eap_id_;
    reauth_at_ = old.reauth_at_;
    authenticated_at_ = old.authenticated_at_;
    registry_.note_changed(*this);
}

std::string IkeSa::label() const {
    return fmt::format("{}[{}]", config_ != nullptr ? config_->name : "(unknown)", id_);
}

void IkeSa::set_spis(IkeSpi i, IkeSpi r) noexcept {
    spi_i_ = i;
    spi_r_ = r;
}

void IkeSa::set_endpoints(Endpoint local, Endpoint remote) {
    local_ = local;
    remote_ = remote;
    registry_.note_changed(*this);
}

void IkeSa::set_nat(bool here, bool there) noexcept {
    nat_here_ = here;
    nat_there_ = there;
}

bool IkeSa::udp_encap() const noexcept {
    return nat_here_ || nat_there_ || services_.settings.force_encap ||
           (config_ != nullptr && config_->force_encap);
}

namespace {

/// The lifecycle of an IKE SA: which states each state may move to.
bool allowed(IkeState from, IkeState to) noexcept {
    using S = IkeState;
    switch (from) {
        case S::kCreated:  // an initiator starts; a rekey's product is established at once
            return to == S::kConnecting || to == S::kEstablished || to == S::kDestroyed;
        case S::kConnecting:  // the handshake ends: up, or rejected (we tell the peer), or gone
            return to == S::kEstablished || to == S::kDeleting || to == S::kDestroyed;
        case S::kEstablished:  // we rekey it, the peer's rekey replaces it, or it closes
            return to == S::kRekeying || to == S::kRekeyed || to == S::kDeleting ||
                   to == S::kDestroyed;
        case S::kRekeying:  // ours completes or is given up; or a colliding rekey wins
            return to == S::kEstablished || to == S::kRekeyed || to == S::kDeleting ||
                   to == S::kDestroyed;
        case S::kRekeyed:
        case S::kDeleting:
            return to == S::kDeleting || to == S::kDestroyed;
        case S::kDestroyed:  // never comes back
            return false;
    }
    return false;
}

}  // namespace

void IkeSa::transition(IkeState to, const char* reason) {
    if (state_ == to) {
        return;
    }
    if (!allowed(state_, to)) {
        registry_.note_illegal_transition();
        IKE_LOG(error, *this, "BUG: illegal IKE_SA state change {} => {} ({}), staying {}",
                to_string(state_), to_string(to), reason, to_string(state_));
        return;
    }
    // strongSwan's level 2 (debug): four lines per IKE SA at the default level are too many
    IKE_LOG(debug, *this, "IKE_SA state change: {} => {} ({})", to_string(state_), to_string(to),
            reason);
    state_ = to;
    registry_.note_changed(*this);
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
    if (services_.key_log) {
        services_.key_log(IkeKeyRecord{spi_i_, spi_r_, a.suite, keys});
    }
    crypto_.emplace(IkeCrypto{a, crypto::Prf(r, *a.suite.prf), std::move(*out), std::move(*in),
                              std::move(keys.sk_d), std::move(keys.sk_pi), std::move(keys.sk_pr)});
    return ok();
}

void IkeSa::swap_ppk_keys(crypto::PpkKeys& keys) noexcept {
    if (crypto_) {
        std::swap(crypto_->sk_d, keys.sk_d);
        std::swap(crypto_->sk_pi, keys.sk_pi);
        std::swap(crypto_->sk_pr, keys.sk_pr);
    }
}

void IkeSa::end_handshake() noexcept {
    states_.drop<Handshake>();
    if (crypto_) {
        crypto_->sk_pi.clear();
        crypto_->sk_pr.clear();
    }
}

bool IkeSa::holds_handshake() const noexcept {
    return states_.find<Handshake>() != nullptr ||
           (crypto_ && (!crypto_->sk_pi.empty() || !crypto_->sk_pr.empty()));
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
        case TimerKind::kIkeReauth:
            if (state_ == IkeState::kEstablished) {
                registry_.reauthenticate(*this, step);
            } else if (state_ == IkeState::kRekeying) {
                // The rekey's product inherits the time (already due: it reauthenticates).
                services_.timers.set({id_, TimerKind::kIkeReauth, 0},
                                     step.now + std::chrono::seconds(5));
            }
            break;
        case TimerKind::kFollowupKe:  // the manager's too (followup_ke.cc)
        case TimerKind::kEapBackend:  // the manager's too (ike_auth_eap.cc)
        case TimerKind::kRevocation:  // the manager's too (ike_auth_revocation.cc)
        case TimerKind::kRestart:
            break;  // the manager's (manager_heal.cc), never an IKE SA's
    }
}

void IkeSa::note_wanted_children() {
    const auto add = [this](const ChildConfig* c) {
        if (c != nullptr &&
            std::find(end_.children.begin(), end_.children.end(), c->name) == end_.children.end()) {
            end_.children.push_back(c->name);
        }
    };
    for (const auto& c : children_) {
        // Not the SAs a rekey replaced or being deleted by us: their successors count.
        if (c->state != ChildState::kRekeyed && c->state != ChildState::kDeleting) {
            add(c->config);
        }
    }
    for (const auto& [mid, p] : outstanding_) {
        add(p.exchange ? p.exchange->wanted_child() : nullptr);
    }
    for (const ExchangePtr& e : queue_) {
        add(e->wanted_child());
    }
    for (const auto& [at, e] : delayed_) {
        add(e->wanted_child());
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
    if (config_ == nullptr) {
        return;
    }
    // RFC 7296 §2.8.1: jitter the rekey so both ends rarely start it together.
    const auto jitter = [&] {
        return config_->rand_time.count() > 0
                       ? Duration(static_cast<std::int64_t>(
                                 services_.random.u64() %
                                 static_cast<std::uint64_t>(config_->rand_time.count())))
                       : Duration(0);
    };
    if (config_->rekey_time.count() > 0) {
        services_.timers.set({id_, TimerKind::kIkeRekey, 0},
                             step.now + config_->rekey_time - jitter());
    }
    if (config_->reauth_time.count() > 0) {
        // Reauthentication is due once per authentication: an IKE rekey's product keeps its
        // predecessor's time (inherit_peer()), and so does the hard end, over_time later.
        if (reauth_at_ == TimePoint{}) {
            reauth_at_ = step.now + config_->reauth_time - jitter();
        }
        services_.timers.set({id_, TimerKind::kIkeReauth, 0}, std::max(reauth_at_, step.now));
        services_.timers.set({id_, TimerKind::kIkeExpire, 0},
                             std::max(reauth_at_, step.now) + config_->over_time);
    } else if (config_->rekey_time.count() > 0) {
        services_.timers.set({id_, TimerKind::kIkeExpire, 0},
                             step.now + config_->rekey_time + config_->over_time);
    }
}

void IkeSa::retry_reauth(Duration after, Step& step) {
    if (state_ == IkeState::kEstablished && config_ != nullptr &&
        config_->reauth_time.count() > 0) {
        services_.timers.set({id_, TimerKind::kIkeReauth, 0}, step.now + after);
    }
}

void IkeSa::established(Step& step, bool announce) {
    established_at_ = step.now;
    last_inbound_ = step.now;
    transition(IkeState::kEstablished, announce ? "authenticated" : "rekeyed");
    services_.timers.cancel({id_, TimerKind::kHalfOpen, 0});
    arm_ike_lifetimes(step);
    schedule_dpd(step);
    IKE_LOG(info, *this, "IKE_SA {} established between {}[{}]...{}[{}]", label(), local_.address,
            local_id_.to_string(), remote_.address, remote_id_.to_string());
    if (announce) {
        authenticated_at_ = step.now;
        up_ = true;
        emit(step, EventKind::kIkeUp);
    }
}

// ----------------------------------------------------------------------------- operations

void IkeSa::start(ConfigPtr config, const ChildConfig* first_child, ResourceId resource,
                  Step& step) {
    set_config(std::move(config));
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
    queue_.push_back(make_delete_ike());
    process_queue(step);
}

void IkeSa::destroy(const char* reason, Step& step) {
    if (state_ == IkeState::kDestroyed || destroying_) {
        return;
    }
    destroying_ = true;  // aborted exchanges may ask for destruction again
    const bool was_up = up_;
    end_.was_up = was_up;
    note_wanted_children();
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
    release_virtual_ips(*this, step);
    transition(IkeState::kDestroyed, reason);
    if (was_up) {
        emit(step, EventKind::kIkeDown, 0, 0, reason);
    } else {
        emit(step, EventKind::kIkeFailed, 0, 0, reason);
    }
}

}  // namespace ikeplex::ike
