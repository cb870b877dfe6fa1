// EAP-TLS peer (RFC 5216 §2.1): answers EAP-TLS/Start with the ClientHello, runs the TLS
// handshake in responses (fragmented and reassembled, §3.1, §3.2), verifies the server's chain
// and, if configured, its name. TLS 1.2: acknowledges the server's Finished with an empty
// response (§2.1.1), after which EAP-Success may be accepted. TLS 1.3 (RFC 9190 §2.1.1, §2.5):
// after our Finished, EAP-Success is accepted only once the server's commitment message (one
// byte 0x00 of application data, the protected success indication) arrived and was
// acknowledged with an empty response; other application data fails the method.
#include <string>

#include "eap/tls.h"
#include "eap/tls_framing.h"
#include "eap/tls_session.h"
#include "util/log.h"

namespace ikeplex::eap {
namespace {

class TlsPeer final : public PeerMethod {
public:
    TlsPeer(PeerContext ctx, TlsOptions options)
        : ctx_(std::move(ctx)),
          options_(options),
          reassembler_(options.max_message_bytes),
          fragmenter_(options.fragment_size) {}

    Status init() {
        const tls::Credentials creds{ctx_.own_cert, ctx_.own_key, ctx_.trusted, ctx_.unix_time,
                                     ctx_.tls_versions};
        auto s = tls::Session::create(
                tls::Session::Role::kClient, creds,
                [this](const crypto::Certificate& leaf) { return check_server(leaf); });
        if (!s) {
            return s.error();
        }
        session_ = std::move(*s);
        return ok();
    }

    [[nodiscard]] Type type() const noexcept override { return Type::kTls; }

    Result<PeerStep> process(const Packet& request) override {
        if (failed_) {
            return fail("EAP-TLS: request after a failure");
        }
        if (options_.max_packets != 0 && ++packets_ > options_.max_packets) {
            return fail("EAP-TLS: too many packets");
        }
        auto f = tls::parse(request.type_data);
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
        if (tls::is_ack(*f)) {
            if (fragmenter_.pending()) {
                return respond(id, fragmenter_.next());
            }
            return fail("EAP-TLS: unexpected acknowledgement");
        }
        if (fragmenter_.pending()) {
            return fail("EAP-TLS: data while our fragments are unacknowledged");
        }
        if (session_->done() && (!session_->tls13() || committed_)) {
            return fail("EAP-TLS: TLS data after the handshake");
        }
        auto whole = reassembler_.add(*f);
        if (!whole) {
            return fail(whole.error().detail);
        }
        if (!*whole) {
            return respond(id, tls::ack_type_data());
        }
        if (session_->done()) {
            return on_commitment(**whole, id);
        }
        return feed(**whole, id);
    }

    [[nodiscard]] bool may_succeed() const noexcept override {
        return !failed_ && session_->done() && !msk_.empty() && !fragmenter_.pending() &&
               (!session_->tls13() || committed_);
    }

    [[nodiscard]] const Msk& msk() const noexcept override { return msk_; }

private:
    PeerStep feed(ByteView input, std::uint8_t id) {
        auto out = session_->advance(input);
        if (!out) {
            return fail("EAP-TLS: " + session_->failure_reason());
        }
        if (session_->done() && msk_.empty()) {
            auto msk = session_->export_msk();
            if (!msk) {
                return fail(msk.error().detail);
            }
            msk_ = std::move(*msk);
        }
        if (out->empty()) {
            // After the server's Finished (RFC 5216 §2.1.1) or a flight that asks for nothing.
            return respond(id, tls::ack_type_data());
        }
        fragmenter_.load(std::move(*out));
        return respond(id, fragmenter_.next());
    }

    /// TLS 1.3 after our Finished (RFC 9190 §2.5): the server's records must carry exactly the
    /// commitment message, one byte 0x00 (post-handshake messages beside it are consumed).
    PeerStep on_commitment(ByteView records, std::uint8_t id) {
        auto data = session_->receive(records);
        if (!data) {
            return fail("EAP-TLS: " + session_->failure_reason());
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
        PeerStep s;
        s.kind = PeerStep::Kind::kResponse;
        s.response = Packet{Code::kResponse, id, Type::kTls, std::move(type_data)};
        return s;
    }

    PeerStep fail(std::string reason) {
        failed_ = true;
        log::info(log::Subsystem::kIke, "{}", reason);
        PeerStep s;
        s.kind = PeerStep::Kind::kFailure;
        s.reason = std::move(reason);
        return s;
    }

    PeerContext ctx_;
    TlsOptions options_;
    std::unique_ptr<tls::Session> session_;
    tls::Reassembler reassembler_;
    tls::Fragmenter fragmenter_;
    static constexpr std::uint8_t kCommitment = 0x00;  // RFC 9190 §2.5
    bool started_{false};
    bool failed_{false};
    bool committed_{false};  ///< TLS 1.3: the server's commitment message arrived
    unsigned packets_{0};
    Msk msk_;
};

}  // namespace

Result<std::unique_ptr<PeerMethod>> make_tls_peer(PeerContext ctx, TlsOptions options) {
    if (options.fragment_size < tls::kMinFragmentSize || options.fragment_size > 0xffff) {
        return make_error(Errc::kInvalidArgument, "EAP-TLS: fragment size out of range");
    }
    auto m = std::make_unique<TlsPeer>(std::move(ctx), options);
    IKEPLEX_TRY(m->init());
    return std::unique_ptr<PeerMethod>(std::move(m));
}

}  // namespace ikeplex::eap
