// IKE_SA_INIT (RFC 7296 §1.2): proposal, key exchange, nonces, NAT detection (§2.23),
// COOKIE (§2.6) and INVALID_KE_PAYLOAD (§1.2) retries, IKEV2_FRAGMENTATION_SUPPORTED
// (RFC 7383 §2.3), SIGNATURE_HASH_ALGORITHMS (RFC 7427 §4).
//
//   HDR, SAi1, KEi, Ni, N(NATD_S_IP), N(NATD_D_IP), [N(FRAG_SUP)], N(HASH_ALG)  -->
//                <--  HDR, SAr1, KEr, Nr, N(NATD_S_IP), N(NATD_D_IP), [CERTREQ], ...
#include "ike/ike_init.h"

#include <algorithm>
#include <array>

#include "crypto/algorithm_ids.h"
#include "crypto/hash.h"
#include "crypto/keymat.h"
#include "ike/exchanges.h"
#include "ike/ike_intermediate.h"
#include "ike/legacy_algorithms.h"
#include "ike/payload_access.h"
#include "ike/ppk.h"
#include "ike/redirect.h"
#include "util/log.h"
#include "wire/describe.h"
#include "wire/names.h"

namespace ikeplex::ike {

using wire::NotifyType;
using wire::Payload;
using wire::PayloadType;

namespace {

std::array<std::uint8_t, 8> be64(std::uint64_t v) {
    std::array<std::uint8_t, 8> b{};
    for (std::size_t i = 0; i < 8; ++i) {
        b[i] = static_cast<std::uint8_t>(v >> (8 * (7 - i)));
    }
    return b;
}

Bytes hash_algorithms_data() {
    Bytes d;
    for (crypto::HashAlgorithm h : crypto::supported_hashes()) {
        d.push_back(static_cast<std::uint8_t>(static_cast<std::uint16_t>(h) >> 8U));
        d.push_back(static_cast<std::uint8_t>(h));
    }
    return d;
}

std::vector<crypto::HashAlgorithm> parse_hashes(const wire::NotifyPayload* n) {
    std::vector<crypto::HashAlgorithm> out;
    if (n != nullptr) {
        for (std::size_t i = 0; i + 1 < n->data.size(); i += 2) {
            out.push_back(static_cast<crypto::HashAlgorithm>((n->data[i] << 8U) | n->data[i + 1]));
        }
    }
    return out;
}

/// The NAT lines: strongSwan's wording, and "faking NAT" rather than a NAT that is not there.
/// A peer that fakes a NAT to force UDP encapsulation looks exactly like one behind a NAT;
/// when we fake one too (two ikeplexd with `raw_esp = no`), the line says it may be either. The
/// responder's lines go through the rate limit (anyone can send IKE_SA_INIT).
void log_nat(IkeSa& sa, bool here, bool there, const Step& step) {
    const bool fake = fakes_nat(sa);
    const auto line = [&](const char* text) {
        if (sa.is_original_initiator()) {
            IKE_LOG(info, sa, "{}", text);
        } else {
            PEER_LOG(sa.services().peer_log, step.now, info, log::Subsystem::kIke, "{} {}",
                     sa.label(), text);
        }
    };
    if (fake) {
        line("faking NAT situation to enforce UDP encapsulation");
    }
    if (here) {
        line("local host is behind NAT, sending keep alives");
    }
    if (there && !fake) {
        line("remote host is behind NAT");
    } else if (there) {
        line("remote host fakes a NAT situation or is behind NAT");
    }
}

/// RFC 7296 §2.23: a NAT is in front of us if the peer's hash of our address differs from
/// ours, in front of the peer if its source hashes all differ from its address. The hashes
/// cover the SPIs as the message carried them (SPIr is zero in the request). Returns whether
/// the peer sent both (it supports NAT traversal).
bool detect_nat(IkeSa& sa, std::span<const Payload> ps, IkeSpi spi_r, const Step& step) {
    const crypto::Registry& r = sa.services().registry;
    bool saw_src = false;
    bool src_match = false;
    bool dst_match = true;
    bool saw_dst = false;
    for (const Payload& p : ps) {
        const auto* n = p.as<wire::NotifyPayload>();
        if (n == nullptr) {
            continue;
        }
        if (n->type == NotifyType::kNatDetectionSourceIp) {
            saw_src = true;
            auto h = nat_hash(r, sa.spi_i(), spi_r, sa.remote());
            src_match = src_match || (h && *h == n->data);
        } else if (n->type == NotifyType::kNatDetectionDestinationIp) {
            saw_dst = true;
            auto h = nat_hash(r, sa.spi_i(), spi_r, sa.local());
            dst_match = h && *h == n->data;
        }
    }
    if (saw_src && saw_dst) {
        sa.set_nat(!dst_match, !src_match);
    }
    log_nat(sa, saw_src && saw_dst && !dst_match, saw_src && saw_dst && !src_match, step);
    return saw_src && saw_dst;
}

/// Moves the IKE SA to port 4500 when a NAT is in the way (RFC 7296 §2.23), or when we offer
/// MOBIKE to a peer that does NAT traversal (`mobike`: RFC 4555 §3.3, even without a NAT).
void float_ports(IkeSa& sa, bool mobike) {
    if ((!sa.udp_encap() && !mobike) || sa.local().port == 4500) {
        return;
    }
    Endpoint local = sa.local();
    Endpoint remote = sa.remote();
    local.port = 4500;
    if (remote.port == 500) {
        remote.port = 4500;
    }
    IKE_LOG(debug, sa, "switching to port 4500: {} - {}", local, remote);
    sa.set_endpoints(local, remote);
}

/// What an IKE_SA_INIT response tells of the responder: NAT detection (returns whether it does
/// NAT traversal), fragmentation, the hash algorithms it verifies with, RFC 4739.
bool note_responder(IkeSa& sa, std::span<const Payload> resp, IkeSpi spi_r, const Step& step) {
    Handshake& hs = sa.handshake();
    const bool peer_natt = detect_nat(sa, resp, spi_r, step);
    sa.set_peer_fragmentation(has_notify(resp, NotifyType::kIkev2FragmentationSupported));
    hs.peer_hashes = parse_hashes(find_notify(resp, NotifyType::kSignatureHashAlgorithms));
    hs.peer_multiple_auth = has_notify(resp, NotifyType::kMultipleAuthSupported);
    return peer_natt;
}

Result<crypto::IkeKeys> derive_keys(IkeSa& sa, const IkeAlgorithms& a, ByteView g_ir) {
    const crypto::Prf prf(sa.services().registry, *a.suite.prf);
    const Handshake& hs = sa.handshake();
    const SecretBytes seed = IKEPLEX_TRY(crypto::skeyseed(prf, hs.ni, hs.nr, g_ir));
    return crypto::derive_ike_keys(prf, a.suite, seed.view(), hs.ni, hs.nr, sa.spi_i(), sa.spi_r());
}

class IkeInit final : public Exchange {
public:
    [[nodiscard]] wire::ExchangeType type() const noexcept override {
        return wire::ExchangeType::kIkeSaInit;
    }
    [[nodiscard]] const char* name() const noexcept override { return "IKE_SA_INIT"; }

    Result<std::vector<Payload>> build(IkeSa& sa, Step& /*step*/) override {
        const PeerConfig& cfg = *sa.config();
        if (cfg.ike_proposals.empty()) {
            return make_error(Errc::kConfig, "no IKE proposals configured");
        }
        Handshake& hs = sa.handshake();
        if (!hs.ke) {
            group_ = group_ != 0 ? group_ : ke_method(cfg.ike_proposals.front());
            hs.ke = IKEPLEX_TRY(sa.make_ke(group_));
        }
        if (hs.ni.empty()) {
            hs.ni = sa.make_nonce();
        }
        std::vector<Payload> out;
        if (!cookie_.empty()) {
            out.push_back(wire::make_notify(NotifyType::kCookie, cookie_));  // first (§2.6)
        }
        out.push_back(wire::make_payload(wire::SaPayload{cfg.ike_proposals}));
        out.push_back(wire::make_payload(wire::KePayload{
                group_, Bytes(hs.ke->public_value().begin(), hs.ke->public_value().end())}));
        out.push_back(wire::make_payload(wire::NoncePayload{hs.ni}));
        IKEPLEX_TRY(append_natd(sa.services().registry, sa.spi_i(), IkeSpi(0), sa.local(),
                                sa.remote(), fakes_nat(sa), sa.services().random, out));
        if (cfg.fragmentation) {
            out.push_back(wire::make_notify(NotifyType::kIkev2FragmentationSupported));
        }
        if (offers_additional_ke(cfg.ike_proposals)) {
            out.push_back(wire::make_notify(NotifyType::kIntermediateExchangeSupported));
        }
        out.push_back(
                wire::make_notify(NotifyType::kSignatureHashAlgorithms, hash_algorithms_data()));
        if (ppk::wanted(cfg)) {
            out.push_back(wire::make_notify(NotifyType::kUsePpk));  // RFC 8784 §3
        }
        append_redirect_support(sa, out);  // RFC 5685, last as strongSwan sends it
        return out;
    }

    Outcome process(IkeSa& sa, const wire::Header& h, std::vector<Payload>& resp,
                    Step& step) override {
        const PeerConfig& cfg = *sa.config();
        if (follow_init_redirect(sa, resp, step)) {
            return Outcome::kDone;  // RFC 5685 §3: the connection goes to another gateway
        }
        if (const auto* cookie = find_notify(resp, NotifyType::kCookie)) {
            if (++cookie_tries_ > sa.services().settings.max_cookie_retries) {
                sa.destroy("too many COOKIE requests", step);
                return Outcome::kDone;
            }
            IKE_LOG(info, sa, "received COOKIE, retrying IKE_SA_INIT with it");
            cookie_ = cookie->data;
            return Outcome::kResend;
        }
        if (const auto* inval = find_notify(resp, NotifyType::kInvalidKePayload)) {
            const auto wanted = static_cast<std::uint16_t>((inval->data[0] << 8U) | inval->data[1]);
            const auto ours = ke_methods(cfg.ike_proposals);
            if (std::find(ours.begin(), ours.end(), wanted) == ours.end() || wanted == group_ ||
                ++ke_tries_ > 2) {
                IKE_LOG(info, sa, "peer asks for {}, which we do not offer",
                        wire::transform_name(wire::TransformType::kKe, wanted));
                sa.destroy("no common key exchange method", step);
                return Outcome::kDone;
            }
            IKE_LOG(info, sa, "peer didn't accept {}, it requested {}",
                    wire::transform_name(wire::TransformType::kKe, group_),
                    wire::transform_name(wire::TransformType::kKe, wanted));
            group_ = wanted;
            sa.handshake().ke.reset();
            return Outcome::kResend;
        }
        if (const auto* err = first_error(resp)) {
            if (err->type == NotifyType::kNoProposalChosen) {
                IKE_LOG(info, sa,
                        "received NO_PROPOSAL_CHOSEN notify error: the peer accepts none of our "
                        "proposals: {}",
                        describe(cfg.ike_proposals));
            } else {
                IKE_LOG(info, sa, "IKE_SA_INIT failed: peer answered {}",
                        wire::to_string(err->type));
            }
            sa.destroy(wire::to_string(err->type).c_str(), step);
            return Outcome::kDone;
        }
        const auto* sa_payload = find_payload<wire::SaPayload>(resp, PayloadType::kSa);
        const auto* ke = find_payload<wire::KePayload>(resp, PayloadType::kKe);
        const auto* nr = find_payload<wire::NoncePayload>(resp, PayloadType::kNonce);
        if (sa_payload->proposals.size() != 1 ||
            !verify_chosen(sa_payload->proposals[0], cfg.ike_proposals) || h.spi_r.value() == 0) {
            IKE_LOG(info, sa, "the peer selected {}, which is not one of our proposals: {}",
                    describe(sa_payload->proposals), describe(cfg.ike_proposals));
            sa.destroy("peer chose an unacceptable IKE proposal", step);
            return Outcome::kDone;
        }
        auto algorithms = ike_algorithms(sa.services().registry, sa_payload->proposals[0]);
        if (!algorithms || algorithms->ke != group_ || ke->group != group_) {
            sa.destroy("peer's key exchange does not match its proposal", step);
            return Outcome::kDone;
        }
        Handshake& hs = sa.handshake();
        sa.set_spis(sa.spi_i(), h.spi_r);
        hs.nr = nr->data;
        const bool peer_natt = note_responder(sa, resp, h.spi_r, step);
        auto g_ir = hs.ke->shared_secret(ke->data);
        if (!g_ir) {
            sa.destroy("invalid key exchange value from the peer", step);
            return Outcome::kDone;
        }
        auto keys = derive_keys(sa, *algorithms, g_ir->view());
        if (!keys || !sa.set_crypto(*algorithms, std::move(*keys)) ||
            !begin_intermediate(sa, *algorithms, resp, step)) {
            sa.destroy("IKE SA keys not established", step);
            return Outcome::kDone;
        }
        hs.ke.reset();
        IKE_LOG(info, sa, "selected proposal: {}", describe(sa_payload->proposals[0]));
        note_legacy_choice(sa, sa_payload->proposals[0], "IKE_SA", step);
        float_ports(sa, peer_natt && cfg.mobike);
        return Outcome::kDone;
    }

private:
    std::uint16_t group_{0};
    Bytes cookie_;
    std::uint32_t cookie_tries_{0};
    std::uint32_t ke_tries_{0};
};

bool address_allowed(const std::vector<IpAddress>& allowed, const IpAddress& a) {
    return allowed.empty() || std::find(allowed.begin(), allowed.end(), a) != allowed.end();
}

/// The connections for the addresses of an IKE_SA_INIT request that accept the first proposal
/// one of them accepts, and that proposal; `by_address`: every connection for the addresses.
struct Candidates {
    std::vector<ConfigPtr> accepting;
    std::optional<wire::Proposal> chosen;
    std::vector<ConfigPtr> by_address;
};

Candidates candidates_for(SaRegistry& registry, const InitRequest& req,
                          const wire::SaPayload& offered) {
    Candidates out;
    for (const ConfigPtr& shared : registry.configs().items()) {
        const PeerConfig& c = *shared;
        if (!address_allowed(c.local_addrs, req.local.address) ||
            !address_allowed(c.remote_addrs, req.remote.address)) {
            continue;
        }
        out.by_address.push_back(shared);
        auto sel = select_proposal(offered.proposals, c.ike_proposals);
        if (!sel) {
            continue;
        }
        if (!out.chosen) {
            out.chosen = *sel;
        }
        if (select_proposal(std::span<const wire::Proposal>(&*out.chosen, 1), c.ike_proposals)) {
            out.accepting.push_back(shared);
        }
    }
    return out;
}

/// Why an IKE_SA_INIT request gets NO_PROPOSAL_CHOSEN, as strongSwan says it: no connection
/// for its addresses, or the proposals received and configured (rate-limited: anyone can send
/// these).
void log_no_proposal(Services& services, const Step& step, const InitRequest& req,
                     const wire::SaPayload& offered, const Candidates& c) {
    if (c.by_address.empty()) {
        PEER_LOG(services.peer_log, step.now, info, log::Subsystem::kCfg,
                 "no IKE config found for {}...{}, sending NO_PROPOSAL_CHOSEN", req.local.address,
                 req.remote.address);
        return;
    }
    std::vector<wire::Proposal> configured;
    for (const ConfigPtr& conn : c.by_address) {
        for (const wire::Proposal& p : conn->ike_proposals) {
            const bool seen = std::any_of(configured.begin(), configured.end(), [&](const auto& q) {
                return q.transforms == p.transforms;
            });
            if (!seen) {
                configured.push_back(p);
            }
        }
    }
    PEER_LOG(services.peer_log, step.now, info, log::Subsystem::kCfg, "{} received proposals: {}",
             req.remote, describe(offered.proposals));
    PEER_LOG(services.peer_log, step.now, info, log::Subsystem::kCfg, "{} configured proposals: {}",
             req.remote, describe(configured));
    PEER_LOG(services.peer_log, step.now, info, log::Subsystem::kIke,
             "{} no matching proposal found, sending NO_PROPOSAL_CHOSEN", req.remote);
}

/// The IKE_SA_INIT response: SA, KE, Nr, NAT detection, [CERTREQ], [FRAG_SUP], HASH_ALG; no
/// payloads if it cannot be built.
wire::Message init_response(Services& services, const InitRequest& req, IkeSa& new_sa,
                            const wire::Proposal& chosen, const crypto::KeyExchange& own_ke,
                            const std::vector<ConfigPtr>& candidates) {
    wire::Message resp;
    resp.header = req.message.header;
    resp.header.spi_r = req.spi_r;
    resp.header.flags = wire::kFlagResponse;
    resp.payloads.push_back(wire::make_payload(wire::SaPayload{{chosen}}));
    resp.payloads.push_back(wire::make_payload(wire::KePayload{
            own_ke.info().id, Bytes(own_ke.public_value().begin(), own_ke.public_value().end())}));
    resp.payloads.push_back(wire::make_payload(wire::NoncePayload{new_sa.handshake().nr}));
    if (!append_natd(services.registry, new_sa.spi_i(), new_sa.spi_r(), req.local, req.remote,
                     fakes_nat(new_sa), services.random, resp.payloads)) {
        return wire::Message{resp.header, {}};
    }
    // CERTREQ when a certificate is expected from the initiator (RFC 7296 §3.7).
    if (std::any_of(candidates.begin(), candidates.end(),
                    [](const ConfigPtr& c) { return c->remote.kind == AuthKind::kPubkey; })) {
        if (Bytes certreq = services.credentials.certreq_data(); !certreq.empty()) {
            resp.payloads.push_back(wire::make_payload(
                    wire::CertReqPayload{wire::CertEncoding::kX509Signature, std::move(certreq)}));
        }
    }
    if (candidates.front()->fragmentation && new_sa.peer_fragmentation()) {
        resp.payloads.push_back(wire::make_notify(NotifyType::kIkev2FragmentationSupported));
    }
    // RFC 9242 §3.1: we support IKE_INTERMEDIATE and say so to an initiator that does.
    if (has_notify(req.message.payloads, NotifyType::kIntermediateExchangeSupported)) {
        resp.payloads.push_back(wire::make_notify(NotifyType::kIntermediateExchangeSupported));
    }
    resp.payloads.push_back(
            wire::make_notify(NotifyType::kSignatureHashAlgorithms, hash_algorithms_data()));
    // RFC 4739 §2.1: the responder announces multiple authentication rounds here, where a
    // connection it may pick asks for a second round of the peer's.
    if (std::any_of(candidates.begin(), candidates.end(),
                    [](const ConfigPtr& c) { return !c->remote_more.empty(); })) {
        resp.payloads.push_back(wire::make_notify(NotifyType::kMultipleAuthSupported));
    }
    if (ppk::offered(services.credentials, req.message.payloads)) {  // RFC 8784 §3
        resp.payloads.push_back(wire::make_notify(NotifyType::kUsePpk));
        new_sa.handshake().use_ppk = true;
    }
    return resp;
}

/// The lines of a new half-open SA: an initiator that returns COOKIEs from many addresses can
/// cause them at will, so they are rate-limited too.
void log_half_open(Services& services, const Step& step, const IkeSa& sa, const InitRequest& req,
                   const wire::Proposal& chosen, const wire::Message& resp) {
    PEER_LOG(services.peer_log, step.now, info, log::Subsystem::kEnc, "{} generating {}",
             sa.label(), wire::describe(resp));
    PEER_LOG(services.peer_log, step.now, info, log::Subsystem::kIke,
             "{} {} is initiating an IKE_SA; selected proposal: {}", sa.label(), req.remote,
             describe(chosen));
}

}  // namespace

Result<Bytes> nat_hash(const crypto::Registry& r, IkeSpi spi_i, IkeSpi spi_r, const Endpoint& e) {
    const auto i = be64(spi_i.value());
    const auto rr = be64(spi_r.value());
    const std::array<std::uint8_t, 2> port = {static_cast<std::uint8_t>(e.port >> 8U),
                                              static_cast<std::uint8_t>(e.port)};
    return crypto::hash(r, "SHA1", {i, rr, e.address.bytes(), port});
}

Status append_natd(const crypto::Registry& r, IkeSpi spi_i, IkeSpi spi_r, const Endpoint& local,
                   const Endpoint& remote, bool fake, Random& random, std::vector<Payload>& out) {
    Bytes src = IKEPLEX_TRY(nat_hash(r, spi_i, spi_r, local));
    if (fake) {
        src = random.bytes(src.size());
    }
    out.push_back(wire::make_notify(NotifyType::kNatDetectionSourceIp, std::move(src)));
    out.push_back(wire::make_notify(NotifyType::kNatDetectionDestinationIp,
                                    IKEPLEX_TRY(nat_hash(r, spi_i, spi_r, remote))));
    return ok();
}

bool fakes_nat(const IkeSa& sa) {
    return sa.services().settings.force_encap ||
           (sa.config() != nullptr && sa.config()->force_encap);
}

ExchangePtr make_ike_init() {
    return std::make_unique<IkeInit>();
}

InitAnswer respond_ike_sa_init(Services& services, SaRegistry& registry, const InitRequest& req,
                               Step& step) {
    InitAnswer answer;
    const std::span<const Payload> ps = req.message.payloads;
    const auto reply_error = [&](NotifyType t, Bytes data) {
        wire::Header h = req.message.header;
        h.flags = wire::kFlagResponse;
        h.spi_r = IkeSpi(0);
        answer.reply = wire::write_message(wire::Message{h, error_response(t, std::move(data))})
                               .value_or(Bytes{});
        return std::move(answer);
    };
    const auto* sa_payload = find_payload<wire::SaPayload>(ps, PayloadType::kSa);
    const auto* ke = find_payload<wire::KePayload>(ps, PayloadType::kKe);
    const auto* ni = find_payload<wire::NoncePayload>(ps, PayloadType::kNonce);
    Candidates found = candidates_for(registry, req, *sa_payload);
    if (!found.chosen) {
        log_no_proposal(services, step, req, *sa_payload, found);
        return reply_error(NotifyType::kNoProposalChosen, {});
    }
    const std::vector<ConfigPtr>& candidates = found.accepting;
    const wire::Proposal* chosen = &*found.chosen;
    auto algorithms = ike_algorithms(services.registry, *chosen);
    if (!algorithms) {
        return reply_error(NotifyType::kNoProposalChosen, {});
    }
    if (ke->group != algorithms->ke) {
        // RFC 7296 §1.2: tell the initiator which group we want; no state is kept.
        PEER_LOG(services.peer_log, step.now, info, log::Subsystem::kIke,
                 "{} peer sent {}, requesting {}", req.remote,
                 wire::transform_name(wire::TransformType::kKe, ke->group),
                 wire::transform_name(wire::TransformType::kKe, algorithms->ke));
        return reply_error(NotifyType::kInvalidKePayload,
                           Bytes{static_cast<std::uint8_t>(algorithms->ke >> 8U),
                                 static_cast<std::uint8_t>(algorithms->ke)});
    }
    auto sa = std::make_unique<IkeSa>(services, registry, req.id, false, req.local, req.remote);
    sa->set_config(candidates.front());
    Handshake& hs = sa->handshake();
    hs.candidates = candidates;
    sa->set_spis(req.message.header.spi_i, req.spi_r);
    sa->transition(IkeState::kConnecting, "IKE_SA_INIT received");
    hs.ni = ni->data;
    hs.nr = sa->make_nonce();
    auto own_ke = sa->make_ke(algorithms->ke);
    if (!own_ke) {
        return reply_error(NotifyType::kNoProposalChosen, {});
    }
    auto g_ir = (*own_ke)->respond(ke->data);
    if (!g_ir) {
        PEER_LOG(services.peer_log, step.now, info, log::Subsystem::kIke,
                 "{} invalid KE value in IKE_SA_INIT: {}", req.remote, g_ir.error().detail);
        return reply_error(NotifyType::kInvalidSyntax, {});
    }
    auto keys = derive_keys(*sa, *algorithms, g_ir->view());
    if (!keys || !sa->set_crypto(*algorithms, std::move(*keys)) ||
        !begin_intermediate(*sa, *algorithms, ps, step)) {
        return reply_error(NotifyType::kNoProposalChosen, {});
    }
    note_legacy_choice(*sa, *chosen, "IKE_SA", step);
    (void)detect_nat(*sa, ps, IkeSpi(0), step);
    note_redirect_support(*sa, ps);
    sa->set_peer_fragmentation(has_notify(ps, NotifyType::kIkev2FragmentationSupported));
    hs.peer_hashes = parse_hashes(find_notify(ps, NotifyType::kSignatureHashAlgorithms));
    hs.peer_init_message.assign(req.raw.begin(), req.raw.end());

    wire::Message resp = init_response(services, req, *sa, *chosen, **own_ke, candidates);
    if (resp.payloads.empty()) {
        return reply_error(NotifyType::kNoProposalChosen, {});
    }
    auto bytes = wire::write_message(resp);
    if (!bytes) {
        return reply_error(NotifyType::kNoProposalChosen, {});
    }
    log_half_open(services, step, *sa, req, *chosen, resp);
    sa->record_init_response(*bytes);
    answer.reply = std::move(*bytes);
    services.timers.set({sa->id(), TimerKind::kHalfOpen, 0},
                        step.now + services.settings.half_open_timeout);
    answer.sa = std::move(sa);
    return answer;
}

}  // namespace ikeplex::ike
