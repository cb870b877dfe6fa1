// What a hostile EAP peer or gateway tries (issue 21 review), with the eap layer's real methods:
// - the identity a conversation authenticates: what a peer names inside a method must not
//   escape what the connection requires (`remote.eap_id`, docs/config.md: "the one the client
//   must have") nor the rule that identities are printable (usable_identity()); the relay
//   case with the AAA backend seam (eap_backend.h);
// - EAP-only (RFC 5998): a gateway that did not authenticate itself gets no answer to a
//   non-mutual method's challenge (an offline dictionary attack on the client's secret).
#include "flow_fixture.h"
#include "log_capture.h"

namespace ikeplex::test {
namespace {

using wire::ExchangeType;

ike::Identity id(const char* s) {
    return *ike::Identity::parse(s);
}

ike::Credentials::Psk eap_secret(ike::Identity who, const char* secret) {
    return ike::Credentials::Psk{{std::move(who)}, SecretBytes::copy_of(as_bytes(secret))};
}

constexpr auto kMschap = static_cast<std::uint8_t>(eap::Type::kMschapv2);

class HostileEap : public FlowTest {
protected:
    /// Log capture on; IKE identities a.test and b.test; the initiator is the EAP client of
    /// method `type`, the responder its server (authenticated by the pre-shared key).
    void eap_pair(std::uint8_t type) {
        LogCapture::install();
        LogCapture::clear();
        cfg.a.local.id = id("a.test");
        cfg.a.remote.id = id("b.test");
        cfg.b.local.id = id("b.test");
        cfg.b.remote.id = id("a.test");
        ini_cfg().local.kind = ike::AuthKind::kEap;
        ini_cfg().local.eap_type = type;
        res_cfg().remote.kind = ike::AuthKind::kEap;
        res_cfg().remote.eap_type = type;
    }
};

class EapIdentity : public HostileEap {
protected:
    void SetUp() override { eap_pair(kMschap); }
    /// The client speaks as `client` (its eap_id) with `client_pw`; the gateway knows carol's
    /// and dave's passwords (and `extra`, if any).
    void load_users(ike::Identity client, const char* client_pw,
                    std::optional<ike::Credentials::Psk> extra = std::nullopt) {
        ini_cfg().local.eap_id = client;
        auto ic = psk_credentials();
        auto rc = psk_credentials();
        ic.eap_secrets.push_back(eap_secret(client, client_pw));
        rc.eap_secrets.push_back(eap_secret(id("carol"), "carol-pw"));
        rc.eap_secrets.push_back(eap_secret(id("dave"), "dave-pw"));
        if (extra) {
            rc.eap_secrets.push_back(std::move(*extra));
        }
        load(h, cfg, GetParam() ? std::move(ic) : std::move(rc),
             GetParam() ? std::move(rc) : std::move(ic));
    }
    std::string last_response() {
        return payload_summary(
                *res().find({.sent = true, .exchange = ExchangeType::kIkeAuth}).back());
    }
};

TEST_P(EapIdentity, MschapWithTheRequiredEapIdentityEstablishes) {
    res_cfg().remote.eap_id = id("carol");
    load_users(id("carol"), "carol-pw");
    initiate();
    ASSERT_TRUE(up());
    EXPECT_EQ(only_sa(res()).remote_eap_id(), "carol");
}

TEST_P(EapIdentity, MschapNameOtherThanTheRequiredEapIdentityIsRefused) {
    // The gateway requires carol and starts MSCHAPv2 for her without asking (no %any); the
    // client answers with dave's Name and dave's (correct) password. Before the fix the gateway
    // looked the secret up by the Name, succeeded, and recorded dave on a connection for carol.
    res_cfg().remote.eap_id = id("carol");
    load_users(id("dave"), "dave-pw");
    initiate();
    settle();
    EXPECT_TRUE(ini().established().empty());
    EXPECT_TRUE(res().established().empty());
    EXPECT_EQ(last_response(), "EAP/FAIL");
    EXPECT_TRUE(LogCapture::contains(res_name(), "is not the required EAP identity 'carol'"));
}

TEST_P(EapIdentity, MschapNameWithControlCharactersIsRefused) {
    // With %any the EAP-Identity response is checked for control characters, but the MSCHAPv2
    // Name became the authenticated identity (list-sas, logs, RADIUS User-Name) unchecked. The
    // gateway has one EAP secret for everyone (no id), so any Name finds it: the client answers
    // EAP-Identity as carol, then names itself with a line break inside MSCHAPv2.
    res_cfg().remote.eap_id = id("%any");
    load_users(id("carol"), "shared-pw",
               ike::Credentials::Psk{{}, SecretBytes::copy_of(as_bytes("shared-pw"))});
    const SecretBytes shared = SecretBytes::copy_of(as_bytes("shared-pw"));
    ini().manager.services().eap.peer =
            [&shared](eap::Type t,
                      eap::PeerContext ctx) -> Result<std::unique_ptr<eap::PeerMethod>> {
        ctx.identity = "carol\nforged log line";
        ctx.secret = &shared;
        return eap::make_peer(t, std::move(ctx));
    };
    initiate();
    settle();
    EXPECT_TRUE(ini().established().empty());
    EXPECT_TRUE(res().established().empty());
    EXPECT_FALSE(LogCapture::contains(res_name(), "forged log line"));
    EXPECT_TRUE(LogCapture::contains(res_name(), "EAP method EAP_MSCHAPV2 failed"));
}

INSTANTIATE_TEST_SUITE_P(Roles, EapIdentity, ::testing::Bool(), role_name);

/// EAP-RADIUS (the relay): the EAP-Identity answer must be the required `remote.eap_id`.
class EapRelayIdentity : public FlowTest {
protected:
    void SetUp() override {
        LogCapture::install();
        LogCapture::clear();
        ini_cfg().local.kind = ike::AuthKind::kEap;
        ini_cfg().local.eap_type = static_cast<std::uint8_t>(eap::Type::kMd5);
        res_cfg().remote.kind = ike::AuthKind::kEap;
        res_cfg().remote.eap_radius = true;
    }
    void load_client(const char* eap_id) {
        ini_cfg().local.eap_id = id(eap_id);
        auto ic = psk_credentials();
        ic.eap_secrets.push_back(eap_secret(id(eap_id), "md5-pw"));
        load(h, cfg, GetParam() ? std::move(ic) : psk_credentials(),
             GetParam() ? psk_credentials() : std::move(ic));
    }
    bool queried() {
        h.run_until([&] { return !res().eap_queries.empty(); }, std::chrono::seconds(5));
        return !res().eap_queries.empty();
    }
};

TEST_P(EapRelayIdentity, RequiredIdentityIsRelayed) {
    res_cfg().remote.eap_id = id("carol");
    load_client("carol");
    initiate();
    ASSERT_TRUE(queried());
    EXPECT_EQ(res().eap_queries.front().identity, "carol");
}

TEST_P(EapRelayIdentity, OtherIdentityThanTheRequiredOneIsNotRelayed) {
    // Before the fix the relay took whatever the client answered to EAP-Identity, so RADIUS
    // authenticated dave on a connection that requires carol.
    res_cfg().remote.eap_id = id("carol");
    load_client("dave");
    initiate();
    EXPECT_FALSE(queried());
    settle();
    EXPECT_TRUE(ini().established().empty());
    EXPECT_TRUE(res().established().empty());
    EXPECT_TRUE(LogCapture::contains(res_name(), "is not the required EAP identity 'carol'"));
}

INSTANTIATE_TEST_SUITE_P(Roles, EapRelayIdentity, ::testing::Bool(), role_name);

class EapOnly : public HostileEap {};

TEST_P(EapOnly, NonMutualChallengeOfAnUnauthenticatedGatewayIsNotAnswered) {
    // The gateway sends no AUTH (RFC 5998) and asks for EAP-MD5. Before the fix the client
    // answered with MD5(Identifier | secret | challenge), an offline dictionary target for any
    // gateway, and refused only at EAP-Success.
    eap_pair(static_cast<std::uint8_t>(eap::Type::kMd5));
    ini_cfg().remote.kind = ike::AuthKind::kEap;  // the client takes the gateway by EAP
    res_cfg().local.kind = ike::AuthKind::kEap;   // no AUTH of the gateway's own
    auto ic = psk_credentials();
    auto rc = psk_credentials();
    const char* client = GetParam() ? "a.test" : "b.test";
    ic.eap_secrets.push_back(eap_secret(id(client), "md5-secret"));
    rc.eap_secrets.push_back(eap_secret(id(client), "md5-secret"));
    load(h, cfg, GetParam() ? std::move(ic) : std::move(rc),
         GetParam() ? std::move(rc) : std::move(ic));
    initiate();
    settle();
    EXPECT_TRUE(ini().established().empty());
    EXPECT_TRUE(res().established().empty());
    for (const auto* m : ini().find({.sent = true, .exchange = ExchangeType::kIkeAuth})) {
        EXPECT_EQ(payload_summary(*m).find("EAP/RES/MD5"), std::string::npos)
                << payload_summary(*m);
    }
    EXPECT_TRUE(LogCapture::contains(ini_name(), "do not allow non-mutual EAP-only"));
    expect_empty();
}

INSTANTIATE_TEST_SUITE_P(Roles, EapOnly, ::testing::Bool(), role_name);

}  // namespace
}  // namespace ikeplex::test
