// IKE_AUTH (RFC 7296 §1.2, §2.15, §2.16): identities, PSK or certificate authentication (RFC
// 7427 signatures) or EAP, INITIAL_CONTACT (§2.4), SET_WINDOW_SIZE (§2.3) and the first Child
// SA. This file holds the initiator (both ways) and the responder without EAP; the responder's
// EAP rounds are in ike_auth_eap.cc, its RFC 4739 second round in ike_auth_rounds.cc. A peer
// certificate whose revocation status is being fetched holds the exchange, both roles
// (ike_auth_revocation.h): the responder defers its response, the initiator the processing of
// the response (Outcome::kHold, resume()).
//
//   HDR, SK {IDi, [CERT,] [CERTREQ,] [IDr,] AUTH, [N(INITIAL_CONTACT),] SAi2, TSi, TSr}  -->
//                               <--  HDR, SK {IDr, [CERT,] AUTH, SAr2, TSi, TSr}
// With EAP (`local.auth = eap[-method]`), the first request has no AUTH and the rounds go on:
//   HDR, SK {IDi, [CERTREQ,] [IDr,] [N(EAP_ONLY_AUTHENTICATION),] SAi2, TSi, TSr}  -->
//                               <--  HDR, SK {IDr, [CERT,] [AUTH,] EAP}
//   HDR, SK {EAP}  -->  <--  HDR, SK {EAP}          (as often as the method needs)
//   HDR, SK {AUTH}  -->  <--  HDR, SK {AUTH, SAr2, TSi, TSr}   (AUTH from the MSK)
#include <algorithm>
#include <memory>
#include <string>

#include "ike/config_payload.h"
#include "ike/eap_conversation.h"
#include "ike/exchanges.h"
#include "ike/ike_auth_common.h"
#include "ike/mobike.h"
#include "ike/payload_access.h"
#include "ike/ppk.h"
#include "ike/redirect.h"
#include "util/log.h"
#include "wire/names.h"
#include "wire/notify_codes.h"

namespace ikeplex::ike {

using wire::NotifyType;
using wire::Payload;
using wire::PayloadType;

namespace {

class IkeAuth final : public Exchange {
public:
    IkeAuth(const ChildConfig* child, ResourceId resource) : child_(child), resource_(resource) {}

    [[nodiscard]] wire::ExchangeType type() const noexcept override {
        return wire::ExchangeType::kIkeAuth;
    }
    [[nodiscard]] const char* name() const noexcept override { return "IKE_AUTH"; }
    [[nodiscard]] const ChildConfig* wanted_child() const override { return child_; }

    Result<std::vector<Payload>> build(IkeSa& sa, Step& /*step*/) override {
        if (!sa.crypto()) {
            return make_error(Errc::kState, "IKE_SA_INIT did not complete");
        }
        switch (phase_) {
            case Phase::kFirst:
                return build_first(sa);
            case Phase::kSecondId:
                // RFC 4739 §2.3: the next round starts with the new IDi alone (EAP follows).
                idi_ = round_id_.to_payload();
                return std::vector<Payload>{wire::make_idi(idi_)};
            case Phase::kSecondAuth: {
                // RFC 4739 §2.4: IDi' [CERT'] AUTH', the AUTH over the same IKE_SA_INIT
                // message and nonce with the round's own IDi'.
                idi_ = round_id_.to_payload();
                std::vector<Payload> out{wire::make_idi(idi_)};
                IKEPLEX_TRY(auth::append_auth_as(sa, round_cfg_, round_id_, idi_, out));
                return out;
            }
            case Phase::kEap:
                return std::vector<Payload>{wire::make_payload(eap_out_)};
            case Phase::kAuth: {
                Payload auth = IKEPLEX_TRY(auth::eap_auth(sa, true, idi_, eap_->msk()));
                IKE_LOG(info, sa, "authentication of '{}' (myself) with EAP",
                        sa.local_id().to_string());
                return std::vector<Payload>{std::move(auth)};
            }
        }
        return make_error(Errc::kState, "IKE_AUTH: unknown phase");
    }

    Outcome process(IkeSa& sa, const wire::Header& /*h*/, std::vector<Payload>& resp,
                    Step& step) override {
        switch (phase_) {
            case Phase::kFirst:
                return process_first(sa, resp, step);
            case Phase::kSecondId: {
                const auto* eap = find_payload<wire::EapPayload>(resp, PayloadType::kEap);
                if (eap == nullptr) {
                    return failed(sa, resp, step);
                }
                eap_ = std::make_unique<EapPeerSide>(sa.services(), round_cfg_, round_id_,
                                                     sa.remote_id(), sa.label());
                return on_eap(sa, *eap, step);
            }
            case Phase::kEap: {
                const auto* eap = find_payload<wire::EapPayload>(resp, PayloadType::kEap);
                if (eap == nullptr) {
                    return failed(sa, resp, step);
                }
                return on_eap(sa, *eap, step);
            }
            case Phase::kAuth:
                return process_final(sa, resp, step);
            case Phase::kSecondAuth:
                // The last round was ours: the response answers the first request. An error
                // of the Child SA (TS_UNACCEPTABLE, NO_PROPOSAL_CHOSEN, ...) leaves the IKE SA
                // up, as after a single round; AUTHENTICATION_FAILED or a syntax error ends it.
                if (const auto* err = first_error(resp);
                    err != nullptr && (err->type == NotifyType::kAuthenticationFailed ||
                                       err->type == NotifyType::kInvalidSyntax)) {
                    return failed(sa, resp, step);
                }
                IKE_LOG(info, sa, "authentication of '{}' (round 2) accepted",
                        round_id_.to_string());
                sa.set_local_id(round_id_);  // the latest IDi, as strongSwan's my id
                finish(sa, resp, step);
                return Outcome::kDone;
        }
        return Outcome::kDone;
    }

    void abort(IkeSa& sa, Step& /*step*/) override { release(sa); }

private:
    enum class Phase : std::uint8_t { kFirst, kSecondId, kEap, kAuth, kSecondAuth };

    Result<std::vector<Payload>> build_first(IkeSa& sa) {
        const PeerConfig& cfg = *sa.config();
        sa.set_local_id(auth::local_identity(sa));
        std::vector<Payload> out;
        idi_ = sa.local_id().to_payload();
        out.push_back(wire::make_idi(idi_));
        if (!cfg.remote.id.any && !cfg.remote.id.data.empty()) {
            out.push_back(wire::make_idr(cfg.remote.id.to_payload()));
        }
        if (cfg.local.kind != AuthKind::kEap) {
            IKEPLEX_TRY(ppk_.before_auth(sa, [&]() -> Result<Bytes> {  // RFC 8784
                std::vector<Payload> plain;
                IKEPLEX_TRY(auth::append_auth(sa, idi_, plain));
                const auto* a = find_payload<wire::AuthPayload>(plain, PayloadType::kAuth);
                return a != nullptr ? a->data : Bytes{};
            }));
            IKEPLEX_TRY(auth::append_auth(sa, idi_, out));
            ppk_.append(out);
        }
        // Ask for the responder's certificate (strongSwan sends it only when asked).
        if (cfg.remote.kind == AuthKind::kPubkey) {
            if (Bytes req = sa.services().credentials.certreq_data(); !req.empty()) {
                out.push_back(wire::make_payload(
                        wire::CertReqPayload{wire::CertEncoding::kX509Signature, std::move(req)}));
            }
        }
        if (cfg.unique != UniquePolicy::kIgnoreInitialContact &&
            sa.registry().first_of_config(sa)) {
            out.push_back(wire::make_notify(NotifyType::kInitialContact));
        }
        if (cfg.local.kind == AuthKind::kEap) {
            // RFC 5998 §3: we would take a mutual EAP method in place of the responder's AUTH.
            out.push_back(wire::make_notify(NotifyType::kEapOnlyAuthentication));
        }
        // RFC 4739 §2.1: the responder announced multiple rounds in IKE_SA_INIT; we do too,
        // as strongSwan does, and say that our second round follows this one if we have one.
        // Without the responder's announcement the second round is skipped (strongSwan's
        // behaviour; the responder decides whether one round is enough).
        more_rounds_ = !cfg.local_more.empty() && sa.handshake().peer_multiple_auth;
        if (!cfg.local_more.empty() && !more_rounds_) {
            IKE_LOG(info, sa,
                    "peer does not support multiple authentication rounds (RFC 4739), "
                    "skipping our second round");
        }
        if (sa.handshake().peer_multiple_auth) {
            out.push_back(wire::make_notify(NotifyType::kMultipleAuthSupported));
        }
        if (more_rounds_) {
            out.push_back(wire::make_notify(NotifyType::kAnotherAuthFollows));
        }
        append_cp_request(sa, out);
        if (child_ != nullptr) {
            offer_ = make_offer(sa, *child_, resource_, false);
            append_offer(*offer_, out);
            append_offer_ts(sa, *offer_, out);
        }
        if (cfg.mobike) {
            mobike_auth_payloads(sa, out);  // RFC 4555 §3.2, §3.4
        }
        auth::append_window(cfg, out);
        return out;
    }

    /// A response without what the phase needs: the peer's error, logged; the SA goes.
    Outcome failed(IkeSa& sa, std::span<const Payload> resp, Step& step) {
        const PeerConfig& cfg = *sa.config();
        const auto* err = first_error(resp);
        const auto* eap = find_payload<wire::EapPayload>(resp, PayloadType::kEap);
        if (err != nullptr && err->type == NotifyType::kAuthenticationFailed) {
            IKE_LOG(info, sa,
                    "received AUTHENTICATION_FAILED notify error: the peer refused our "
                    "authentication as '{}' with {} (expecting '{}'); check the identities, "
                    "the auth method and the key on both sides",
                    sa.local_id().to_string(), auth::method_name(cfg.local.kind),
                    cfg.remote.id.to_string());
        } else if (eap != nullptr && eap->code == wire::EapCode::kFailure) {
            IKE_LOG(info, sa, "received EAP_FAILURE, EAP authentication failed");
        } else {
            IKE_LOG(info, sa, "IKE_AUTH failed: peer answered {}",
                    err != nullptr ? wire::to_string(err->type) : "nothing");
        }
        release(sa);
        sa.destroy("authentication failed", step);
        return Outcome::kDone;
    }

    Outcome process_first(IkeSa& sa, std::vector<Payload>& resp, Step& step) {
        const PeerConfig& cfg = *sa.config();
        const auto* idr = find_payload<wire::IdPayload>(resp, PayloadType::kIdr);
        const auto* auth = find_payload<wire::AuthPayload>(resp, PayloadType::kAuth);
        const auto* eap = find_payload<wire::EapPayload>(resp, PayloadType::kEap);
        const bool with_eap = cfg.local.kind == AuthKind::kEap;
        if (idr == nullptr || (auth == nullptr && !with_eap) || (with_eap && eap == nullptr)) {
            return failed(sa, resp, step);
        }
        sa.set_remote_id(Identity::from_payload(*idr));
        if (!cfg.remote.id.matches(sa.remote_id())) {
            IKE_LOG(info, sa,
                    "IDr '{}' does not match the expected '{}', sending "
                    "AUTHENTICATION_FAILED",
                    sa.remote_id().to_string(), cfg.remote.id.to_string());
            reject(sa, "unexpected peer identity", step);
            return Outcome::kDone;
        }
        if (!ppk_.on_response(sa, resp)) {
            reject(sa, "PPK required but not used", step);  // RFC 8784 §3
            return Outcome::kDone;
        }
        if (auth == nullptr) {
            // RFC 5998: the responder relies on the EAP method to authenticate itself;
            // accepted once the method succeeds, only if it is a mutual one, and only where
            // the connection says the gateway authenticates by EAP (`remote { auth = eap }`):
            // a connection that expects a certificate or a key must get it.
            if (cfg.remote.kind != AuthKind::kEap) {
                IKE_LOG(info, sa,
                        "peer sent no AUTH (EAP-only), but connection '{}' expects it to "
                        "authenticate with {}, sending AUTHENTICATION_FAILED",
                        cfg.name, auth::method_name(cfg.remote.kind));
                reject(sa, "peer authentication missing", step);
                return Outcome::kDone;
            }
            eap_only_ = true;
            return after_peer_auth(sa, resp, step);
        }
        // A revocation status being fetched holds the response (IkeSa::resume_held()).
        const auto resume = [](IkeSa& held, bool passed, Step& s) { held.resume_held(passed, s); };
        switch (auth::verify_auth(sa, cfg, *idr, *auth, resp, step, resume)) {
            case RevocationVerdict::kPass:
                return after_peer_auth(sa, resp, step);
            case RevocationVerdict::kHeld:
                held_ = resp;
                return Outcome::kHold;
            case RevocationVerdict::kFail:
                break;
        }
        return auth_failed(sa, auth->method, step);
    }

    Outcome resume(IkeSa& sa, bool passed, Step& step) override {
        std::vector<Payload> resp = std::move(held_);
        held_.clear();
        if (!passed) {
            return auth_failed(sa, wire::AuthMethod::kDigitalSignature, step);
        }
        return after_peer_auth(sa, resp, step);
    }

    Outcome auth_failed(IkeSa& sa, wire::AuthMethod method, Step& step) {
        IKE_LOG(info, sa, "authentication of '{}' with {} failed, sending AUTHENTICATION_FAILED",
                sa.remote_id().to_string(), auth::method_name(method));
        reject(sa, "peer authentication failed", step);
        return Outcome::kDone;
    }

    /// The responder's first response after its AUTH verified (or EAP-only): our second round,
    /// the end, or EAP.
    Outcome after_peer_auth(IkeSa& sa, std::vector<Payload>& resp, Step& step) {
        const PeerConfig& cfg = *sa.config();
        const auto* idr = find_payload<wire::IdPayload>(resp, PayloadType::kIdr);
        const auto* eap = find_payload<wire::EapPayload>(resp, PayloadType::kEap);
        const bool with_eap = cfg.local.kind == AuthKind::kEap;
        if (!with_eap && more_rounds_ &&
            find_payload<wire::SaPayload>(resp, PayloadType::kSa) != nullptr) {
            // The responder ended IKE_AUTH after one round: it skipped our second one.
            IKE_LOG(info, sa,
                    "peer completed IKE_AUTH without our second authentication round (RFC 4739 "
                    "not supported?), sending AUTHENTICATION_FAILED");
            reject(sa, "second authentication round skipped", step);
            return Outcome::kDone;
        }
        if (!with_eap && more_rounds_) {
            // RFC 4739: the responder's AUTH is verified; our second round comes next. The
            // responder's final AUTH (from the MSK) covers the IDr it sent here.
            idr_ = *idr;
            round_cfg_ = cfg;
            round_cfg_.local = cfg.local_more.front();
            round_cfg_.local_more.clear();
            // Unset, the round's identity is our address, as strongSwan's IDi of any round
            // without one (its ike_auth.c: "no IDi configured, fall back on IP address").
            round_id_ = auth::local_identity_of(sa, round_cfg_);
            phase_ =
                    round_cfg_.local.kind == AuthKind::kEap ? Phase::kSecondId : Phase::kSecondAuth;
            return Outcome::kNext;
        }
        if (!with_eap) {
            finish(sa, resp, step);
            return Outcome::kDone;
        }
        idr_ = *idr;
        eap_ = std::make_unique<EapPeerSide>(sa.services(), cfg, sa.local_id(), sa.remote_id(),
                                             sa.label());
        return on_eap(sa, *eap, step);
    }

    Outcome on_eap(IkeSa& sa, const wire::EapPayload& in, Step& step) {
        EapPeerSide::Reply r = eap_->on_payload(in, step.unix_time);
        const std::string method = eap_type_name(static_cast<std::uint8_t>(eap_->method_type()));
        switch (r.kind) {
            case EapPeerSide::Reply::Kind::kRespond:
                if (eap_only_ && eap_->method_type() != eap::Type::kIdentity &&
                    !eap_mutual(eap_->method_type())) {
                    // The gateway has not authenticated itself and never will by this method:
                    // its answer would be an offline dictionary target (an MD5 or MSCHAPv2
                    // response), so it is not sent.
                    IKE_LOG(info, sa, "do not allow non-mutual EAP-only authentication ({})",
                            method);
                    reject(sa, "non-mutual EAP-only authentication", step);
                    return Outcome::kDone;
                }
                eap_out_ = std::move(r.response);
                phase_ = Phase::kEap;
                return Outcome::kNext;
            case EapPeerSide::Reply::Kind::kSucceeded:
                if (eap_only_ && !eap_mutual(eap_->method_type())) {
                    IKE_LOG(info, sa, "do not allow non-mutual EAP-only authentication");
                    release(sa);
                    sa.destroy("authentication failed", step);
                    return Outcome::kDone;
                }
                IKE_LOG(info, sa, "EAP method {} succeeded, {}", method,
                        eap_->msk().empty() ? "no MSK established" : "MSK established");
                phase_ = Phase::kAuth;
                return Outcome::kNext;
            case EapPeerSide::Reply::Kind::kFailed:
                break;
        }
        IKE_LOG(info, sa, "EAP authentication as '{}' failed: {}", sa.local_id().to_string(),
                r.reason);
        if (in.code != wire::EapCode::kFailure) {
            // The server still waits for our next round: tell it in an INFORMATIONAL of our
            // own (RFC 7296 §2.21.2), as strongSwan's client does, so it ends at once.
            reject(sa, "EAP authentication failed", step);
            return Outcome::kDone;
        }
        release(sa);
        sa.destroy("EAP authentication failed", step);
        return Outcome::kDone;
    }

    Outcome process_final(IkeSa& sa, std::vector<Payload>& resp, Step& step) {
        const auto* auth = find_payload<wire::AuthPayload>(resp, PayloadType::kAuth);
        if (auth == nullptr) {
            return failed(sa, resp, step);
        }
        if (!auth::eap_auth_verify(sa, false, idr_, *auth, eap_->msk())) {
            IKE_LOG(info, sa,
                    "verification of AUTH payload with EAP MSK failed, sending "
                    "AUTHENTICATION_FAILED");
            reject(sa, "peer authentication failed", step);
            return Outcome::kDone;
        }
        IKE_LOG(info, sa, "authentication of '{}' with EAP successful", sa.remote_id().to_string());
        if (more_rounds_) {
            sa.set_local_id(round_id_);  // RFC 4739: the latest IDi
        }
        if (eap_only_) {
            IKE_LOG(info, sa, "allow mutual EAP-only authentication");
        }
        finish(sa, resp, step);
        return Outcome::kDone;
    }

    /// Authenticated both ways: established, and the first Child SA from the final response.
    void finish(IkeSa& sa, std::span<const Payload> resp, Step& step) {
        sa.set_peer_window(auth::parse_window(resp));
        mobike_auth_done(sa, resp, sa.config()->mobike, step);
        sa.established(step);
        if (follow_auth_redirect(sa, resp, child_, step)) {  // RFC 5685 §6
            release(sa);
            eap_.reset();
            sa.end_handshake();
            return;
        }
        process_cp_reply(sa, resp, step);
        if (offer_) {
            const Handshake& hs = sa.handshake();
            complete_offer(sa, *offer_, resp, hs.ni, hs.nr, {}, true, step);
            offer_.reset();
        }
        eap_.reset();
        sa.end_handshake();
    }

    void release(IkeSa& sa) {
        if (offer_) {
            sa.services().spis.release(offer_->spi_in);
            offer_.reset();
        }
    }

    /// The responder considers the IKE SA established; tell it we do not (RFC 7296 §2.21.2).
    void reject(IkeSa& sa, const char* reason, Step& step) {
        release(sa);
        eap_.reset();
        sa.end_handshake();
        sa.transition(IkeState::kDeleting, reason);
        sa.queue(make_fatal_notify(NotifyType::kAuthenticationFailed, reason), step);
    }

    const ChildConfig* child_;
    ResourceId resource_;
    std::optional<ChildOffer> offer_;
    Phase phase_{Phase::kFirst};
    wire::IdPayload idi_;  ///< as sent: the final AUTH covers it
    wire::IdPayload idr_;  ///< as received: the responder's final AUTH covers it
    std::unique_ptr<EapPeerSide> eap_;
    wire::EapPayload eap_out_;   ///< the EAP response the next request carries
    bool eap_only_{false};       ///< the responder sent no AUTH (RFC 5998)
    PeerConfig round_cfg_{};     ///< RFC 4739: the connection with our second round as `local`
    Identity round_id_{};        ///< RFC 4739: our identity in the second round (IDi')
    bool more_rounds_{false};    ///< RFC 4739: our second round follows the first
    ppk::Initiator ppk_;         ///< RFC 8784
    std::vector<Payload> held_;  ///< the response whose processing waits (Outcome::kHold)
};

}  // namespace

ExchangePtr make_ike_auth(const ChildConfig* first_child, ResourceId resource) {
    return std::make_unique<IkeAuth>(first_child, resource);
}

Response respond_ike_auth(IkeSa& sa, std::vector<Payload>& request, Step& step) {
    if (sa.state() != IkeState::kConnecting || sa.is_original_initiator()) {
        return error_response(NotifyType::kInvalidSyntax);
    }
    if (ike_auth_eap_under_way(sa)) {
        return respond_ike_auth_eap(sa, request, step);
    }
    if (second_round_due(sa)) {
        return start_second_round(sa, request, step);
    }
    const auto* idi = find_payload<wire::IdPayload>(request, PayloadType::kIdi);
    const auto* idr = find_payload<wire::IdPayload>(request, PayloadType::kIdr);
    const auto* auth = find_payload<wire::AuthPayload>(request, PayloadType::kAuth);
    if (idi == nullptr) {
        return Response{error_response(NotifyType::kInvalidSyntax), true};
    }
    if (auth == nullptr) {
        return start_ike_auth_eap(sa, request, step);
    }
    const Identity peer = Identity::from_payload(*idi);
    const ConfigPtr cfg = auth::auth_config(sa, peer, idr, auth, auth::peer_rounds(request), step);
    if (cfg == nullptr) {
        return Response{error_response(NotifyType::kAuthenticationFailed), true};
    }
    sa.set_config(cfg);
    sa.set_remote_id(peer);
    sa.set_local_id(auth::local_identity(sa));
    // RFC 8784: with the connection found by identity, the PPK (or NO_PPK_AUTH) is decided.
    auto ppk = ppk::respond(sa, *cfg, request, *auth, step);
    if (!ppk) {
        return Response{error_response(NotifyType::kAuthenticationFailed), true};
    }
    const wire::AuthPayload& checked = ppk->no_ppk_auth ? *ppk->no_ppk_auth : *auth;
    // A held revocation check goes on here with the request and the PPK decision.
    auto resume = [request, ppk = *ppk](IkeSa& held, bool passed, Step& s) mutable {
        std::vector<Payload> first = std::move(request);
        held.answer_deferred(
                passed ? respond_authenticated(held, first, ppk, s)
                       : Response{error_response(NotifyType::kAuthenticationFailed), true},
                s);
    };
    switch (auth::verify_auth(sa, *cfg, *idi, checked, request, step, std::move(resume))) {
        case RevocationVerdict::kPass:
            break;
        case RevocationVerdict::kHeld:
            return held_response();
        case RevocationVerdict::kFail:
            PEER_LOG(sa.services().peer_log, step.now, info, log::Subsystem::kIke,
                     "{} authentication of '{}' with {} failed, sending AUTHENTICATION_FAILED",
                     sa.label(), peer.to_string(), auth::method_name(auth->method));
            return Response{error_response(NotifyType::kAuthenticationFailed), true};
    }
    return respond_authenticated(sa, request, *ppk, step);
}

Response held_response() {
    Response held;
    held.deferred = true;
    held.revocation_hold = true;
    return held;
}

Response respond_authenticated(IkeSa& sa, std::vector<Payload>& request,
                               const ppk::ResponderChoice& ppk, Step& step) {
    const PeerConfig* cfg = sa.config();
    std::vector<Payload> out;
    const wire::IdPayload own_id = sa.local_id().to_payload();
    out.push_back(wire::make_idr(own_id));
    if (auto ok = auth::append_auth(sa, own_id, out); !ok) {
        IKE_LOG(error, sa, "cannot authenticate ourselves: {}", ok.error().detail);
        return Response{error_response(NotifyType::kAuthenticationFailed), true};
    }
    ppk::append_response(ppk, out);
    if (!cfg->remote_more.empty()) {
        return await_second_round(sa, request, std::move(out), own_id);
    }
    return complete_ike_auth(sa, request, out, step);
}

Response complete_ike_auth(IkeSa& sa, std::span<const Payload> first_request,
                           std::vector<Payload>& out, Step& step) {
    if (!sa.registry().check_uniqueness(sa, has_notify(first_request, NotifyType::kInitialContact),
                                        step)) {
        return Response{error_response(NotifyType::kAuthenticationFailed), true};
    }
    sa.set_peer_window(auth::parse_window(first_request));
    const bool redirected = redirect_in_auth(sa, out, step);  // RFC 5685 §6: no Child SA
    sa.established(step);
    if (redirected) {
        sa.end_handshake();
        return Response{std::move(out)};
    }
    note_cp_request(sa, first_request, step);
    CpAnswer cp = answer_cp_request(sa, step);
    out.insert(out.end(), std::make_move_iterator(cp.payloads.begin()),
               std::make_move_iterator(cp.payloads.end()));
    if (cp.child && find_payload<wire::SaPayload>(first_request, PayloadType::kSa) != nullptr) {
        const Handshake& hs = sa.handshake();
        ChildRequest creq{first_request, &hs.ni, &hs.nr, {}, true, false, nullptr};
        auto child = accept_child(sa, creq, step);
        out.insert(out.end(), std::make_move_iterator(child.begin()),
                   std::make_move_iterator(child.end()));
    }
    mobike_auth_done(sa, first_request, sa.config()->mobike, step);
    if (sa.mobike().on) {
        mobike_auth_payloads(sa, out);  // RFC 4555 §3.2, §3.4
    }
    auth::append_window(*sa.config(), out);
    sa.end_handshake();
    return Response{std::move(out)};
}

}  // namespace ikeplex::ike
