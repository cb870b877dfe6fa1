// EAP-TLS peer (RFC 5216 §2.1): answers EAP-TLS/Start with the ClientHello, runs the TLS
// handshake in responses (fragmented and reassembled, §3.1, §3.2), verifies the server's chain
// and, if configured, its name. TLS 1.2: acknowledges the server's Finished with an empty
// response (§2.1.1), after which EAP-Success may be accepted. TLS 1.3 (RFC 9190 §2.1.1, §2.5):
// after our Finished, EAP-Success is accepted only once the server's commitment message (one
// byte 0x00 of application data, the protected success indication) arrived and was
// acknowledged with an empty response; other application data fails the method.
#include <string>

#include "eap/steps.h"
#include "eap/tls.h"
#include "eap/tls_conversation.h"
#include "util/log.h"

namespace ikeplex::eap {
namespace {

class TlsPeer final : public PeerMethod {
public:
    TlsPeer(PeerContext ctx, TlsOptions options) : ctx_(std::move(ctx)), tls_(options) {}

    Status init() {
        return tls_.start(tls::Session::Role::kClient, tls::credentials_of(ctx_),
                          [this](const crypto::Certificate& leaf) { return check_server(leaf); });
    }

    [[nodiscard]] Type type() const noexcept override { return Type::kTls; }

    Result<PeerStep> process(const Packet& request) override {
        if (failed_) {
            return fail("EAP-TLS: request after a failure");
        }
        auto f = tls_.accept(request.type_data);
        if (!f) {
            return fail(f.error().detail);
        }
        const std::uint8_t id = request.identifier;
        if ((f->flags & tls::kFlagStart) != 0) {
            if (started_) {
                return fail("EAP-TLS: Start flag in the middle of the conversation");
            }
            started_ = true;
            return feed({}, id);  // the ClientHello
        }
        if (!started_) {
            return fail("EAP-TLS: first request without the Start flag");
        }
        const tls::Session& session = tls_.session();
        auto turn = tls_.take(*f, !session.done() || (session.tls13() && !committed_));
        if (!turn) {
            return fail(turn.error().detail);
        }
        switch (turn->kind) {
            case tls::Turn::Kind::kSend:
                return respond(id, std::move(turn->type_data));
            case tls::Turn::Kind::kAck:
                return fail("EAP-TLS: unexpected acknowledgement");
            case tls::Turn::Kind::kMessage:
                break;
        }
        if (session.done()) {
            return on_commitment(turn->message, id);
        }
        return feed(turn->message, id);
    }

    [[nodiscard]] bool may_succeed() const noexcept override {
        return !failed_ && tls_.session().done() && !tls_.msk().empty() && !tls_.sending() &&
               (!tls_.session().tls13() || committed_);
    }

    [[nodiscard]] const Msk& msk() const noexcept override { return tls_.msk(); }

private:
    PeerStep feed(ByteView input, std::uint8_t id) {
        auto out = tls_.session().advance(input);
        if (!out) {
            return fail(tls_.session_failure());
        }
        if (tls_.session().done() && tls_.msk().empty()) {
            if (auto kept = tls_.keep_msk(); !kept) {
                return fail(kept.error().detail);
            }
        }
        // An empty flight (after the server's Finished, RFC 5216 §2.1.1) is acknowledged.
        return respond(id, tls_.send(std::move(*out)));
    }

    /// TLS 1.3 after our Finished (RFC 9190 §2.5): the server's records must carry exactly the
    /// commitment message, one byte 0x00 (post-handshake messages beside it are consumed).
    PeerStep on_commitment(ByteView records, std::uint8_t id) {
        auto data = tls_.session().receive(records);
        if (!data) {
            return fail(tls_.session_failure());
        }
        if (data->empty()) {
            return respond(id, tls::ack_type_data());  // e.g. only a NewSessionTicket
        }
        if (data->size() != 1 || (*data)[0] != kCommitment) {
            return fail(
                    "EAP-TLS: application data from the server other than the TLS 1.3 "
                    "commitment message");
        }
        committed_ = true;
        log::info(log::Subsystem::kIke, "EAP-TLS: TLS 1.3 commitment message received");
        return respond(id, tls::ack_type_data());
    }

    [[nodiscard]] std::string check_server(const crypto::Certificate& leaf) const {
        if (ctx_.server_name.empty() || tls::names_identity(leaf, ctx_.server_name)) {
            return {};
        }
        return "server certificate '" + leaf.subject() + "' does not name '" + ctx_.server_name +
               "'";
    }

    static PeerStep respond(std::uint8_t id, Bytes type_data) {
        return peer_response(Type::kTls, id, std::move(type_data));
    }

    PeerStep fail(std::string reason) {
        failed_ = true;
        log::info(log::Subsystem::kIke, "{}", reason);
        return peer_failure(std::move(reason));
    }

    PeerContext ctx_;
    tls::Conversation tls_;
    static constexpr std::uint8_t kCommitment = 0x00;  // RFC 9190 §2.5
    bool started_{false};
    bool failed_{false};
    bool committed_{false};  ///< TLS 1.3: the server's commitment message arrived
};

}  // namespace

Result<std::unique_ptr<PeerMethod>> make_tls_peer(PeerContext ctx, TlsOptions options) {
    auto m = std::make_unique<TlsPeer>(std::move(ctx), options);
    IKEPLEX_TRY(m->init());
    return std::unique_ptr<PeerMethod>(std::move(m));
}

}  // namespace ikeplex::eap
