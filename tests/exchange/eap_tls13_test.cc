// EAP-TLS over TLS 1.3 (RFC 9190) inside IKE_AUTH (RFC 7296 §2.16), both halves ikeplex's own
// (no test methods): the AUTH payloads are MACs over RFC 9190's MSK, so the IKE SA comes up only
// if both sides derived the same one; the client accepts EAP-Success only after the server's
// commitment message. Each test twice (a or b initiates).
#include <set>

#include "cert_factory.h"
#include "flow_fixture.h"
#include "log_capture.h"
#include "wire/message.h"

namespace ikeplex::test {
namespace {

using wire::ExchangeType;

ike::Identity id(const char* s) {
    return *ike::Identity::parse(s);
}

ike::Settings quick() {
    ike::Settings s;
    s.retransmit_timeout = std::chrono::seconds(1);
    s.retransmit_base = 2.0;
    s.retransmit_tries = 3;
    return s;
}

/// The eap layer's methods with TLS versions 1.2 to `max`, as ikeplexd wires ikeplexd.conf's
/// tls { } (daemon.cc).
void tls_versions(Node& n, std::uint16_t max) {
    const eap::TlsVersions v{eap::kTls12, max};
    n.manager.services().eap = {[v](eap::Type t, eap::ServerContext ctx) {
                                    ctx.tls_versions = v;
                                    return eap::make_server(t, std::move(ctx));
                                },
                                [v](eap::Type t, eap::PeerContext ctx) {
                                    ctx.tls_versions = v;
                                    return eap::make_peer(t, std::move(ctx));
                                }};
}

constexpr std::uint16_t k12 = eap::kTls12;
constexpr std::uint16_t k13 = eap::kTls13;
constexpr auto kTls = static_cast<std::uint8_t>(eap::Type::kTls);

/// `a_max` / `b_max`: each node's TLS version_max (version_min 1.2).
class EapTls13 : public FlowTest {
protected:
    explicit EapTls13(std::uint16_t a_max = k13, std::uint16_t b_max = k13)
        : FlowTest(quick()), a_max_(a_max), b_max_(b_max) {}

    void SetUp() override {
        LogCapture::install();
        LogCapture::clear();
    }

    /// The client (initiator, `local.auth = eap-tls`, identity client.test) and the gateway
    /// (responder, a certificate, `remote.auth = eap-tls`), one CA for both.
    void load_pair() {
        ini_cfg().local.id = id("client.test");
        ini_cfg().local.kind = ike::AuthKind::kEap;
        ini_cfg().local.eap_type = kTls;
        ini_cfg().remote.id = id("gw.test");
        ini_cfg().remote.kind = ike::AuthKind::kPubkey;
        res_cfg().local.id = id("gw.test");
        res_cfg().local.kind = ike::AuthKind::kPubkey;
        res_cfg().remote.id = id("client.test");
        res_cfg().remote.kind = ike::AuthKind::kEap;
        res_cfg().remote.eap_type = kTls;
        ike::Credentials ic;
        ike::Credentials rc;
        EXPECT_TRUE(ic.cas.add_trusted(ca_));
        EXPECT_TRUE(rc.cas.add_trusted(ca_));
        for (auto [creds, name] : {std::pair{&ic, "client.test"}, std::pair{&rc, "gw.test"}}) {
            auto key = make_key(crypto::KeyType::kEcP256);
            creds->certs.push_back(ike::Credentials::Own{
                    issue(CertSpec{.cn = name, .dns = {name}}, key, &ca_, ca_key_),
                    std::move(key)});
        }
        load(h, cfg, GetParam() ? std::move(ic) : std::move(rc),
             GetParam() ? std::move(rc) : std::move(ic));
        tls_versions(h.a(), a_max_);
        tls_versions(h.b(), b_max_);
    }

    std::vector<std::string> responses() {
        std::vector<std::string> out;
        for (const auto* m : res().find({.sent = true, .exchange = ExchangeType::kIkeAuth})) {
            out.push_back(payload_summary(*m));
        }
        return out;
    }

private:
    std::uint16_t a_max_;
    std::uint16_t b_max_;
    crypto::PrivateKey ca_key_ = make_key(crypto::KeyType::kEcP256);
    crypto::Certificate ca_ =
            issue(CertSpec{.cn = "ikeplex test CA", .ca = true}, ca_key_, nullptr, ca_key_);
};

TEST_P(EapTls13, BothHalvesOursAgreeOnRfc9190sMsk) {
    load_pair();
    initiate();
    ASSERT_TRUE(up());
    expect_consistent();
    EXPECT_TRUE(LogCapture::contains(ini_name(), "EAP-TLS: TLSv1.3 with"));
    EXPECT_TRUE(LogCapture::contains(res_name(), "EAP-TLS: TLSv1.3 with"));
    EXPECT_TRUE(LogCapture::contains(ini_name(), "EAP-TLS: TLS 1.3 commitment message received"));
    EXPECT_TRUE(LogCapture::contains(res_name(), "EAP method EAP_TLS succeeded, MSK established"));
    const auto resp = responses();
    ASSERT_GE(resp.size(), 4U);
    EXPECT_EQ(resp[resp.size() - 2], "EAP/SUCC");
}

TEST_P(EapTls13, LostCommitmentIsRetransmitted) {
    load_pair();
    // The first copy of every IKE_AUTH response is lost, the one carrying the commitment
    // message among them: each request is retransmitted and answered from the cache.
    std::set<std::uint32_t> seen;
    h.drop = [&](const Datagram& d) {
        auto m = wire::peek_header(d.data);
        return m && m->exchange == ExchangeType::kIkeAuth && m->is_response() &&
               seen.insert(m->message_id.value()).second;
    };
    initiate();
    ASSERT_TRUE(up());
    expect_consistent();
    EXPECT_TRUE(LogCapture::contains(ini_name(), "EAP-TLS: TLS 1.3 commitment message received"));
}

INSTANTIATE_TEST_SUITE_P(Roles, EapTls13, ::testing::Bool(), role_name);

/// The gateway allows TLS 1.3, the client only 1.2 (strongSwan 5.9.8's default): TLS 1.2,
/// no commitment message.
class EapTls13Mixed : public EapTls13 {
protected:
    EapTls13Mixed() : EapTls13(GetParam() ? k12 : k13, GetParam() ? k13 : k12) {}
};

TEST_P(EapTls13Mixed, ClientWithTls12OnlyGetsTls12) {
    load_pair();
    initiate();
    ASSERT_TRUE(up());
    EXPECT_TRUE(LogCapture::contains(ini_name(), "EAP-TLS: TLSv1.2 with"));
    EXPECT_FALSE(LogCapture::contains(ini_name(), "commitment message"));
}

INSTANTIATE_TEST_SUITE_P(Roles, EapTls13Mixed, ::testing::Bool(), role_name);

}  // namespace
}  // namespace ikeplex::test
