// INFORMATIONAL exchanges (RFC 7296 §1.4): deleting Child SAs (§1.4.1) and IKE SAs, and
// liveness checks (§2.4, an empty request).
//
//   HDR, SK {[N,] [D,] [CP,] ...}  -->
//                     <--  HDR, SK {[N,] [D,] [CP], ...}
#include <algorithm>

#include "ike/exchanges.h"
#include "ike/mobike.h"
#include "ike/payload_access.h"
#include "ike/redirect.h"
#include "util/log.h"
#include "wire/names.h"

namespace ikeplex::ike {

using wire::NotifyType;
using wire::Payload;
using wire::PayloadType;

namespace {

class DeleteChild final : public Exchange {
public:
    explicit DeleteChild(std::uint32_t child) : child_(child) {}

    [[nodiscard]] wire::ExchangeType type() const noexcept override {
        return wire::ExchangeType::kInformational;
    }
    [[nodiscard]] const char* name() const noexcept override { return "CHILD_DELETE"; }

    Result<std::vector<Payload>> build(IkeSa& sa, Step& /*step*/) override {
        const ChildSa* c = sa.child(child_);
        if (c == nullptr) {
            return make_error(Errc::kState, "Child SA already gone");
        }
        IKE_LOG(info, sa, "closing CHILD_SA {}{{{}}} with SPIs {}_i {}_o", c->name(), c->id,
                c->spi_in, c->spi_out);
        std::vector<Payload> out;
        out.push_back(wire::make_payload(wire::DeletePayload{wire::ProtocolId::kEsp, {c->spi_in}}));
        return out;
    }

    Outcome process(IkeSa& sa, const wire::Header& /*h*/, std::vector<Payload>& /*resp*/,
                    Step& step) override {
        // Whatever the peer lists, our half is gone with this response (RFC 7296 §1.4.1).
        if (const ChildSa* c = sa.child(child_)) {
            // The peer's Delete for it crossed ours if its outbound SA is already gone.
            sa.remove_child(child_, "deleted", step, c->replaced_by != 0,
                            c->outbound_removed ? Removal::kDeletedByBoth : Removal::kDeletedByUs);
        }
        return Outcome::kDone;
    }

private:
    std::uint32_t child_;
};

class DeleteIke final : public Exchange {
public:
    [[nodiscard]] wire::ExchangeType type() const noexcept override {
        return wire::ExchangeType::kInformational;
    }
    [[nodiscard]] const char* name() const noexcept override { return "IKE_DELETE"; }

    Result<std::vector<Payload>> build(IkeSa& sa, Step& /*step*/) override {
        IKE_LOG(info, sa, "deleting IKE_SA {} between {}[{}]...{}[{}]", sa.label(),
                sa.local().address, sa.local_id().to_string(), sa.remote().address,
                sa.remote_id().to_string());
        std::vector<Payload> out;
        out.push_back(wire::make_payload(wire::DeletePayload{wire::ProtocolId::kIke, {}}));
        return out;
    }

    Outcome process(IkeSa& sa, const wire::Header& /*h*/, std::vector<Payload>& /*resp*/,
                    Step& step) override {
        sa.destroy("deleted", step);
        return Outcome::kDone;
    }
};

class Dpd final : public Exchange {
public:
    [[nodiscard]] wire::ExchangeType type() const noexcept override {
        return wire::ExchangeType::kInformational;
    }
    [[nodiscard]] const char* name() const noexcept override { return "DPD"; }
    Result<std::vector<Payload>> build(IkeSa& /*sa*/, Step& /*step*/) override {
        return std::vector<Payload>{};
    }
    Outcome process(IkeSa& /*sa*/, const wire::Header& /*h*/, std::vector<Payload>& /*resp*/,
                    Step& /*step*/) override {
        return Outcome::kDone;  // the answer itself is the point
    }
};

/// Tells the peer why we give up on the IKE SA (RFC 7296 §2.21.2: the initiator could not
/// authenticate the responder), then forgets it.
class FatalNotify final : public Exchange {
public:
    FatalNotify(NotifyType type, const char* reason) : type_(type), reason_(reason) {}
    [[nodiscard]] wire::ExchangeType type() const noexcept override {
        return wire::ExchangeType::kInformational;
    }
    [[nodiscard]] const char* name() const noexcept override { return "FATAL_NOTIFY"; }
    Result<std::vector<Payload>> build(IkeSa& /*sa*/, Step& /*step*/) override {
        return std::vector<Payload>{wire::make_notify(type_)};
    }
    Outcome process(IkeSa& sa, const wire::Header& /*h*/, std::vector<Payload>& /*resp*/,
                    Step& step) override {
        sa.destroy(reason_, step);
        return Outcome::kDone;
    }
    void abort(IkeSa& sa, Step& step) override { sa.destroy(reason_, step); }

private:
    NotifyType type_;
    const char* reason_;
};

/// Our part of the peer's D(ESP): the SPIs we remove and list in the response.
void delete_children(IkeSa& sa, const wire::DeletePayload& d, std::vector<Spi>& ours, Step& step) {
    for (Spi spi : d.spis) {
        ChildSa* c = sa.child_by_spi_out(spi);
        if (c == nullptr) {
            IKE_LOG(debug, sa, "received DELETE for unknown ESP SA {}", spi);
            if (sa.busy_with_outstanding("CHILD_CREATE") ||
                sa.busy_with_outstanding("CHILD_REKEY")) {
                // Perhaps the one our request under way makes: the peer closed it before its
                // response reached us. Remember it so that it does not live on here alone.
                std::vector<Spi>& early = sa.states().get<EarlyDeletes>().spis;
                if (early.size() >= 16) {
                    early.erase(early.begin());
                }
                early.push_back(spi);
            }
            continue;  // already gone; nothing to answer
        }
        IKE_LOG(info, sa, "received DELETE for CHILD_SA {}{{{}}} with SPI {}", c->name(), c->id,
                spi);
        if (c->state == ChildState::kDeleting) {
            // Both ends close it: outbound now, inbound with our own response, and the
            // response must not list it (RFC 7296 §1.4.1).
            sa.remove_outbound(*c, step);
            continue;
        }
        ours.push_back(c->spi_in);
        if (c->state == ChildState::kRekeying && c->replaced_by == 0 && c->collision &&
            sa.child(c->collision->peer_child) != nullptr) {
            // RFC 7296 §2.8.1: both rekeyed it, the peer's SA won and the peer deletes the old
            // one before the response to ours came: rekeyed (by the peer's SA), not closed.
            c->replaced_by = c->collision->peer_child;
            sa.emit(step, EventKind::kChildRekeyed, c->id, c->replaced_by);
        }
        sa.remove_child(c->id, "deleted by peer", step, c->replaced_by != 0,
                        Removal::kDeletedByPeer);
    }
}

}  // namespace

ExchangePtr make_delete_child(std::uint32_t child_id) {
    return std::make_unique<DeleteChild>(child_id);
}
ExchangePtr make_delete_ike() {
    return std::make_unique<DeleteIke>();
}
ExchangePtr make_dpd() {
    return std::make_unique<Dpd>();
}
ExchangePtr make_fatal_notify(NotifyType type, const char* reason) {
    return std::make_unique<FatalNotify>(type, reason);
}

Response respond_informational(IkeSa& sa, std::vector<Payload>& request, Step& step) {
    if (sa.before_authentication()) {
        // Nothing to do before authentication (answer empty), except that an initiator whose
        // EAP method failed reports it in an INFORMATIONAL of its own (RFC 7296 §2.21.2, as
        // strongSwan's client does after a wrong MSCHAPv2 password): that ends the half-open
        // IKE SA at once instead of at the half-open timeout.
        const bool failed = std::any_of(request.begin(), request.end(), [](const Payload& p) {
            const auto* n = p.as<wire::NotifyPayload>();
            return n != nullptr && n->type == NotifyType::kAuthenticationFailed;
        });
        if (failed) {
            IKE_LOG(info, sa, "received AUTHENTICATION_FAILED notify during IKE_AUTH");
        }
        return Response{{}, failed};
    }
    bool fatal = false;
    const bool deletes_ike = std::any_of(request.begin(), request.end(), [](const Payload& p) {
        const auto* d = p.as<wire::DeletePayload>();
        return d != nullptr && d->protocol == wire::ProtocolId::kIke;
    });
    if (!deletes_ike) {
        take_over_on_use(sa, step);
    }
    std::vector<Spi> esp;
    for (const Payload& p : request) {
        if (const auto* d = p.as<wire::DeletePayload>()) {
            if (d->protocol == wire::ProtocolId::kIke) {
                IKE_LOG(info, sa, "received DELETE for IKE_SA {}", sa.label());
                hand_over_before_delete(sa, step);
                // A rekey's predecessor, or one we were deleting too: nothing follows.
                const bool ours =
                        sa.state() == IkeState::kRekeyed || sa.state() == IkeState::kDeleting;
                sa.destroy("deleted by peer", ours ? EndCause::kLocal : EndCause::kPeerClosed,
                           step);
                return {};
            }
            if (d->protocol == wire::ProtocolId::kEsp) {
                delete_children(sa, *d, esp, step);
            }
        } else if (const auto* n = p.as<wire::NotifyPayload>();
                   n != nullptr && wire::is_error(n->type)) {
            // RFC 7296 §2.21.2: an authentication failure reported after IKE_AUTH (and any
            // other error about the IKE SA) ends it.
            IKE_LOG(info, sa, "received {} notify in an INFORMATIONAL request",
                    wire::to_string(n->type));
            if (n->type == NotifyType::kAuthenticationFailed ||
                n->type == NotifyType::kInvalidSyntax) {
                fatal = true;
            }
        }
    }
    on_informational_redirect(sa, request, step);  // RFC 5685 §5
    std::vector<Payload> out;
    if (!esp.empty()) {
        out.push_back(
                wire::make_payload(wire::DeletePayload{wire::ProtocolId::kEsp, std::move(esp)}));
    }
    if (!fatal) {
        answer_mobike(sa, request, out, step);  // RFC 4555: COOKIE2, NAT-D, address updates
    }
    return Response{std::move(out), fatal};
}

}  // namespace ikeplex::ike
