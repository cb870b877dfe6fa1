// RFC 5685 redirect between real engines: client a (10.99.0.1), gateway b (10.99.0.2) and a
// second gateway c (10.99.0.3). The gateways share the identity gw.test, as §3 expects of a
// group of gateways the client's PAD entry authorizes.
#include "ike/redirect.h"

#include <gtest/gtest.h>

#include "exchange_harness.h"
#include "ike/exchanges.h"
#include "ike/payload_access.h"
#include "log_capture.h"
#include "wire/message.h"

namespace ikeplex::test {
namespace {

using wire::ExchangeType;
using wire::NotifyType;

const IpAddress kB = IpAddress::v4(0x0a630002);
const IpAddress kC = IpAddress::v4(0x0a630003);

ike::RedirectRule rule(const char* name, const char* gateway) {
    ike::RedirectRule r;
    r.name = name;
    r.gateway = *ike::Gateway::parse(gateway);
    return r;
}

ike::Settings redirecting(std::vector<ike::RedirectRule> rules) {
    ike::Settings s;
    s.redirect_rules = std::move(rules);
    return s;
}

/// Sends one INFORMATIONAL request with N(REDIRECT) carrying `data` as it is (hostile peers).
class RawRedirect final : public ike::Exchange {
public:
    explicit RawRedirect(Bytes data) : data_(std::move(data)) {}
    [[nodiscard]] ExchangeType type() const noexcept override {
        return ExchangeType::kInformational;
    }
    [[nodiscard]] const char* name() const noexcept override { return "RAW_REDIRECT"; }
    Result<std::vector<wire::Payload>> build(ike::IkeSa& /*sa*/, ike::Step& /*step*/) override {
        return std::vector<wire::Payload>{wire::make_notify(NotifyType::kRedirect, data_)};
    }
    Outcome process(ike::IkeSa& /*sa*/, const wire::Header& /*h*/,
                    std::vector<wire::Payload>& /*resp*/, ike::Step& /*step*/) override {
        return Outcome::kDone;
    }

private:
    Bytes data_;
};

class Redirect : public ::testing::Test {
protected:
    explicit Redirect(ike::Settings client = {}, ike::Settings gw_b = {}, ike::Settings gw_c = {})
        : h(7, client, gw_b), c(h.add_node("c", kC, 99, gw_c)) {
        for (Node* n : {&h.a(), &h.b(), &c}) {
            n->manager.set_trace_messages(true);
            n->manager.set_credentials(psk_credentials());
        }
        cfg.a.remote.id = *ike::Identity::parse("gw.test");
        cfg.b.local.id = *ike::Identity::parse("gw.test");
        cfg_c = cfg.b;
        cfg_c.local_addrs = {kC};
        h.a().manager.load({cfg.a});
        h.b().manager.load({cfg.b});
        c.manager.load({cfg_c});
    }

    std::uint32_t initiate(const char* conn = "conn") {
        std::uint32_t id = 0;
        h.act(h.a(), [&](ike::Step& s) {
            auto r = h.a().manager.initiate(conn, "net", s);
            ASSERT_TRUE(r) << r.error().detail;
            id = *r;
        });
        return id;
    }

    /// Whether a has an established IKE SA with `gw` that holds an installed Child SA.
    bool up_at(const IpAddress& gw) {
        for (const ike::IkeSa* sa : h.a().established()) {
            if (sa->remote().address == gw && !sa->children().empty() &&
                sa->children().front()->state == ike::ChildState::kInstalled) {
                return true;
            }
        }
        return false;
    }

    bool settles_at(const IpAddress& gw) {
        return h.run_until([&] { return up_at(gw) && h.b().established().empty(); },
                           std::chrono::seconds(60));
    }

    /// The IKE_SA_INIT requests a sent, oldest first.
    std::vector<const ike::MessageTrace*> init_requests() {
        return h.a().find(MessageQuery{
                .sent = true, .exchange = ExchangeType::kIkeSaInit, .response = false});
    }

    Harness h;
    Node& c;
    PairConfig cfg = psk_pair();
    ike::PeerConfig cfg_c;
};

TEST(RedirectCodec, GatewayIdentitiesRoundTripAsRfc5685LaysThemOut) {
    // IPv4: type 1, length 4; IPv6: type 2, length 16; FQDN: type 3, its length; then the nonce.
    const Bytes nonce(16, 0xab);
    const Bytes v4 = ike::encode_gateway(*ike::Gateway::parse("192.0.2.7"), nonce);
    ASSERT_EQ(v4.size(), 2U + 4U + 16U);
    EXPECT_EQ(v4[0], 1);
    EXPECT_EQ(v4[1], 4);
    EXPECT_EQ(v4[2], 192);
    const Bytes v6 = ike::encode_gateway(*ike::Gateway::parse("2001:db8::5"));
    ASSERT_EQ(v6.size(), 2U + 16U);
    EXPECT_EQ(v6[0], 2);
    EXPECT_EQ(v6[1], 16);
    const Bytes name = ike::encode_gateway(*ike::Gateway::parse("gw2.example.net"));
    EXPECT_EQ(name[0], 3);
    EXPECT_EQ(name[1], 15);
    for (const Bytes& b : {v4, v6, name}) {
        auto d = ike::decode_gateway(b);
        ASSERT_TRUE(d);
        EXPECT_EQ(ike::encode_gateway(d->gateway, d->nonce), b);
    }
    EXPECT_EQ(ike::decode_gateway(v6)->gateway.address, IpAddress::parse("2001:db8::5").value());
    EXPECT_EQ(ike::decode_gateway(v4)->nonce, nonce);
    // Bad: IPv6 with length 4, a nonce of 15 bytes, an empty FQDN.
    EXPECT_FALSE(ike::decode_gateway(Bytes{2, 4, 1, 2, 3, 4}));
    Bytes short_nonce = ike::encode_gateway(*ike::Gateway::parse("192.0.2.7"), Bytes(15, 1));
    EXPECT_FALSE(ike::decode_gateway(short_nonce));
    EXPECT_FALSE(ike::decode_gateway(Bytes{3, 0}));
}

TEST_F(Redirect, InitiatorAnnouncesSupportInIkeSaInit) {
    initiate();
    ASSERT_TRUE(h.run_until([&] { return up_at(kB); }, std::chrono::seconds(30)));
    const auto reqs = init_requests();
    ASSERT_EQ(reqs.size(), 1U);
    EXPECT_TRUE(ike::has_notify(reqs[0]->payloads, NotifyType::kRedirectSupported));
    EXPECT_FALSE(ike::has_notify(reqs[0]->payloads, NotifyType::kRedirectedFrom));
}

class RedirectInit : public Redirect {
protected:
    RedirectInit() : Redirect({}, redirecting({rule("to-c", "10.99.0.3")})) {}
};

TEST_F(RedirectInit, ClientFollowsToTheNewGatewayWithRedirectedFrom) {
    initiate();
    ASSERT_TRUE(settles_at(kC));
    EXPECT_TRUE(h.b().manager.sas().empty());  // §3: no state on the redirecting gateway
    EXPECT_EQ(h.b().manager.counters().redirects_sent, 1U);
    EXPECT_EQ(h.a().manager.counters().redirects_followed, 1U);
    // b's answer: HDR(A,0), N(REDIRECT, 10.99.0.3, Ni).
    const auto answers = h.b().find(
            MessageQuery{.sent = true, .exchange = ExchangeType::kIkeSaInit, .response = true});
    ASSERT_EQ(answers.size(), 1U);
    EXPECT_EQ(payload_summary(*answers[0]), "N(REDIR)");
    const auto reqs = init_requests();
    ASSERT_EQ(reqs.size(), 2U);
    const auto* redirect = ike::find_notify(answers[0]->payloads, NotifyType::kRedirect);
    auto data = ike::decode_gateway(redirect->data);
    ASSERT_TRUE(data);
    EXPECT_EQ(data->gateway.address, kC);
    const auto* ni =
            ike::find_payload<wire::NoncePayload>(reqs[0]->payloads, wire::PayloadType::kNonce);
    EXPECT_EQ(data->nonce, ni->data);
    // The second IKE_SA_INIT, to c, names b in REDIRECTED_FROM instead of REDIRECT_SUPPORTED.
    EXPECT_FALSE(ike::has_notify(reqs[1]->payloads, NotifyType::kRedirectSupported));
    const auto* from = ike::find_notify(reqs[1]->payloads, NotifyType::kRedirectedFrom);
    ASSERT_NE(from, nullptr);
    auto from_data = ike::decode_gateway(from->data);
    ASSERT_TRUE(from_data);
    EXPECT_EQ(from_data->gateway.address, kB);
    EXPECT_TRUE(from_data->nonce.empty());
    EXPECT_EQ(c.established().size(), 1U);
}

class RedirectInitNoSupport : public Redirect {
protected:
    RedirectInitNoSupport() : Redirect(no_follow(), redirecting({rule("to-c", "10.99.0.3")})) {}
    static ike::Settings no_follow() {
        ike::Settings s;
        s.follow_redirects = false;
        return s;
    }
};

TEST_F(RedirectInitNoSupport, PeerWithoutRedirectSupportedIsNotRedirected) {
    initiate();
    ASSERT_TRUE(h.run_until([&] { return up_at(kB); }, std::chrono::seconds(30)));
    const auto reqs = init_requests();
    ASSERT_EQ(reqs.size(), 1U);
    EXPECT_FALSE(ike::has_notify(reqs[0]->payloads, NotifyType::kRedirectSupported));
    EXPECT_EQ(h.b().manager.counters().redirects_sent, 0U);
    EXPECT_TRUE(c.manager.sas().empty());
}

class RedirectLoop : public Redirect {
protected:
    RedirectLoop()
        : Redirect({}, redirecting({rule("to-c", "10.99.0.3")}),
                   redirecting({rule("to-b", "10.99.0.2")})) {}
};

TEST_F(RedirectLoop, ClientStopsAfterFiveRedirectsInFiveMinutes) {
    initiate();
    h.run_for(std::chrono::seconds(30));
    EXPECT_EQ(h.a().manager.counters().redirects_followed, ike::kMaxRedirects);
    EXPECT_EQ(h.a().manager.counters().redirects_refused, 1U);
    EXPECT_TRUE(h.a().manager.sas().empty());
    EXPECT_EQ(init_requests().size(), ike::kMaxRedirects + 1);
    EXPECT_TRUE(LogCapture::contains("a", "a redirect loop? giving up"));
    // Five minutes later the connection may be redirected again.
    h.run_for(std::chrono::seconds(300));
    initiate();
    h.run_for(std::chrono::seconds(5));
    EXPECT_GT(h.a().manager.counters().redirects_followed, ike::kMaxRedirects);
}

class RedirectLoad : public Redirect {
protected:
    RedirectLoad() : Redirect({}, loaded()) {
        ike::PeerConfig second = cfg.a;  // a second connection of a to b
        second.name = "conn2";
        h.a().manager.load({cfg.a, second});
    }
    static ike::Settings loaded() {
        ike::RedirectRule r = rule("overflow", "10.99.0.3");
        r.established_above = 0;
        r.remote_addrs = {*ike::AddressPrefix::parse("10.99.0.0/24")};
        return redirecting({r});
    }
};

TEST_F(RedirectLoad, RedirectsOnceMoreThanNIkeSasAreEstablished) {
    initiate("conn");
    ASSERT_TRUE(h.run_until([&] { return up_at(kB); }, std::chrono::seconds(30)));
    EXPECT_EQ(h.b().manager.counters().redirects_sent, 0U);  // none established before
    initiate("conn2");
    ASSERT_TRUE(h.run_until([&] { return up_at(kC); }, std::chrono::seconds(30)));
    EXPECT_EQ(h.b().manager.counters().redirects_sent, 1U);
    EXPECT_EQ(h.b().established().size(), 1U);
}

class RedirectFqdn : public Redirect {
protected:
    RedirectFqdn() : Redirect({}, redirecting({rule("by-name", "gw2.example.net")})) {}
};

TEST_F(RedirectFqdn, FqdnGatewayIsResolvedThroughTheHostLookup) {
    std::vector<std::string> asked;
    h.a().manager.set_host_lookup([&](const std::string& fqdn) -> std::optional<IpAddress> {
        asked.push_back(fqdn);
        return fqdn == "gw2.example.net" ? std::optional(kC) : std::nullopt;
    });
    initiate();
    ASSERT_TRUE(settles_at(kC));
    EXPECT_EQ(asked, std::vector<std::string>{"gw2.example.net"});
}

TEST_F(RedirectFqdn, UnresolvableFqdnFailsWithALogLineAndACounter) {
    initiate();  // no host lookup set
    h.run_for(std::chrono::seconds(10));
    EXPECT_EQ(h.a().manager.counters().redirects_refused, 1U);
    EXPECT_TRUE(h.a().manager.sas().empty());
    EXPECT_TRUE(LogCapture::contains("a", "cannot resolve gateway gw2.example.net"));
}

class RedirectAuth : public Redirect {
protected:
    RedirectAuth() : Redirect({}, by_id()) {}
    static ike::Settings by_id() {
        ike::RedirectRule r = rule("by-id", "10.99.0.3");
        r.remote_id = {"10.99.0.*"};
        return redirecting({r});
    }
};

TEST_F(RedirectAuth, IkeAuthRedirectByIdentityMovesTheClient) {
    initiate();
    ASSERT_TRUE(settles_at(kC));
    // b authenticated a, then answered IDr, AUTH, N(REDIRECT) without a Child SA.
    const auto answers = h.b().find(
            MessageQuery{.sent = true, .exchange = ExchangeType::kIkeAuth, .response = true});
    ASSERT_EQ(answers.size(), 1U);
    EXPECT_EQ(payload_summary(*answers[0]), "IDr AUTH N(REDIR)");
    // a deleted the IKE SA at b (RFC 5685 §6 SHOULD) and nothing is left there.
    EXPECT_EQ(h.a().count(MessageQuery{
                      .sent = true, .exchange = ExchangeType::kInformational, .response = false}),
              1U);
    EXPECT_TRUE(h.b().backend.sas.empty());
    EXPECT_TRUE(h.b().manager.sas().empty());
    const auto reqs = init_requests();
    ASSERT_EQ(reqs.size(), 2U);
    EXPECT_TRUE(ike::has_notify(reqs[1]->payloads, NotifyType::kRedirectedFrom));
}

TEST_F(Redirect, IkeAuthRuleDoesNotMatchOtherIdentities) {
    ike::RedirectRule r = rule("by-id", "10.99.0.3");
    r.remote_id = {"*@example.com"};
    std::vector<ike::RedirectRule> rules{r};
    EXPECT_EQ(ike::match_redirect(rules, true, kB, nullptr, 0), nullptr);
    const std::string id = "alice@example.com";
    EXPECT_EQ(ike::match_redirect(rules, true, kB, &id, 0), &rules[0]);
    const std::string other = "10.99.0.1";
    EXPECT_EQ(ike::match_redirect(rules, true, kB, &other, 0), nullptr);
    EXPECT_EQ(ike::match_redirect(rules, false, kB, &id, 0), nullptr);  // IKE_AUTH rules only
}

TEST_F(Redirect, InformationalRedirectOfAnEstablishedSaMovesItWithItsChildSas) {
    initiate();
    ASSERT_TRUE(h.run_until([&] { return up_at(kB); }, std::chrono::seconds(30)));
    const std::uint32_t at_b = h.b().established().front()->id();
    h.act(h.b(), [&](ike::Step& s) {
        ASSERT_TRUE(h.b().manager.redirect(at_b, *ike::Gateway::parse("10.99.0.3"), s));
    });
    ASSERT_TRUE(settles_at(kC));
    EXPECT_EQ(h.b().manager.counters().redirects_sent, 1U);
    EXPECT_EQ(h.a().manager.counters().redirects_followed, 1U);
    // The REDIRECT went without nonce data (§5); a acknowledged it with an empty response.
    const auto got = h.a().find(MessageQuery{
            .sent = false, .exchange = ExchangeType::kInformational, .response = false});
    ASSERT_FALSE(got.empty());
    const auto* n = ike::find_notify(got.front()->payloads, NotifyType::kRedirect);
    ASSERT_NE(n, nullptr);
    EXPECT_TRUE(ike::decode_gateway(n->data)->nonce.empty());
    EXPECT_TRUE(h.b().backend.sas.empty());
    EXPECT_EQ(c.backend.sas.size(), 2U);
}

TEST_F(Redirect, OnlyTheOriginalResponderRedirectsAndOnlyPeersWithSupport) {
    initiate();
    ASSERT_TRUE(h.run_until([&] { return up_at(kB); }, std::chrono::seconds(30)));
    const std::uint32_t at_a = h.a().established().front()->id();
    h.act(h.a(), [&](ike::Step& s) {
        const Status st = h.a().manager.redirect(at_a, *ike::Gateway::parse("10.99.0.3"), s);
        EXPECT_FALSE(st);
    });
    h.act(h.b(), [&](ike::Step& s) {
        EXPECT_FALSE(h.b().manager.redirect(12345, *ike::Gateway::parse("10.99.0.3"), s));
    });
    // The original initiator sends one anyway (a hostile or confused peer): b ignores it.
    h.act(h.a(), [&](ike::Step& s) {
        h.a().manager.find(at_a)->queue(ike::make_redirect(*ike::Gateway::parse("10.99.0.3")), s);
    });
    h.run_for(std::chrono::seconds(5));
    EXPECT_TRUE(up_at(kB));
    EXPECT_EQ(h.b().established().size(), 1U);
    EXPECT_TRUE(c.manager.sas().empty());
    EXPECT_TRUE(LogCapture::contains("b", "ignoring REDIRECT from the original initiator"));
}

TEST_F(Redirect, HostileInformationalRedirectsAreIgnored) {
    initiate();
    ASSERT_TRUE(h.run_until([&] { return up_at(kB); }, std::chrono::seconds(30)));
    const std::uint32_t at_b = h.b().established().front()->id();
    const std::vector<Bytes> hostile = {
            Bytes{},                          // no type, no length
            Bytes{1, 200, 10, 99, 0, 3},      // GW length beyond the notify
            Bytes{9, 4, 10, 99, 0, 3},        // unknown GW identity type
            Bytes{1, 5, 10, 99, 0, 3, 0},     // IPv4 address of 5 bytes
            Bytes{3, 4, 'a', '/', 'b', 'c'},  // not a host name
            ike::encode_gateway(*ike::Gateway::parse("10.99.0.3"), Bytes(16, 7)),  // a nonce
    };
    for (const Bytes& data : hostile) {
        h.act(h.b(), [&](ike::Step& s) {
            h.b().manager.find(at_b)->queue(std::make_unique<RawRedirect>(data), s);
        });
        h.run_for(std::chrono::seconds(2));
    }
    EXPECT_TRUE(up_at(kB));
    EXPECT_EQ(h.a().manager.counters().redirects_followed, 0U);
    EXPECT_TRUE(c.manager.sas().empty());
    EXPECT_TRUE(LogCapture::contains("a", "ignoring malformed REDIRECT in INFORMATIONAL"));
    EXPECT_TRUE(LogCapture::contains("a", "nonce data not allowed here"));
}

/// A forged IKE_SA_INIT response to a's first request: HDR(A,0), N(REDIRECT, `data`).
Bytes forged_redirect(const Datagram& request, Bytes data) {
    auto m = wire::parse_message(request.data);
    EXPECT_TRUE(m);
    wire::Header hdr = m->header;
    hdr.flags = wire::kFlagResponse;
    hdr.spi_r = IkeSpi(0);
    return wire::write_message(wire::Message{hdr, {wire::make_notify(NotifyType::kRedirect, data)}})
            .value();
}

TEST_F(Redirect, ForgedOrMalformedIkeSaInitRedirectsAreDroppedAndTheRealAnswerWins) {
    // Hold back b's real answer until the forgeries have arrived.
    bool hold = true;
    h.drop = [&](const Datagram& d) { return hold && d.src.address == kB; };
    initiate();
    h.run_for(std::chrono::milliseconds(100));
    const auto sent = h.sent_by(h.a(), ExchangeType::kIkeSaInit, false);
    ASSERT_FALSE(sent.empty());
    const auto* ni = ike::find_payload<wire::NoncePayload>(init_requests()[0]->payloads,
                                                           wire::PayloadType::kNonce);
    Bytes wrong = ni->data;
    wrong[0] ^= 1U;
    const ike::Gateway gw_c = *ike::Gateway::parse("10.99.0.3");
    const std::vector<Bytes> forged = {
            ike::encode_gateway(gw_c, wrong),  // §3: nonce data not our Ni
            ike::encode_gateway(gw_c),         // no nonce data at all
            Bytes{1, 200, 10, 99, 0, 3},       // GW length beyond the notify
            Bytes{7, 4, 10, 99, 0, 3},         // unknown GW identity type
    };
    for (const Bytes& data : forged) {
        const Bytes reply = forged_redirect(sent.front(), data);
        h.act(h.a(), [&](ike::Step& s) {
            h.a().manager.on_datagram(reply, sent.front().src, Endpoint{kB, 500}, s);
        });
    }
    EXPECT_EQ(h.a().manager.counters().redirects_followed, 0U);
    EXPECT_EQ(h.a().manager.sas().size(), 1U);  // still waiting for the real response
    EXPECT_TRUE(LogCapture::contains("a", "its nonce data is not our Ni"));
    hold = false;
    ASSERT_TRUE(h.run_until([&] { return up_at(kB); }, std::chrono::seconds(60)));
    EXPECT_TRUE(c.manager.sas().empty());
}

}  // namespace
}  // namespace ikeplex::test
