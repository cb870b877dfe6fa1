// EAP-MSCHAPv2, the peer half (see mschapv2.h).
#include <string>
#include <utility>

#include "crypto/constant_time.h"
#include "eap/mschapv2.h"
#include "eap/mschapv2_crypto.h"
#include "eap/mschapv2_wire.h"
#include "eap/random_source.h"
#include "eap/steps.h"

namespace ikeplex::eap {
namespace {

using mschapv2::OpCode;

PeerStep respond(std::uint8_t id, Bytes type_data) {
    return peer_response(Type::kMschapv2, id, std::move(type_data));
}

class MschapPeer final : public PeerMethod {
public:
    explicit MschapPeer(PeerContext ctx) : ctx_(std::move(ctx)) {}

    [[nodiscard]] Type type() const noexcept override { return Type::kMschapv2; }

    Result<PeerStep> process(const Packet& request) override {
        if (request.code != Code::kRequest || request.type != Type::kMschapv2) {
            return fail("EAP-MSCHAPv2: not an MSCHAPv2 request");
        }
        const auto op = mschapv2::opcode_of(request.type_data);
        if (!op) {
            return fail("EAP-MSCHAPv2: empty request");
        }
        if (state_ == State::kExpectChallenge && *op == OpCode::kChallenge) {
            return on_challenge(request);
        }
        if (state_ == State::kExpectSuccess && *op == OpCode::kSuccess) {
            return on_success(request);
        }
        if (state_ == State::kExpectSuccess && *op == OpCode::kFailure) {
            return on_failure(request);
        }
        return fail("EAP-MSCHAPv2: unexpected OpCode");
    }

    [[nodiscard]] bool may_succeed() const noexcept override { return state_ == State::kVerified; }
    [[nodiscard]] const Msk& msk() const noexcept override { return msk_; }

private:
    enum class State : std::uint8_t { kExpectChallenge, kExpectSuccess, kVerified, kFailed };

    PeerStep fail(const char* reason) {
        state_ = State::kFailed;
        pending_msk_.clear();
        msk_.clear();
        return peer_failure(reason);
    }

    Result<PeerStep> on_challenge(const Packet& request) {
        const auto msg = mschapv2::decode(request.type_data);
        if (!msg) {
            return fail("EAP-MSCHAPv2: malformed Challenge");
        }
        const auto challenge = mschapv2::decode_challenge_data(msg->data);
        if (!challenge) {
            return fail("EAP-MSCHAPv2: malformed Challenge");
        }
        if (ctx_.secret == nullptr) {
            return fail("EAP-MSCHAPv2: no EAP secret for our identity");
        }
        const Bytes peer_challenge = random_or_os(ctx_.random).bytes(mschapv2::kChallengeSize);
        auto derived = mschapv2::derive(challenge->challenge, peer_challenge, ctx_.identity,
                                        ctx_.secret->view());
        if (!derived) {
            if (derived.error().code == Errc::kInvalidArgument) {
                return fail("EAP-MSCHAPv2: our secret is not UTF-8");
            }
            return std::move(derived).error();  // crypto: e.g. no legacy provider
        }
        expected_auth_ = std::move(derived->auth_response);
        pending_msk_ = std::move(derived->msk);
        state_ = State::kExpectSuccess;
        // The whole identity is the Name; only its user part entered the hashes.
        return respond(
                request.identifier,
                mschapv2::encode(OpCode::kResponse, msg->ms_id,
                                 mschapv2::encode_response_data(
                                         peer_challenge, derived->nt_response, ctx_.identity)));
    }

    PeerStep on_success(const Packet& request) {
        const auto msg = mschapv2::decode(request.type_data);
        if (!msg) {
            return fail("EAP-MSCHAPv2: malformed Success");
        }
        const auto auth = mschapv2::parse_success_message(msg->data);
        if (!auth) {
            return fail("EAP-MSCHAPv2: Success without a valid S=");
        }
        if (auth->size() != expected_auth_.size() ||
            !crypto::constant_time_equal(auth->data(), expected_auth_.data(), auth->size())) {
            return fail(
                    "EAP-MSCHAPv2: wrong authenticator response (the server is not who it "
                    "claims)");
        }
        msk_ = std::move(pending_msk_);
        state_ = State::kVerified;
        return respond(request.identifier, mschapv2::encode_ack(OpCode::kSuccess));
    }

    PeerStep on_failure(const Packet& request) {
        const auto msg = mschapv2::decode(request.type_data);
        if (!msg) {
            return fail("EAP-MSCHAPv2: malformed Failure");
        }
        const mschapv2::Failure info = mschapv2::parse_failure_message(msg->data);
        state_ = State::kFailed;
        pending_msk_.clear();
        PeerStep s = respond(request.identifier, mschapv2::encode_ack(OpCode::kFailure));
        s.reason = "EAP-MSCHAPv2: the server refused us (E=" +
                   (info.error ? std::to_string(*info.error) : std::string("?")) + ")";
        return s;
    }

    PeerContext ctx_;
    State state_{State::kExpectChallenge};
    Bytes expected_auth_;
    Msk pending_msk_;
    Msk msk_;
};

}  // namespace

std::unique_ptr<PeerMethod> make_mschapv2_peer(PeerContext ctx) {
    return std::make_unique<MschapPeer>(std::move(ctx));
}

}  // namespace ikeplex::eap
