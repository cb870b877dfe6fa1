// RFC 4739 multiple authentication rounds between two engines, each test twice (a or b is the
// road-warrior client): the client authenticates with its certificate (or a PSK), then with
// EAP-MSCHAPv2 (the eap layer's real method) in a second round; the gateway has
// `remote-1 { auth = pubkey }` + `remote-2 { auth = eap-mschapv2 }` and leases a virtual IP
// keyed by the second round's EAP identity. Or (RFC 4739 §2.4) the second round is a second
// certificate (a user's after the machine's) or a PSK: IDi' [CERT'] AUTH' in one request.
#include <set>

#include <gtest/gtest.h>

#include "cert_factory.h"
#include "flow_fixture.h"
#include "ike/config_payload.h"
#include "ike/payload_access.h"
#include "ike/pools.h"
#include "log_capture.h"
#include "wire/message.h"

namespace ikeplex::test {
namespace {

using wire::ExchangeType;

ike::Identity id(const std::string& s) {
    return *ike::Identity::parse(s);
}

IpAddress ip(const char* s) {
    return *IpAddress::parse(s);
}

constexpr auto kMschap = static_cast<std::uint8_t>(eap::Type::kMschapv2);

ike::Settings quick() {
    ike::Settings s;
    s.retransmit_timeout = std::chrono::seconds(1);
    s.retransmit_base = 2.0;
    s.retransmit_tries = 3;
    return s;
}

ike::Credentials::Psk secret(const char* who, const char* text) {
    return ike::Credentials::Psk{{id(who)}, SecretBytes::copy_of(as_bytes(text))};
}

/// An EAP-MSCHAPv2 round (`local-2` or `remote-2`) with its IKE and EAP identities.
ike::AuthConfig mschap_round(const char* ike_id, const char* eap_id) {
    ike::AuthConfig r;
    r.kind = ike::AuthKind::kEap;
    r.eap_type = kMschap;
    r.id = id(ike_id);
    r.eap_id = id(eap_id);
    return r;
}

class MultiAuth : public FlowTest {
protected:
    MultiAuth() : FlowTest(quick()) {}

    void SetUp() override {
        LogCapture::install();
        LogCapture::clear();
        // The client: its certificate, then EAP-MSCHAPv2 as carol; asks for a virtual IP.
        ike::PeerConfig& c = ini_cfg();
        c.local.kind = ike::AuthKind::kPubkey;
        c.local.id = id("client.test");
        c.remote.kind = ike::AuthKind::kPubkey;
        c.remote.id = id("gw.test");
        c.local_more = {mschap_round("client.test", "carol")};
        c.vips = {ip("0.0.0.0")};
        c.children.front().local_ts.clear();
        // The gateway: its certificate; remote-1 pubkey, remote-2 EAP-MSCHAPv2 (EAP-Identity).
        ike::PeerConfig& g = res_cfg();
        g.local.kind = ike::AuthKind::kPubkey;
        g.local.id = id("gw.test");
        g.remote.kind = ike::AuthKind::kPubkey;
        g.remote.id = id("%any");
        g.remote_more = {mschap_round("%any", "%any")};
        g.pools = {"p"};
        g.children.front().remote_ts.clear();
    }

    /// A second round of `kind` (`local-2`/`remote-2 { auth = pubkey | psk }`) as user.test;
    /// the gateway requires `wanted` as its IDi.
    void round_two(ike::AuthKind kind, const char* wanted = "%any") {
        ike::AuthConfig u;
        u.kind = kind;
        u.id = id("user.test");
        ini_cfg().local_more = {u};
        u.id = id(wanted);
        res_cfg().remote_more = {u};
    }

    /// The first round with PSKs on both sides.
    void psk_first() {
        for (ike::PeerConfig* c : {&ini_cfg(), &res_cfg()}) {
            c->local.kind = ike::AuthKind::kPsk;
            c->remote.kind = ike::AuthKind::kPsk;
        }
    }

    /// kWithUri: good, with a CRL distribution point (revocation tests).
    enum class UserCert : std::uint8_t { kNone, kGood, kWrongKey, kWithUri };
    UserCert user_cert_{UserCert::kNone};

    /// Certificates for both, MSCHAPv2 passwords (the client's may differ), the pool.
    void load_all(const char* client_password = "carol-password") {
        auto pool = ike::PoolConfig::parse("p", "10.99.134.10-10.99.134.20");
        ASSERT_TRUE(pool);
        ASSERT_TRUE(res().manager.pools().load(*pool));
        ca_key_ = make_key(crypto::KeyType::kEcP256);
        ca_ = issue(CertSpec{.cn = "multiauth CA", .ca = true}, *ca_key_, nullptr, *ca_key_);
        const crypto::PrivateKey& ca_key = *ca_key_;
        const crypto::Certificate& ca = *ca_;
        ike::Credentials cc;
        ike::Credentials gc;
        EXPECT_TRUE(cc.cas.add_trusted(ca));
        EXPECT_TRUE(gc.cas.add_trusted(ca));
        auto ck = make_key(crypto::KeyType::kEcP256);
        cc.certs.push_back(ike::Credentials::Own{
                issue(CertSpec{.cn = "client.test", .dns = {"client.test"}}, ck, &ca, ca_key),
                std::move(ck)});
        if (user_cert_ != UserCert::kNone) {
            // The user's certificate; kWrongKey: its AUTH' is signed with another key.
            auto uk = make_key(crypto::KeyType::kEcP256);
            auto cert = issue(
                    CertSpec{.cn = "user.test",
                             .dns = {"user.test"},
                             .crl_uri = user_cert_ == UserCert::kWithUri ? "http://10.99.0.9/ca.crl"
                                                                         : ""},
                    uk, &ca, ca_key);
            cc.certs.push_back(ike::Credentials::Own{std::move(cert),
                                                     user_cert_ != UserCert::kWrongKey
                                                             ? std::move(uk)
                                                             : make_key(crypto::KeyType::kEcP256)});
        }
        auto gk = make_key(crypto::KeyType::kEcP256);
        gc.certs.push_back(ike::Credentials::Own{
                issue(CertSpec{.cn = "gw.test", .dns = {"gw.test"}}, gk, &ca, ca_key),
                std::move(gk)});
        // The PSK pairs serve the PSK-first test.
        const ike::Credentials psk = psk_credentials();
        cc.psks.push_back(
                ike::Credentials::Psk{{}, SecretBytes::copy_of(psk.psks[0].secret.view())});
        gc.psks.push_back(
                ike::Credentials::Psk{{}, SecretBytes::copy_of(psk.psks[0].secret.view())});
        cc.eap_secrets.push_back(secret("carol", client_password));
        gc.eap_secrets.push_back(secret("carol", "carol-password"));
        load(h, cfg, GetParam() ? std::move(cc) : std::move(gc),
             GetParam() ? std::move(gc) : std::move(cc));
    }

    std::vector<std::string> summaries(Node& n) {
        std::vector<std::string> out;
        for (const auto* m : n.find({.sent = true, .exchange = ExchangeType::kIkeAuth})) {
            out.push_back(payload_summary(*m));
        }
        return out;
    }
    /// RFC 4739's first round: the client announces its second, the gateway answers it alone.
    static void expect_first_round(const std::vector<std::string>& req,
                                   const std::vector<std::string>& resp) {
        ASSERT_FALSE(req.empty() || resp.empty());
        EXPECT_NE(req[0].find("AUTH"), std::string::npos) << req[0];
        EXPECT_NE(req[0].find("N(MULT_AUTH) N(AUTH_FOLLOWS)"), std::string::npos) << req[0];
        EXPECT_EQ(resp[0], "IDr CERT AUTH");
    }
    std::optional<crypto::PrivateKey> ca_key_;
    std::optional<crypto::Certificate> ca_;
    bool nothing_up() { return ini().established().empty() && res().established().empty(); }
};

TEST_P(MultiAuth, PubkeyThenMschapv2Establishes) {
    load_all();
    initiate();
    ASSERT_TRUE(up());
    expect_consistent();
    // RFC 4739 §2.3 (example 2): round 1 with certificates; the second IDi alone; EAP; AUTH.
    const auto req = summaries(ini());
    const auto resp = summaries(res());
    ASSERT_GE(req.size(), 4U);
    expect_first_round(req, resp);
    EXPECT_EQ(req[1], "IDi");
    EXPECT_EQ(resp[1], "EAP/REQ/ID");
    EXPECT_EQ(req.back(), "AUTH");
    EXPECT_NE(resp.back().find("AUTH CPRP(ADDR) SA TSi TSr"), std::string::npos) << resp.back();
    // The gateway announced RFC 4739 in IKE_SA_INIT.
    const auto init = res().find({.sent = true, .exchange = ExchangeType::kIkeSaInit});
    ASSERT_EQ(init.size(), 1U);
    EXPECT_NE(payload_summary(*init[0]).find("N(MULT_AUTH)"), std::string::npos);
    // Both identities: the certificate's, and the EAP identity the lease is keyed by.
    const ike::IkeSa& g = only_sa(res());
    EXPECT_EQ(g.remote_id().to_string(), "client.test");
    EXPECT_EQ(g.remote_eap_id(), "carol");
    const auto* v = ike::virtual_ips(only_sa(ini()));
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(v->local, std::vector<IpAddress>{ip("10.99.134.10")});
    EXPECT_TRUE(LogCapture::contains(res_name(), "a second round follows (RFC 4739)"));
    EXPECT_FALSE(g.holds_handshake());
    EXPECT_FALSE(only_sa(ini()).holds_handshake());
}

TEST_P(MultiAuth, PskThenEapEstablishes) {
    psk_first();
    load_all();
    initiate();
    ASSERT_TRUE(up());
    expect_consistent();
    EXPECT_EQ(summaries(res())[0], "IDr AUTH");
    EXPECT_EQ(only_sa(res()).remote_eap_id(), "carol");
}

TEST_P(MultiAuth, LostMessagesOfTheSecondRoundAreRetransmitted) {
    load_all();
    // IKE_AUTH message 2 is the second round's IDi: its first request and its first response
    // are lost; the retransmits are answered (the second from the responder's cache).
    std::set<bool> seen;
    h.drop = [&](const Datagram& d) {
        auto m = wire::peek_header(d.data);
        if (!m || m->exchange != ExchangeType::kIkeAuth || m->message_id.value() != 2) {
            return false;
        }
        return seen.insert(m->is_response()).second;
    };
    initiate();
    ASSERT_TRUE(up());
    EXPECT_EQ(seen.size(), 2U);
    expect_consistent();
    EXPECT_EQ(only_sa(res()).remote_eap_id(), "carol");
    EXPECT_EQ(res().manager.pools().find("p")->online(), 1U);
}

TEST_P(MultiAuth, WrongPasswordInRoundTwoFailsWithoutChildSa) {
    load_all("not-carols-password");
    initiate();
    settle();
    EXPECT_TRUE(nothing_up());
    EXPECT_TRUE(installed(ini()).empty());
    EXPECT_TRUE(installed(res()).empty());
    EXPECT_EQ(res().count({.sent = true, .exchange = ExchangeType::kCreateChildSa}), 0U);
    expect_empty();
}

TEST_P(MultiAuth, ClientWithoutSecondRoundIsRefused) {
    ini_cfg().local_more.clear();
    load_all();
    initiate();
    settle();
    EXPECT_TRUE(nothing_up());
    EXPECT_TRUE(LogCapture::contains(res_name(),
                                     "requires a second authentication round (remote-2), the "
                                     "peer announces none"));
    EXPECT_EQ(summaries(res()).front(), "N(AUTH_FAILED)");
    expect_empty();
}

TEST_P(MultiAuth, GatewayWithoutRfc4739SkipsTheSecondRound) {
    // A gateway whose connection has one remote round neither announces RFC 4739 nor gets a
    // second round: the client skips it (as strongSwan does) and the gateway accepts one.
    res_cfg().remote_more.clear();
    res_cfg().pools.clear();
    ini_cfg().vips.clear();
    load_all();
    initiate();
    ASSERT_TRUE(up());
    EXPECT_TRUE(LogCapture::contains(ini_name(), "skipping our second round"));
    EXPECT_EQ(summaries(ini()).size(), 1U);
}

TEST_P(MultiAuth, MachineThenUserCertificateEstablishes) {
    round_two(ike::AuthKind::kPubkey);
    user_cert_ = UserCert::kGood;
    load_all();
    initiate();
    ASSERT_TRUE(up());
    expect_consistent();
    // RFC 4739 §2.4 (example 3): round 2 is IDi' CERT' AUTH' in one request; the answer to
    // it carries what the first request asked for.
    const auto req = summaries(ini());
    const auto resp = summaries(res());
    ASSERT_EQ(req.size(), 2U);
    ASSERT_EQ(resp.size(), 2U);
    expect_first_round(req, resp);
    EXPECT_EQ(req[1], "IDi CERT AUTH");
    EXPECT_NE(resp[1].find("CPRP(ADDR) SA TSi TSr"), std::string::npos) << resp[1];
    EXPECT_EQ(resp[1].find("AUTH"), std::string::npos) << resp[1];
    // Both sides name the client by its latest IDi, as strongSwan does.
    EXPECT_EQ(only_sa(res()).remote_id().to_string(), "user.test");
    EXPECT_EQ(only_sa(ini()).local_id().to_string(), "user.test");
    EXPECT_EQ(installed(ini()).size(), 1U);
    EXPECT_EQ(res().manager.pools().find("p")->online(), 1U);
}

TEST_P(MultiAuth, PskThenPskEstablishes) {
    psk_first();
    round_two(ike::AuthKind::kPsk, "user.test");
    load_all();
    initiate();
    ASSERT_TRUE(up());
    expect_consistent();
    EXPECT_EQ(summaries(ini())[1], "IDi AUTH");
    EXPECT_EQ(only_sa(res()).remote_id().to_string(), "user.test");
}

TEST_P(MultiAuth, WrongSecondSignatureFailsWithoutChildSa) {
    round_two(ike::AuthKind::kPubkey);
    user_cert_ = UserCert::kWrongKey;
    load_all();
    initiate();
    settle();
    EXPECT_TRUE(nothing_up());
    EXPECT_TRUE(installed(ini()).empty());
    EXPECT_TRUE(installed(res()).empty());
    EXPECT_EQ(summaries(res()).back(), "N(AUTH_FAILED)");
    EXPECT_TRUE(LogCapture::contains(res_name(), "signature of 'user.test' does not verify"));
    EXPECT_TRUE(LogCapture::contains(ini_name(), "AUTHENTICATION_FAILED"));
    expect_empty();
}

TEST_P(MultiAuth, SecondRoundOfTheWrongKindIsRefused) {
    // The gateway wants a certificate in round 2; the client starts EAP (IDi' alone).
    round_two(ike::AuthKind::kPubkey);
    ini_cfg().local_more = {mschap_round("client.test", "carol")};
    load_all();
    initiate();
    settle();
    EXPECT_TRUE(nothing_up());
    EXPECT_TRUE(LogCapture::contains(res_name(), "has no AUTH, remote-2 expects"));
    expect_empty();
}

TEST_P(MultiAuth, ChildSaErrorAfterTheSecondRoundKeepsTheIkeSa) {
    // The gateway's selectors do not fit: the last response carries TS_UNACCEPTABLE; both
    // rounds passed, so the IKE SA stays (as after one round, RFC 7296 §2.9).
    round_two(ike::AuthKind::kPubkey);
    user_cert_ = UserCert::kGood;
    res_cfg().children.front().local_ts = {*ike::TrafficSelector::parse("192.0.2.0/24")};
    load_all();
    initiate();
    settle();
    EXPECT_EQ(ini().established().size(), 1U);
    EXPECT_EQ(res().established().size(), 1U);
    EXPECT_TRUE(installed(ini()).empty());
    EXPECT_NE(summaries(res()).back().find("N(TS_UNACCEPT)"), std::string::npos)
            << summaries(res()).back();
}

TEST_P(MultiAuth, EachRoundAppliesItsOwnRevocation) {
    // remote-1 relaxed: the machine's certificate (no URI) passes without a status and without a
    // query. remote-2 strict: the user's certificate (with a CDP) holds round 2 for a status;
    // the fetched CRL (not listing it) lets it pass.
    round_two(ike::AuthKind::kPubkey);
    user_cert_ = UserCert::kWithUri;
    res_cfg().remote.revocation = crypto::RevocationMode::kRelaxed;
    res_cfg().remote_more.front().revocation = crypto::RevocationMode::kStrict;
    load_all();
    initiate();
    h.run_until([&] { return !res().revocation_queries.empty(); }, std::chrono::seconds(3));
    ASSERT_EQ(res().revocation_queries.size(), 1U);
    const ike::RevocationQuery q = res().revocation_queries.front();
    ASSERT_EQ(q.subjects.size(), 1U);
    EXPECT_EQ(summaries(res()).size(), 1U);  // round 1 answered, round 2 held
    res().manager.revocation().put_crl("http://10.99.0.9/ca.crl", issue_crl(*ca_, *ca_key_, {}),
                                       kPinnedNow);
    h.act(res(), [&](ike::Step& s) { res().manager.on_revocation_answer(q.ike_id, q.seq, s); });
    ASSERT_TRUE(up());
    EXPECT_EQ(only_sa(res()).remote_id().to_string(), "user.test");
}

TEST_P(MultiAuth, SecondRoundWithoutStatusFailsUnderStrict) {
    round_two(ike::AuthKind::kPubkey);
    user_cert_ = UserCert::kWithUri;
    res_cfg().remote_more.front().revocation = crypto::RevocationMode::kStrict;
    load_all();
    initiate();
    settle();  // nobody answers the query: revocation_timeout, unknown under strict
    EXPECT_TRUE(nothing_up());
    EXPECT_EQ(summaries(res()).back(), "N(AUTH_FAILED)");
    EXPECT_EQ(res().manager.counters().revocation_timeout, 1U);
    EXPECT_EQ(res().manager.counters().revocation_unknown, 1U);
    EXPECT_TRUE(LogCapture::contains(res_name(), "no revocation status (revocation = strict)"));
    expect_empty();
}

INSTANTIATE_TEST_SUITE_P(Roles, MultiAuth, ::testing::Bool(), role_name);

}  // namespace
}  // namespace ikeplex::test
