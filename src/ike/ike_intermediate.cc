// IKE_INTERMEDIATE with RFC 9370 additional key exchanges (see ike_intermediate.h).
//
//   HDR, SK {KEi(n)}  -->
//                     <--  HDR, SK {KEr(n)}
#include "ike/ike_intermediate.h"

#include <algorithm>

#include "ike/intermediate_auth.h"
#include "ike/payload_access.h"
#include "util/log.h"
#include "wire/names.h"

namespace ikeplex::ike {
namespace {

using wire::NotifyType;
using wire::PayloadType;

std::string method_name(std::uint16_t method) {
    return wire::transform_name(wire::TransformType::kKe, method);
}

/// The keys after a round with shared secret `secret` (RFC 9370 §2.2.2): the original nonces
/// and SPIs, SK_d of the keys in force.
Result<crypto::IkeKeys> next_keys(IkeSa& sa, ByteView secret) {
    const IkeCrypto& c = *sa.crypto();
    const Handshake& hs = sa.handshake();
    const SecretBytes seed =
            IKEPLEX_TRY(crypto::rekey_skeyseed(c.prf, c.sk_d.view(), secret, hs.ni, hs.nr));
    return crypto::derive_ike_keys(c.prf, c.algorithms.suite, seed.view(), hs.ni, hs.nr, sa.spi_i(),
                                   sa.spi_r());
}

Status install(IkeSa& sa, crypto::IkeKeys&& keys) {
    const IkeAlgorithms a = sa.crypto()->algorithms;  // a copy: set_crypto replaces crypto()
    return sa.set_crypto(a, std::move(keys));
}

/// Initiator: one exchange object runs every round (Outcome::kNext between them).
class IkeIntermediate final : public Exchange {
public:
    [[nodiscard]] wire::ExchangeType type() const noexcept override {
        return wire::ExchangeType::kIkeIntermediate;
    }
    [[nodiscard]] const char* name() const noexcept override { return "IKE_INTERMEDIATE"; }

    Result<std::vector<wire::Payload>> build(IkeSa& sa, Step& /*step*/) override {
        const auto& st = sa.states().get<Intermediate>();
        const auto round = st.next_round();
        if (!round || !sa.crypto()) {
            return make_error(Errc::kState, "no key exchange round left for IKE_INTERMEDIATE");
        }
        round_ = *round;
        method_ = st.rounds.at(round_);
        ke_ = IKEPLEX_TRY(sa.make_ke(method_));
        std::vector<wire::Payload> out;
        out.push_back(wire::make_payload(wire::KePayload{
                method_, Bytes(ke_->public_value().begin(), ke_->public_value().end())}));
        return out;
    }

    Outcome process(IkeSa& sa, const wire::Header& /*h*/, std::vector<wire::Payload>& resp,
                    Step& step) override {
        if (const auto* err = first_error(resp)) {
            fail(sa, wire::to_string(err->type).c_str(), step);
            return Outcome::kDone;
        }
        const auto* ke = find_payload<wire::KePayload>(resp, PayloadType::kKe);
        if (ke == nullptr || ke->group != method_) {
            fail(sa, "no KE payload of the round's method in the response", step);
            return Outcome::kDone;
        }
        auto secret = ke_->shared_secret(ke->data);
        if (!secret) {
            fail(sa, "invalid key exchange value", step);
            return Outcome::kDone;
        }
        auto keys = next_keys(sa, secret->view());
        if (!keys || !install(sa, std::move(*keys))) {
            fail(sa, "key derivation failed", step);
            return Outcome::kDone;
        }
        ke_.reset();
        IKE_LOG(info, sa, "additional key exchange {} ({}) done, IKE SA keys updated", round_ + 1,
                method_name(method_));
        auto& st = sa.states().get<Intermediate>();
        st.next = round_ + 1;
        return st.next_round() ? Outcome::kNext : Outcome::kDone;
    }

    void abort(IkeSa& sa, Step& step) override {
        if (sa.state() == IkeState::kConnecting) {
            sa.destroy("IKE_INTERMEDIATE failed", step);
        }
    }

private:
    void fail(IkeSa& sa, const char* why, Step& step) {
        sa.registry().note_intermediate_failed();
        IKE_LOG(info, sa, "additional key exchange {} ({}) failed: {}", round_ + 1,
                method_name(method_), why);
        sa.destroy("IKE_INTERMEDIATE failed", step);
    }

    std::size_t round_{0};
    std::uint16_t method_{0};
    crypto::KeyExchangePtr ke_;
};

/// Responder: a refused IKE_INTERMEDIATE request is counted, logged (rate-limited: the peer is
/// not authenticated yet) and answered with a fatal notify.
Response refuse(IkeSa& sa, const char* why, Step& step,
                NotifyType notify = NotifyType::kInvalidSyntax) {
    sa.registry().note_intermediate_failed();
    PEER_LOG(sa.services().peer_log, step.now, info, log::Subsystem::kIke,
             "{} IKE_INTERMEDIATE request refused: {}", sa.label(), why);
    return Response{error_response(notify), true};
}

}  // namespace

std::optional<std::size_t> Intermediate::next_round() const noexcept {
    for (std::size_t i = next; i < rounds.size(); ++i) {
        if (rounds.at(i) != 0) {
            return i;
        }
    }
    return std::nullopt;
}

Status begin_intermediate(IkeSa& sa, const IkeAlgorithms& a, std::span<const wire::Payload> peer,
                          const Step& step) {
    const bool negotiated =
            has_notify(peer, NotifyType::kIntermediateExchangeSupported) &&
            (!sa.is_original_initiator() || offers_additional_ke(sa.config()->ike_proposals));
    const bool rounds = std::any_of(a.additional_ke.begin(), a.additional_ke.end(),
                                    [](std::uint16_t m) { return m != 0; });
    if (rounds && !negotiated) {
        sa.registry().note_intermediate_failed();
        PEER_LOG(sa.services().peer_log, step.now, info, log::Subsystem::kIke,
                 "{} additional key exchanges chosen without INTERMEDIATE_EXCHANGE_SUPPORTED",
                 sa.label());
        return make_error(Errc::kNoProposal,
                          "additional key exchanges chosen without IKE_INTERMEDIATE support");
    }
    if (!negotiated) {
        return ok();
    }
    auto& st = sa.states().get<Intermediate>();
    st.rounds = a.additional_ke;
    st.next = 0;
    st.negotiated = true;
    if (rounds && sa.is_original_initiator()) {
        sa.queue_first(make_ike_intermediate());
    }
    return ok();
}

Status note_intermediate_message(IkeSa& sa, bool response, ByteView datagram, ByteView plain) {
    if (!sa.crypto() || sa.crypto()->sk_pi.empty()) {
        // After authentication (SK_p gone) nothing is kept; the responder refuses such a
        // request with INVALID_SYNTAX, which must still go out.
        return ok();
    }
    const IkeCrypto& c = *sa.crypto();
    Handshake& hs = sa.handshake();
    const Bytes a = IKEPLEX_TRY(int_auth_a(datagram, plain.size()));
    // Requests come from the original initiator (only it starts IKE_INTERMEDIATE, RFC 9242 §3).
    Bytes& chain = response ? hs.int_auth_r : hs.int_auth_i;
    const SecretBytes& sk_p = response ? c.sk_pr : c.sk_pi;
    chain = IKEPLEX_TRY(int_auth_step(c.prf, sk_p.view(), chain, a, plain));
    if (response) {
        ++hs.intermediate_exchanges;
    }
    return ok();
}

void install_intermediate_keys(IkeSa& sa, Step& step) {
    auto* st = sa.states().find<Intermediate>();
    if (st == nullptr || !st->pending) {
        return;
    }
    crypto::IkeKeys keys = std::move(*st->pending);
    st->pending.reset();
    if (!install(sa, std::move(keys))) {
        sa.destroy("cannot install the keys of an additional key exchange", step);
    }
}

bool intermediate_pending(const IkeSa& sa) {
    const auto* st = sa.states().find<Intermediate>();
    return st != nullptr && st->next_round().has_value();
}

ExchangePtr make_ike_intermediate() {
    return std::make_unique<IkeIntermediate>();
}

Response respond_ike_intermediate(IkeSa& sa, std::vector<wire::Payload>& request, Step& step) {
    auto* st = sa.states().find<Intermediate>();
    if (sa.is_original_initiator() || sa.state() != IkeState::kConnecting || st == nullptr ||
        !st->negotiated) {
        return refuse(sa, "IKE_INTERMEDIATE was not negotiated", step);
    }
    const auto* ke = find_payload<wire::KePayload>(request, PayloadType::kKe);
    const auto round = st->next_round();
    if (!round) {
        // RFC 9242 §3: an IKE_INTERMEDIATE without a key exchange is allowed (it counts in
        // IntAuth all the same); a KE payload in it is not.
        if (ke != nullptr) {
            return refuse(sa, "KE payload after the last key exchange round", step);
        }
        return Response{{}};
    }
    const std::uint16_t method = st->rounds.at(*round);
    // RFC 9370 §2.2.2: the round's KE payload, of the method negotiated for it [R: notify
    // INVALID_SYNTAX].
    if (ke == nullptr) {
        return refuse(sa, "no KE payload for the key exchange round", step);
    }
    if (ke->group != method) {
        return refuse(sa, "KE payload of another method than the round's", step);
    }
    auto own = sa.make_ke(method);
    if (!own) {
        return refuse(sa, "key exchange method not available", step, NotifyType::kNoProposalChosen);
    }
    auto secret = (*own)->respond(ke->data);
    if (!secret) {
        return refuse(sa, "invalid key exchange value", step);
    }
    auto keys = next_keys(sa, secret->view());
    if (!keys) {
        return refuse(sa, "key derivation failed", step, NotifyType::kNoProposalChosen);
    }
    st->pending = std::move(*keys);
    st->next = *round + 1;
    PEER_LOG(sa.services().peer_log, step.now, info, log::Subsystem::kIke,
             "{} additional key exchange {} ({}) done, IKE SA keys updated", sa.label(), *round + 1,
             method_name(method));
    std::vector<wire::Payload> out;
    out.push_back(wire::make_payload(wire::KePayload{
            method, Bytes((*own)->public_value().begin(), (*own)->public_value().end())}));
    return Response{std::move(out)};
}

}  // namespace ikeplex::ike
