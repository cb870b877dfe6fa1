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

#include "eap/tls.h"
#include "eap/tls_framing.h"
#include "eap/tls_session.h"
#include "util/log.h"

namespace ikeplex::eap {
namespace {

class TlsServer final : public ServerMethod {
public:
    TlsServer(ServerContext ctx, TlsOptions options)
        : ctx_(std::move(ctx)),
          options_(options),
          reassembler_(options.max_message_bytes),
          fragmenter_(options.fragment_size) {}

    Status init() {
        const tls::Credentials creds{ctx_.own_cert, ctx_.own_key, ctx_.trusted, ctx_.unix_time,
                                     ctx_.tls_versions};
        auto s = tls::Session::create(
                tls::Session::Role::kServer, creds,
                [this](const crypto::Certificate& leaf) { return check_client(leaf); });
        if (!s) {
            return s.error();
        }
        session_ = std::move(*s);
        return ok();
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
        if (options_.max_packets != 0 && ++packets_ > options_.max_packets) {
            return fail("EAP-TLS: too many packets");
        }
        auto f = tls::parse(response.type_data);
        if (!f) {
            return fail(f.error().detail);
        }
        if ((f->flags & tls::kFlagStart) != 0) {
            return fail("EAP-TLS: Start flag from the peer");
        }
        if (tls::is_ack(*f)) {
            return on_ack(next_id);
        }
        if (fragmenter_.pending()) {
            return fail("EAP-TLS: data while our fragments are unacknowledged");
        }
        if (session_->done()) {
            return fail("EAP-TLS: TLS data after the handshake");
        }
        auto whole = reassembler_.add(*f);
        if (!whole) {
            return fail(whole.error().detail);
        }
        state_ = State::kRunning;
        if (!*whole) {
            return request(next_id, tls::ack_type_data());
        }
        auto out = session_->advance(**whole);
        if (!out) {
            return fail("EAP-TLS: " + session_->failure_reason());
        }
        if (session_->tls13()) {
            // The client's Finished is processed: the commitment message follows whatever
            // the handshake still sent (RFC 9190 §2.5).
            const std::uint8_t commitment = 0x00;
            auto sealed = session_->seal(ByteView(&commitment, 1));
            if (!sealed) {
                return fail("EAP-TLS: " + session_->failure_reason());
            }
            out->insert(out->end(), sealed->begin(), sealed->end());
        }
        if (out->empty()) {
            return request(next_id, tls::ack_type_data());
        }
        fragmenter_.load(std::move(*out));
        return request(next_id, fragmenter_.next());
    }

    [[nodiscard]] const Msk& msk() const noexcept override { return msk_; }

    [[nodiscard]] std::string authenticated_identity() const override {
        const crypto::Certificate* c = session_->peer_certificate();
        return state_ == State::kDone && c != nullptr ? c->subject() : std::string();
    }

private:
    enum class State : std::uint8_t { kIdle, kStarted, kRunning, kDone, kFailed };

    ServerStep on_ack(std::uint8_t next_id) {
        if (fragmenter_.pending()) {
            return request(next_id, fragmenter_.next());
        }
        if (state_ != State::kRunning) {
            return fail("EAP-TLS: acknowledgement before the conversation started");
        }
        if (!session_->done()) {
            return fail("EAP-TLS: unexpected acknowledgement");
        }
        // RFC 5216 §2.1.1: the peer acknowledged our Finished; the handshake is over.
        auto msk = session_->export_msk();
        if (!msk) {
            return fail(msk.error().detail);
        }
        msk_ = std::move(*msk);
        state_ = State::kDone;
        log::info(log::Subsystem::kIke, "EAP-TLS: client '{}' authenticated",
                  authenticated_identity());
        ServerStep s;
        s.kind = ServerStep::Kind::kSuccess;
        return s;
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
        ServerStep s;
        s.kind = ServerStep::Kind::kRequest;
        s.request = Packet{Code::kRequest, id, Type::kTls, std::move(type_data)};
        return s;
    }

    ServerStep fail(std::string reason) {
        state_ = State::kFailed;
        log::info(log::Subsystem::kIke, "{}", reason);
        ServerStep s;
        s.kind = ServerStep::Kind::kFailure;
        s.reason = std::move(reason);
        return s;
    }

    ServerContext ctx_;
    TlsOptions options_;
    std::unique_ptr<tls::Session> session_;
    tls::Reassembler reassembler_;
    tls::Fragmenter fragmenter_;
    State state_{State::kIdle};
    unsigned packets_{0};
    std::string identity_;
    Msk msk_;
};

}  // namespace

Result<std::unique_ptr<ServerMethod>> make_tls_server(ServerContext ctx, TlsOptions options) {
    if (options.fragment_size < tls::kMinFragmentSize || options.fragment_size > 0xffff) {
        return make_error(Errc::kInvalidArgument, "EAP-TLS: fragment size out of range");
    }
    auto m = std::make_unique<TlsServer>(std::move(ctx), options);
    IKEPLEX_TRY(m->init());
    return std::unique_ptr<ServerMethod>(std::move(m));
}

}  // namespace ikeplex::eap
