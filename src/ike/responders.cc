// The responders of the engine, by the requests they take (the IKE_SA_INIT responder, which
// makes the IKE SA, is the manager's: ike_init.h). A new exchange registers its responder here.
#include "ike/exchange_rules.h"
#include "ike/exchanges.h"
#include "ike/followup_ke.h"
#include "ike/ike_intermediate.h"
#include "util/log.h"
#include "wire/describe.h"
#include "wire/names.h"

namespace ikeplex::ike {
namespace {

using wire::ExchangeType;

struct Responder {
    ExchangeType type;
    /// Whether the responder takes this request (null: every request of `type`).
    bool (*takes)(std::span<const wire::Payload> request);
    Response (*respond)(IkeSa& sa, std::vector<wire::Payload>& request, Step& step);
};

/// First match wins.
constexpr Responder kResponders[] = {
        {ExchangeType::kIkeAuth, nullptr, respond_ike_auth},
        {ExchangeType::kCreateChildSa, rekeys_ike_sa, respond_ike_rekey},
        {ExchangeType::kCreateChildSa, nullptr, respond_create_child_sa},
        {ExchangeType::kInformational, nullptr, respond_informational},
        {ExchangeType::kIkeFollowupKe, nullptr, respond_followup_ke},
        {ExchangeType::kIkeIntermediate, nullptr, respond_ike_intermediate},
};

}  // namespace

Response answer_request(IkeSa& sa, const wire::Header& h, std::vector<wire::Payload>& request,
                        Step& step) {
    // Exchange variant rules first (the second check before any handler, anchors.md B.3).
    if (auto variant = check_request(h.exchange, request); !variant) {
        PEER_LOG(sa.services().peer_log, step.now, info, log::Subsystem::kIke,
                 "{} {} request rejected: {}", sa.label(), wire::to_string(h.exchange),
                 wire::describe(variant.error()));
        // RFC 7296 §2.21.3: INVALID_SYNTAX is fatal for both peers once authenticated.
        return Response{
                error_response(wire::NotifyType::kInvalidSyntax),
                sa.state() == IkeState::kEstablished || h.exchange == ExchangeType::kIkeAuth};
    }
    if (h.exchange == ExchangeType::kIkeAuth && intermediate_pending(sa)) {
        // RFC 9370 §2.2.2: every chosen additional key exchange comes before IKE_AUTH.
        sa.registry().note_intermediate_failed();
        PEER_LOG(sa.services().peer_log, step.now, info, log::Subsystem::kIke,
                 "{} IKE_AUTH before the additional key exchanges, refused", sa.label());
        return Response{error_response(wire::NotifyType::kInvalidSyntax), true};
    }
    for (const Responder& r : kResponders) {
        if (r.type == h.exchange && (r.takes == nullptr || r.takes(request))) {
            return r.respond(sa, request, step);
        }
    }
    return error_response(wire::NotifyType::kInvalidSyntax);
}

}  // namespace ikeplex::ike
