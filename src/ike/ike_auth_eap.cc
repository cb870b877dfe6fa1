// IKE_AUTH with EAP, responder side (RFC 7296 §2.16, RFC 5998): the first request without
// AUTH picks a connection with `remote.auth = eap[-method]` and answers IDr, [CERT,] AUTH
// (none for EAP-only) and the first EAP request; each following request carries the peer's EAP
// response and gets the next request, EAP-Success or EAP-Failure; after EAP-Success the
// peer's AUTH from the MSK is checked and the final response carries ours, and what the first
// request asked for (the Child SA; configuration payloads belong there too).
#include <memory>
#include <string>

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
    std::unique_ptr<EapServerSide> server;
    wire::IdPayload idi;         ///< the peer's, from the first request (its AUTH covers it)
    wire::IdPayload idr;         ///< ours, as sent (our final AUTH covers it)
    std::vector<Payload> first;  ///< the first request: what the final response answers
    bool succeeded{false};       ///< EAP-Success sent; the peer's AUTH comes next
};

Response auth_failed() {
    return Response{error_response(NotifyType::kAuthenticationFailed), true};
}

}  // namespace

bool ike_auth_eap_under_way(IkeSa& sa) {
    return sa.states().find<EapResponder>() != nullptr;
}

Response start_ike_auth_eap(IkeSa& sa, std::vector<Payload>& request, Step& step) {
    const auto* idi = find_payload<wire::IdPayload>(request, PayloadType::kIdi);
    const auto* idr = find_payload<wire::IdPayload>(request, PayloadType::kIdr);
    const Identity peer = Identity::from_payload(*idi);
    const ConfigPtr cfg = auth::auth_config(sa, peer, idr, nullptr, step);
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
    auto& st = sa.states().get<EapResponder>();
    const Bytes first_id = sa.services().random.bytes(1);
    st.server = std::make_unique<EapServerSide>(sa.services(), *cfg, peer, sa.local_id(),
                                                first_id.front(), sa.label());
    EapServerSide::Reply r = st.server->start(step.unix_time);
    if (r.kind != EapServerSide::Reply::Kind::kRequest) {
        IKE_LOG(info, sa, "cannot start EAP for '{}': {}", peer.to_string(), r.reason);
        sa.states().drop<EapResponder>();
        return auth_failed();
    }
    out.push_back(wire::make_payload(std::move(r.packet)));
    st.idi = *idi;
    st.idr = own_id;
    st.first = request;
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
    if (auth == nullptr || !auth::eap_auth_verify(sa, true, st.idi, *auth, st.server->msk())) {
        PEER_LOG(sa.services().peer_log, step.now, info, log::Subsystem::kIke,
                 "{} verification of AUTH payload with EAP MSK failed, sending "
                 "AUTHENTICATION_FAILED",
                 sa.label());
        sa.states().drop<EapResponder>();
        return auth_failed();
    }
    IKE_LOG(info, sa, "authentication of '{}' with EAP successful", sa.remote_id().to_string());
    sa.set_remote_eap_id(st.server->peer_identity());
    auto own_auth = auth::eap_auth(sa, false, st.idr, st.server->msk());
    if (!own_auth) {
        IKE_LOG(error, sa, "cannot authenticate ourselves: {}", own_auth.error().detail);
        sa.states().drop<EapResponder>();
        return auth_failed();
    }
    IKE_LOG(info, sa, "authentication of '{}' (myself) with EAP", sa.local_id().to_string());
    std::vector<Payload> out{std::move(*own_auth)};
    const std::vector<Payload> first = std::move(st.first);
    sa.states().drop<EapResponder>();
    complete_ike_auth(sa, first, out, step);
    return out;
}

}  // namespace ikeplex::ike
