// Rekeying an IKE SA with CREATE_CHILD_SA (RFC 7296 §1.3.2, §2.18), and simultaneous
// rekeying by both peers (§2.8.2: the exchange with the lowest nonce made the redundant SA).
//
//   HDR, SK {SA, Ni, KEi}  -->
//                    <--  HDR, SK {SA, Nr, KEr}
//
// The SA payloads carry each side's new IKE SPI. Whoever initiated the rekey is the original
// initiator of the new IKE SA; its Child SAs move over and the old IKE SA is deleted by the
// rekey's initiator.
//
// RFC 9370: with additional key exchanges, IKE_FOLLOWUP_KE rounds follow on the old IKE SA and
// SKEYSEED = prf(SK_d, SK(0) | Ni | Nr | SK(1) | ... | SK(n)); the new SA comes after the last.
#include <algorithm>

#include "crypto/keymat.h"
#include "ike/config_payload.h"
#include "ike/exchanges.h"
#include "ike/followup_ke.h"
#include "ike/mobike.h"
#include "ike/payload_access.h"
#include "util/log.h"
#include "wire/names.h"

namespace ikeplex::ike {

using wire::NotifyType;
using wire::Payload;
using wire::PayloadType;

namespace {

Bytes spi_bytes(IkeSpi spi) {
    Bytes b(8);
    for (std::size_t i = 0; i < 8; ++i) {
        b[i] = static_cast<std::uint8_t>(spi.value() >> (8 * (7 - i)));
    }
    return b;
}

std::optional<IkeSpi> spi_of(const wire::Proposal& p) {
    if (p.spi.size() != 8) {
        return std::nullopt;
    }
    std::uint64_t v = 0;
    for (std::uint8_t b : p.spi) {
        v = (v << 8U) | b;
    }
    return v == 0 ? std::nullopt : std::optional<IkeSpi>(IkeSpi(v));
}

/// Simultaneous IKE rekeying (RFC 7296 §2.8.2) as each IKE SA involved sees it.
struct IkeRekeyCollision final : ExchangeState {
    struct Peer {
        std::uint32_t peer_sa{0};
        Bytes peer_ni;
        Bytes our_nr;
    };
    /// On the SA being rekeyed: the IKE SA the peer's rekey made while ours was under way, and
    /// the nonces of the peer's exchange.
    std::optional<Peer> peer;
    /// On the IKE SA the peer's rekey made: the SA both sides rekeyed. The peer's first request
    /// here (other than deleting that one) says this one survives.
    std::uint32_t collided_with{0};
    /// RFC 9370: the nonces of the peer's rekey that waits for its IKE_FOLLOWUP_KE rounds while
    /// ours is under way too (its initiator's, ours).
    std::optional<std::pair<Bytes, Bytes>> pending_peer;
};

IkeRekeyCollision& rekey_state(IkeSa& sa) {
    return sa.states().get<IkeRekeyCollision>();
}

/// The IKE SA the peer's colliding rekey of `sa` made, if it still exists.
IkeSa* colliding_sa(IkeSa& sa) {
    const auto& peer = rekey_state(sa).peer;
    return peer ? sa.registry().find(peer->peer_sa) : nullptr;
}

bool lower(const Bytes& a, const Bytes& b) {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
}

/// The IKE SA a rekey of `old` creates: keys from the old SK_d (RFC 7296 §2.18), everything
/// else (identities, config, NAT state, peer capabilities) carried over. `tail`: what follows
/// Ni in SKEYSEED, Nr (RFC 9370 §2.2.4: Nr | SK(1) | ... | SK(n)).
Result<std::unique_ptr<IkeSa>> make_rekeyed(IkeSa& old, bool we_initiated, IkeSpi spi_i,
                                            IkeSpi spi_r, const wire::Proposal& chosen,
                                            const Bytes& ni, const Bytes& nr, ByteView g_ir,
                                            ByteView tail) {
    const crypto::Registry& reg = old.services().registry;
    const IkeAlgorithms a = IKEPLEX_TRY(ike_algorithms(reg, chosen));
    const SecretBytes seed = IKEPLEX_TRY(
            crypto::rekey_skeyseed(old.crypto()->prf, old.crypto()->sk_d.view(), g_ir, ni, tail));
    const crypto::Prf prf(reg, *a.suite.prf);
    crypto::IkeKeys keys =
            IKEPLEX_TRY(crypto::derive_ike_keys(prf, a.suite, seed.view(), ni, nr, spi_i, spi_r));
    auto sa = std::make_unique<IkeSa>(old.services(), old.registry(), old.registry().next_ike_id(),
                                      we_initiated, old.local(), old.remote());
    sa->set_config(old.config_ptr());
    sa->set_spis(spi_i, spi_r);
    sa->inherit_peer(old);
    // RFC 9611 groups move with their Child SAs, and keep their identifiers unique.
    groups_of(*sa) = groups_of(old);
    IKEPLEX_TRY(sa->set_crypto(a, std::move(keys)));
    sa->end_handshake();  // no AUTH on a rekeyed SA: SK_pi/SK_pr are never used
    return sa;
}

/// `survivor` replaces `old`: it takes the Child SAs, queued work and the "up" state.
/// `delete_old`: we initiated the surviving exchange, so we delete the old IKE SA.
void hand_over(IkeSa& old, IkeSa& survivor, bool delete_old, Step& step) {
    old.transition(IkeState::kRekeyed, "rekeyed");
    old.move_children_to(survivor, step);
    move_virtual_ips(old, survivor);
    survivor.set_up(old.up());
    old.set_up(false);
    IKE_LOG(info, old, "IKE_SA rekeyed: continues as {} with SPIs {}_i {}_r", survivor.label(),
            survivor.spi_i(), survivor.spi_r());
    old.emit(step, EventKind::kIkeRekeyed, 0, survivor.id());
    old.move_queue_to(survivor, step);
    mobike_after_rekey(survivor, step);  // RFC 4555 §3.5: an update due goes on the new SA
    TimerQueue& timers = old.services().timers;
    // RFC 7296 §2.18: the rekey's initiator deletes the old SA; if the peer is the one to do
    // it and never does, we do after a while.
    const Duration wait =
            delete_old ? Duration(0) : old.services().settings.delete_rekeyed_delay * 6;
    timers.set({old.id(), TimerKind::kDeleteLater, 0}, step.now + wait);
}

class IkeRekey final : public Exchange {
public:
    explicit IkeRekey(std::uint16_t group) : group_(group) {}

    [[nodiscard]] wire::ExchangeType type() const noexcept override {
        return in_rounds_ ? wire::ExchangeType::kIkeFollowupKe : wire::ExchangeType::kCreateChildSa;
    }
    [[nodiscard]] const char* name() const noexcept override { return "IKE_REKEY"; }

    Result<std::vector<Payload>> build(IkeSa& sa, Step& step) override {
        if (in_rounds_) {
            return rounds_.build(sa);  // RFC 9370 IKE_FOLLOWUP_KE
        }
        if (sa.state() != IkeState::kEstablished || !sa.crypto()) {
            return make_error(Errc::kState, "IKE SA not established");
        }
        if (followups_pending(sa)) {
            // Child SAs the peer is still creating here would not move to the new IKE SA.
            IKE_LOG(info, sa, "IKE rekey postponed: additional key exchanges pending");
            sa.queue_later(std::make_unique<IkeRekey>(group_),
                           Duration(1000 + sa.services().random.u32() % 4000), step);
            return make_error(Errc::kState, "additional key exchanges pending");
        }
        sa.transition(IkeState::kRekeying, "rekeying");
        rekey_state(sa).peer.reset();
        rekey_state(sa).pending_peer.reset();
        spi_ = sa.registry().new_ike_spi();
        std::vector<wire::Proposal> proposals = sa.config()->ike_proposals;
        for (wire::Proposal& p : proposals) {
            p.spi = spi_bytes(spi_);
        }
        if (group_ == 0) {
            group_ = sa.crypto()->algorithms.ke;  // the group that worked keeps working
        }
        ni_ = sa.make_nonce();
        ke_ = IKEPLEX_TRY(sa.make_ke(group_));
        std::vector<Payload> out;
        out.push_back(wire::make_payload(wire::SaPayload{std::move(proposals)}));
        out.push_back(wire::make_payload(wire::NoncePayload{ni_}));
        out.push_back(wire::make_payload(wire::KePayload{
                group_, Bytes(ke_->public_value().begin(), ke_->public_value().end())}));
        return out;
    }

    Outcome process(IkeSa& sa, const wire::Header& /*h*/, std::vector<Payload>& resp,
                    Step& step) override {
        if (sa.state() != IkeState::kRekeying) {
            return Outcome::kDone;  // deleted meanwhile
        }
        if (in_rounds_) {
            return next_round(sa, resp, step);
        }
        if (const auto* err = first_error(resp)) {
            on_error(sa, *err, step);
            return Outcome::kDone;
        }
        const auto* sa_payload = find_payload<wire::SaPayload>(resp, PayloadType::kSa);
        const auto* nr = find_payload<wire::NoncePayload>(resp, PayloadType::kNonce);
        const auto* ker = find_payload<wire::KePayload>(resp, PayloadType::kKe);
        const wire::Proposal* chosen =
                sa_payload->proposals.size() == 1 ? &sa_payload->proposals[0] : nullptr;
        const auto peer_spi = chosen != nullptr ? spi_of(*chosen) : std::nullopt;
        if (chosen == nullptr || !peer_spi || !verify_chosen(*chosen, sa.config()->ike_proposals) ||
            ker == nullptr || ker->group != group_ || ke_method(*chosen) != group_) {
            IKE_LOG(info, sa, "IKE rekey response unacceptable (proposal, SPI or KE)");
            give_up(sa, step, "response unacceptable");
            return Outcome::kDone;
        }
        auto g_ir = ke_->shared_secret(ker->data);
        if (!g_ir) {
            IKE_LOG(info, sa, "IKE rekey response with an invalid KE value");
            give_up(sa, step, "invalid KE value");
            return Outcome::kDone;
        }
        chosen_ = *chosen;
        peer_spi_ = *peer_spi;
        nr_ = nr->data;
        sk0_ = std::move(*g_ir);
        if (auto more = additional_methods(*chosen); !more.empty()) {
            // RFC 9370 §2.2.4: IKE_FOLLOWUP_KE rounds first; the new SA comes after the last.
            if (lost_collision(sa, step)) {
                return Outcome::kDone;
            }
            if (auto started = rounds_.start(std::move(more), resp); !started) {
                IKE_LOG(info, sa, "IKE rekey: {}", started.error().detail);
                give_up(sa, step, "no ADDITIONAL_KEY_EXCHANGE link");
                return Outcome::kDone;
            }
            in_rounds_ = true;
            return Outcome::kNext;
        }
        return complete(sa, nr_, step);
    }

    void abort(IkeSa& sa, Step& /*step*/) override {
        if (sa.state() == IkeState::kRekeying) {
            sa.transition(IkeState::kEstablished, "rekeying abandoned");
        }
    }

private:
    Outcome next_round(IkeSa& sa, std::span<const Payload> resp, Step& step) {
        if (auto ok = rounds_.process(resp); !ok) {
            const auto* err = first_error(resp);
            IKE_LOG(info, sa, "IKE rekey: additional key exchange {} failed: {}", rounds_.round(),
                    err != nullptr ? wire::to_string(err->type) : ok.error().detail);
            give_up(sa, step, "additional key exchange failed");
            return Outcome::kDone;
        }
        if (rounds_.active()) {
            return Outcome::kNext;
        }
        in_rounds_ = false;
        const SecretBytes tail = nonce_and_secrets(nr_, rounds_.secrets());
        return complete(sa, tail.view(), step);
    }

    /// The new IKE SA, keyed with `tail` after Ni (Nr, and the additional secrets).
    Outcome complete(IkeSa& sa, ByteView tail, Step& step) {
        auto made = make_rekeyed(sa, true, spi_, peer_spi_, chosen_, ni_, nr_, sk0_.view(), tail);
        if (!made) {
            IKE_LOG(error, sa, "IKE rekey key derivation failed: {}", made.error().detail);
            give_up(sa, step, "key derivation failed");
            return Outcome::kDone;
        }
        IkeSa& ours = sa.registry().adopt(std::move(*made));
        ours.established(step, false);
        IKE_LOG(info, sa, "selected proposal for the rekeyed IKE_SA: {}", describe(chosen_));

        IkeSa* theirs = colliding_sa(sa);
        if (theirs != nullptr && theirs->state() == IkeState::kEstablished) {
            // §2.8.2: the exchange that produced the lowest of the four nonces made the
            // redundant SA; its initiator deletes it.
            const auto& c = *rekey_state(sa).peer;
            const Bytes* all[] = {&ni_, &nr_, &c.peer_ni, &c.our_nr};
            const Bytes* low =
                    *std::min_element(std::begin(all), std::end(all),
                                      [](const Bytes* a, const Bytes* b) { return lower(*a, *b); });
            if (low == &ni_ || low == &nr_) {
                IKE_LOG(info, sa, "simultaneous IKE rekeying: ours {} is redundant, deleting it",
                        ours.label());
                hand_over(sa, *theirs, false, step);
                ours.delete_ike("redundant after simultaneous rekeying", step);
                return Outcome::kDone;
            }
            // The peer deletes its redundant SA; should it not, we do after a while.
            IKE_LOG(info, sa, "simultaneous IKE rekeying: the peer deletes its redundant {}",
                    theirs->label());
            sa.services().timers.set({theirs->id(), TimerKind::kDeleteLater, 0},
                                     step.now + sa.services().settings.delete_rekeyed_delay * 6);
        }
        hand_over(sa, ours, true, step);
        return Outcome::kDone;
    }

    /// RFC 9370 §2.2.4 with RFC 7296 §2.8.2: the peer's rekey, waiting for its rounds, collided
    /// with ours, and ours has the lowest nonce: no SA exists yet, so ours is not completed;
    /// the peer's takes over when its last IKE_FOLLOWUP_KE comes.
    bool lost_collision(IkeSa& sa, Step& step) {
        const auto& pending = rekey_state(sa).pending_peer;
        if (!pending) {
            return false;
        }
        const Bytes* all[] = {&ni_, &nr_, &pending->first, &pending->second};
        const Bytes* low =
                *std::min_element(std::begin(all), std::end(all),
                                  [](const Bytes* a, const Bytes* b) { return lower(*a, *b); });
        if (low != &ni_ && low != &nr_) {
            return false;
        }
        IKE_LOG(info, sa, "simultaneous IKE rekeying: ours is redundant, no IKE_FOLLOWUP_KE");
        sa.transition(IkeState::kEstablished, "lost the rekey collision");
        if (IkeSa* theirs = colliding_sa(sa);
            theirs != nullptr && theirs->state() == IkeState::kEstablished) {
            hand_over(sa, *theirs, false, step);  // the peer's rounds are done already
        }
        return true;
    }

    /// Our rekey failed. If the peer's colliding rekey succeeded, its SA replaces this one
    /// (and the peer deletes this one); otherwise we stay as we are (event ike-rekey-failed).
    void give_up(IkeSa& sa, Step& step, std::string why) {
        IkeSa* theirs = colliding_sa(sa);
        sa.transition(IkeState::kEstablished, "rekeying failed");
        if (theirs != nullptr && theirs->state() == IkeState::kEstablished) {
            hand_over(sa, *theirs, false, step);
        } else {
            sa.emit(step, EventKind::kIkeRekeyFailed, 0, 0, std::move(why));
        }
    }

    void on_error(IkeSa& sa, const wire::NotifyPayload& err, Step& step) {
        const bool collided = colliding_sa(sa) != nullptr;
        if (err.type == NotifyType::kInvalidKePayload && err.data.size() == 2 && !collided) {
            const auto wanted = static_cast<std::uint16_t>((err.data[0] << 8U) | err.data[1]);
            const auto ours = ke_methods(sa.config()->ike_proposals);
            if (wanted != group_ && std::find(ours.begin(), ours.end(), wanted) != ours.end()) {
                IKE_LOG(info, sa, "peer wants {} for the IKE rekey, retrying",
                        wire::transform_name(wire::TransformType::kKe, wanted));
                sa.transition(IkeState::kEstablished, "retrying rekey");
                sa.queue(std::make_unique<IkeRekey>(wanted), step);
                return;
            }
        }
        if (err.type == NotifyType::kTemporaryFailure && !collided) {
            // RFC 7296 §2.25.2: try again a little later.
            IKE_LOG(info, sa, "received TEMPORARY_FAILURE for the IKE rekey, retrying later");
            sa.transition(IkeState::kEstablished, "retrying rekey");
            sa.queue_later(std::make_unique<IkeRekey>(group_),
                           Duration(1000 + sa.services().random.u32() % 4000), step);
            return;
        }
        IKE_LOG(info, sa, "IKE rekey failed: peer answered {}", wire::to_string(err.type));
        give_up(sa, step, std::string("peer answered ") + wire::to_string(err.type));
    }

    std::uint16_t group_;
    IkeSpi spi_;
    Bytes ni_;
    crypto::KeyExchangePtr ke_;
    // What the CREATE_CHILD_SA response brought, and RFC 9370's IKE_FOLLOWUP_KE rounds.
    wire::Proposal chosen_;
    IkeSpi peer_spi_;
    Bytes nr_;
    SecretBytes sk0_;
    bool in_rounds_{false};
    FollowupRounds rounds_;
};

/// The responder's side of an IKE rekey: the new IKE SA, made at once or (RFC 9370) after the
/// last IKE_FOLLOWUP_KE.
class PeerRekey final : public FollowupCompletion {
public:
    PeerRekey(IkeSpi peer_spi, IkeSpi own, wire::Proposal chosen, Bytes ni, Bytes nr,
              SecretBytes sk0)
        : peer_spi_(peer_spi),
          own_(own),
          chosen_(std::move(chosen)),
          ni_(std::move(ni)),
          nr_(std::move(nr)),
          sk0_(std::move(sk0)) {}

    [[nodiscard]] const wire::Proposal& chosen() const noexcept { return chosen_; }

    std::vector<Payload> finish(IkeSa& sa, ByteView tail, Step& step) override {
        if (sa.state() != IkeState::kEstablished && sa.state() != IkeState::kRekeying) {
            return error_response(NotifyType::kTemporaryFailure);  // closing meanwhile
        }
        auto made = make_rekeyed(sa, false, peer_spi_, own_, chosen_, ni_, nr_, sk0_.view(), tail);
        if (!made) {
            IKE_LOG(error, sa, "IKE rekey key derivation failed: {}", made.error().detail);
            return error_response(NotifyType::kNoProposalChosen);
        }
        IkeSa& theirs = sa.registry().adopt(std::move(*made));
        theirs.established(step, false);
        if (sa.state() == IkeState::kRekeying) {
            // Ours is under way too: answer and let the nonces decide when ours completes.
            IKE_LOG(info, sa, "simultaneous IKE rekeying detected");
            rekey_state(sa).peer = IkeRekeyCollision::Peer{theirs.id(), ni_, nr_};
            rekey_state(theirs).collided_with = sa.id();
        } else {
            hand_over(sa, theirs, false, step);
        }
        return {};
    }
    void discard(IkeSa& sa, Step& /*step*/) override {
        IKE_LOG(info, sa, "IKE rekey by the peer not completed: additional key exchange failed");
    }
    [[nodiscard]] bool child() const noexcept override { return false; }

private:
    IkeSpi peer_spi_;
    IkeSpi own_;
    wire::Proposal chosen_;
    Bytes ni_;
    Bytes nr_;
    SecretBytes sk0_;
};

}  // namespace

ExchangePtr make_ike_rekey() {
    return std::make_unique<IkeRekey>(0);
}

void take_over_on_use(IkeSa& sa, Step& step) {
    if (rekey_state(sa).collided_with == 0) {
        return;
    }
    // §2.8.2: the peer's rekey won the collision and it already works on the new IKE SA
    // (its Delete of the old one may still be on its way): the Child SAs move here now, so
    // that its requests find them.
    IkeSa* old = sa.registry().find(rekey_state(sa).collided_with);
    rekey_state(sa).collided_with = 0;
    if (old != nullptr && old->state() == IkeState::kRekeying && rekey_state(*old).peer &&
        rekey_state(*old).peer->peer_sa == sa.id()) {
        IKE_LOG(info, *old, "simultaneous IKE rekeying: the peer uses {}, which takes over",
                sa.label());
        hand_over(*old, sa, false, step);
    }
}

void hand_over_before_delete(IkeSa& sa, Step& step) {
    // §2.8.2: the peer deletes the old IKE SA once its own rekey won a collision; the IKE SA
    // its rekey made (which we answered) takes over now, even though the response to our
    // rekey has not arrived (it overtook it), rather than the Child SAs going with the old SA.
    IkeSa* theirs = colliding_sa(sa);
    if (sa.state() == IkeState::kRekeying && theirs != nullptr &&
        theirs->state() == IkeState::kEstablished) {
        IKE_LOG(info, sa, "simultaneous IKE rekeying: the peer deleted this IKE_SA, {} takes over",
                theirs->label());
        hand_over(sa, *theirs, false, step);
    }
}

Response respond_ike_rekey(IkeSa& sa, std::vector<Payload>& request, Step& step) {
    if (sa.before_authentication()) {
        return error_response(NotifyType::kInvalidSyntax);
    }
    take_over_on_use(sa, step);
    // RFC 7296 §2.25.2: not while the SA is closing or already replaced.
    if (sa.state() != IkeState::kEstablished && sa.state() != IkeState::kRekeying) {
        return error_response(NotifyType::kTemporaryFailure);
    }
    // §2.25.1: not while we create, rekey or delete one of its Child SAs (RFC 9370: nor while
    // the peer's additional key exchanges for one, or for another IKE rekey, are pending).
    if (sa.child_exchange_outstanding() || followups_pending(sa)) {
        IKE_LOG(info, sa,
                "IKE rekey request while a CHILD_SA exchange is under way: TEMPORARY_FAILURE");
        return error_response(NotifyType::kTemporaryFailure);
    }
    const auto* sa_payload = find_payload<wire::SaPayload>(request, PayloadType::kSa);
    const auto* ni = find_payload<wire::NoncePayload>(request, PayloadType::kNonce);
    const auto* kei = find_payload<wire::KePayload>(request, PayloadType::kKe);
    auto chosen = select_proposal(sa_payload->proposals, sa.config()->ike_proposals);
    if (!chosen) {
        IKE_LOG(info, sa, "no acceptable proposal for the IKE rekey");
        return error_response(NotifyType::kNoProposalChosen);
    }
    const auto peer_spi = spi_of(*chosen);
    if (!peer_spi) {
        return error_response(NotifyType::kInvalidSyntax);
    }
    const std::uint16_t group = ke_method(*chosen);
    if (kei->group != group) {
        return error_response(
                NotifyType::kInvalidKePayload,
                {static_cast<std::uint8_t>(group >> 8U), static_cast<std::uint8_t>(group)});
    }
    auto ke = sa.make_ke(group);
    if (!ke) {
        return error_response(NotifyType::kNoProposalChosen);
    }
    auto g_ir = (*ke)->respond(kei->data);
    if (!g_ir) {
        IKE_LOG(info, sa, "invalid KE value in the IKE rekey request: {}", g_ir.error().detail);
        return error_response(NotifyType::kInvalidSyntax);
    }
    const IkeSpi own = sa.registry().new_ike_spi();
    const Bytes nr = sa.make_nonce();
    wire::Proposal answer = *chosen;
    answer.spi = spi_bytes(own);
    std::vector<Payload> out;
    out.push_back(wire::make_payload(wire::SaPayload{{std::move(answer)}}));
    out.push_back(wire::make_payload(wire::NoncePayload{nr}));
    out.push_back(wire::make_payload(wire::KePayload{
            group, Bytes((*ke)->public_value().begin(), (*ke)->public_value().end())}));
    auto completion = std::make_unique<PeerRekey>(*peer_spi, own, std::move(*chosen), ni->data, nr,
                                                  std::move(*g_ir));
    if (auto more = additional_methods(completion->chosen()); !more.empty()) {
        // RFC 9370 §2.2.4: the new IKE SA comes after the last IKE_FOLLOWUP_KE.
        auto link = expect_followups(sa, std::move(more), nr, std::move(completion), step);
        if (!link) {
            return error_response(NotifyType::kTemporaryFailure);
        }
        if (sa.state() == IkeState::kRekeying) {
            rekey_state(sa).pending_peer = std::make_pair(ni->data, nr);
        }
        out.push_back(std::move(*link));
        return out;
    }
    if (auto failed = completion->finish(sa, nr, step); !failed.empty()) {
        return failed;
    }
    return out;
}

}  // namespace ikeplex::ike
