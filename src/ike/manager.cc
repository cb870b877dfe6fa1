#include "ike/manager.h"

#include <algorithm>
#include <utility>

#include "ike/exchanges.h"
#include "ike/followup_ke.h"
#include "ike/ike_auth_revocation.h"
#include "ike/ike_init.h"
#include "ike/payload_access.h"
#include "wire/describe.h"
#include "wire/names.h"
#include "wire/payload_rules.h"

namespace ikeplex::ike {

using wire::NotifyType;

namespace {

/// Bound on timers handled in one on_timer() call (each handler may arm new ones).
constexpr int kMaxTimersPerCall = 100000;

}  // namespace

IkeSaManager::IkeSaManager(const crypto::Registry& registry, Random& random, SpiAllocator& spis,
                           Settings settings)
    : settings_(std::move(settings)),
      services_{registry, random, spis, settings_, credentials_, timers_, peer_log_, false},
      cookies_(registry, random),
      configs_() {
    services_.pools = &pools_;
    services_.revocation = &revocation_;
    services_.local_addresses = &local_addresses_;
}

IkeSaManager::~IkeSaManager() = default;

void IkeSaManager::load(std::vector<PeerConfig> configs) {
    // IKE SAs keep the objects they were made with; the list only changes what new ones use.
    std::vector<ConfigPtr> next;
    next.reserve(configs.size());
    for (PeerConfig& c : configs) {
        next.push_back(std::make_shared<const PeerConfig>(std::move(c)));
    }
    configs_ = ConfigList(std::move(next));
}

std::vector<PeerConfig> IkeSaManager::config_copies() const {
    std::vector<PeerConfig> out;
    out.reserve(configs_.size());
    for (const PeerConfig& c : configs_) {
        out.push_back(c);
    }
    return out;
}

void IkeSaManager::upsert(PeerConfig config) {
    std::vector<PeerConfig> next = config_copies();
    auto it = std::find_if(next.begin(), next.end(),
                           [&](const PeerConfig& c) { return c.name == config.name; });
    if (it != next.end()) {
        if (*it == config) {
            return;  // unchanged (swanctl --load-all loads everything again)
        }
        *it = std::move(config);
    } else {
        next.push_back(std::move(config));
    }
    load(std::move(next));
}

bool IkeSaManager::remove(std::string_view name) {
    std::vector<PeerConfig> next = config_copies();
    const auto before = next.size();
    std::erase_if(next, [&](const PeerConfig& c) { return c.name == name; });
    if (next.size() == before) {
        return false;
    }
    cancel_restart(name);
    load(std::move(next));
    return true;
}

void IkeSaManager::set_credentials(Credentials credentials) {
    credentials_ = std::move(credentials);
}

// ----------------------------------------------------------------------------- inputs

void IkeSaManager::reject(const char* what, const Endpoint& remote, const Error* e, Step& step) {
    // One budget per kind of rejection (`what` is a literal: its address is the site).
    if (!log::would_log(spdlog::level::info, log::Subsystem::kNet)) {
        return;
    }
    std::uint64_t suppressed = 0;
    const PeerLog::Verdict v = peer_log_.allow(what, step.now, suppressed);
    if (v != PeerLog::Verdict::kSuppress) {
        log::info(log::Subsystem::kNet, "{} from {}{}{}{}", what, remote, e != nullptr ? ": " : "",
                  e != nullptr ? wire::describe(*e) : std::string(),
                  suppressed_suffix(v, suppressed, peer_log_.interval_ms()));
    }
}

void IkeSaManager::send_cookie(const wire::Message& m, const wire::NoncePayload& ni,
                               const Endpoint& local, const Endpoint& remote, Step& step) {
    cookies_.rotate(step.now);
    ++counters_.cookies_sent;
    wire::Header rh = m.header;
    rh.flags = wire::kFlagResponse;
    rh.spi_r = IkeSpi(0);
    auto reply = wire::write_message(wire::Message{
            rh,
            {wire::make_notify(NotifyType::kCookie,
                               cookies_.make(ni.data, remote.address, m.header.spi_i))}});
    if (reply) {
        trace_reply(*reply, 0, step);
        log_datagram(true, *reply, local, remote);
        step.out.datagrams.push_back(OutDatagram{std::move(*reply), local, remote});
    }
}

void IkeSaManager::note_child_refused(const IkeSa& sa, std::string_view child, TimePoint now) {
    ++counters_.child_sas_refused;
    PEER_LOG(peer_log_, now, info, log::Subsystem::kIke,
             "{} CREATE_CHILD_SA for {} refused with NO_ADDITIONAL_SAS: the IKE_SA holds "
             "max_child_sas = {}",
             sa.label(), child, settings_.max_child_sas);
}

void IkeSaManager::note_cp_refused(const IkeSa& sa, std::uint16_t type, std::string_view why,
                                   TimePoint now) {
    ++counters_.cp_attributes_refused;
    PEER_LOG(peer_log_, now, info, log::Subsystem::kIke,
             "{} ignoring configuration attribute {} from the peer: {}", sa.label(),
             wire::config_attribute_name(type), why);
}

void IkeSaManager::on_datagram(ByteView datagram, const Endpoint& local, const Endpoint& remote,
                               Step& step) {
    ++counters_.datagrams;
    log_datagram(false, datagram, local, remote);
    auto parsed = wire::parse_message(datagram);
    Status rules = parsed ? wire::check_header_rules(parsed->header) : Status(parsed.error());
    if (rules) {
        rules = wire::check_outer_rules(parsed->header, parsed->payloads);
    }
    if (!rules) {
        ++counters_.malformed;
        reject("malformed IKE message", remote, &rules.error(), step);
        finish(step);
        return;
    }
    const wire::Message& m = *parsed;
    const wire::Header& h = m.header;
    if (h.exchange == wire::ExchangeType::kIkeSaInit && !h.is_response()) {
        on_init_request(m, datagram, local, remote, step);
        finish(step);
        return;
    }
    // Our SPI: the responder's if the original initiator sent it, else the initiator's.
    const IkeSpi own = h.from_initiator() ? h.spi_r : h.spi_i;
    const std::uint32_t* id = by_spi_.find(own.value());
    IkeSa* sa = id != nullptr ? find(*id) : nullptr;
    if (sa == nullptr || sa->is_original_initiator() == h.from_initiator()) {
        ++counters_.unknown_spi;
        reject("IKE message for an unknown IKE SA", remote, nullptr, step);
        finish(step);
        return;
    }
    sa->on_message(m, datagram, local, remote, step);
    finish(step);
}

void IkeSaManager::on_init_request(const wire::Message& m, ByteView raw, const Endpoint& local,
                                   const Endpoint& remote, Step& step) {
    ++counters_.init_requests;
    const wire::Header& h = m.header;
    if (stopping_) {
        ++counters_.refused_stopping;
        return;  // a new IKE SA would outlive us without a Delete
    }
    // A retransmitted IKE_SA_INIT goes to its half-open SA, which repeats its response.
    if (auto it = by_init_.find({remote, h.spi_i}); it != by_init_.end()) {
        if (IkeSa* sa = find(it->second)) {
            sa->on_message(m, raw, local, remote, step);
        }
        return;
    }
    trace_message(services_, step, false, 0, h, m.payloads);
    const auto* ni = find_payload<wire::NoncePayload>(m.payloads, wire::PayloadType::kNonce);
    if (ni == nullptr ||
        find_payload<wire::SaPayload>(m.payloads, wire::PayloadType::kSa) == nullptr ||
        find_payload<wire::KePayload>(m.payloads, wire::PayloadType::kKe) == nullptr) {
        ++counters_.malformed;
        reject("IKE_SA_INIT without SA, KE or Nonce", remote, nullptr, step);
        return;
    }
    // Admission before any state or expensive crypto (RFC 7296 §2.6, RFC 8019 §4.1): a
    // COOKIE when many are half-open (in all or from this address), then the per-address
    // and global limits. Each check is a hash lookup or an HMAC: a flood costs the same per
    // datagram however many SAs there are.
    const auto* cookie = find_notify(m.payloads, NotifyType::kCookie);
    bool cookie_ok = false;
    if (cookie != nullptr) {
        cookies_.rotate(step.now);
        cookie_ok = cookies_.verify(cookie->data, ni->data, remote.address, h.spi_i);
    }
    const InitLimits limits{settings_.cookie_threshold, settings_.cookie_threshold_ip,
                            settings_.block_threshold, settings_.init_limit_half_open};
    switch (init_gate(half_open_, limits, remote.address, cookie_ok)) {
        case InitGate::kAdmit:
            break;
        case InitGate::kNeedCookie:
            if (cookie != nullptr) {
                ++counters_.cookies_rejected;
            }
            send_cookie(m, *ni, local, remote, step);
            return;
        case InitGate::kBlocked:
            ++counters_.init_blocked;
            reject("IKE_SA_INIT ignored: per-address half-open IKE SA limit (block_threshold) "
                   "reached",
                   remote, nullptr, step);
            return;
        case InitGate::kGlobalLimit:
            ++counters_.half_open_dropped;
            reject("IKE_SA_INIT ignored: half-open IKE SA limit (init_limit_half_open) reached",
                   remote, nullptr, step);
            return;
    }
    if (redirect_init(m, *ni, local, remote, step)) {
        return;  // RFC 5685 §3
    }
    const InitRequest req{m, raw, local, remote, next_ike_id(), new_ike_spi()};
    InitAnswer answer = respond_ike_sa_init(services_, *this, req, step);
    if (answer.reply) {
        trace_reply(*answer.reply, answer.sa ? answer.sa->id() : 0, step);
        log_datagram(true, *answer.reply, local, remote);
        step.out.datagrams.push_back(OutDatagram{std::move(*answer.reply), local, remote});
    }
    if (!answer.sa) {
        ++counters_.init_refused;
        return;
    }
    IkeSa& sa = adopt(std::move(answer.sa));
    if (sa.state() == IkeState::kConnecting) {
        half_open_.add(sa.id(), remote.address);  // until it leaves kConnecting (note_changed)
    }
    by_init_[{remote, h.spi_i}] = sa.id();
    init_keys_[sa.id()] = {remote, h.spi_i};
}

void IkeSaManager::trace_reply(ByteView reply, std::uint32_t ike_id, Step& step) const {
    if (services_.trace_messages ||
        log::would_log_detail(log::kControlMore, log::Subsystem::kEnc)) {
        if (auto parsed = wire::parse_message(reply)) {
            trace_message(services_, step, true, ike_id, parsed->header, parsed->payloads);
        }
    }
}

void IkeSaManager::on_timer(Step& step) {
    for (int n = 0; n < kMaxTimersPerCall; ++n) {
        const auto key = timers_.pop_due(step.now);
        if (!key) {
            break;
        }
        if (key->ike == 0 && key->kind == TimerKind::kRestart) {
            on_restart_timer(key->arg, step);
        } else if (IkeSa* sa = find(key->ike)) {
            if (key->kind == TimerKind::kEapBackend) {
                on_eap_backend_timeout(*sa, step);
            } else if (key->kind == TimerKind::kRevocation) {
                on_revocation_timeout(*sa, key->arg, step);
            } else if (key->kind == TimerKind::kFollowupKe) {
                on_followup_timeout(*sa, key->arg, step);
            } else {
                sa->on_timer(key->kind, key->arg, step);
            }
        }
    }
    finish(step);
}

void IkeSaManager::on_revocation_answer(std::uint32_t ike_id, std::uint32_t seq, Step& step) {
    if (IkeSa* sa = find(ike_id)) {
        ike::on_revocation_answer(*sa, seq, step);  // ignored unless held for query `seq`
    }
    finish(step);
}

void IkeSaManager::note_revocation(RevocationEvent event) noexcept {
    switch (event) {
        case RevocationEvent::kRevoked:
            ++counters_.revoked;
            break;
        case RevocationEvent::kUnknown:
            ++counters_.revocation_unknown;
            break;
        case RevocationEvent::kHeld:
            ++counters_.revocation_held;
            break;
        case RevocationEvent::kTimeout:
            ++counters_.revocation_timeout;
            break;
        case RevocationEvent::kHoldRefused:
            ++counters_.revocation_hold_refused;
            break;
        case RevocationEvent::kRetransmitDropped:
            ++counters_.revocation_retransmits_dropped;
            break;
    }
}

bool IkeSaManager::acquire_revocation_hold() noexcept {
    if (revocation_holds_ >= settings_.max_revocation_holds) {
        return false;
    }
    ++revocation_holds_;
    return true;
}

void IkeSaManager::release_revocation_hold() noexcept {
    if (revocation_holds_ > 0) {
        --revocation_holds_;
    }
}

void IkeSaManager::on_eap_backend_answer(std::uint32_t ike_id, std::uint32_t seq,
                                         EapBackendAnswer answer, Step& step) {
    if (IkeSa* sa = find(ike_id)) {
        ike::on_eap_backend_answer(*sa, seq, std::move(answer), step);
    }
    finish(step);
}

Result<std::uint32_t> IkeSaManager::initiate(std::string_view conn, std::string_view child,
                                             Step& step, ResourceId resource) {
    auto r = start(conn, child, step, resource, false);
    finish(step);
    return r;
}

Result<std::uint32_t> IkeSaManager::start(std::string_view conn, std::string_view child, Step& step,
                                          ResourceId resource, bool from_acquire) {
    if (stopping_) {
        return make_error(Errc::kState, "stopping: no new IKE SA");
    }
    const ConfigPtr cfg = configs_.find(conn);
    if (cfg == nullptr) {
        return make_error(Errc::kNotFound, "no such connection");
    }
    const ChildConfig* child_cfg = nullptr;
    if (!child.empty()) {
        child_cfg = cfg->child(child);
        if (child_cfg == nullptr) {
            return make_error(Errc::kNotFound, "no such child in the connection");
        }
    }
    if (IkeSa* existing = sa_of_config(*cfg)) {
        if (child_cfg != nullptr) {
            if (!from_acquire && existing->at_child_limit(true)) {
                return make_error(Errc::kState,
                                  "max_child_sas reached: the IKE_SA has (or is negotiating) as "
                                  "many Child SAs as ikeplexd.conf allows");
            }
            existing->hold_config(cfg);  // child_cfg lives in cfg, perhaps newer than its own
            // RFC 9611 groups decide what is missing; an operator may ask for another regular
            // Child SA, an acquire only for one that does not exist.
            ike::on_acquire(*existing, *child_cfg, resource, step, !from_acquire);
        }
        return existing->id();
    }
    if (cfg->remote_addrs.empty()) {
        return make_error(Errc::kConfig, "the connection has no remote address to initiate to");
    }
    const IpAddress remote_addr = cfg->remote_addrs.front();
    std::optional<IpAddress> local_addr;
    if (!cfg->local_addrs.empty()) {
        local_addr = cfg->local_addrs.front();
    } else if (source_lookup_) {
        local_addr = source_lookup_(remote_addr);
    }
    if (!local_addr) {
        return make_error(Errc::kConfig, "no local address reaches the remote address");
    }
    auto sa = std::make_unique<IkeSa>(services_, *this, next_ike_id(), true,
                                      Endpoint{*local_addr, cfg->local_port},
                                      Endpoint{remote_addr, cfg->remote_port});
    sa->set_spis(new_ike_spi(), IkeSpi(0));
    sa->set_config(cfg);
    IkeSa& added = adopt(std::move(sa));
    IKE_LOG(info, added, "initiating IKE_SA {} to {}", added.label(), remote_addr);
    added.start(cfg, child_cfg, resource, step);
    return added.id();
}

void IkeSaManager::start_actions(Step& step) {
    for (const PeerConfig& c : configs_) {
        for (const ChildConfig& ch : c.children) {
            if (traps(ch.start_action)) {
                install_trap(c, ch, step);
            }
            if (starts(ch.start_action)) {
                if (auto r = start(c.name, ch.name, step, ResourceId::none(), true); !r) {
                    log::error(log::Subsystem::kCfg, "cannot start {}/{}: {}", c.name, ch.name,
                               r.error().detail);
                }
            }
        }
    }
    finish(step);
}

Status IkeSaManager::terminate_ike(std::uint32_t ike_id, Step& step) {
    IkeSa* sa = find(ike_id);
    if (sa == nullptr) {
        return make_error(Errc::kNotFound, "no such IKE SA");
    }
    if (sa->config() != nullptr) {
        cancel_restart(sa->config()->name);
    }
    sa->delete_ike("terminated by operator", step);
    finish(step);
    return ok();
}

Status IkeSaManager::terminate_child(std::uint32_t child_id, Step& step) {
    IkeSa* sa = sa_of_child(child_id);
    if (sa == nullptr) {
        return make_error(Errc::kNotFound, "no such CHILD_SA");
    }
    sa->delete_child(child_id, step);
    finish(step);
    return ok();
}

Status IkeSaManager::rekey_ike(std::uint32_t ike_id, Step& step) {
    IkeSa* sa = find(ike_id);
    if (sa == nullptr || sa->state() != IkeState::kEstablished) {
        return make_error(Errc::kNotFound, "no such established IKE SA");
    }
    sa->rekey(step);
    finish(step);
    return ok();
}

Result<bool> IkeSaManager::rekey_child(std::uint32_t child_id, Step& step) {
    IkeSa* sa = sa_of_child(child_id);
    const ChildSa* c = sa != nullptr ? sa->child(child_id) : nullptr;
    if (c == nullptr) {
        return make_error(Errc::kNotFound, "no such CHILD_SA");
    }
    if (sa->state() != IkeState::kEstablished) {
        return make_error(Errc::kInvalidArgument, "its IKE_SA is not established");
    }
    switch (c->state) {
        case ChildState::kInstalled:
            sa->rekey_child(child_id, step);
            finish(step);
            return true;
        case ChildState::kRekeying:
            return true;  // ours is under way: its outcome settles the request too
        case ChildState::kRekeyed:
            return false;  // the peer's rekey replaced it a moment ago
        case ChildState::kCreating:
            return make_error(Errc::kInvalidArgument, "the CHILD_SA is still being created");
        case ChildState::kDeleting:
            break;
    }
    return make_error(Errc::kInvalidArgument, "the CHILD_SA is being deleted");
}

}  // namespace ikeplex::ike
