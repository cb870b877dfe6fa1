// CREATE_CHILD_SA for Child SAs (RFC 7296 §1.3.1 new, §1.3.3 rekey), with or without PFS,
// and the collisions of §2.8.1 / §2.25.1 (simultaneous rekeying resolved by the nonces).
//
//   HDR, SK {[N(REKEY_SA)], SA, Ni, [KEi], TSi, TSr}  -->
//                          <--  HDR, SK {SA, Nr, [KEr], TSi, TSr}
//
// With RFC 9370 additional key exchanges in the chosen proposal, IKE_FOLLOWUP_KE rounds follow
// before the Child SA is made (followup_ke.h); a rekey collision is then decided after the
// CREATE_CHILD_SA, and the loser does not go on.
#include <algorithm>

#include "ike/exchanges.h"
#include "ike/followup_ke.h"
#include "ike/payload_access.h"
#include "util/log.h"
#include "wire/names.h"

namespace ikeplex::ike {

using wire::NotifyType;
using wire::Payload;
using wire::PayloadType;

namespace {

/// RFC 7296 §2.8.1: octet-by-octet; a prefix is the lower.
bool lower(const Bytes& a, const Bytes& b) {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
}

const Bytes& lowest(std::initializer_list<const Bytes*> all) {
    const Bytes* low = *all.begin();
    for (const Bytes* b : all) {
        if (lower(*b, *low)) {
            low = b;
        }
    }
    return *low;
}

Bytes spi_data(Spi spi) {
    const std::uint32_t v = spi.value();
    return {static_cast<std::uint8_t>(v >> 24U), static_cast<std::uint8_t>(v >> 16U),
            static_cast<std::uint8_t>(v >> 8U), static_cast<std::uint8_t>(v)};
}

/// Random delay before retrying after TEMPORARY_FAILURE (RFC 7296 §2.25: not at once).
/// Simultaneous Child SA rekeys (RFC 7296 §2.8.1) by the id of the rekeyed SA, kept on the IKE
/// SA too: our new SA is still judged by the nonces when the old one is deleted before our
/// rekey completes.
struct ChildRekeyCollisions final : ExchangeState {
    std::map<std::uint32_t, ChildSa::Collision> by_rekeyed;
};

void record_collision(IkeSa& sa, ChildSa& old, std::uint32_t created, const Bytes& ni,
                      const Bytes& nr) {
    old.collision = ChildSa::Collision{created, ni, nr};
    sa.states().get<ChildRekeyCollisions>().by_rekeyed[old.id] = *old.collision;
    IKE_LOG(info, sa, "simultaneous rekeying of CHILD_SA {}{{{}}} detected", old.name(), old.id);
}

Duration retry_delay(IkeSa& sa) {
    return Duration(1000 + static_cast<std::int64_t>(sa.services().random.u32() % 4000));
}

class ChildCreate final : public Exchange {
public:
    ChildCreate(const ChildConfig& child, ResourceId resource, std::uint32_t rekeyed,
                std::uint16_t group)
        : child_(child), resource_(resource), rekeyed_(rekeyed), group_(group) {}

    [[nodiscard]] wire::ExchangeType type() const noexcept override {
        return in_rounds_ ? wire::ExchangeType::kIkeFollowupKe : wire::ExchangeType::kCreateChildSa;
    }
    [[nodiscard]] const char* name() const noexcept override {
        return rekeyed_ != 0 ? "CHILD_REKEY" : "CHILD_CREATE";
    }

    Result<std::vector<Payload>> build(IkeSa& sa, Step& step) override {
        if (in_rounds_) {
            return rounds_.build(sa);  // RFC 9370 IKE_FOLLOWUP_KE
        }
        if (sa.state() != IkeState::kEstablished) {
            return make_error(Errc::kState, "IKE SA not established");
        }
        ChildSa* old = nullptr;
        if (rekeyed_ != 0) {
            old = sa.child(rekeyed_);
            if (old == nullptr || old->state != ChildState::kRekeying) {
                return make_error(Errc::kState, "Child SA to rekey is gone");
            }
        }
        if (old == nullptr && !request_still_needed(sa, child_, resource_)) {
            // RFC 9611: e.g. the peer's request gave its resource an SA meanwhile.
            return make_error(Errc::kState, "the group no longer needs it");
        }
        if (old == nullptr && sa.at_child_limit(false)) {
            // The peer's requests filled the IKE SA while ours waited in the queue.
            step.out.events.push_back(Event{
                    EventKind::kChildFailed, sa.id(), 0, 0, child_.name, "max_child_sas reached",
                    sa.config() != nullptr ? sa.config()->name : std::string()});
            return make_error(Errc::kState, "max_child_sas reached");
        }
        // RFC 7296 §2.9.2: a rekeyed SA keeps its traffic selectors (and its resource).
        offer_ = make_offer(sa, child_, resource_, true, old);
        ni_ = sa.make_nonce();
        if (group_ == 0 && !child_.esp_proposals.empty()) {
            group_ = ke_method(child_.esp_proposals.front());
        }
        std::vector<Payload> out;
        if (old != nullptr) {
            out.push_back(wire::make_payload(wire::NotifyPayload{
                    wire::ProtocolId::kEsp, spi_data(old->spi_in), NotifyType::kRekeySa, {}}));
        }
        append_offer(*offer_, out);
        out.push_back(wire::make_payload(wire::NoncePayload{ni_}));
        if (group_ != 0) {
            ke_ = IKEPLEX_TRY(sa.make_ke(group_));
            out.push_back(wire::make_payload(wire::KePayload{
                    group_, Bytes(ke_->public_value().begin(), ke_->public_value().end())}));
        }
        append_offer_ts(sa, *offer_, out);
        return out;
    }

    Outcome process(IkeSa& sa, const wire::Header& /*h*/, std::vector<Payload>& resp,
                    Step& step) override {
        if (in_rounds_) {
            return next_round(sa, resp, step);
        }
        if (const auto* err = first_error(resp)) {
            on_error(sa, *err, step);
            return Outcome::kDone;
        }
        const auto* nr = find_payload<wire::NoncePayload>(resp, PayloadType::kNonce);
        const auto* ker = find_payload<wire::KePayload>(resp, PayloadType::kKe);
        SecretBytes g_ir;
        if (ke_) {
            auto shared = ker != nullptr && ker->group == group_
                                  ? ke_->shared_secret(ker->data)
                                  : Result<SecretBytes>(make_error(Errc::kNoProposal, "no KE"));
            if (!shared) {
                IKE_LOG(info, sa, "CHILD_SA {} without a usable KE in the response", child_.name);
                fail(sa, step);
                return Outcome::kDone;
            }
            g_ir = std::move(*shared);
        }
        const auto* chosen = find_payload<wire::SaPayload>(resp, PayloadType::kSa);
        if (auto more = chosen->proposals.size() == 1
                                ? additional_methods(chosen->proposals.front())
                                : std::vector<std::uint16_t>{};
            !more.empty()) {
            return first_round(sa, resp, std::move(more), nr->data, std::move(g_ir), step);
        }
        return complete(sa, resp, nr->data, nr->data, g_ir.view(), step);
    }

    [[nodiscard]] std::optional<std::pair<const ChildConfig*, ResourceId>> creates()
            const override {
        if (rekeyed_ != 0) {
            return std::nullopt;
        }
        // Once built, what the request asks for (the fallback first, if there is none).
        return std::make_pair(&child_, offer_ ? offer_->resource : resource_);
    }

    void abort(IkeSa& sa, Step& /*step*/) override {
        if (offer_) {
            sa.services().spis.release(offer_->spi_in);
            offer_.reset();
        }
        if (ChildSa* old = rekeyed_ != 0 ? sa.child(rekeyed_) : nullptr;
            old != nullptr && old->state == ChildState::kRekeying) {
            old->state = ChildState::kInstalled;
        }
    }

private:
    void fail(IkeSa& sa, Step& step) { abort(sa, step); }

    /// The Child SA from the CREATE_CHILD_SA response `resp`, keyed with `tail` after Ni (Nr,
    /// and with RFC 9370 the additional secrets).
    Outcome complete(IkeSa& sa, std::span<const Payload> resp, ByteView tail, const Bytes& nr,
                     ByteView g_ir, Step& step) {
        const std::uint32_t id = complete_offer(sa, *offer_, resp, ni_, tail, g_ir, false, step);
        offer_.reset();
        if (id == 0) {
            fail(sa, step);
            return Outcome::kDone;
        }
        if (rekeyed_ != 0 && sa.child(id) == nullptr) {
            // The peer deleted the new SA before this response came (deleted_early): the
            // rekey did not happen, the old SA stays.
            if (ChildSa* old = sa.child(rekeyed_);
                old != nullptr && old->state == ChildState::kRekeying) {
                old->state = ChildState::kInstalled;
            }
        } else if (rekeyed_ != 0) {
            finish_rekey(sa, id, nr, step);
        }
        return Outcome::kDone;
    }

    /// RFC 9370 §2.2.4: the response chose additional key exchanges; IKE_FOLLOWUP_KE rounds
    /// follow (unless our rekey lost a collision: then we do not go on).
    Outcome first_round(IkeSa& sa, std::vector<Payload>& resp, std::vector<std::uint16_t> more,
                        const Bytes& nr, SecretBytes g_ir, Step& step) {
        const wire::Proposal& chosen =
                find_payload<wire::SaPayload>(resp, PayloadType::kSa)->proposals.front();
        if (auto ok = verify_chosen(chosen, offer_->proposals); !ok) {
            IKE_LOG(info, sa, "CHILD_SA {}: unacceptable proposal in the response: {}", child_.name,
                    ok.error().detail);
            fail(sa, step);
            return Outcome::kDone;
        }
        if (lost_collision(sa, nr)) {
            return Outcome::kDone;
        }
        if (auto started = rounds_.start(std::move(more), resp); !started) {
            IKE_LOG(info, sa, "CHILD_SA {}: {}", child_.name, started.error().detail);
            fail(sa, step);
            return Outcome::kDone;
        }
        resp0_ = std::move(resp);
        nr_ = nr;
        sk0_ = std::move(g_ir);
        in_rounds_ = true;
        return Outcome::kNext;
    }

    Outcome next_round(IkeSa& sa, std::span<const Payload> resp, Step& step) {
        if (auto ok = rounds_.process(resp); !ok) {
            const auto* err = first_error(resp);
            IKE_LOG(info, sa, "CHILD_SA {}: additional key exchange {} failed: {}", child_.name,
                    rounds_.round(),
                    err != nullptr ? wire::to_string(err->type) : ok.error().detail);
            step.out.events.push_back(
                    Event{EventKind::kChildFailed, sa.id(), 0, 0, child_.name,
                          err != nullptr ? wire::to_string(err->type) : ok.error().detail,
                          sa.config() != nullptr ? sa.config()->name : std::string()});
            fail(sa, step);
            return Outcome::kDone;
        }
        if (rounds_.active()) {
            return Outcome::kNext;
        }
        const SecretBytes tail = nonce_and_secrets(nr_, rounds_.secrets());
        in_rounds_ = false;
        return complete(sa, resp0_, tail.view(), nr_, sk0_.view(), step);
    }

    /// Our rekey collided with the peer's, and ours has the lowest nonce: with additional key
    /// exchanges no SA exists yet, so ours is simply not completed; the peer's replaces the
    /// old SA (its initiator deletes that one).
    bool lost_collision(IkeSa& sa, const Bytes& nr) {
        ChildSa* old = rekeyed_ != 0 ? sa.child(rekeyed_) : nullptr;
        if (old == nullptr || !old->collision) {
            return false;
        }
        const ChildSa::Collision col = *old->collision;
        const Bytes& low = lowest({&ni_, &nr, &col.peer_ni, &col.our_nr});
        if (&low != &ni_ && &low != &nr) {
            return false;
        }
        IKE_LOG(info, sa,
                "simultaneous rekeying of CHILD_SA {}{{{}}}: ours is redundant, no "
                "IKE_FOLLOWUP_KE",
                child_.name, old->id);
        sa.states().get<ChildRekeyCollisions>().by_rekeyed.erase(rekeyed_);
        sa.services().spis.release(offer_->spi_in);
        offer_.reset();
        old->state = ChildState::kRekeyed;
        old->replaced_by = col.peer_child;
        // kChildRekeyed comes when the winner's rounds complete here (note_peer_rekey).
        return true;
    }

    void on_error(IkeSa& sa, const wire::NotifyPayload& err, Step& step) {
        // RFC 9611: a request for a resource-bound member (not the fallback, not a rekey).
        const bool member = offer_ && offer_->resource_info && !offer_->resource.is_none();
        if (offer_) {
            sa.services().spis.release(offer_->spi_in);
            offer_.reset();
        }
        ChildSa* old = rekeyed_ != 0 ? sa.child(rekeyed_) : nullptr;
        switch (err.type) {
            case NotifyType::kInvalidKePayload: {
                const auto wanted = static_cast<std::uint16_t>((err.data[0] << 8U) | err.data[1]);
                const auto ours = ke_methods(child_.esp_proposals);
                if (std::find(ours.begin(), ours.end(), wanted) != ours.end() && wanted != group_) {
                    IKE_LOG(info, sa, "peer wants {} for CHILD_SA {}, retrying",
                            wire::transform_name(wire::TransformType::kKe, wanted), child_.name);
                    sa.queue(std::make_unique<ChildCreate>(child_, resource_, rekeyed_, wanted),
                             step);
                    return;
                }
                break;
            }
            case NotifyType::kTemporaryFailure:
                // RFC 7296 §2.25: wait, then try again (if there is still something to do).
                if (rekeyed_ == 0 || (old != nullptr && old->state == ChildState::kRekeying)) {
                    IKE_LOG(info, sa, "received TEMPORARY_FAILURE for CHILD_SA {}, retrying later",
                            child_.name);
                    sa.queue_later(
                            std::make_unique<ChildCreate>(child_, resource_, rekeyed_, group_),
                            retry_delay(sa), step);
                    return;
                }
                break;
            case NotifyType::kTsMaxQueue:
                // RFC 9611: no more members for this group for now.
                sa.registry().note_ts_max_queue(false);
                if (rekeyed_ == 0) {
                    on_ts_max_queue(sa, child_, step);
                    return;
                }
                break;
            case NotifyType::kNoAdditionalSas:
                // RFC 7296 §3.10.1: the peer takes no more Child SAs on this IKE SA. Never
                // retried: a member leaves its group full for a while (as after TS_MAX_QUEUE);
                // anything else fails below (event child-failed).
                if (member) {
                    on_ts_max_queue(sa, child_, step, "NO_ADDITIONAL_SAS");
                    return;
                }
                break;
            case NotifyType::kChildSaNotFound:
                // RFC 7296 §2.25: the peer no longer has it; forget ours and start over.
                if (old != nullptr && old->state == ChildState::kRekeying) {
                    IKE_LOG(info, sa, "peer does not know CHILD_SA {}{{{}}}, creating a new one",
                            child_.name, old->id);
                    const ResourceId resource = old->resource;
                    sa.remove_child(old->id, "unknown to the peer", step);
                    if (!sa.creating(child_, resource)) {  // a fallback may be on its way
                        sa.create_child(child_, resource, step);
                    }
                    return;
                }
                break;
            default:
                break;
        }
        IKE_LOG(info, sa, "CREATE_CHILD_SA for {} failed: peer answered {}", child_.name,
                wire::to_string(err.type));
        step.out.events.push_back(Event{
                EventKind::kChildFailed, sa.id(), 0, 0, child_.name, wire::to_string(err.type),
                sa.config() != nullptr ? sa.config()->name : std::string()});
        if (old != nullptr && old->state == ChildState::kRekeying) {
            old->state = ChildState::kInstalled;
        }
    }

    /// The new Child SA `id` replaces the old one; with a collision the nonces decide which
    /// of the two new SAs survives (RFC 7296 §2.8.1).
    void finish_rekey(IkeSa& sa, std::uint32_t id, const Bytes& nr, Step& step) {
        ChildSa* old = sa.child(rekeyed_);
        auto& recorded = sa.states().get<ChildRekeyCollisions>().by_rekeyed;
        std::optional<ChildSa::Collision> collided;
        if (const auto it = recorded.find(rekeyed_); it != recorded.end()) {
            collided = it->second;
            recorded.erase(it);
        }
        if (old == nullptr) {
            // The peer deleted it meanwhile (e.g. having won a collision, its Delete overtook
            // the response to our rekey): if the peer rekeyed it too, the nonces still decide
            // whether our new SA is the redundant one; otherwise it simply stands.
            if (collided) {
                const Bytes& low = lowest({&ni_, &nr, &collided->peer_ni, &collided->our_nr});
                if (&low == &ni_ || &low == &nr) {
                    IKE_LOG(info, sa,
                            "simultaneous rekeying of the deleted CHILD_SA {}{{{}}}: deleting "
                            "our redundant {{{}}}",
                            child_.name, rekeyed_, id);
                    sa.delete_child(id, step);
                }
            }
            return;
        }
        if (old->collision) {
            collided = *old->collision;
        }
        if (collided) {
            // Even when the peer's new SA has gone on meanwhile (rekeyed, deleted): the
            // nonces decide, as on the peer's side.
            const ChildSa::Collision col = *collided;
            const Bytes& low = lowest({&ni_, &nr, &col.peer_ni, &col.our_nr});
            if (&low == &ni_ || &low == &nr) {
                // Ours is the redundant one: we delete it; the peer deletes the old SA.
                IKE_LOG(info, sa,
                        "simultaneous rekeying of CHILD_SA {}{{{}}}: deleting our redundant {{{}}}",
                        child_.name, old->id, id);
                old->state = ChildState::kRekeyed;
                old->replaced_by = col.peer_child;
                // Rekeyed all the same, by the peer's SA: said once, as the other outcome says
                // it (a VICI rekey command and the child-rekey event wait for it).
                sa.emit(step, EventKind::kChildRekeyed, old->id, col.peer_child);
                sa.delete_child(id, step);
                return;
            }
            IKE_LOG(info, sa,
                    "simultaneous rekeying of CHILD_SA {}{{{}}}: the peer deletes its redundant "
                    "{{{}}}",
                    child_.name, old->id, col.peer_child);
        }
        old->state = ChildState::kRekeyed;
        old->replaced_by = id;
        sa.emit(step, EventKind::kChildRekeyed, rekeyed_, id);
        // The initiator of the surviving SA deletes the replaced one (RFC 7296 §2.8).
        old->state = ChildState::kInstalled;  // delete_child marks it deleting
        sa.delete_child(rekeyed_, step);
    }

    const ChildConfig& child_;
    ResourceId resource_;
    std::uint32_t rekeyed_;
    std::uint16_t group_;
    Bytes ni_;
    crypto::KeyExchangePtr ke_;
    std::optional<ChildOffer> offer_;
    // RFC 9370 additional key exchanges: the rounds, and what the last one completes with.
    bool in_rounds_{false};
    FollowupRounds rounds_;
    std::vector<Payload> resp0_;
    Bytes nr_;
    SecretBytes sk0_;
};

}  // namespace

ExchangePtr make_child_create(const ChildConfig& child, ResourceId resource,
                              std::uint32_t rekeyed) {
    return std::make_unique<ChildCreate>(child, resource, rekeyed, 0);
}

bool rekeys_ike_sa(std::span<const Payload> request) {
    const auto* sa_payload = find_payload<wire::SaPayload>(request, PayloadType::kSa);
    return find_notify(request, NotifyType::kRekeySa) == nullptr && sa_payload != nullptr &&
           !sa_payload->proposals.empty() &&
           sa_payload->proposals.front().protocol == wire::ProtocolId::kIke;
}

Response respond_create_child_sa(IkeSa& sa, std::vector<Payload>& request, Step& step) {
    if (sa.before_authentication()) {
        return error_response(NotifyType::kInvalidSyntax);
    }
    const auto* rekey = find_notify(request, NotifyType::kRekeySa);
    take_over_on_use(sa, step);
    // RFC 7296 §2.25.2: no new or rekeyed Child SAs while the IKE SA is being rekeyed/closed.
    if (sa.state() != IkeState::kEstablished) {
        return error_response(NotifyType::kTemporaryFailure);
    }
    ChildSa* old = nullptr;
    if (rekey != nullptr) {
        // REKEY_SA carries the peer's inbound SPI, our outbound one.
        const Bytes& d = rekey->spi;
        const Spi spi((std::uint32_t{d[0]} << 24U) | (std::uint32_t{d[1]} << 16U) |
                      (std::uint32_t{d[2]} << 8U) | d[3]);
        old = sa.child_by_spi_out(spi);
        if (old == nullptr &&
            (sa.busy_with_outstanding("CHILD_CREATE") || sa.busy_with_outstanding("CHILD_REKEY"))) {
            // §2.25: it may be the one our request under way creates, whose response has not
            // arrived yet (the peer installed it on answering): not now, rather than
            // CHILD_SA_NOT_FOUND, which would make the peer drop it and start over (an RFC
            // 9611 fallback re-created that way would be a member here).
            IKE_LOG(info, sa,
                    "rekey of an unknown CHILD_SA while ours are under way: "
                    "TEMPORARY_FAILURE");
            return error_response(NotifyType::kTemporaryFailure);
        }
        if (old == nullptr) {
            return std::vector<Payload>{wire::make_payload(wire::NotifyPayload{
                    wire::ProtocolId::kEsp, rekey->spi, NotifyType::kChildSaNotFound, {}})};
        }
        // §2.25.1: rekeying one we close (or already replaced): TEMPORARY_FAILURE.
        if (old->state == ChildState::kDeleting || old->state == ChildState::kRekeyed) {
            return error_response(NotifyType::kTemporaryFailure);
        }
    }
    const Bytes nr = sa.make_nonce();
    const auto* ni = find_payload<wire::NoncePayload>(request, PayloadType::kNonce);
    ChildRequest creq{request, &ni->data, &nr, {}, false, true, old};
    std::uint32_t created = 0;
    std::vector<Payload> out = accept_child(sa, creq, step, &created);
    if (created == 0 || old == nullptr) {
        return out;
    }
    if (const ChildSa* fresh = sa.child(created);
        fresh != nullptr && fresh->state == ChildState::kCreating) {
        // RFC 9370: installed after the IKE_FOLLOWUP_KE rounds. A collision counts now: the
        // initiator that lost it does not go on with them (RFC 9370 §2.2.4).
        if (old->state == ChildState::kRekeying) {
            record_collision(sa, *old, created, ni->data, nr);
        }
        return out;
    }
    note_peer_rekey(sa, old->id, created, ni->data, nr, step);
    return out;
}

void note_peer_rekey(IkeSa& sa, std::uint32_t old_id, std::uint32_t created, const Bytes& ni,
                     const Bytes& nr, Step& step) {
    ChildSa* old = sa.child(old_id);
    if (old == nullptr || old->state == ChildState::kDeleting) {
        return;  // gone meanwhile: the new SA simply stands
    }
    if (old->state == ChildState::kRekeying) {
        // We are rekeying it too: answer as usual and let the nonces decide (§2.8.1).
        record_collision(sa, *old, created, ni, nr);
        return;
    }
    old->state = ChildState::kRekeyed;
    old->replaced_by = created;
    // Until the initiator has installed the new inbound SA (it then deletes the old one),
    // our traffic stays on the old SA: no packet is sent that the peer cannot take yet.
    if (ChildSa* fresh = sa.child(created)) {
        sa.hold_outbound(*fresh, step);
    }
    sa.emit(step, EventKind::kChildRekeyed, old->id, created);
}

}  // namespace ikeplex::ike
