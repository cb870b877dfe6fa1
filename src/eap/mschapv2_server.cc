// EAP-MSCHAPv2, the server half (see mschapv2.h).
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

constexpr std::string_view kServerName = "ikeplex";
constexpr std::string_view kWelcome = "Welcome2ikeplex";
constexpr unsigned kErrorAuthenticationFailure = 691;  // RFC 2759 §6
constexpr int kMaxRetries = 2;                         // as strongSwan's MAX_RETRIES

ServerStep request(std::uint8_t id, Bytes type_data) {
    return server_request(Type::kMschapv2, id, std::move(type_data));
}

class MschapServer final : public ServerMethod {
public:
    explicit MschapServer(ServerContext ctx) : ctx_(std::move(ctx)) {}

    [[nodiscard]] Type type() const noexcept override { return Type::kMschapv2; }

    Result<Packet> initiate(std::uint8_t id, std::string_view /*peer_identity*/) override {
        if (state_ != State::kIdle) {
            return make_error(Errc::kState, "EAP-MSCHAPv2: initiated twice");
        }
        identifier_ = id;
        ms_id_ = id;
        challenge_ = random_or_os(ctx_.random).bytes(mschapv2::kChallengeSize);
        state_ = State::kExpectResponse;
        return Packet{Code::kRequest, id, Type::kMschapv2,
                      mschapv2::encode(OpCode::kChallenge, ms_id_,
                                       mschapv2::encode_challenge_data(challenge_, kServerName))};
    }

    Result<ServerStep> process(const Packet& response, std::uint8_t next_id) override {
        if (state_ == State::kIdle || state_ == State::kDone) {
            return make_error(Errc::kState, "EAP-MSCHAPv2: no request outstanding");
        }
        if (response.code != Code::kResponse || response.type != Type::kMschapv2 ||
            response.identifier != identifier_) {
            return finish(server_failure("EAP-MSCHAPv2: not a response to our request"));
        }
        const auto op = mschapv2::opcode_of(response.type_data);
        if (!op) {
            return finish(server_failure("EAP-MSCHAPv2: empty response"));
        }
        if (*op == OpCode::kFailure) {
            return finish(server_failure(refused_ ? "EAP-MSCHAPv2: wrong password or unknown user"
                                                  : "EAP-MSCHAPv2: the peer gave up"));
        }
        if (state_ == State::kExpectResponse && *op == OpCode::kResponse) {
            return on_response(response.type_data, next_id);
        }
        if (state_ == State::kExpectSuccessAck && *op == OpCode::kSuccess) {
            msk_ = std::move(pending_msk_);
            authenticated_ = true;
            return finish(server_success());
        }
        return finish(server_failure("EAP-MSCHAPv2: unexpected OpCode"));
    }

    [[nodiscard]] const Msk& msk() const noexcept override { return msk_; }
    [[nodiscard]] std::string authenticated_identity() const override {
        return authenticated_ ? user_ : std::string();
    }

private:
    enum class State : std::uint8_t { kIdle, kExpectResponse, kExpectSuccessAck, kDone };

    ServerStep finish(ServerStep s) {
        if (s.kind != ServerStep::Kind::kRequest) {
            state_ = State::kDone;
            pending_msk_.clear();
        }
        return s;
    }

    Result<ServerStep> on_response(ByteView type_data, std::uint8_t next_id) {
        const auto msg = mschapv2::decode(type_data);
        if (!msg) {
            return finish(server_failure("EAP-MSCHAPv2: malformed Response"));
        }
        const auto resp = mschapv2::decode_response_data(msg->data);
        if (!resp) {
            return finish(server_failure("EAP-MSCHAPv2: malformed Response"));
        }
        const SecretBytes* secret = ctx_.find_secret ? ctx_.find_secret(resp->name) : nullptr;
        if (secret == nullptr) {
            // Refused like a wrong password, so user names cannot be probed (as strongSwan).
            return retry(next_id);
        }
        auto derived =
                mschapv2::derive(challenge_, resp->peer_challenge, resp->name, secret->view());
        if (!derived) {
            if (derived.error().code == Errc::kInvalidArgument) {
                return finish(server_failure("EAP-MSCHAPv2: the configured secret is not UTF-8"));
            }
            return std::move(derived).error();  // crypto: e.g. no legacy provider
        }
        if (!crypto::constant_time_equal(derived->nt_response.data(), resp->nt_response.data(),
                                         mschapv2::kNtResponseSize)) {
            return retry(next_id);
        }
        user_ = resp->name;
        pending_msk_ = std::move(derived->msk);
        identifier_ = next_id;
        state_ = State::kExpectSuccessAck;
        const std::string text = mschapv2::success_message(derived->auth_response, kWelcome);
        return request(next_id, mschapv2::encode(OpCode::kSuccess, ms_id_, as_bytes(text)));
    }

    /// A Failure request with a new challenge (E=691 R=1), or kFailure once retries are spent.
    ServerStep retry(std::uint8_t next_id) {
        refused_ = true;
        if (++retries_ > kMaxRetries) {
            return finish(
                    server_failure("EAP-MSCHAPv2: wrong password or unknown user, retries spent"));
        }
        challenge_ = random_or_os(ctx_.random).bytes(mschapv2::kChallengeSize);
        identifier_ = next_id;
        const std::string text =
                mschapv2::failure_message(kErrorAuthenticationFailure, true, challenge_);
        // The MS-CHAPv2-ID grows with each retry: the Failure carries the old one.
        const std::uint8_t id = ms_id_++;
        return request(next_id, mschapv2::encode(OpCode::kFailure, id, as_bytes(text)));
    }

    ServerContext ctx_;
    State state_{State::kIdle};
    std::uint8_t identifier_{0};
    std::uint8_t ms_id_{0};
    Bytes challenge_;
    int retries_{0};
    bool refused_{false};
    bool authenticated_{false};
    std::string user_;
    Msk pending_msk_;
    Msk msk_;
};

}  // namespace

std::unique_ptr<ServerMethod> make_mschapv2_server(ServerContext ctx) {
    return std::make_unique<MschapServer>(std::move(ctx));
}

}  // namespace ikeplex::eap
