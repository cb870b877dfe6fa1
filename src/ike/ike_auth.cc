// IKE_AUTH (RFC 7296 §1.2, §2.15): identities, PSK or certificate authentication (RFC 7427
// signatures), INITIAL_CONTACT (§2.4), SET_WINDOW_SIZE (§2.3) and the first Child SA.
//
//   HDR, SK {IDi, [CERT,] [CERTREQ,] [IDr,] AUTH, [N(INITIAL_CONTACT),] SAi2, TSi, TSr}  -->
//                               <--  HDR, SK {IDr, [CERT,] AUTH, SAr2, TSi, TSr}
#include <algorithm>
#include <string>

#include "crypto/algorithm_ids.h"
#include "crypto/hash.h"
#include "crypto/signature.h"
#include "ike/auth_octets.h"
#include "ike/config_payload.h"
#include "ike/exchanges.h"
#include "ike/payload_access.h"
#include "util/log.h"
#include "wire/names.h"
#include "wire/notify_codes.h"

namespace ikeplex::ike {

using wire::NotifyType;
using wire::Payload;
using wire::PayloadType;

namespace {

/// The octets side `of_initiator` signs or MACs (RFC 7296 §2.15).
Result<Bytes> signed_octets(IkeSa& sa, bool of_initiator, const wire::IdPayload& id) {
    const bool own = of_initiator == sa.is_original_initiator();
    const Handshake& hs = sa.handshake();
    const Bytes& message = own ? hs.own_init_message : hs.peer_init_message;
    const Bytes& nonce = of_initiator ? hs.nr : hs.ni;
    const SecretBytes& sk_p = of_initiator ? sa.crypto()->sk_pi : sa.crypto()->sk_pr;
    return auth_octets(sa.crypto()->prf, message, nonce, sk_p.view(), id_payload_body(id));
}

/// Our identity under connection `cfg`: the configured one, else our address.
Identity local_identity_of(const IkeSa& sa, const PeerConfig& cfg) {
    return cfg.local.id.any || cfg.local.id.data.empty()
                   ? Identity::from_address(sa.local().address)
                   : cfg.local.id;
}

Identity local_identity(const IkeSa& sa) {
    return local_identity_of(sa, *sa.config());
}

/// strongSwan's names of the authentication methods in its log.
const char* method_name(AuthKind k) {
    return k == AuthKind::kPsk ? "pre-shared key" : "public key";
}

std::string method_name(wire::AuthMethod m) {
    switch (m) {
        case wire::AuthMethod::kSharedKeyMic:
            return "pre-shared key";
        case wire::AuthMethod::kDigitalSignature:
            return "digital signature";
        default:
            return wire::to_string(m);
    }
}

/// Our AUTH (and, with certificates, CERT) payloads.
Status append_auth(IkeSa& sa, const wire::IdPayload& id, std::vector<Payload>& out) {
    const PeerConfig& cfg = *sa.config();
    const Credentials& creds = sa.services().credentials;
    const Bytes octets = IKEPLEX_TRY(signed_octets(sa, sa.is_original_initiator(), id));
    if (cfg.local.kind == AuthKind::kPsk) {
        const SecretBytes* psk =
                creds.find_psk(sa.local_id(), cfg.remote.id.any ? sa.remote_id() : cfg.remote.id);
        if (psk == nullptr) {
            IKE_LOG(info, sa, "no shared key found for '{}' - '{}'", sa.local_id().to_string(),
                    (cfg.remote.id.any ? sa.remote_id() : cfg.remote.id).to_string());
            return make_error(Errc::kConfig, "no shared key found");
        }
        const SecretBytes mac = IKEPLEX_TRY(psk_auth(sa.crypto()->prf, psk->view(), octets));
        out.push_back(wire::make_payload(wire::AuthPayload{
                wire::AuthMethod::kSharedKeyMic, Bytes(mac.view().begin(), mac.view().end())}));
        IKE_LOG(info, sa, "authentication of '{}' (myself) with pre-shared key",
                sa.local_id().to_string());
        return ok();
    }
    const Credentials::Own* own = creds.find_own(sa.local_id());
    if (own == nullptr) {
        return make_error(Errc::kConfig, "no certificate and private key for our identity");
    }
    const std::vector<crypto::HashAlgorithm> peer =
            sa.handshake().peer_hashes.empty()
                    ? std::vector<crypto::HashAlgorithm>{crypto::HashAlgorithm::kSha2_256,
                                                         crypto::HashAlgorithm::kIdentity}
                    : sa.handshake().peer_hashes;
    const crypto::SignatureScheme scheme = IKEPLEX_TRY(own->key.choose_scheme(peer));
    const Bytes sig = IKEPLEX_TRY(own->key.sign(scheme, octets));
    out.push_back(wire::make_payload(
            wire::CertPayload{wire::CertEncoding::kX509Signature, own->cert.der()}));
    out.push_back(wire::make_payload(wire::AuthPayload{
            wire::AuthMethod::kDigitalSignature, crypto::encode_signature_auth(scheme, sig)}));
    IKE_LOG(info, sa, "authentication of '{}' (myself) with {}", sa.local_id().to_string(),
            crypto::to_string(scheme));
    return ok();
}

/// Verifies the peer's AUTH over its octets: with the shared key, or with the certificate it
/// sent, which must chain to a trusted CA and carry its identity.
Status verify_auth(IkeSa& sa, const PeerConfig& cfg, const wire::IdPayload& id,
                   const wire::AuthPayload& auth, std::span<const Payload> payloads,
                   const Step& step) {
    const bool peer_is_initiator = !sa.is_original_initiator();
    const Bytes octets = IKEPLEX_TRY(signed_octets(sa, peer_is_initiator, id));
    const Credentials& creds = sa.services().credentials;
    const Identity peer_id = Identity::from_payload(id);
    const Error failed = wire::error_with_notify(Errc::kAuthFailed, "authentication failed",
                                                 NotifyType::kAuthenticationFailed);
    if (auth.method != (cfg.remote.kind == AuthKind::kPsk ? wire::AuthMethod::kSharedKeyMic
                                                          : wire::AuthMethod::kDigitalSignature)) {
        PEER_LOG(sa.services().peer_log, step.now, info, log::Subsystem::kIke,
                 "{} '{}' authenticates with {}, but connection '{}' expects {}", sa.label(),
                 peer_id.to_string(), method_name(auth.method), cfg.name,
                 method_name(cfg.remote.kind));
        return failed;
    }
    if (cfg.remote.kind == AuthKind::kPsk) {
        // strongSwan's lines: which identities, that the key found for them gives another MAC.
        const Identity me = local_identity(sa);
        const SecretBytes* psk = creds.find_psk(me, peer_id);
        if (psk == nullptr) {
            PEER_LOG(sa.services().peer_log, step.now, info, log::Subsystem::kIke,
                     "{} no shared key found for '{}' - '{}'", sa.label(), me.to_string(),
                     peer_id.to_string());
            return failed;
        }
        if (!psk_auth_verify(sa.crypto()->prf, psk->view(), octets, auth.data).value_or(false)) {
            PEER_LOG(sa.services().peer_log, step.now, info, log::Subsystem::kIke,
                     "{} tried 1 shared key for '{}' - '{}', but MAC mismatched", sa.label(),
                     me.to_string(), peer_id.to_string());
            return failed;
        }
        IKE_LOG(info, sa, "authentication of '{}' with pre-shared key successful",
                peer_id.to_string());
        return ok();
    }
    std::vector<crypto::Certificate> certs;
    for (const Payload& p : payloads) {
        if (const auto* c = p.as<wire::CertPayload>();
            c != nullptr && c->encoding == wire::CertEncoding::kX509Signature) {
            if (auto cert = crypto::Certificate::from_der(c->data)) {
                certs.push_back(std::move(*cert));
            }
        }
    }
    if (certs.empty()) {
        PEER_LOG(sa.services().peer_log, step.now, info, log::Subsystem::kIke,
                 "{} no certificate from '{}'", sa.label(), peer_id.to_string());
        return failed;
    }
    const crypto::Certificate& leaf = certs.front();
    if (!certificate_names(leaf, peer_id.type, peer_id.data)) {
        PEER_LOG(sa.services().peer_log, step.now, info, log::Subsystem::kIke,
                 "{} certificate '{}' does not match identity '{}'", sa.label(), leaf.subject(),
                 peer_id.to_string());
        return failed;
    }
    if (!creds.cas.verify(leaf, std::span<const crypto::Certificate>(certs).subspan(1),
                          step.unix_time)) {
        return failed;
    }
    const auto sig = crypto::parse_signature_auth(auth.data);
    const auto key = leaf.public_key();
    if (!sig || !key || !key->verify(sig->scheme, octets, sig->signature)) {
        PEER_LOG(sa.services().peer_log, step.now, info, log::Subsystem::kIke,
                 "{} signature of '{}' does not verify", sa.label(), peer_id.to_string());
        return failed;
    }
    IKE_LOG(info, sa, "authentication of '{}' with {} successful", peer_id.to_string(),
            crypto::to_string(sig->scheme));
    return ok();
}

std::uint32_t parse_window(std::span<const Payload> ps) {
    const auto* n = find_notify(ps, NotifyType::kSetWindowSize);
    if (n == nullptr) {
        return 1;
    }
    const std::uint32_t w = (std::uint32_t{n->data[0]} << 24U) |
                            (std::uint32_t{n->data[1]} << 16U) | (std::uint32_t{n->data[2]} << 8U) |
                            n->data[3];
    return std::clamp(w, 1U, 64U);  // more cannot help and would cost memory
}

void append_window(const PeerConfig& cfg, std::vector<Payload>& out) {
    if (cfg.window_size > 1) {
        const std::uint32_t w = cfg.window_size;
        out.push_back(wire::make_notify(
                NotifyType::kSetWindowSize,
                {static_cast<std::uint8_t>(w >> 24U), static_cast<std::uint8_t>(w >> 16U),
                 static_cast<std::uint8_t>(w >> 8U), static_cast<std::uint8_t>(w)}));
    }
}

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
        const PeerConfig& cfg = *sa.config();
        sa.set_local_id(local_identity(sa));
        std::vector<Payload> out;
        const wire::IdPayload idi = sa.local_id().to_payload();
        out.push_back(wire::make_idi(idi));
        if (!cfg.remote.id.any && !cfg.remote.id.data.empty()) {
            out.push_back(wire::make_idr(cfg.remote.id.to_payload()));
        }
        IKEPLEX_TRY(append_auth(sa, idi, out));
        // Ask for the responder's certificate (strongSwan sends it only when asked).
        if (cfg.remote.kind == AuthKind::kPubkey) {
            if (Bytes req = sa.services().credentials.certreq_data(); !req.empty()) {
                out.push_back(wire::make_payload(
                        wire::CertReqPayload{wire::CertEncoding::kX509Signature, std::move(req)}));
            }
        }
        if (sa.registry().first_of_config(sa)) {
            out.push_back(wire::make_notify(NotifyType::kInitialContact));
        }
        append_cp_request(sa, out);
        if (child_ != nullptr) {
            offer_ = make_offer(sa, *child_, resource_, false);
            append_offer(*offer_, out);
            append_offer_ts(sa, *offer_, out);
        }
        append_window(cfg, out);
        return out;
    }

    Outcome process(IkeSa& sa, const wire::Header& /*h*/, std::vector<Payload>& resp,
                    Step& step) override {
        const PeerConfig& cfg = *sa.config();
        const auto* idr = find_payload<wire::IdPayload>(resp, PayloadType::kIdr);
        const auto* auth = find_payload<wire::AuthPayload>(resp, PayloadType::kAuth);
        if (idr == nullptr || auth == nullptr) {
            const auto* err = first_error(resp);
            if (err != nullptr && err->type == NotifyType::kAuthenticationFailed) {
                IKE_LOG(info, sa,
                        "received AUTHENTICATION_FAILED notify error: the peer refused our "
                        "authentication as '{}' with {} (expecting '{}'); check the identities, "
                        "the auth method and the key on both sides",
                        sa.local_id().to_string(), method_name(cfg.local.kind),
                        cfg.remote.id.to_string());
            } else {
                IKE_LOG(info, sa, "IKE_AUTH failed: peer answered {}",
                        err != nullptr ? wire::to_string(err->type) : "nothing");
            }
            release(sa);
            sa.destroy("authentication failed", step);
            return Outcome::kDone;
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
        if (!verify_auth(sa, cfg, *idr, *auth, resp, step)) {
            IKE_LOG(info, sa,
                    "authentication of '{}' with {} failed, sending AUTHENTICATION_FAILED",
                    sa.remote_id().to_string(), method_name(auth->method));
            reject(sa, "peer authentication failed", step);
            return Outcome::kDone;
        }
        sa.set_peer_window(parse_window(resp));
        sa.established(step);
        process_cp_reply(sa, resp, step);
        if (offer_) {
            const Handshake& hs = sa.handshake();
            complete_offer(sa, *offer_, resp, hs.ni, hs.nr, {}, true, step);
            offer_.reset();
        }
        sa.end_handshake();
        return Outcome::kDone;
    }

    void abort(IkeSa& sa, Step& /*step*/) override { release(sa); }

private:
    void release(IkeSa& sa) {
        if (offer_) {
            sa.services().spis.release(offer_->spi_in);
            offer_.reset();
        }
    }

    /// The responder considers the IKE SA established; tell it we do not (RFC 7296 §2.21.2).
    void reject(IkeSa& sa, const char* reason, Step& step) {
        release(sa);
        sa.end_handshake();
        sa.transition(IkeState::kDeleting, reason);
        sa.queue(make_fatal_notify(NotifyType::kAuthenticationFailed, reason), step);
    }

    const ChildConfig* child_;
    ResourceId resource_;
    std::optional<ChildOffer> offer_;
};

/// Why connection `c` cannot authenticate a peer with identity `peer` asking for `idr` (may be
/// null) by `method`; empty if it can.
std::string refusal(const IkeSa& sa, const PeerConfig& c, const Identity& peer,
                    const wire::IdPayload* idr, wire::AuthMethod method) {
    if (!c.remote.id.matches(peer)) {
        return fmt::format("IDi '{}' does not match the expected '{}'", peer.to_string(),
                           c.remote.id.to_string());
    }
    if (idr != nullptr && !c.local.id.any) {
        const Identity ours = local_identity_of(sa, c);
        const Identity asked = Identity::from_payload(*idr);
        if (!ours.matches(asked)) {
            return fmt::format("IDr '{}' does not match the expected '{}'", asked.to_string(),
                               ours.to_string());
        }
    }
    if ((c.remote.kind == AuthKind::kPsk) != (method == wire::AuthMethod::kSharedKeyMic)) {
        return fmt::format("the peer authenticates with {}, the connection expects {}",
                           method_name(method), method_name(c.remote.kind));
    }
    return {};
}

/// The connection for IKE_AUTH: the first of those IKE_SA_INIT allowed whose identities and
/// auth method fit; null (and why each one does not, in one rate-limited line) if none.
ConfigPtr auth_config(IkeSa& sa, const Identity& peer, const wire::IdPayload* idr,
                      wire::AuthMethod method, const Step& step) {
    std::string why;
    std::size_t refused = 0;
    for (const ConfigPtr& c : sa.handshake().candidates) {
        std::string no = refusal(sa, *c, peer, idr, method);
        if (no.empty()) {
            return c;
        }
        if (++refused <= 3) {  // a line of bounded length
            why += fmt::format("{}connection '{}': {}", why.empty() ? "" : "; ", c->name, no);
        }
    }
    if (refused > 3) {
        why += fmt::format("; {} more", refused - 3);
    }
    PEER_LOG(sa.services().peer_log, step.now, info, log::Subsystem::kIke,
             "{} no connection matches peer '{}' ({}), sending AUTHENTICATION_FAILED", sa.label(),
             peer.to_string(), why);
    return nullptr;
}

}  // namespace

ExchangePtr make_ike_auth(const ChildConfig* first_child, ResourceId resource) {
    return std::make_unique<IkeAuth>(first_child, resource);
}

Response respond_ike_auth(IkeSa& sa, std::vector<Payload>& request, Step& step) {
    if (sa.state() != IkeState::kConnecting || sa.is_original_initiator()) {
        return error_response(NotifyType::kInvalidSyntax);
    }
    const auto* idi = find_payload<wire::IdPayload>(request, PayloadType::kIdi);
    const auto* idr = find_payload<wire::IdPayload>(request, PayloadType::kIdr);
    const auto* auth = find_payload<wire::AuthPayload>(request, PayloadType::kAuth);
    const Identity peer = Identity::from_payload(*idi);
    const ConfigPtr cfg = auth_config(sa, peer, idr, auth->method, step);
    if (cfg == nullptr) {
        return Response{error_response(NotifyType::kAuthenticationFailed), true};
    }
    sa.set_config(cfg);
    sa.set_remote_id(peer);
    sa.set_local_id(local_identity(sa));
    if (!verify_auth(sa, *cfg, *idi, *auth, request, step)) {
        PEER_LOG(sa.services().peer_log, step.now, info, log::Subsystem::kIke,
                 "{} authentication of '{}' with {} failed, sending AUTHENTICATION_FAILED",
                 sa.label(), peer.to_string(), method_name(auth->method));
        return Response{error_response(NotifyType::kAuthenticationFailed), true};
    }
    std::vector<Payload> out;
    const wire::IdPayload own_id = sa.local_id().to_payload();
    out.push_back(wire::make_idr(own_id));
    if (auto ok = append_auth(sa, own_id, out); !ok) {
        IKE_LOG(error, sa, "cannot authenticate ourselves: {}", ok.error().detail);
        return Response{error_response(NotifyType::kAuthenticationFailed), true};
    }
    sa.set_peer_window(parse_window(request));
    sa.established(step);
    if (has_notify(request, NotifyType::kInitialContact)) {
        sa.registry().initial_contact(sa, step);
    }
    note_cp_request(sa, request);
    CpAnswer cp = answer_cp_request(sa, step);
    out.insert(out.end(), std::make_move_iterator(cp.payloads.begin()),
               std::make_move_iterator(cp.payloads.end()));
    if (cp.child && find_payload<wire::SaPayload>(request, PayloadType::kSa) != nullptr) {
        const Handshake& hs = sa.handshake();
        ChildRequest creq{request, &hs.ni, &hs.nr, {}, true, false, nullptr};
        auto child = accept_child(sa, creq, step);
        out.insert(out.end(), std::make_move_iterator(child.begin()),
                   std::make_move_iterator(child.end()));
    }
    append_window(*cfg, out);
    sa.end_handshake();
    return out;
}

}  // namespace ikeplex::ike
