// IKE_AUTH with EAP (RFC 7296 §2.16, RFC 5998): ikeplex as the EAP client (initiator) and as
// the EAP server (responder) in one run, each test twice (a or b initiates). EAP-MD5 is the
// eap layer's real method; the test methods below (injected through Services::eap) stand in
// for what a hostile or a mutual, key-generating method does.
#include <set>

#include <spdlog/spdlog.h>

#include "cert_factory.h"
#include "flow_fixture.h"
#include "ike/payload_access.h"
#include "log_capture.h"
#include "wire/message.h"

namespace ikeplex::test {
namespace {

using ike::EventKind;
using wire::ExchangeType;

ike::Identity id(const char* s) {
    return *ike::Identity::parse(s);
}

ike::Credentials::Psk eap_secret(const char* who, const char* secret) {
    return ike::Credentials::Psk{{id(who)}, SecretBytes::copy_of(as_bytes(secret))};
}

// ----------------------------------------------------------------------------- test methods

/// A server method of any type: `rounds` requests, then success; `success_first`: its
/// "first request" is an EAP-Success (a hostile server faking success); `endless`: never ends.
struct FakeServerSpec {
    std::uint32_t rounds{1};
    bool success_first{false};
    bool endless{false};
    bool msk{true};
};

class FakeServer final : public eap::ServerMethod {
public:
    FakeServer(eap::Type t, FakeServerSpec spec) : type_(t), spec_(spec) {
        if (spec.msk) {
            msk_ = SecretBytes::copy_of(Bytes(64, 0x5a));
        }
    }
    [[nodiscard]] eap::Type type() const noexcept override { return type_; }
    Result<eap::Packet> initiate(std::uint8_t id, std::string_view peer) override {
        peer_ = std::string(peer);
        if (spec_.success_first) {
            return eap::Packet{eap::Code::kSuccess, id, {}, {}};
        }
        return eap::Packet{eap::Code::kRequest, id, type_, {0}};
    }
    Result<eap::ServerStep> process(const eap::Packet& /*r*/, std::uint8_t next) override {
        if (spec_.endless || ++answered_ < spec_.rounds) {
            eap::ServerStep s;
            s.kind = eap::ServerStep::Kind::kRequest;
            s.request = eap::Packet{
                    eap::Code::kRequest, next, type_, {static_cast<std::uint8_t>(answered_)}};
            return s;
        }
        eap::ServerStep s;
        s.kind = eap::ServerStep::Kind::kSuccess;
        return s;
    }
    [[nodiscard]] const eap::Msk& msk() const noexcept override { return msk_; }
    [[nodiscard]] std::string authenticated_identity() const override { return peer_; }

private:
    eap::Type type_;
    FakeServerSpec spec_;
    std::uint32_t answered_{0};
    std::string peer_;
    eap::Msk msk_;
};

class FakePeer final : public eap::PeerMethod {
public:
    explicit FakePeer(eap::Type t) : type_(t), msk_(SecretBytes::copy_of(Bytes(64, 0x5a))) {}
    [[nodiscard]] eap::Type type() const noexcept override { return type_; }
    Result<eap::PeerStep> process(const eap::Packet& req) override {
        answered_ = true;
        eap::PeerStep s;
        s.kind = eap::PeerStep::Kind::kResponse;
        s.response = eap::Packet{eap::Code::kResponse, req.identifier, type_, req.type_data};
        return s;
    }
    [[nodiscard]] bool may_succeed() const noexcept override { return answered_; }
    [[nodiscard]] const eap::Msk& msk() const noexcept override { return msk_; }

private:
    eap::Type type_;
    bool answered_{false};
    eap::Msk msk_;
};

/// Serves `fake` with the test method and everything else with the eap layer's own.
void fake_server(Node& n, eap::Type fake, FakeServerSpec spec) {
    n.manager.services().eap.server =
            [fake, spec](eap::Type t,
                         eap::ServerContext ctx) -> Result<std::unique_ptr<eap::ServerMethod>> {
        if (t == fake) {
            return std::unique_ptr<eap::ServerMethod>(std::make_unique<FakeServer>(t, spec));
        }
        return eap::make_server(t, std::move(ctx));
    };
}

void fake_peer(Node& n, eap::Type fake) {
    n.manager.services().eap.peer =
            [fake](eap::Type t, eap::PeerContext ctx) -> Result<std::unique_ptr<eap::PeerMethod>> {
        if (t == fake) {
            return std::unique_ptr<eap::PeerMethod>(std::make_unique<FakePeer>(t));
        }
        return eap::make_peer(t, std::move(ctx));
    };
}

// ----------------------------------------------------------------------------- fixture

class Eap : public FlowTest {
protected:
    Eap() : FlowTest(quick()) {}
    static ike::Settings quick() {
        ike::Settings s;
        s.retransmit_timeout = std::chrono::seconds(1);
        s.retransmit_base = 2.0;
        s.retransmit_tries = 3;
        return s;
    }

    /// The initiator is the EAP client (`local.auth = eap-<type>`, 0: `eap`), the responder
    /// the server with a pre-shared key (`remote.auth = eap-<type>`).
    void eap_pair(std::uint8_t client_type, std::uint8_t server_type) {
        ini_cfg().local.kind = ike::AuthKind::kEap;
        ini_cfg().local.eap_type = client_type;
        res_cfg().remote.kind = ike::AuthKind::kEap;
        res_cfg().remote.eap_type = server_type;
    }
    void load_eap(const char* client_secret = "md5-secret",
                  const char* server_secret = "md5-secret") {
        auto ic = psk_credentials();
        auto rc = psk_credentials();
        const char* client = GetParam() ? "a.test" : "b.test";
        ic.eap_secrets.push_back(eap_secret(client, client_secret));
        rc.eap_secrets.push_back(eap_secret(client, server_secret));
        load(h, cfg, GetParam() ? std::move(ic) : std::move(rc),
             GetParam() ? std::move(rc) : std::move(ic));
    }
    void identities() {
        cfg.a.local.id = id("a.test");
        cfg.a.remote.id = id("b.test");
        cfg.b.local.id = id("b.test");
        cfg.b.remote.id = id("a.test");
    }
    void SetUp() override {
        LogCapture::install();
        LogCapture::clear();
        identities();
    }
    /// The IKE_AUTH messages the initiator sent, in order, as strongSwan summarizes them.
    std::vector<std::string> ike_auth_requests() {
        std::vector<std::string> out;
        for (const auto* m : ini().find({.sent = true, .exchange = ExchangeType::kIkeAuth})) {
            out.push_back(payload_summary(*m));
        }
        return out;
    }
    std::vector<std::string> ike_auth_responses() {
        std::vector<std::string> out;
        for (const auto* m : res().find({.sent = true, .exchange = ExchangeType::kIkeAuth})) {
            out.push_back(payload_summary(*m));
        }
        return out;
    }
    bool nothing_up() { return ini().established().empty() && res().established().empty(); }
};

constexpr auto kMd5 = static_cast<std::uint8_t>(eap::Type::kMd5);
constexpr auto kMschap = static_cast<std::uint8_t>(eap::Type::kMschapv2);
constexpr auto kTls = static_cast<std::uint8_t>(eap::Type::kTls);

TEST_P(Eap, Md5AgainstPskResponderEstablishes) {
    eap_pair(kMd5, kMd5);
    load_eap();
    initiate();
    ASSERT_TRUE(up());
    expect_consistent();
    // RFC 7296 §2.16: three IKE_AUTH exchanges: IDi without AUTH; the MD5 response; AUTH.
    const auto req = ike_auth_requests();
    ASSERT_EQ(req.size(), 3U);
    EXPECT_EQ(req[0].find("AUTH"), std::string::npos) << req[0];
    EXPECT_NE(req[0].find("N(EAP_ONLY)"), std::string::npos) << req[0];
    EXPECT_NE(req[0].find("SA TSi TSr"), std::string::npos) << req[0];
    EXPECT_EQ(req[1], "EAP/RES/MD5");
    EXPECT_EQ(req[2], "AUTH");
    const auto resp = ike_auth_responses();
    ASSERT_EQ(resp.size(), 3U);
    EXPECT_EQ(resp[0], "IDr AUTH EAP/REQ/MD5");
    EXPECT_EQ(resp[1], "EAP/SUCC");
    EXPECT_NE(resp[2].find("AUTH SA TSi TSr"), std::string::npos) << resp[2];
    // Both AUTHs after EAP are MACs (MD5 has no MSK: SK_pi / SK_pr key them).
    const auto last = ini().find({.sent = true, .exchange = ExchangeType::kIkeAuth});
    const auto* a =
            ike::find_payload<wire::AuthPayload>(last[2]->payloads, wire::PayloadType::kAuth);
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->method, wire::AuthMethod::kSharedKeyMic);
    EXPECT_EQ(only_sa(res()).remote_eap_id(), GetParam() ? "a.test" : "b.test");
    EXPECT_FALSE(only_sa(res()).holds_handshake());
    EXPECT_FALSE(only_sa(ini()).holds_handshake());
    EXPECT_TRUE(LogCapture::contains(res_name(), "EAP method EAP_MD5 succeeded, no MSK"));
    EXPECT_TRUE(LogCapture::contains(ini_name(), "authentication of '" +
                                                         std::string(GetParam() ? "b" : "a") +
                                                         ".test' with EAP successful"));
}

TEST_P(Eap, EapIdentityAgainstCertificateResponder) {
    const auto ca_key = make_key(crypto::KeyType::kEcP256);
    const auto ca = issue(CertSpec{.cn = "ikeplex test CA", .ca = true}, ca_key, nullptr, ca_key);
    eap_pair(kMd5, kMd5);
    ini_cfg().local.eap_id = id("carol");
    ini_cfg().remote.kind = ike::AuthKind::kPubkey;
    res_cfg().local.kind = ike::AuthKind::kPubkey;
    res_cfg().remote.eap_id = id("%any");
    ike::Credentials ic;
    ike::Credentials rc;
    EXPECT_TRUE(ic.cas.add_trusted(ca));
    const char* dns = GetParam() ? "b.test" : "a.test";
    auto key = make_key(crypto::KeyType::kEcP256);
    rc.certs.push_back(ike::Credentials::Own{
            issue(CertSpec{.cn = dns, .dns = {dns}}, key, &ca, ca_key), std::move(key)});
    ic.eap_secrets.push_back(eap_secret("carol", "carol-secret"));
    rc.eap_secrets.push_back(eap_secret("carol", "carol-secret"));
    load(h, cfg, GetParam() ? std::move(ic) : std::move(rc),
         GetParam() ? std::move(rc) : std::move(ic));
    initiate();
    ASSERT_TRUE(up());
    expect_consistent();
    const auto resp = ike_auth_responses();
    ASSERT_EQ(resp.size(), 4U);
    EXPECT_EQ(resp[0], "IDr CERT AUTH EAP/REQ/ID");
    EXPECT_EQ(resp[1], "EAP/REQ/MD5");
    EXPECT_EQ(resp[2], "EAP/SUCC");
    EXPECT_EQ(ike_auth_requests()[1], "EAP/RES/ID");
    // The EAP identity differs from the IKE identity: list-sas shows it as remote-eap-id.
    EXPECT_EQ(only_sa(res()).remote_eap_id(), "carol");
    EXPECT_TRUE(LogCapture::contains(res_name(), "received EAP identity 'carol'"));
    EXPECT_TRUE(LogCapture::contains(ini_name(), "sending 'carol'"));
}

TEST_P(Eap, WrongSecretEndsInEapFailure) {
    eap_pair(kMd5, kMd5);
    load_eap("client-thinks-this", "server-knows-that");
    initiate();
    settle();
    EXPECT_TRUE(nothing_up());
    EXPECT_EQ(res().count(EventKind::kIkeUp), 0U);
    EXPECT_EQ(ike_auth_responses().back(), "EAP/FAIL");
    EXPECT_TRUE(LogCapture::contains(res_name(), "EAP method EAP_MD5 failed for peer"));
    EXPECT_TRUE(LogCapture::contains(ini_name(), "received EAP_FAILURE"));
    expect_empty();
}

TEST_P(Eap, LostMessagesInTheRoundsAreRetransmitted) {
    eap_pair(kMd5, kMd5);
    load_eap();
    // Drop the first copy of the EAP response (the second IKE_AUTH request) and of the
    // EAP-Success (the second response).
    std::set<std::pair<bool, std::uint32_t>> seen;
    h.drop = [&](const Datagram& d) {
        auto m = wire::peek_header(d.data);
        if (!m || m->exchange != ExchangeType::kIkeAuth || m->message_id.value() != 2) {
            return false;
        }
        return seen.insert({m->is_response(), m->message_id.value()}).second;
    };
    initiate();
    ASSERT_TRUE(up());
    expect_consistent();
    // The EAP response went three times (lost; its retransmit answered, the answer lost; once
    // more, answered from the responder's cache), the others once.
    EXPECT_EQ(h.sent_by(ini(), ExchangeType::kIkeAuth, false).size(), 5U);
    EXPECT_EQ(h.sent_by(res(), ExchangeType::kIkeAuth, true).size(), 4U);
    EXPECT_EQ(ike_auth_requests().size(), 3U);
}

TEST_P(Eap, EarlyEapSuccessIsRefused) {
    eap_pair(kMd5, kMd5);
    load_eap();
    fake_server(res(), eap::Type::kMd5, FakeServerSpec{.success_first = true});
    initiate();
    settle();
    EXPECT_TRUE(nothing_up());
    EXPECT_TRUE(LogCapture::contains(ini_name(),
                                     "received EAP_SUCCESS before the EAP method completed"));
    // No AUTH from the MSK was ever sent.
    EXPECT_EQ(ike_auth_requests().size(), 1U);
    expect_empty();
}

TEST_P(Eap, ServerBoundsTheRounds) {
    eap_pair(kMschap, kMschap);
    load_eap();
    fake_server(res(), eap::Type::kMschapv2, FakeServerSpec{.endless = true});
    fake_peer(ini(), eap::Type::kMschapv2);
    initiate();
    settle();
    EXPECT_TRUE(nothing_up());
    // 50 responses taken, the 51st refused with EAP-Failure (the client gives up at the
    // same count: whichever comes first).
    EXPECT_LE(ike_auth_requests().size(), 52U);
    EXPECT_TRUE(LogCapture::contains(ini_name(), "too many EAP rounds") ||
                LogCapture::contains(res_name(), "too many EAP rounds"));
    expect_empty();
}

TEST_P(Eap, MutualMethodAllowsEapOnly) {
    eap_pair(kTls, kTls);
    res_cfg().local.kind = ike::AuthKind::kEap;   // RFC 5998: no AUTH of ours in the first response
    ini_cfg().remote.kind = ike::AuthKind::kEap;  // the client takes the gateway by EAP
    load_eap();
    fake_server(res(), eap::Type::kTls, FakeServerSpec{.rounds = 2});
    fake_peer(ini(), eap::Type::kTls);
    initiate();
    ASSERT_TRUE(up());
    expect_consistent();
    const auto resp = ike_auth_responses();
    ASSERT_EQ(resp.size(), 4U);
    EXPECT_EQ(resp[0], "IDr EAP/REQ/TLS");
    EXPECT_TRUE(LogCapture::contains(ini_name(), "allow mutual EAP-only authentication"));
    EXPECT_TRUE(LogCapture::contains(res_name(), "MSK established"));
}

TEST_P(Eap, NonMutualMethodRefusesEapOnly) {
    eap_pair(kMd5, kMd5);
    res_cfg().local.kind = ike::AuthKind::kEap;
    ini_cfg().remote.kind = ike::AuthKind::kEap;
    load_eap();
    initiate();
    settle();
    EXPECT_TRUE(nothing_up());
    EXPECT_TRUE(LogCapture::contains(ini_name(), "do not allow non-mutual EAP-only"));
    expect_empty();
}

// A client whose connection expects the gateway's certificate refuses a first response without
// AUTH, even with a mutual method.
TEST_P(Eap, EapOnlyRefusedWhereTheConnectionExpectsACertificate) {
    eap_pair(kTls, kTls);
    res_cfg().local.kind = ike::AuthKind::kEap;
    load_eap();
    fake_server(res(), eap::Type::kTls, FakeServerSpec{.rounds = 2});
    fake_peer(ini(), eap::Type::kTls);
    initiate();
    settle();
    EXPECT_TRUE(nothing_up());
    EXPECT_TRUE(LogCapture::contains(ini_name(), "peer sent no AUTH (EAP-only)"));
    expect_empty();
}

// strongSwan 5.9.8's client refuses EAP-only with MSCHAPv2 (integration_eap_rw shows it); ours
// does the same: the authenticator response proves only the password hash.
TEST_P(Eap, MschapIsNotMutualEnoughForEapOnly) {
    eap_pair(kMschap, kMschap);
    res_cfg().local.kind = ike::AuthKind::kEap;
    ini_cfg().remote.kind = ike::AuthKind::kEap;
    load_eap();
    fake_server(res(), eap::Type::kMschapv2, FakeServerSpec{.rounds = 2});
    fake_peer(ini(), eap::Type::kMschapv2);
    initiate();
    settle();
    EXPECT_TRUE(nothing_up());
    EXPECT_TRUE(LogCapture::contains(ini_name(), "do not allow non-mutual EAP-only"));
    expect_empty();
}

TEST_P(Eap, EapTlsClientChecksTheGatewaysName) {
    // EAP-only with EAP-TLS: the method alone authenticates the gateway, so its certificate
    // must name the gateway's IKE identity (else any certificate of the CA would do).
    eap_pair(kTls, kTls);
    res_cfg().local.kind = ike::AuthKind::kEap;
    ini_cfg().remote.kind = ike::AuthKind::kEap;
    load_eap();
    fake_server(res(), eap::Type::kTls, FakeServerSpec{.rounds = 2});
    std::vector<std::string> names;
    ini().manager.services().eap.peer =
            [&names](eap::Type t,
                     eap::PeerContext ctx) -> Result<std::unique_ptr<eap::PeerMethod>> {
        names.push_back(ctx.server_name);
        return std::unique_ptr<eap::PeerMethod>(std::make_unique<FakePeer>(t));
    };
    initiate();
    ASSERT_TRUE(up());
    ASSERT_EQ(names.size(), 1U);
    EXPECT_EQ(names[0], GetParam() ? "b.test" : "a.test");
}

TEST_P(Eap, EapTlsClientChecksTheAaaId) {
    // `remote.aaa_id`: the AAA server's identity, which the EAP-TLS server certificate names.
    eap_pair(kTls, kTls);
    ini_cfg().remote.aaa_id = id("aaa.test");
    load_eap();
    fake_server(res(), eap::Type::kTls, FakeServerSpec{.rounds = 2});
    std::vector<std::string> names;
    ini().manager.services().eap.peer =
            [&names](eap::Type t,
                     eap::PeerContext ctx) -> Result<std::unique_ptr<eap::PeerMethod>> {
        names.push_back(ctx.server_name);
        return std::unique_ptr<eap::PeerMethod>(std::make_unique<FakePeer>(t));
    };
    initiate();
    ASSERT_TRUE(up());
    ASSERT_EQ(names.size(), 1U);
    EXPECT_EQ(names[0], "aaa.test");
}

TEST_P(Eap, NakSwitchesToTheClientsMethod) {
    eap_pair(kMd5, 0);  // the server takes any method (`auth = eap`) and proposes MSCHAPv2
    load_eap();
    fake_server(res(), eap::Type::kMschapv2, FakeServerSpec{});
    initiate();
    ASSERT_TRUE(up());
    const auto req = ike_auth_requests();
    ASSERT_GE(req.size(), 2U);
    EXPECT_EQ(req[1], "EAP/RES/NAK");
    EXPECT_EQ(ike_auth_responses()[1], "EAP/REQ/MD5");
    EXPECT_TRUE(LogCapture::contains(res_name(), "received EAP_NAK, peer asks for EAP_MD5"));
}

TEST_P(Eap, ServerRefusesAPeerWithoutEap) {
    // The responder wants EAP, the initiator authenticates with its key: no connection fits.
    res_cfg().remote.kind = ike::AuthKind::kEap;
    res_cfg().remote.eap_type = kMd5;
    load_psk();
    initiate();
    settle();
    EXPECT_TRUE(nothing_up());
    EXPECT_EQ(res().count({.sent = true, .notify = wire::NotifyType::kAuthenticationFailed}), 1U);
}

INSTANTIATE_TEST_SUITE_P(Roles, Eap, ::testing::Bool(), role_name);

TEST(EapUsers, InitialContactOfOneEapUserKeepsAnotherWithTheSameIkeIdentity) {
    // Road-warriors often share an IKE identity (their private address behind NAT); EAP tells
    // the users apart. carol's INITIAL_CONTACT must not delete dave's IKE SA.
    LogCapture::install();
    Harness h{21};
    PairConfig cfg = psk_pair();
    ike::PeerConfig gateway = cfg.b;
    gateway.remote.id = id("%any");
    gateway.remote.kind = ike::AuthKind::kEap;
    gateway.remote.eap_type = kMd5;
    gateway.remote.eap_id = id("%any");
    std::vector<ike::PeerConfig> clients;
    for (const char* user : {"carol", "dave"}) {
        ike::PeerConfig c = cfg.a;
        c.name = user;
        c.local.id = id("shared@vpn.example");
        c.local.kind = ike::AuthKind::kEap;
        c.local.eap_type = kMd5;
        c.local.eap_id = id(user);
        clients.push_back(std::move(c));
    }
    h.a().manager.load(std::move(clients));
    h.b().manager.load({gateway});
    auto ac = psk_credentials();
    auto bc = psk_credentials();
    for (const char* user : {"carol", "dave"}) {
        ac.eap_secrets.push_back(eap_secret(user, "md5-secret"));
        bc.eap_secrets.push_back(eap_secret(user, "md5-secret"));
    }
    h.a().manager.set_credentials(std::move(ac));
    h.b().manager.set_credentials(std::move(bc));
    const auto start = [&](const char* conn, std::size_t n) {
        h.act(h.a(), [&](ike::Step& s) {
            auto r = h.a().manager.initiate(conn, "net", s);
            ASSERT_TRUE(r) << r.error().detail;
        });
        return h.run_until([&] { return h.b().established().size() == n; },
                           std::chrono::seconds(30));
    };
    ASSERT_TRUE(start("dave", 1));
    ASSERT_TRUE(start("carol", 2));
    h.run_for(std::chrono::seconds(2));
    EXPECT_EQ(h.b().established().size(), 2U);
    EXPECT_EQ(h.a().established().size(), 2U);
}

}  // namespace
}  // namespace ikeplex::test
