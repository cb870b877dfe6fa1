// EAP-MD5-Challenge (RFC 3748 §5.4): Type-Data is Value-Size (1 byte), Value, Name (the rest,
// optional). The server's Value is the challenge; the peer's is MD5(Identifier || secret ||
// challenge) (RFC 1994 §4.1), 16 bytes. Like strongSwan's eap-md5, ikeplex sends a 16-byte
// challenge and no Name, and ignores a Name it receives.
#include "eap/md5.h"

#include <string>
#include <utility>

#include "crypto/constant_time.h"
#include "crypto/ossl.h"
#include "eap/random_source.h"
#include "eap/steps.h"

namespace ikeplex::eap {
namespace {

constexpr std::size_t kMd5Size = 16;

/// Value-Size and Value from MD5 Type-Data; nullopt if the Value-Size overruns the data or is 0.
std::optional<ByteView> md5_value(ByteView type_data) {
    if (type_data.empty()) {
        return std::nullopt;
    }
    const std::size_t size = type_data[0];
    if (size == 0 || type_data.size() < 1 + size) {
        return std::nullopt;
    }
    return type_data.subspan(1, size);
}

Bytes with_value_size(ByteView value) {
    Bytes out;
    out.reserve(1 + value.size());
    out.push_back(static_cast<std::uint8_t>(value.size()));
    out.insert(out.end(), value.begin(), value.end());
    return out;
}

class Md5Server final : public ServerMethod {
public:
    explicit Md5Server(ServerContext ctx) : ctx_(std::move(ctx)) {}

    [[nodiscard]] Type type() const noexcept override { return Type::kMd5; }

    Result<Packet> initiate(std::uint8_t id, std::string_view peer_identity) override {
        if (state_ != State::kIdle) {
            return make_error(Errc::kState, "EAP-MD5: initiated twice");
        }
        identity_ = std::string(peer_identity);
        identifier_ = id;
        challenge_ = random_or_os(ctx_.random).bytes(kMd5ChallengeSize);
        state_ = State::kChallenged;
        return Packet{Code::kRequest, id, Type::kMd5, with_value_size(challenge_)};
    }

    Result<ServerStep> process(const Packet& response, std::uint8_t /*next_id*/) override {
        if (state_ != State::kChallenged) {
            return make_error(Errc::kState, "EAP-MD5: response without a challenge");
        }
        state_ = State::kDone;
        if (response.code != Code::kResponse || response.type != Type::kMd5 ||
            response.identifier != identifier_) {
            return server_failure("EAP-MD5: not a response to the challenge");
        }
        const auto value = md5_value(response.type_data);
        if (!value || value->size() != kMd5Size) {
            return server_failure("EAP-MD5: malformed response (Value-Size must be 16)");
        }
        // Looked up only now, so an unknown user is refused exactly like a wrong password.
        const SecretBytes* secret = ctx_.find_secret ? ctx_.find_secret(identity_) : nullptr;
        if (secret == nullptr) {
            return server_failure("EAP-MD5: no EAP secret for the identity");
        }
        const Bytes expected =
                IKEPLEX_TRY(md5_chap_response(identifier_, secret->view(), challenge_));
        if (!crypto::constant_time_equal(expected.data(), value->data(), kMd5Size)) {
            return server_failure("EAP-MD5: wrong response (wrong secret)");
        }
        authenticated_ = true;
        return server_success();
    }

    [[nodiscard]] const Msk& msk() const noexcept override { return msk_; }
    [[nodiscard]] std::string authenticated_identity() const override {
        return authenticated_ ? identity_ : std::string();
    }

private:
    enum class State : std::uint8_t { kIdle, kChallenged, kDone };
    ServerContext ctx_;
    State state_{State::kIdle};
    std::string identity_;
    std::uint8_t identifier_{0};
    Bytes challenge_;
    bool authenticated_{false};
    Msk msk_;  // MD5 exports none
};

class Md5Peer final : public PeerMethod {
public:
    explicit Md5Peer(PeerContext ctx) : ctx_(std::move(ctx)) {}

    [[nodiscard]] Type type() const noexcept override { return Type::kMd5; }

    Result<PeerStep> process(const Packet& request) override {
        PeerStep step;
        step.kind = PeerStep::Kind::kFailure;
        if (request.code != Code::kRequest || request.type != Type::kMd5) {
            step.reason = "EAP-MD5: not an MD5 request";
            return step;
        }
        const auto challenge = md5_value(request.type_data);
        if (!challenge) {
            step.reason = "EAP-MD5: malformed challenge";
            return step;
        }
        if (ctx_.secret == nullptr) {
            step.reason = "EAP-MD5: no EAP secret for our identity";
            return step;
        }
        const Bytes value =
                IKEPLEX_TRY(md5_chap_response(request.identifier, ctx_.secret->view(), *challenge));
        step.kind = PeerStep::Kind::kResponse;
        step.response =
                Packet{Code::kResponse, request.identifier, Type::kMd5, with_value_size(value)};
        answered_ = true;
        return step;
    }

    /// MD5 does not authenticate the server: once we answered, a Success is all there is.
    [[nodiscard]] bool may_succeed() const noexcept override { return answered_; }
    [[nodiscard]] const Msk& msk() const noexcept override { return msk_; }

private:
    PeerContext ctx_;
    bool answered_{false};
    Msk msk_;
};

}  // namespace

Result<Bytes> md5_chap_response(std::uint8_t identifier, ByteView secret, ByteView challenge) {
    const crypto::EvpMdPtr md(EVP_MD_fetch(nullptr, "MD5", nullptr));
    const crypto::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    if (!md || !ctx) {
        return crypto::openssl_error("EAP-MD5: MD5 unavailable");
    }
    IKEPLEX_TRY(crypto::check(EVP_DigestInit_ex2(ctx.get(), md.get(), nullptr), "MD5: init"));
    IKEPLEX_TRY(crypto::check(EVP_DigestUpdate(ctx.get(), &identifier, 1), "MD5: update"));
    IKEPLEX_TRY(crypto::check(EVP_DigestUpdate(ctx.get(), secret.data(), secret.size()),
                              "MD5: update"));
    IKEPLEX_TRY(crypto::check(EVP_DigestUpdate(ctx.get(), challenge.data(), challenge.size()),
                              "MD5: update"));
    Bytes out(kMd5Size);
    unsigned int len = 0;
    IKEPLEX_TRY(crypto::check(EVP_DigestFinal_ex(ctx.get(), out.data(), &len), "MD5: final"));
    return out;
}

std::unique_ptr<ServerMethod> make_md5_server(ServerContext ctx) {
    return std::make_unique<Md5Server>(std::move(ctx));
}

std::unique_ptr<PeerMethod> make_md5_peer(PeerContext ctx) {
    return std::make_unique<Md5Peer>(std::move(ctx));
}

}  // namespace ikeplex::eap
