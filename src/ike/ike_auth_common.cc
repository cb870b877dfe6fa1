#include "ike/ike_auth_common.h"

#include <algorithm>

#include "crypto/algorithm_ids.h"
#include "crypto/hash.h"
#include "crypto/signature.h"
#include "ike/auth_octets.h"
#include "ike/intermediate_auth.h"
#include "ike/payload_access.h"
#include "util/log.h"
#include "wire/names.h"
#include "wire/notify_codes.h"

namespace ikeplex::ike::auth {

using wire::NotifyType;
using wire::Payload;
using wire::PayloadType;

/// The octets side `of_initiator` signs or MACs (RFC 7296 §2.15).
Result<Bytes> signed_octets(IkeSa& sa, bool of_initiator, const wire::IdPayload& id) {
    const bool own = of_initiator == sa.is_original_initiator();
    const Handshake& hs = sa.handshake();
    const Bytes& message = own ? hs.own_init_message : hs.peer_init_message;
    const Bytes& nonce = of_initiator ? hs.nr : hs.ni;
    const SecretBytes& sk_p = of_initiator ? sa.crypto()->sk_pi : sa.crypto()->sk_pr;
    Bytes octets = IKEPLEX_TRY(
            auth_octets(sa.crypto()->prf, message, nonce, sk_p.view(), id_payload_body(id)));
    if (hs.intermediate_exchanges > 0) {
        // RFC 9242 §3.3.2: | IntAuth_iN | IntAuth_rN | IKE_AUTH_MID (IKE_AUTH follows them).
        const Bytes tail = int_auth(hs.int_auth_i, hs.int_auth_r, hs.intermediate_exchanges + 1);
        octets.insert(octets.end(), tail.begin(), tail.end());
    }
    return octets;
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
    switch (k) {
        case AuthKind::kPsk:
            return "pre-shared key";
        case AuthKind::kPubkey:
            return "public key";
        case AuthKind::kEap:
            return "EAP";
    }
    return "unknown";
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
    return append_auth_as(sa, *sa.config(), sa.local_id(), id, out);
}

/// Our AUTH (and CERT) of a round: `cfg.local` says how, `me` is the round's identity.
Status append_auth_as(IkeSa& sa, const PeerConfig& cfg, const Identity& me,
                      const wire::IdPayload& id, std::vector<Payload>& out) {
    const Credentials& creds = sa.services().credentials;
    const Bytes octets = IKEPLEX_TRY(signed_octets(sa, sa.is_original_initiator(), id));
    if (cfg.local.kind == AuthKind::kPsk) {
        const Identity& them = cfg.remote.id.any ? sa.remote_id() : cfg.remote.id;
        const SecretBytes* psk = creds.find_psk(me, them);
        if (psk == nullptr) {
            IKE_LOG(info, sa, "no shared key found for '{}' - '{}'", me.to_string(),
                    them.to_string());
            return make_error(Errc::kConfig, "no shared key found");
        }
        const SecretBytes mac = IKEPLEX_TRY(psk_auth(sa.crypto()->prf, psk->view(), octets));
        out.push_back(wire::make_payload(wire::AuthPayload{
                wire::AuthMethod::kSharedKeyMic, Bytes(mac.view().begin(), mac.view().end())}));
        IKE_LOG(info, sa, "authentication of '{}' (myself) with pre-shared key", me.to_string());
        return ok();
    }
    const Credentials::Own* own = creds.find_own(me);
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
    for (const crypto::Certificate* ca : creds.chain_of(own->cert)) {  // RFC 7296 §3.6
        out.push_back(wire::make_payload(
                wire::CertPayload{wire::CertEncoding::kX509Signature, ca->der()}));
        IKE_LOG(info, sa, "sending issuer cert \"{}\"", ca->subject());
    }
    out.push_back(wire::make_payload(wire::AuthPayload{
            wire::AuthMethod::kDigitalSignature, crypto::encode_signature_auth(scheme, sig)}));
    IKE_LOG(info, sa, "authentication of '{}' (myself) with {}", me.to_string(),
            crypto::to_string(scheme));
    return ok();
}

/// Verifies the peer's AUTH over its octets: with the shared key, or with the certificate it
/// sent, which must chain to a trusted CA and carry its identity.
RevocationVerdict verify_auth(IkeSa& sa, const PeerConfig& cfg, const wire::IdPayload& id,
                              const wire::AuthPayload& auth, std::span<const Payload> payloads,
                              Step& step, RevocationResume resume) {
    constexpr RevocationVerdict kFailed = RevocationVerdict::kFail;
    const bool peer_is_initiator = !sa.is_original_initiator();
    const auto signed_by_peer = signed_octets(sa, peer_is_initiator, id);
    if (!signed_by_peer) {
        return kFailed;
    }
    const Bytes& octets = *signed_by_peer;
    const Credentials& creds = sa.services().credentials;
    const Identity peer_id = Identity::from_payload(id);
    if (auth.method != (cfg.remote.kind == AuthKind::kPsk ? wire::AuthMethod::kSharedKeyMic
                                                          : wire::AuthMethod::kDigitalSignature)) {
        PEER_LOG(sa.services().peer_log, step.now, info, log::Subsystem::kIke,
                 "{} '{}' authenticates with {}, but connection '{}' expects {}", sa.label(),
                 peer_id.to_string(), method_name(auth.method), cfg.name,
                 method_name(cfg.remote.kind));
        return kFailed;
    }
    if (cfg.remote.kind == AuthKind::kPsk) {
        // strongSwan's lines: which identities, that the key found for them gives another MAC.
        const Identity me = local_identity(sa);
        const SecretBytes* psk = creds.find_psk(me, peer_id);
        if (psk == nullptr) {
            PEER_LOG(sa.services().peer_log, step.now, info, log::Subsystem::kIke,
                     "{} no shared key found for '{}' - '{}'", sa.label(), me.to_string(),
                     peer_id.to_string());
            return kFailed;
        }
        if (!psk_auth_verify(sa.crypto()->prf, psk->view(), octets, auth.data).value_or(false)) {
            PEER_LOG(sa.services().peer_log, step.now, info, log::Subsystem::kIke,
                     "{} tried 1 shared key for '{}' - '{}', but MAC mismatched", sa.label(),
                     me.to_string(), peer_id.to_string());
            return kFailed;
        }
        IKE_LOG(info, sa, "authentication of '{}' with pre-shared key successful",
                peer_id.to_string());
        return RevocationVerdict::kPass;
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
        return kFailed;
    }
    const crypto::Certificate& leaf = certs.front();
    if (!certificate_names(leaf, peer_id.type, peer_id.data)) {
        PEER_LOG(sa.services().peer_log, step.now, info, log::Subsystem::kIke,
                 "{} certificate '{}' does not match identity '{}'", sa.label(), leaf.subject(),
                 peer_id.to_string());
        return kFailed;
    }
    auto chain = creds.cas.verify(leaf, std::span<const crypto::Certificate>(certs).subspan(1),
                                  step.unix_time);
    if (!chain) {
        return kFailed;
    }
    // The revocation status only after the signature: only a peer that holds the key of a
    // CA-issued certificate can make us ask for one (docs/revocation.md).
    const auto sig = crypto::parse_signature_auth(auth.data);
    const auto key = leaf.public_key();
    if (!sig || !key || !key->verify(sig->scheme, octets, sig->signature)) {
        PEER_LOG(sa.services().peer_log, step.now, info, log::Subsystem::kIke,
                 "{} signature of '{}' does not verify", sa.label(), peer_id.to_string());
        return kFailed;
    }
    IKE_LOG(info, sa, "authentication of '{}' with {} successful", peer_id.to_string(),
            crypto::to_string(sig->scheme));
    return check_revocation(sa, cfg.remote.revocation, std::move(*chain), step, std::move(resume));
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

namespace {

/// Why connection `c` cannot authenticate a peer with identity `peer` asking for `idr` (may be
/// null) by `auth` (null: EAP); empty if it can.
std::string refusal(const IkeSa& sa, const PeerConfig& c, const Identity& peer,
                    const wire::IdPayload* idr, const wire::AuthPayload* auth, PeerRounds rounds) {
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
    if (!c.remote_more.empty() && !(rounds.supported && rounds.another)) {
        return rounds.supported ? std::string(
                                          "the connection requires a second authentication "
                                          "round (remote-2), the peer announces none")
                                : std::string(
                                          "the connection requires a second authentication "
                                          "round (remote-2), the peer does not support "
                                          "multiple authentication (RFC 4739)");
    }
    if (c.remote_more.empty() && rounds.another) {
        return "the peer announces a second authentication round, the connection has none";
    }
    if (auth == nullptr) {
        if (c.remote.kind != AuthKind::kEap) {
            return fmt::format("the peer asks for EAP, the connection expects {}",
                               method_name(c.remote.kind));
        }
        if (c.ppk_required) {
            return "the connection requires a PPK (RFC 8784), not supported with EAP";
        }
        return {};
    }
    if (c.remote.kind == AuthKind::kEap ||
        (c.remote.kind == AuthKind::kPsk) != (auth->method == wire::AuthMethod::kSharedKeyMic)) {
        return fmt::format("the peer authenticates with {}, the connection expects {}",
                           method_name(auth->method), method_name(c.remote.kind));
    }
    return {};
}

}  // namespace

PeerRounds peer_rounds(std::span<const Payload> request) {
    return PeerRounds{has_notify(request, NotifyType::kMultipleAuthSupported),
                      has_notify(request, NotifyType::kAnotherAuthFollows)};
}

ConfigPtr auth_config(IkeSa& sa, const Identity& peer, const wire::IdPayload* idr,
                      const wire::AuthPayload* auth, PeerRounds rounds, const Step& step) {
    std::string why;
    std::size_t refused = 0;
    for (const ConfigPtr& c : sa.handshake().candidates) {
        std::string no = refusal(sa, *c, peer, idr, auth, rounds);
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

Result<wire::Payload> eap_auth(IkeSa& sa, bool of_initiator, const wire::IdPayload& id,
                               const SecretBytes& msk) {
    const Bytes octets = IKEPLEX_TRY(signed_octets(sa, of_initiator, id));
    const SecretBytes& key =
            !msk.empty() ? msk : (of_initiator ? sa.crypto()->sk_pi : sa.crypto()->sk_pr);
    const SecretBytes mac = IKEPLEX_TRY(psk_auth(sa.crypto()->prf, key.view(), octets));
    return wire::make_payload(wire::AuthPayload{wire::AuthMethod::kSharedKeyMic,
                                                Bytes(mac.view().begin(), mac.view().end())});
}

bool eap_auth_verify(IkeSa& sa, bool of_initiator, const wire::IdPayload& id,
                     const wire::AuthPayload& auth, const SecretBytes& msk) {
    if (auth.method != wire::AuthMethod::kSharedKeyMic) {
        return false;
    }
    auto octets = signed_octets(sa, of_initiator, id);
    if (!octets) {
        return false;
    }
    const SecretBytes& key =
            !msk.empty() ? msk : (of_initiator ? sa.crypto()->sk_pi : sa.crypto()->sk_pr);
    return psk_auth_verify(sa.crypto()->prf, key.view(), *octets, auth.data).value_or(false);
}

}  // namespace ikeplex::ike::auth
