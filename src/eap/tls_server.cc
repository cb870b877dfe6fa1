// EAP-TLS server (RFC 5216 §2.1): EAP-TLS/Start, then the TLS handshake in requests,
// fragmented and reassembled (§3.1, §3.2); the client's certificate is required and verified.
// TLS 1.2: after the server's Finished the client acknowledges (§2.1.1) and the method
// succeeds. TLS 1.3 (RFC 9190 §2.1.1, §2.5): once the client's Finished is processed, the next
// request carries the commitment message (one byte 0x00 of application data, the protected
// success indication; never before); its acknowledgement makes the method succeed.
//
// What the client's certificate must name: strongSwan's libtls server (tls_server.c,
// process_cert_verify()) verifies the CertificateVerify with a trusted key of the peer identity
// (the EAP identity, else the IKE identity [R]), so the certificate has to carry that identity as
// its subject DN or a subjectAltName; ikeplex checks the same when the conversation names an
// identity (not empty, not %any). Unlike libtls, which makes client authentication optional when
// it has no peer identity, ikeplex always requires a verified client certificate.
#include <string>

#include "eap/steps.h"
#include "eap/tls.h"
#include "eap/tls_conversation.h"
#include "util/log.h"

namespace ikeplex::eap {
namespace {

class TlsServer final : public ServerMethod {
public:
    TlsServer(ServerContext ctx, TlsOptions options) : ctx_(std::move(ctx)), tls_(options) {}

    Status init() {
        return tls_.start(tls::Session::Role::kServer, tls::credentials_of(ctx_),
                          [this](const crypto::Certificate& leaf) { return check_client(leaf); });
    }

    [[nodiscard]] Type type() const noexcept override { return Type::kTls; }

    Result<Packet> initiate(std::uint8_t id, std::string_view peer_identity) override {
        if (state_ != State::kIdle) {
            return make_error(Errc::kState, "EAP-TLS: server started twice");
        }
        identity_ = std::string(peer_identity);
        state_ = State::kStarted;
        return Packet{Code::kRequest, id, Type::kTls, tls::start_type_data()};
    }

    Result<ServerStep> process(const Packet& response, std::uint8_t next_id) override {
        if (state_ == State::kIdle || state_ == State::kFailed || state_ == State::kDone) {
            return fail("EAP-TLS: response outside the conversation");
        }
        auto f = tls_.accept(response.type_data);
        if (!f) {
            return fail(f.error().detail);
        }
        if ((f->flags & tls::kFlagStart) != 0) {
            return fail("EAP-TLS: Start flag from the peer");
        }
        auto turn = tls_.take(*f, !tls_.session().done());
        if (!turn) {
            return fail(turn.error().detail);
        }
        switch (turn->kind) {
            case tls::Turn::Kind::kSend:
                // Our next fragment (we are running already) or an ack of the client's.
                state_ = State::kRunning;
                return request(next_id, std::move(turn->type_data));
            case tls::Turn::Kind::kAck:
                return on_ack();
            case tls::Turn::Kind::kMessage:
                break;
        }
        state_ = State::kRunning;
        auto out = tls_.session().advance(turn->message);
        if (!out) {
            return fail(tls_.session_failure());
        }
        if (tls_.session().tls13()) {
            // The client's Finished is processed: the commitment message follows whatever
            // the handshake still sent (RFC 9190 §2.5).
            const std::uint8_t commitment = 0x00;
            auto sealed = tls_.session().seal(ByteView(&commitment, 1));
            if (!sealed) {
                return fail(tls_.session_failure());
            }
            out->insert(out->end(), sealed->begin(), sealed->end());
        }
        return request(next_id, tls_.send(std::move(*out)));
    }

    [[nodiscard]] const Msk& msk() const noexcept override { return tls_.msk(); }

    [[nodiscard]] std::string authenticated_identity() const override {
        const crypto::Certificate* c = tls_.session().peer_certificate();
        return state_ == State::kDone && c != nullptr ? c->subject() : std::string();
    }

private:
    enum class State : std::uint8_t { kIdle, kStarted, kRunning, kDone, kFailed };

    /// An acknowledgement with none of our fragments pending.
    ServerStep on_ack() {
        if (state_ != State::kRunning) {
            return fail("EAP-TLS: acknowledgement before the conversation started");
        }
        if (!tls_.session().done()) {
            return fail("EAP-TLS: unexpected acknowledgement");
        }
        // RFC 5216 §2.1.1: the peer acknowledged our Finished; the handshake is over.
        if (auto kept = tls_.keep_msk(); !kept) {
            return fail(kept.error().detail);
        }
        state_ = State::kDone;
        log::info(log::Subsystem::kIke, "EAP-TLS: client '{}' authenticated",
                  authenticated_identity());
        return server_success();
    }

    [[nodiscard]] std::string check_client(const crypto::Certificate& leaf) const {
        if (identity_.empty() || identity_ == "%any") {
            return {};
        }
        if (tls::names_identity(leaf, identity_)) {
            return {};
        }
        return "client certificate '" + leaf.subject() + "' does not name the EAP identity '" +
               identity_ + "'";
    }

    static ServerStep request(std::uint8_t id, Bytes type_data) {
        return server_request(Type::kTls, id, std::move(type_data));
    }

    ServerStep fail(std::string reason) {
        state_ = State::kFailed;
        log::info(log::Subsystem::kIke, "{}", reason);
        return server_failure(std::move(reason));
    }

    ServerContext ctx_;
    tls::Conversation tls_;
    State state_{State::kIdle};
    std::string identity_;
};

}  // namespace

Result<std::unique_ptr<ServerMethod>> make_tls_server(ServerContext ctx, TlsOptions options) {
    auto m = std::make_unique<TlsServer>(std::move(ctx), options);
    IKEPLEX_TRY(m->init());
    return std::unique_ptr<ServerMethod>(std::move(m));
}

}  // namespace ikeplex::eap
