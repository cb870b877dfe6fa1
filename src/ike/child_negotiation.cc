// Negotiating a Child SA's parameters, shared by IKE_AUTH (the first Child SA) and
// CREATE_CHILD_SA: the initiator's offer and its completion, the responder's acceptance
// (config by traffic selectors, proposal, narrowing RFC 7296 §2.9, transport mode, keys).
#include <algorithm>

#include "crypto/keymat.h"
#include "ike/config_payload.h"
#include "ike/exchanges.h"
#include "ike/followup_ke.h"
#include "ike/legacy_algorithms.h"
#include "ike/payload_access.h"
#include "util/hex.h"
#include "util/log.h"
#include "wire/describe.h"
#include "wire/names.h"

namespace ikeplex::ike {
namespace {

using wire::NotifyType;
using wire::Payload;
using wire::PayloadType;

Bytes spi_bytes(Spi spi) {
    const std::uint32_t v = spi.value();
    return {static_cast<std::uint8_t>(v >> 24U), static_cast<std::uint8_t>(v >> 16U),
            static_cast<std::uint8_t>(v >> 8U), static_cast<std::uint8_t>(v)};
}

std::optional<Spi> spi_of(const Bytes& b) {
    if (b.size() != 4) {
        return std::nullopt;
    }
    return Spi((std::uint32_t{b[0]} << 24U) | (std::uint32_t{b[1]} << 16U) |
               (std::uint32_t{b[2]} << 8U) | b[3]);
}

/// The configured selectors ("dynamic" ones with the SA's address, or its virtual IPs), or the
/// SA's address when none are configured. `local`: our side, else the peer's.
std::vector<TrafficSelector> config_ts(const IkeSa& sa,
                                       const std::vector<TrafficSelector>& configured, bool local) {
    if (auto v = vip_ts(sa, configured, local)) {
        return std::move(*v);
    }
    const Endpoint& e = local ? sa.local() : sa.remote();
    if (!configured.empty()) {
        return resolve_dynamic(configured, e.address);
    }
    return {TrafficSelector{e.address, e.address, 0, 0, 65535}};
}

/// Every selector of `got` lies inside one of `offered`.
bool within(std::span<const TrafficSelector> got, std::span<const TrafficSelector> offered) {
    return !got.empty() && std::all_of(got.begin(), got.end(), [&](const TrafficSelector& g) {
        return std::any_of(offered.begin(), offered.end(),
                           [&](const TrafficSelector& o) { return o.contains(g); });
    });
}

/// Why the peer refused our Child SA: its error, and for NO_PROPOSAL_CHOSEN what we offered.
std::string refused_because(const wire::NotifyPayload& err, const ChildOffer& offer) {
    if (err.type == NotifyType::kNoProposalChosen) {
        return "peer answered NO_PROPOSAL_CHOSEN: it accepts none of our proposals: " +
               describe(offer.proposals);
    }
    return "peer answered " + wire::to_string(err.type);
}

}  // namespace

ChildPayloads child_payloads(std::span<const Payload> ps) {
    ChildPayloads c;
    c.sa = find_payload<wire::SaPayload>(ps, PayloadType::kSa);
    c.nonce = find_payload<wire::NoncePayload>(ps, PayloadType::kNonce);
    c.ke = find_payload<wire::KePayload>(ps, PayloadType::kKe);
    c.tsi = find_payload<wire::TsPayload>(ps, PayloadType::kTsi);
    c.tsr = find_payload<wire::TsPayload>(ps, PayloadType::kTsr);
    return c;
}

std::vector<Payload> error_response(NotifyType type, Bytes data) {
    return {wire::make_notify(type, std::move(data))};
}

ChildOffer make_offer(IkeSa& sa, const ChildConfig& child, ResourceId resource, bool with_ke,
                      const ChildSa* rekeyed) {
    ChildOffer o;
    o.config = &child;
    const MemberPlan plan = rekeyed != nullptr ? MemberPlan{} : plan_member(sa, child, resource);
    o.resource = rekeyed != nullptr ? rekeyed->resource : plan.resource;
    o.resource_info = plan.resource_info;
    o.member = rekeyed != nullptr && rekeyed->group_member;
    o.member_info = rekeyed != nullptr ? rekeyed->member_info : MemberInfo{plan.slot, false, false};
    o.spi_in = sa.services().spis.allocate({o.resource, sa.local().address, sa.remote().address});
    std::vector<wire::Proposal> proposals = child.esp_proposals;
    if (plan.copy != nullptr) {
        // RFC 9611 §3: a member has its group's algorithms and selectors exactly (its own
        // keys; PFS as configured).
        wire::Proposal p = without_ke(plan.copy->proposal);
        p.number = 1;
        const std::uint16_t ke =
                child.esp_proposals.empty() ? 0 : ke_method(child.esp_proposals.front());
        if (ke != 0) {
            p.transforms.push_back(wire::Transform{wire::TransformType::kKe, ke, {}});
        }
        // RFC 9370: the additional key exchanges as configured too (the first of each type).
        if (!child.esp_proposals.empty()) {
            for (const wire::Transform& t : child.esp_proposals.front().transforms) {
                const bool additional = t.type >= wire::TransformType::kAddKe1 &&
                                        t.type <= wire::TransformType::kAddKe7;
                if (additional && std::none_of(p.transforms.begin(), p.transforms.end(),
                                               [&](const auto& x) { return x.type == t.type; })) {
                    p.transforms.push_back(t);
                }
            }
        }
        proposals = {std::move(p)};
    }
    for (wire::Proposal p : proposals) {
        p.spi = spi_bytes(o.spi_in);
        o.proposals.push_back(with_ke ? std::move(p) : without_ke(std::move(p)));
    }
    const ChildSa* ts_of = rekeyed != nullptr ? rekeyed : plan.copy;
    o.tsi = ts_of != nullptr ? ts_of->local_ts : config_ts(sa, child.local_ts, true);
    o.tsr = ts_of != nullptr ? ts_of->remote_ts : config_ts(sa, child.remote_ts, false);
    return o;
}

void append_offer(const ChildOffer& offer, std::vector<Payload>& out) {
    out.push_back(wire::make_payload(wire::SaPayload{offer.proposals}));
}

void append_offer_ts(const IkeSa& sa, const ChildOffer& offer, std::vector<Payload>& out) {
    out.push_back(wire::make_tsi(to_wire(offer.tsi)));
    out.push_back(wire::make_tsr(to_wire(offer.tsr)));
    if (offer.config->mode == Mode::kTransport) {
        out.push_back(wire::make_notify(NotifyType::kUseTransportMode));
    }
    if (offer.resource_info) {
        out.push_back(wire::make_sa_resource_info(
                resource_identifier(sa, offer.resource, offer.member_info.slot)));
    }
}

std::uint32_t complete_offer(IkeSa& sa, ChildOffer& offer, std::span<const Payload> response,
                             ByteView ni, ByteView nr, ByteView g_ir, bool ignore_ke, Step& step) {
    const auto fail = [&](const std::string& why) -> std::uint32_t {
        IKE_LOG(info, sa, "failed to establish CHILD_SA {}: {}", offer.config->name, why);
        step.out.events.push_back(
                Event{EventKind::kChildFailed, sa.id(), 0, 0, offer.config->name, why,
                      sa.config() != nullptr ? sa.config()->name : std::string()});
        sa.services().spis.release(offer.spi_in);
        return 0;
    };
    if (const auto* err = first_error(response)) {
        return fail(refused_because(*err, offer));
    }
    const ChildPayloads cp = child_payloads(response);
    if (cp.sa == nullptr || cp.tsi == nullptr || cp.tsr == nullptr ||
        cp.sa->proposals.size() != 1) {
        return fail("no SA, TSi and TSr in the response");
    }
    const wire::Proposal& chosen = cp.sa->proposals.front();
    if (auto ok = verify_chosen(chosen, offer.proposals, ignore_ke); !ok) {
        return fail(ok.error().detail);
    }
    const auto spi_out = spi_of(chosen.spi);
    auto algorithms =
            child_algorithms(sa.services().registry, ignore_ke ? without_ke(chosen) : chosen);
    if (!spi_out || !algorithms) {
        return fail("unusable proposal in the response");
    }
    // Its SPI must not be that of another of our outbound SAs (the backend would install two
    // outbound SAs under one SPI; found by fuzz_ike_sa).
    if (sa.child_by_spi_out(*spi_out) != nullptr) {
        return fail("the peer's SPI is already that of another CHILD_SA");
    }
    const auto tsi = from_wire(*cp.tsi);
    const auto tsr = from_wire(*cp.tsr);
    // RFC 7296 §2.9: the responder may narrow, never widen.
    if (!within(tsi, offer.tsi) || !within(tsr, offer.tsr)) {
        return fail("traffic selectors unacceptable: " + to_string(tsi) + " === " + to_string(tsr));
    }
    const bool transport = offer.config->mode == Mode::kTransport &&
                           has_notify(response, NotifyType::kUseTransportMode);
    auto keys =
            crypto::derive_child_keys(sa.crypto()->prf, sa.crypto()->sk_d.view(), g_ir, ni, nr,
                                      algorithms->encr_key_size(), algorithms->integ_key_size());
    if (!keys) {
        return fail("key derivation failed");
    }
    auto c = std::make_unique<ChildSa>();
    c->id = sa.registry().next_child_id();
    c->config = offer.config;
    c->reqid = sa.registry().reqid_for(*sa.config(), *offer.config);
    c->spi_in = offer.spi_in;
    c->spi_out = *spi_out;
    c->mode = transport ? Mode::kTransport : Mode::kTunnel;
    c->local_ts = tsi;
    c->remote_ts = tsr;
    c->proposal = chosen;
    c->algorithms = *algorithms;
    c->resource = offer.resource;
    c->group_member = offer.member;
    c->member_info = offer.member_info;
    complete_member(sa, *c, offer.resource_info, response);
    ChildSa& added = sa.add_child(std::move(c));
    note_legacy_choice(sa, added.proposal, "CHILD_SA " + added.name(), step);
    sa.install_child(added, std::move(*keys), true, step);
    const std::uint32_t id = added.id;
    std::vector<Spi>& deleted_early = sa.states().get<EarlyDeletes>().spis;
    if (auto early = std::find(deleted_early.begin(), deleted_early.end(), added.spi_out);
        early != deleted_early.end()) {
        // The peer's Delete for it overtook this response (RFC 7296 §1.4.1): it is gone.
        deleted_early.erase(early);
        IKE_LOG(info, sa, "CHILD_SA {}{{{}}} was deleted by the peer before it was complete here",
                added.name(), id);
        sa.remove_child(id, "deleted by peer", step, false, Removal::kDeletedByPeer);
        return id;
    }
    if (offer.resource_info) {
        resolve_crossing(sa, added, step);  // a new member: did the peer's request cross it?
    }
    return id;
}

namespace {

/// The child config a request is for (the rekeyed SA's, else the first whose selectors
/// overlap the request's) and the selectors narrowed to it (RFC 7296 §2.9).
struct ChildMatch {
    const ChildConfig* child{nullptr};
    std::vector<TrafficSelector> narrowed_i;  ///< the peer's side
    std::vector<TrafficSelector> narrowed_r;  ///< ours
};

ChildMatch match_child(const IkeSa& sa, const PeerConfig& peer, const ChildPayloads& cp,
                       const ChildSa* rekeyed) {
    const auto tsi = from_wire(*cp.tsi);
    const auto tsr = from_wire(*cp.tsr);
    ChildMatch m;
    for (const ChildConfig& c : peer.children) {
        if (rekeyed != nullptr && rekeyed->config != &c) {
            continue;
        }
        m.narrowed_i = narrow(tsi, config_ts(sa, c.remote_ts, false));
        m.narrowed_r = narrow(tsr, config_ts(sa, c.local_ts, true));
        if (!m.narrowed_i.empty() && !m.narrowed_r.empty()) {
            m.child = &c;
            return m;
        }
    }
    IKE_LOG(info, sa, "traffic selectors {} === {} unacceptable", to_string(tsr), to_string(tsi));
    return ChildMatch{};
}

/// The responder's side of PFS (RFC 7296 §1.3.1): a KE group in the chosen proposal needs a
/// matching KE payload; our KE and the shared secret, or the error to answer.
struct Pfs {
    crypto::KeyExchangePtr ke;
    SecretBytes secret;
    std::optional<std::vector<Payload>> error;
};

Pfs responder_pfs(IkeSa& sa, const ChildPayloads& cp, std::uint16_t group) {
    Pfs pfs;
    if (cp.ke == nullptr) {
        pfs.error = error_response(NotifyType::kNoProposalChosen);
        return pfs;
    }
    if (cp.ke->group != group) {
        pfs.error = error_response(
                NotifyType::kInvalidKePayload,
                Bytes{static_cast<std::uint8_t>(group >> 8U), static_cast<std::uint8_t>(group)});
        return pfs;
    }
    auto made = sa.make_ke(group);
    if (!made) {
        pfs.error = error_response(NotifyType::kNoProposalChosen);
        return pfs;
    }
    pfs.ke = std::move(*made);
    auto shared = pfs.ke->respond(cp.ke->data);
    if (!shared) {
        pfs.error = error_response(NotifyType::kInvalidSyntax);
        return pfs;
    }
    pfs.secret = std::move(*shared);
    return pfs;
}

/// The answer to a request RFC 9611's group rules turn down, if they do (TS_MAX_QUEUE
/// counted).
std::optional<std::vector<Payload>> binding_refusal(IkeSa& sa, const Binding& b) {
    if (b.refuse) {
        sa.registry().note_ts_max_queue(true);
        return error_response(NotifyType::kTsMaxQueue);
    }
    if (b.fail) {
        return error_response(NotifyType::kNoProposalChosen);
    }
    if (b.retry_later) {
        return error_response(NotifyType::kTemporaryFailure);
    }
    return std::nullopt;
}

/// NO_ADDITIONAL_SAS (RFC 7296 §3.10.1) for a new Child SA on an IKE SA at `max_child_sas`; the
/// IKE SA stays up. A rekey is never refused: its new SA replaces the old one. (IKE_AUTH's
/// Child SA is an IKE SA's first, and max_child_sas is at least 1.)
std::optional<std::vector<Payload>> limit_refusal(IkeSa& sa, const ChildRequest& req,
                                                  const ChildConfig& child, Step& step) {
    if (req.rekeyed != nullptr || !sa.at_child_limit(false)) {
        return std::nullopt;
    }
    sa.registry().note_child_refused(sa, child.name, step.now);
    return error_response(NotifyType::kNoAdditionalSas);
}

void log_joined(const IkeSa& sa, const ChildSa& c, ByteView our_id,
                std::span<const Payload> request) {
    const auto* info = find_notify(request, NotifyType::kSaResourceInfo);
    IKE_LOG(info, sa, "CHILD_SA {} joins its group as the {} (our id {}, the peer's id {})",
            c.config->name,
            c.resource.is_none() ? std::string("fallback")
                                 : fmt::format("member of cpu {}", c.resource.index()),
            identifier_text(our_id), identifier_text(info->data));
}

/// Why a Child SA request gets NO_PROPOSAL_CHOSEN, in strongSwan's words. In IKE_AUTH the KE
/// methods of our proposals take no part, so they are not shown.
void log_no_proposal(const IkeSa& sa, const ChildConfig& child,
                     std::span<const wire::Proposal> received, bool ignore_ke) {
    std::vector<wire::Proposal> configured;
    for (const wire::Proposal& p : child.esp_proposals) {
        configured.push_back(ignore_ke ? without_ke(p) : p);
    }
    IKE_LOG(info, sa, "received proposals: {}", describe(received));
    IKE_LOG(info, sa, "configured proposals: {}", describe(configured));
    IKE_LOG(info, sa, "no matching proposal found for CHILD_SA {}, sending NO_PROPOSAL_CHOSEN",
            child.name);
}

/// The responder's choice for a Child SA request: the proposal (with the peer's SPI) and its
/// algorithms; nothing for NO_PROPOSAL_CHOSEN (the log says why).
struct Choice {
    wire::Proposal proposal;
    Spi spi_out;
    ChildAlgorithms algorithms;
};

std::optional<Choice> choose_proposal(IkeSa& sa, const ChildConfig& child, const ChildPayloads& cp,
                                      bool ignore_ke) {
    auto chosen = select_proposal(cp.sa->proposals, child.esp_proposals, ignore_ke);
    if (!chosen) {
        log_no_proposal(sa, child, cp.sa->proposals, ignore_ke);
        return std::nullopt;
    }
    const auto spi_out = spi_of(chosen->spi);
    auto algorithms = child_algorithms(sa.services().registry, *chosen);
    if (!spi_out || !algorithms) {
        return std::nullopt;
    }
    // The peer's SPI of another Child SA would be a second outbound SA under one SPI.
    if (sa.child_by_spi_out(*spi_out) != nullptr) {
        IKE_LOG(info, sa, "peer's SPI {} for CHILD_SA {} is already in use", *spi_out, child.name);
        return std::nullopt;
    }
    return Choice{std::move(*chosen), *spi_out, *algorithms};
}

/// The response's payloads for an accepted Child SA, in strongSwan's order.
std::vector<Payload> child_response(const ChildRequest& req, const wire::Proposal& answer,
                                    const crypto::KeyExchange* ke, const ChildMatch& m,
                                    bool transport, const std::optional<Bytes>& resource_id) {
    std::vector<Payload> out;
    out.push_back(wire::make_payload(wire::SaPayload{{answer}}));
    if (req.nr != nullptr && req.include_nonce) {
        out.push_back(wire::make_payload(wire::NoncePayload{*req.nr}));
    }
    if (ke != nullptr) {
        out.push_back(wire::make_payload(wire::KePayload{
                ke->info().id, Bytes(ke->public_value().begin(), ke->public_value().end())}));
    }
    out.push_back(wire::make_tsi(to_wire(m.narrowed_i)));
    out.push_back(wire::make_tsr(to_wire(m.narrowed_r)));
    if (transport) {
        out.push_back(wire::make_notify(NotifyType::kUseTransportMode));
    }
    if (resource_id) {
        out.push_back(wire::make_sa_resource_info(*resource_id));
    }
    return out;
}

/// KEYMAT for the responder's Child SA (RFC 7296 §2.17), nothing if the derivation failed.
std::optional<crypto::ChildKeys> responder_keys(IkeSa& sa, const ChildRequest& req, ByteView g_ir,
                                                const ChildAlgorithms& a) {
    auto keys = crypto::derive_child_keys(sa.crypto()->prf, sa.crypto()->sk_d.view(), g_ir, *req.ni,
                                          *req.nr, a.encr_key_size(), a.integ_key_size());
    return keys ? std::optional<crypto::ChildKeys>(std::move(*keys)) : std::nullopt;
}

/// The responder's new Child SA (not yet added): what the request, its match and RFC 9611's
/// binding say; the proposal, SPI and algorithms come from the caller.
std::unique_ptr<ChildSa> new_child(IkeSa& sa, const ChildRequest& req, const ChildMatch& m,
                                   const Binding& binding, ResourceId resource, Spi spi_in,
                                   bool transport) {
    auto c = std::make_unique<ChildSa>();
    c->id = sa.registry().next_child_id();
    c->config = m.child;
    c->reqid = sa.registry().reqid_for(*sa.config(), *m.child);
    c->spi_in = spi_in;
    c->mode = transport ? Mode::kTransport : Mode::kTunnel;
    c->local_ts = m.narrowed_r;
    c->remote_ts = m.narrowed_i;
    c->resource = resource;
    c->group_member = req.rekeyed != nullptr ? req.rekeyed->group_member : binding.member;
    c->member_info = req.rekeyed != nullptr ? req.rekeyed->member_info : binding.info;
    return c;
}

/// RFC 9370: a Child SA the responder made in CREATE_CHILD_SA, keyed and installed once the
/// last IKE_FOLLOWUP_KE is in.
class ChildCompletion final : public FollowupCompletion {
public:
    ChildCompletion(std::uint32_t child, std::uint32_t rekeyed, SecretBytes sk0, Bytes ni, Bytes nr)
        : child_(child),
          rekeyed_(rekeyed),
          sk0_(std::move(sk0)),
          ni_(std::move(ni)),
          nr_(std::move(nr)) {}

    std::vector<Payload> finish(IkeSa& sa, ByteView tail, Step& step) override {
        ChildSa* c = sa.child(child_);
        if (c == nullptr || c->state != ChildState::kCreating) {
            return error_response(NotifyType::kNoProposalChosen);
        }
        auto keys = crypto::derive_child_keys(sa.crypto()->prf, sa.crypto()->sk_d.view(),
                                              sk0_.view(), ni_, tail, c->algorithms.encr_key_size(),
                                              c->algorithms.integ_key_size());
        if (!keys) {
            sa.remove_child(child_, "key derivation failed", step, true);
            return error_response(NotifyType::kNoProposalChosen);
        }
        note_legacy_choice(sa, c->proposal, "CHILD_SA " + c->name(), step);
        sa.install_child(*c, std::move(*keys), false, step);
        if (rekeyed_ != 0) {
            note_peer_rekey(sa, rekeyed_, child_, ni_, nr_, step);
        }
        return {};
    }
    void discard(IkeSa& sa, Step& step) override {
        if (const ChildSa* c = sa.child(child_);
            c != nullptr && c->state == ChildState::kCreating) {
            IKE_LOG(info, sa, "CHILD_SA {}{{{}}} not completed: additional key exchange failed",
                    c->name(), child_);
            sa.remove_child(child_, "additional key exchange failed", step, true);
        }
    }
    [[nodiscard]] bool child() const noexcept override { return true; }

private:
    std::uint32_t child_;
    std::uint32_t rekeyed_;
    SecretBytes sk0_;
    Bytes ni_;
    Bytes nr_;
};

/// Keeps Child SA `id` (CREATING) for the IKE_FOLLOWUP_KE rounds: the link notify for the
/// response, or nothing when too many are pending.
std::optional<Payload> defer_child(IkeSa& sa, std::uint32_t id, const ChildRequest& req,
                                   ByteView sk0, std::vector<std::uint16_t> methods, Step& step) {
    IKE_LOG(info, sa, "CHILD_SA {{{}}} waits for {} additional key exchange(s)", id,
            methods.size());
    return expect_followups(
            sa, std::move(methods), *req.nr,
            std::make_unique<ChildCompletion>(id, req.rekeyed != nullptr ? req.rekeyed->id : 0,
                                              SecretBytes::copy_of(sk0), *req.ni, *req.nr),
            step);
}

}  // namespace

std::vector<Payload> accept_child(IkeSa& sa, const ChildRequest& req, Step& step,
                                  std::uint32_t* created) {
    const ChildPayloads cp = child_payloads(req.payloads);
    const PeerConfig* peer = sa.config();
    if (cp.sa == nullptr || cp.tsi == nullptr || cp.tsr == nullptr || peer == nullptr) {
        return error_response(NotifyType::kNoProposalChosen);
    }
    const ChildMatch m = match_child(sa, *peer, cp, req.rekeyed);
    if (m.child == nullptr) {
        return error_response(NotifyType::kTsUnacceptable);
    }
    const ChildConfig* child = m.child;
    if (auto refusal = limit_refusal(sa, req, *child, step)) {
        return std::move(*refusal);
    }
    // RFC 9611: a group member, the group at its limit, or a regular Child SA.
    const Binding binding = bind_member(sa, *child, m.narrowed_r, m.narrowed_i, req.payloads,
                                        req.rekeyed != nullptr, step.now);
    if (auto refusal = binding_refusal(sa, binding)) {
        return std::move(*refusal);
    }
    auto choice = choose_proposal(sa, *child, cp, req.ignore_ke);
    if (!choice) {
        return error_response(NotifyType::kNoProposalChosen);
    }
    const ChildAlgorithms& algorithms = choice->algorithms;
    ByteView g_ir = req.g_ir;
    Pfs pfs;
    if (!req.ignore_ke && algorithms.ke != 0) {
        pfs = responder_pfs(sa, cp, algorithms.ke);
        if (pfs.error) {
            return std::move(*pfs.error);
        }
        g_ir = pfs.secret.view();
    }
    const ResourceId resource = req.rekeyed != nullptr ? req.rekeyed->resource : binding.resource;
    // RFC 9370 §2.2.4: with additional key exchanges the keys come after the last
    // IKE_FOLLOWUP_KE; the Child SA waits (CREATING, its SPI reserved) until then.
    std::vector<std::uint16_t> more =
            req.ignore_ke ? std::vector<std::uint16_t>{} : additional_methods(choice->proposal);
    const Spi spi_in =
            sa.services().spis.allocate({resource, sa.local().address, sa.remote().address});
    const bool transport = child->mode == Mode::kTransport &&
                           has_notify(req.payloads, NotifyType::kUseTransportMode);
    std::optional<crypto::ChildKeys> keys;
    if (more.empty() && !(keys = responder_keys(sa, req, g_ir, algorithms))) {
        sa.services().spis.release(spi_in);
        return error_response(NotifyType::kNoProposalChosen);
    }
    wire::Proposal answer = choice->proposal;
    answer.spi = spi_bytes(spi_in);

    auto c = new_child(sa, req, m, binding, resource, spi_in, transport);
    c->spi_out = choice->spi_out;
    c->proposal = answer;
    c->algorithms = algorithms;
    std::optional<Bytes> our_id;
    if (binding.member) {
        our_id = resource_identifier(sa, resource, c->member_info.slot);
        log_joined(sa, *c, *our_id, req.payloads);
    }
    ChildSa& added = sa.add_child(std::move(c));
    if (created != nullptr) {
        *created = added.id;
    }
    if (!more.empty()) {
        auto link = defer_child(sa, added.id, req, g_ir, std::move(more), step);
        if (!link) {
            sa.remove_child(added.id, "too many additional key exchanges pending", step, true);
            if (created != nullptr) {
                *created = 0;
            }
            return error_response(NotifyType::kTemporaryFailure);
        }
        auto out = child_response(req, answer, pfs.ke.get(), m, transport, our_id);
        out.push_back(std::move(*link));
        return out;
    }
    note_legacy_choice(sa, added.proposal, "CHILD_SA " + added.name(), step);
    sa.install_child(added, std::move(*keys), false, step);
    return child_response(req, answer, pfs.ke.get(), m, transport, our_id);
}

}  // namespace ikeplex::ike
