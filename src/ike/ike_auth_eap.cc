// IKE_AUTH with EAP, responder side (RFC 7296 §2.16, RFC 5998): the first request without
// AUTH picks a connection with `remote.auth = eap[-method]` and answers IDr, [CERT,] AUTH
// (none for EAP-only) and the first EAP request; each following request carries the peer's EAP
// response and gets the next request, EAP-Success or EAP-Failure; after EAP-Success the
// peer's AUTH from the MSK is checked and the final response carries ours, and what the first
// request asked for (the Child SA; configuration payloads belong there too).
#include <memory>
#include <string>

#include "ike/config_payload.h"
#include "ike/eap_conversation.h"
#include "ike/exchanges.h"
#include "ike/ike_auth_common.h"
#include "ike/payload_access.h"
#include "util/log.h"
#include "wire/notify_codes.h"

namespace ikeplex::ike {

using wire::NotifyType;
using wire::Payload;
using wire::PayloadType;

namespace {

/// The responder's EAP conversation between the first IKE_AUTH request and the last.
struct EapResponder final : ExchangeState {
    /// The connection whose `remote` runs this conversation: the SA's, or for an RFC 4739
    /// second round one with `remote-2` as `remote` (the server refers to it).
    ConfigPtr round;
    std::unique_ptr<EapServerSide> server;
    wire::IdPayload idi;         ///< the peer's, from the first request (its AUTH covers it)
    wire::IdPayload idr;         ///< ours, as sent (our final AUTH covers it)
    std::vector<Payload> first;  ///< the first request: what the final response answers
    bool succeeded{false};       ///< EAP-Success sent; the peer's AUTH comes next
    // EAP-RADIUS (eap_backend.h): the backend runs the method, we relay.
    bool relay{false};
    bool waiting{false};      ///< a query is out, the IKE_AUTH response held back
    std::uint32_t seq{0};     ///< queries so far
    std::uint8_t last_id{0};  ///< identifier of the peer's last EAP response
    std::string identity;     ///< the peer's EAP identity
    eap::Msk msk;             ///< from the backend's accept
};

Response auth_failed() {
    return Response{error_response(NotifyType::kAuthenticationFailed), true};
}

/// The EAP payload's packet, whole (RFC 3748 §4), for the backend.
Bytes whole_packet(const wire::EapPayload& p) {
    const auto length = static_cast<std::uint16_t>(4 + p.data.size());
    Bytes b{static_cast<std::uint8_t>(p.code), p.identifier,
            static_cast<std::uint8_t>(length >> 8U), static_cast<std::uint8_t>(length)};
    b.insert(b.end(), p.data.begin(), p.data.end());
    return b;
}

/// EAP-RADIUS: the peer's response goes to the backend; the answer waits for it.
Response relay_round(IkeSa& sa, EapResponder& st, const wire::EapPayload& in, Step& step) {
    if (st.waiting || ++st.seq > sa.services().settings.max_eap_rounds ||
        in.code != wire::EapCode::kResponse || in.data.empty()) {
        sa.states().drop<EapResponder>();
        return auth_failed();
    }
    st.last_id = in.identifier;
    if (st.identity.empty()) {
        // The first response answers our EAP-Identity request.
        if (in.data.front() != static_cast<std::uint8_t>(eap::Type::kIdentity) ||
            !usable_identity(ByteView(in.data).subspan(1))) {
            sa.states().drop<EapResponder>();
            return auth_failed();
        }
        st.identity.assign(in.data.begin() + 1, in.data.end());
        // `remote.eap_id` names the one identity the connection accepts (%any: any); the
        // round's `remote` (RFC 4739: remote-2's in a second round).
        const auto& want = st.round->remote.eap_id;
        if (want && !want->any) {
            const auto got = Identity::parse(st.identity);
            if (!got || !want->matches(*got)) {
                IKE_LOG(info, sa, "EAP identity '{}' is not the required EAP identity '{}'",
                        st.identity, want->to_string());
                sa.states().drop<EapResponder>();
                return auth_failed();
            }
        }
        IKE_LOG(info, sa, "received EAP identity '{}', asking the AAA backend", st.identity);
    }
    step.out.eap_queries.push_back(EapBackendQuery{sa.id(), st.seq, st.identity, whole_packet(in)});
    st.waiting = true;
    Response held;
    held.deferred = true;
    return held;
}

}  // namespace

bool ike_auth_eap_under_way(IkeSa& sa) {
    return sa.states().find<EapResponder>() != nullptr;
}

Response start_ike_auth_eap(IkeSa& sa, std::vector<Payload>& request, Step& step) {
    const auto* idi = find_payload<wire::IdPayload>(request, PayloadType::kIdi);
    const auto* idr = find_payload<wire::IdPayload>(request, PayloadType::kIdr);
    const Identity peer = Identity::from_payload(*idi);
    const ConfigPtr cfg =
            auth::auth_config(sa, peer, idr, nullptr, auth::peer_rounds(request), step);
    if (cfg == nullptr) {
        return auth_failed();
    }
    sa.set_config(cfg);
    sa.set_remote_id(peer);
    sa.set_local_id(auth::local_identity(sa));
    std::vector<Payload> out;
    const wire::IdPayload own_id = sa.local_id().to_payload();
    out.push_back(wire::make_idr(own_id));
    if (cfg->local.kind == AuthKind::kEap) {
        // RFC 5998: we authenticate only through the (mutual) EAP method, if the peer agrees.
        if (!has_notify(request, NotifyType::kEapOnlyAuthentication)) {
            PEER_LOG(sa.services().peer_log, step.now, info, log::Subsystem::kIke,
                     "{} configured EAP-only authentication, but peer does not support it",
                     sa.label());
            return auth_failed();
        }
    } else if (auto ok = auth::append_auth(sa, own_id, out); !ok) {
        IKE_LOG(error, sa, "cannot authenticate ourselves: {}", ok.error().detail);
        return auth_failed();
    }
    return open_eap_round(sa, cfg, peer, *idi, own_id, request, std::move(out), step);
}

Response open_eap_round(IkeSa& sa, ConfigPtr round, const Identity& peer,
                        const wire::IdPayload& idi, const wire::IdPayload& idr,
                        std::vector<Payload> first, std::vector<Payload> out, Step& step) {
    auto& st = sa.states().get<EapResponder>();
    st.round = std::move(round);
    st.idi = idi;
    st.idr = idr;
    st.first = std::move(first);
    const Bytes first_id = sa.services().random.bytes(1);
    if (st.round->remote.eap_radius) {
        // The AAA backend picks the method; we ask for the identity it needs first.
        st.relay = true;
        out.push_back(wire::make_payload(
                wire::EapPayload{wire::EapCode::kRequest, first_id.front(),
                                 Bytes{static_cast<std::uint8_t>(eap::Type::kIdentity)}}));
        return out;
    }
    st.server = std::make_unique<EapServerSide>(sa.services(), *st.round, peer, sa.local_id(),
                                                first_id.front(), sa.label());
    EapServerSide::Reply r = st.server->start(step.unix_time);
    if (r.kind != EapServerSide::Reply::Kind::kRequest) {
        IKE_LOG(info, sa, "cannot start EAP for '{}': {}", peer.to_string(), r.reason);
        sa.states().drop<EapResponder>();
        return auth_failed();
    }
    out.push_back(wire::make_payload(std::move(r.packet)));
    return out;
}

Response respond_ike_auth_eap(IkeSa& sa, std::vector<Payload>& request, Step& step) {
    auto& st = *sa.states().find<EapResponder>();
    if (!st.succeeded) {
        const auto* eap = find_payload<wire::EapPayload>(request, PayloadType::kEap);
        if (eap == nullptr) {
            PEER_LOG(sa.services().peer_log, step.now, info, log::Subsystem::kIke,
                     "{} IKE_AUTH request without the EAP payload the round needs", sa.label());
            sa.states().drop<EapResponder>();
            return auth_failed();
        }
        if (st.relay) {
            return relay_round(sa, st, *eap, step);
        }
        EapServerSide::Reply r = st.server->on_payload(*eap, step.unix_time);
        const std::string method =
                eap_type_name(static_cast<std::uint8_t>(st.server->method_type()));
        switch (r.kind) {
            case EapServerSide::Reply::Kind::kRequest:
                return std::vector<Payload>{wire::make_payload(std::move(r.packet))};
            case EapServerSide::Reply::Kind::kSuccess:
                st.succeeded = true;
                IKE_LOG(info, sa, "EAP method {} succeeded, {}", method,
                        st.server->msk().empty() ? "no MSK established" : "MSK established");
                return std::vector<Payload>{wire::make_payload(std::move(r.packet))};
            case EapServerSide::Reply::Kind::kFailure:
                break;
        }
        // strongSwan answers EAP-Failure alone (no AUTHENTICATION_FAILED) and ends the SA.
        PEER_LOG(sa.services().peer_log, step.now, info, log::Subsystem::kIke,
                 "{} EAP method {} failed for peer '{}': {}", sa.label(), method,
                 st.server->peer_identity(), r.reason);
        Response failure{std::vector<Payload>{wire::make_payload(std::move(r.packet))}, true};
        sa.states().drop<EapResponder>();
        return failure;
    }
    const auto* auth = find_payload<wire::AuthPayload>(request, PayloadType::kAuth);
    const eap::Msk& msk = st.server ? st.server->msk() : st.msk;
    if (auth == nullptr || !auth::eap_auth_verify(sa, true, st.idi, *auth, msk)) {
        PEER_LOG(sa.services().peer_log, step.now, info, log::Subsystem::kIke,
                 "{} verification of AUTH payload with EAP MSK failed, sending "
                 "AUTHENTICATION_FAILED",
                 sa.label());
        sa.states().drop<EapResponder>();
        return auth_failed();
    }
    IKE_LOG(info, sa, "authentication of '{}' with EAP successful", sa.remote_id().to_string());
    sa.set_remote_eap_id(st.server ? st.server->peer_identity() : st.identity);
    auto own_auth = auth::eap_auth(sa, false, st.idr, msk);
    if (!own_auth) {
        IKE_LOG(error, sa, "cannot authenticate ourselves: {}", own_auth.error().detail);
        sa.states().drop<EapResponder>();
        return auth_failed();
    }
    IKE_LOG(info, sa, "authentication of '{}' (myself) with EAP", sa.local_id().to_string());
    std::vector<Payload> out{std::move(*own_auth)};
    const std::vector<Payload> first = std::move(st.first);
    sa.states().drop<EapResponder>();
    return complete_ike_auth(sa, first, out, step);
}

namespace {

/// The relayed authentication failed: EAP-Failure in the held-back response, the SA ends.
void fail_relay(IkeSa& sa, EapResponder& st, const char* why, Step& step) {
    IKE_LOG(info, sa, "EAP-RADIUS authentication of '{}' failed: {}", st.identity, why);
    Response r{{wire::make_payload(wire::EapPayload{wire::EapCode::kFailure, st.last_id, {}})},
               true};
    sa.states().drop<EapResponder>();
    sa.answer_deferred(std::move(r), step);
}

}  // namespace

void on_eap_backend_timeout(IkeSa& sa, Step& step) {
    auto* st = sa.states().find<EapResponder>();
    if (st != nullptr && st->relay && st->waiting) {
        IKE_LOG(info, sa, "the AAA backend did not answer in time");
        fail_relay(sa, *st, "no answer", step);
    }
}

void on_eap_backend_answer(IkeSa& sa, std::uint32_t seq, EapBackendAnswer answer, Step& step) {
    auto* st = sa.states().find<EapResponder>();
    if (st == nullptr || !st->relay || !st->waiting || seq != st->seq) {
        IKE_LOG(debug, sa, "AAA answer {} not awaited, ignored", seq);
        return;
    }
    st->waiting = false;
    const auto failure = [&](const char* why) { fail_relay(sa, *st, why, step); };
    switch (answer.kind) {
        case EapBackendAnswer::Kind::kRequest: {
            auto pkt = eap::decode(answer.eap);
            if (!pkt || pkt->code != eap::Code::kRequest) {
                failure("the AAA backend sent no EAP request");
                return;
            }
            Bytes data{static_cast<std::uint8_t>(pkt->type)};
            data.insert(data.end(), pkt->type_data.begin(), pkt->type_data.end());
            sa.answer_deferred(std::vector<Payload>{wire::make_payload(wire::EapPayload{
                                       wire::EapCode::kRequest, pkt->identifier, std::move(data)})},
                               step);
            return;
        }
        case EapBackendAnswer::Kind::kAccept:
            st->succeeded = true;
            st->msk = std::move(answer.msk);
            if (answer.framed_ip) {
                sa.states().get<VirtualIps>().framed = answer.framed_ip;
            }
            IKE_LOG(info, sa, "EAP-RADIUS authentication of '{}' succeeded, {}", st->identity,
                    st->msk.empty() ? "no MSK established" : "MSK established");
            sa.answer_deferred(std::vector<Payload>{wire::make_payload(
                                       wire::EapPayload{wire::EapCode::kSuccess, st->last_id, {}})},
                               step);
            return;
        case EapBackendAnswer::Kind::kReject:
            break;
    }
    failure("rejected");
}

}  // namespace ikeplex::ike
