// The responder's seam for EAP-RADIUS (ike/eap_backend.h): the engine hands each EAP response
// to the host and holds the IKE_AUTH response back until the answer comes; retransmits of the
// request meanwhile are dropped; no answer in time ends the IKE SA. The AAA server here is a
// stand-in running the eap layer's EAP-MD5 server over the relayed packets.
#include "flow_fixture.h"
#include "ike/config_payload.h"
#include "ike/pools.h"
#include "log_capture.h"

namespace ikeplex::test {
namespace {

using wire::ExchangeType;

class EapBackend : public FlowTest {
protected:
    EapBackend() : FlowTest(quick()) {}
    static ike::Settings quick() {
        ike::Settings s;
        s.retransmit_timeout = std::chrono::seconds(1);
        s.retransmit_base = 2.0;
        s.retransmit_tries = 3;
        s.eap_backend_timeout = std::chrono::seconds(3);
        return s;
    }
    void SetUp() override {
        LogCapture::install();
        LogCapture::clear();
        ini_cfg().local.kind = ike::AuthKind::kEap;
        ini_cfg().local.eap_type = static_cast<std::uint8_t>(eap::Type::kMd5);
        ini_cfg().local.eap_id = *ike::Identity::parse("carol");
        res_cfg().remote.kind = ike::AuthKind::kEap;
        res_cfg().remote.eap_radius = true;
        auto ic = psk_credentials();
        ic.eap_secrets.push_back(ike::Credentials::Psk{{*ike::Identity::parse("carol")},
                                                       SecretBytes::copy_of(as_bytes("md5-pw"))});
        load(h, cfg, GetParam() ? std::move(ic) : psk_credentials(),
             GetParam() ? psk_credentials() : std::move(ic));
    }
    /// Runs until the responder has a query for the backend (or `limit` passes).
    std::optional<ike::EapBackendQuery> next_query(Duration limit = std::chrono::seconds(5)) {
        h.run_until([&] { return !res().eap_queries.empty(); }, limit);
        if (res().eap_queries.empty()) {
            return std::nullopt;
        }
        auto q = res().eap_queries.front();
        res().eap_queries.erase(res().eap_queries.begin());
        return q;
    }
    void answer(const ike::EapBackendQuery& q, ike::EapBackendAnswer a) {
        h.act(res(), [&](ike::Step& s) {
            res().manager.on_eap_backend_answer(q.ike_id, q.seq, std::move(a), s);
        });
    }
    /// The AAA stand-in: EAP-MD5 with the secret `secret` for carol.
    void serve(const char* secret) {
        secret_ = SecretBytes::copy_of(as_bytes(secret));
        eap::ServerContext ctx;
        ctx.find_secret = [this](std::string_view who) {
            return who == "carol" ? &secret_ : nullptr;
        };
        server_ = std::move(*eap::make_server(eap::Type::kMd5, std::move(ctx)));
    }

    /// The stand-in answers the identity response `q` with its MD5-Challenge.
    void md5_round(const ike::EapBackendQuery& q) {
        auto challenge = server_->initiate(7, q.identity);
        ASSERT_TRUE(challenge);
        answer(q, ike::EapBackendAnswer{
                          ike::EapBackendAnswer::Kind::kRequest, eap::encode(*challenge), {}, {}});
    }

    SecretBytes secret_;
    std::unique_ptr<eap::ServerMethod> server_;
};

TEST_P(EapBackend, RelayedMd5Establishes) {
    serve("md5-pw");
    initiate();
    auto q = next_query();
    ASSERT_TRUE(q);
    EXPECT_EQ(q->identity, "carol");
    // The identity response is relayed whole: Response, its identifier, Identity, "carol".
    ASSERT_GE(q->eap.size(), 5U);
    EXPECT_EQ(q->eap[0], 2);
    EXPECT_EQ(q->eap[4], 1);
    // While the backend thinks, the initiator retransmits; the responder stays silent.
    const std::size_t before = h.sent_by(res(), ExchangeType::kIkeAuth, true).size();
    h.run_for(std::chrono::milliseconds(1500));
    EXPECT_GE(h.sent_by(ini(), ExchangeType::kIkeAuth, false).size(), 3U);
    EXPECT_EQ(h.sent_by(res(), ExchangeType::kIkeAuth, true).size(), before);
    md5_round(*q);
    q = next_query();
    ASSERT_TRUE(q);
    auto pkt = eap::decode(q->eap);
    ASSERT_TRUE(pkt);
    auto verdict = server_->process(*pkt, 8);
    ASSERT_TRUE(verdict);
    ASSERT_EQ(verdict->kind, eap::ServerStep::Kind::kSuccess);
    answer(*q, ike::EapBackendAnswer{ike::EapBackendAnswer::Kind::kAccept, {}, {}, {}});
    ASSERT_TRUE(up());
    expect_consistent();
    EXPECT_EQ(only_sa(res()).remote_eap_id(), "carol");
    EXPECT_TRUE(LogCapture::contains(res_name(), "EAP-RADIUS authentication of 'carol' succeeded"));
}

TEST_P(EapBackend, SecondRoundOfRfc4739IsRelayed) {
    // RFC 4739: a PSK round, then the EAP round relayed (`remote-2 { auth = eap-radius }`).
    ike::AuthConfig round = ini_cfg().local;
    ini_cfg().local = ike::AuthConfig{};
    ini_cfg().local.id = round.id;
    ini_cfg().local_more = {round};
    ike::AuthConfig relayed = res_cfg().remote;
    res_cfg().remote = ike::AuthConfig{};
    res_cfg().remote.id = relayed.id;
    res_cfg().remote_more = {relayed};
    auto ic = psk_credentials();
    ic.eap_secrets.push_back(ike::Credentials::Psk{{*ike::Identity::parse("carol")},
                                                   SecretBytes::copy_of(as_bytes("md5-pw"))});
    load(h, cfg, GetParam() ? std::move(ic) : psk_credentials(),
         GetParam() ? psk_credentials() : std::move(ic));
    serve("md5-pw");
    initiate();
    auto q = next_query();
    ASSERT_TRUE(q);
    EXPECT_EQ(q->identity, "carol");
    auto challenge = server_->initiate(7, q->identity);
    ASSERT_TRUE(challenge);
    answer(*q, ike::EapBackendAnswer{
                       ike::EapBackendAnswer::Kind::kRequest, eap::encode(*challenge), {}, {}});
    q = next_query();
    ASSERT_TRUE(q);
    auto pkt = eap::decode(q->eap);
    ASSERT_TRUE(pkt);
    ASSERT_EQ(server_->process(*pkt, 8)->kind, eap::ServerStep::Kind::kSuccess);
    answer(*q, ike::EapBackendAnswer{ike::EapBackendAnswer::Kind::kAccept, {}, {}, {}});
    ASSERT_TRUE(up());
    expect_consistent();
    EXPECT_EQ(only_sa(res()).remote_eap_id(), "carol");
    EXPECT_EQ(payload_summary(*res().find({.sent = true, .exchange = ExchangeType::kIkeAuth})[0]),
              "IDr AUTH");
}

TEST_P(EapBackend, RejectEndsInEapFailure) {
    serve("md5-pw");
    initiate();
    auto q = next_query();
    ASSERT_TRUE(q);
    answer(*q, ike::EapBackendAnswer{ike::EapBackendAnswer::Kind::kReject, {}, {}, {}});
    settle();
    EXPECT_TRUE(ini().established().empty());
    EXPECT_TRUE(res().established().empty());
    EXPECT_EQ(
            payload_summary(*res().find({.sent = true, .exchange = ExchangeType::kIkeAuth}).back()),
            "EAP/FAIL");
    expect_empty();
}

TEST_P(EapBackend, SilentBackendEndsTheIkeSa) {
    initiate();
    ASSERT_TRUE(next_query());
    h.run_for(std::chrono::seconds(4));  // eap_backend_timeout: 3 s
    EXPECT_TRUE(LogCapture::contains(res_name(), "the AAA backend did not answer in time"));
    EXPECT_TRUE(res().manager.sas().empty());
    // The client heard EAP-Failure in the held-back response.
    EXPECT_EQ(
            payload_summary(*res().find({.sent = true, .exchange = ExchangeType::kIkeAuth}).back()),
            "EAP/FAIL");
    settle();
    expect_empty();
}

TEST_P(EapBackend, IdentityWithControlCharactersIsRefused) {
    // The identity goes into log lines, list-sas and the RADIUS User-Name: a line break in it
    // is refused before any query, as the local EAP server refuses it.
    ike::Identity bad;
    bad.type = wire::IdType::kFqdn;
    const std::string text = "carol\nforged log line";
    bad.data.assign(text.begin(), text.end());
    ini_cfg().local.eap_id = bad;
    auto ic = psk_credentials();
    load(h, cfg, GetParam() ? std::move(ic) : psk_credentials(),
         GetParam() ? psk_credentials() : std::move(ic));
    initiate();
    EXPECT_FALSE(next_query(std::chrono::seconds(2)));
    settle();
    EXPECT_TRUE(ini().established().empty());
    EXPECT_TRUE(res().established().empty());
    EXPECT_FALSE(LogCapture::contains(res_name(), "forged log line"));
    expect_empty();
}

TEST_P(EapBackend, AnswerAfterTheIkeSaWentIsIgnored) {
    // The IKE SA is terminated while its query is out; the late answer finds
    // nothing to answer and sends nothing.
    serve("md5-pw");
    initiate();
    auto q = next_query();
    ASSERT_TRUE(q);
    h.act(res(), [&](ike::Step& s) { (void)res().manager.terminate_ike(q->ike_id, s); });
    const std::size_t sent = h.sent_by(res(), ExchangeType::kIkeAuth, true).size();
    auto challenge = server_->initiate(7, q->identity);
    ASSERT_TRUE(challenge);
    answer(*q, ike::EapBackendAnswer{
                       ike::EapBackendAnswer::Kind::kRequest, eap::encode(*challenge), {}, {}});
    answer(*q, ike::EapBackendAnswer{ike::EapBackendAnswer::Kind::kAccept, {}, {}, {}});
    EXPECT_EQ(h.sent_by(res(), ExchangeType::kIkeAuth, true).size(), sent);
    settle();
    EXPECT_TRUE(ini().established().empty());
    EXPECT_TRUE(res().established().empty());
    expect_empty();
}

/// A road warrior: the initiator asks for 0.0.0.0, the responder has `pools` (pool p is
/// 10.99.135.1-4); the EAP-MD5 rounds are relayed and the backend accepts with Framed-IP-Address
/// 10.99.135.77.
class EapBackendVip : public EapBackend {
protected:
    void run(std::vector<std::string> pools) {
        ini_cfg().vips = {*IpAddress::parse("0.0.0.0")};
        ini_cfg().children.front().local_ts.clear();
        res_cfg().remote.id = *ike::Identity::parse("%any");
        res_cfg().pools = std::move(pools);
        res_cfg().children.front().remote_ts.clear();
        SetUp();  // loads the changed configurations
        auto pool = ike::PoolConfig::parse("p", "10.99.135.1-10.99.135.4");
        ASSERT_TRUE(pool);
        ASSERT_TRUE(res().manager.pools().load(*pool));
        serve("md5-pw");
        initiate();
        auto q = next_query();
        ASSERT_TRUE(q);
        md5_round(*q);
        q = next_query();
        ASSERT_TRUE(q);
        auto verdict = server_->process(*eap::decode(q->eap), 8);
        ASSERT_TRUE(verdict);
        ike::EapBackendAnswer accept{ike::EapBackendAnswer::Kind::kAccept, {}, {}, {}};
        accept.framed_ip = *IpAddress::parse("10.99.135.77");
        answer(*q, std::move(accept));
        ASSERT_TRUE(up());
    }
    std::vector<IpAddress> remote_vips() {
        const auto* v = ike::virtual_ips(only_sa(res()));
        return v != nullptr ? v->remote : std::vector<IpAddress>{};
    }
};

TEST_P(EapBackendVip, FramedIpBecomesTheVirtualIpOfPoolRadius) {
    // strongSwan's eap-radius: with `pools = radius, p` the Access-Accept's Framed-IP-Address
    // is the peer's virtual IP; pool p is not touched. The IKE identity differs from the EAP
    // identity: the lease identity is the EAP one (carol).
    ini_cfg().local.id = *ike::Identity::parse("laptop@vpn.example");
    run({"radius", "p"});
    const ike::IkeSa& g = only_sa(res());
    EXPECT_EQ(g.remote_eap_id(), "carol");
    EXPECT_EQ(remote_vips(), std::vector<IpAddress>{*IpAddress::parse("10.99.135.77")});
    EXPECT_EQ(ike::virtual_ips(g)->lease_id.to_string(), "carol");
    EXPECT_EQ(ike::virtual_ips(only_sa(ini()))->local, remote_vips());
    EXPECT_EQ(res().manager.pools().find("p")->online(), 0U);
    EXPECT_EQ(ike::to_string(g.children().front()->remote_ts), "10.99.135.77/32");
}

TEST_P(EapBackendVip, WithoutPoolRadiusTheFramedIpIsIgnored) {
    // Only the pool name `radius` takes the AAA server's address; pool p leases to carol.
    run({"p"});
    EXPECT_EQ(remote_vips(), std::vector<IpAddress>{*IpAddress::parse("10.99.135.1")});
    EXPECT_EQ(res().manager.pools().find("p")->leases().front().identity.to_string(), "carol");
}

INSTANTIATE_TEST_SUITE_P(Roles, EapBackendVip, ::testing::Bool(), role_name);

INSTANTIATE_TEST_SUITE_P(Roles, EapBackend, ::testing::Bool(), role_name);

}  // namespace
}  // namespace ikeplex::test
