// EAP-MSCHAPv2 (RFC 2759, the eap layer's real method) with a virtual IP from a pool (RFC 7296
// §2.19) between two engines, each test twice (a or b is the road-warrior client): a lost
// message in the middle of the EAP rounds is retransmitted and leases once; the lease is keyed
// by the EAP identity, so two clients with different IKE identities but the same EAP identity
// get the same address back after the first leaves.
#include <set>

#include <gtest/gtest.h>

#include "flow_fixture.h"
#include "ike/config_payload.h"
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

class EapVips : public ::testing::TestWithParam<bool> {
protected:
    EapVips() : h(13, quick(), quick()) {
        // The client: EAP-MSCHAPv2 with an EAP identity of its own, asks for 0.0.0.0.
        client_ = GetParam() ? cfg.a : cfg.b;
        client_.local.kind = ike::AuthKind::kEap;
        client_.local.eap_type = kMschap;
        client_.vips = {ip("0.0.0.0")};
        client_.children.front().local_ts.clear();
        // The gateway: PSK for itself, EAP-MSCHAPv2 (EAP-Identity first) for any client.
        gateway_ = GetParam() ? cfg.b : cfg.a;
        gateway_.remote.id = id("%any");
        gateway_.remote.kind = ike::AuthKind::kEap;
        gateway_.remote.eap_type = kMschap;
        gateway_.remote.eap_id = id("%any");
        gateway_.pools = {"p"};
        gateway_.children.front().remote_ts.clear();
    }
    static ike::Settings quick() {
        ike::Settings s;
        s.retransmit_timeout = std::chrono::seconds(1);
        s.retransmit_base = 2.0;
        s.retransmit_tries = 3;
        return s;
    }
    Node& client() { return GetParam() ? h.a() : h.b(); }
    Node& gateway() { return h.peer(client()); }

    static ike::Credentials::Psk eap_user(const char* who, const char* secret) {
        return ike::Credentials::Psk{{id(who)}, SecretBytes::copy_of(as_bytes(secret))};
    }

    /// Client connections c1..cn: IKE identity client<i>@vpn.example, EAP identity eap_ids[i-1].
    void load(const std::vector<const char*>& eap_ids) {
        auto pool = ike::PoolConfig::parse("p", "10.99.133.1-10.99.133.4");
        ASSERT_TRUE(pool);
        ASSERT_TRUE(pool->add_attribute("dns", "10.99.132.53"));
        ASSERT_TRUE(gateway().manager.pools().load(*pool));
        std::vector<ike::PeerConfig> list;
        auto cc = psk_credentials();
        auto gc = psk_credentials();
        for (std::size_t i = 1; i <= eap_ids.size(); ++i) {
            ike::PeerConfig c = client_;
            c.name = fmt::format("c{}", i);
            c.local.id = id(fmt::format("client{}@vpn.example", i));
            c.local.eap_id = id(eap_ids[i - 1]);
            list.push_back(std::move(c));
        }
        for (const char* who : {"carol", "dave"}) {
            cc.eap_secrets.push_back(eap_user(who, "mschapv2-password"));
            gc.eap_secrets.push_back(eap_user(who, "mschapv2-password"));
        }
        client().manager.load(std::move(list));
        gateway().manager.load({gateway_});
        client().manager.set_credentials(std::move(cc));
        gateway().manager.set_credentials(std::move(gc));
    }

    std::uint32_t start(std::size_t i) {
        std::uint32_t sa = 0;
        h.act(client(), [&](ike::Step& s) {
            auto r = client().manager.initiate(fmt::format("c{}", i), "net", s);
            ASSERT_TRUE(r) << r.error().detail;
            sa = *r;
        });
        return sa;
    }
    bool up(std::size_t n) {
        return h.run_until(
                [&] {
                    return client().established().size() == n &&
                           gateway().established().size() == n;
                },
                std::chrono::seconds(60));
    }
    std::vector<IpAddress> vips_of(std::uint32_t sa) {
        const ike::IkeSa* s = client().manager.sa(sa);
        const auto* v = s != nullptr ? ike::virtual_ips(*s) : nullptr;
        return v != nullptr ? v->local : std::vector<IpAddress>{};
    }
    const ike::AddressPool& the_pool() { return *gateway().manager.pools().find("p"); }
    void terminate(std::uint32_t sa) {
        h.act(client(), [&](ike::Step& s) { ASSERT_TRUE(client().manager.terminate_ike(sa, s)); });
        ASSERT_TRUE(h.run_until([&] { return client().manager.sa(sa) == nullptr; },
                                std::chrono::seconds(30)));
        h.run_for(std::chrono::seconds(1));
    }

    PairConfig cfg = psk_pair();
    Harness h;
    ike::PeerConfig client_;
    ike::PeerConfig gateway_;
};

TEST_P(EapVips, LostMessageInTheEapRoundsLeasesOnce) {
    load({"carol"});
    // IKE_AUTH message 3 carries the MSCHAPv2 response to the challenge (1: IDi and the CP
    // request, 2: the EAP identity): its first request and its first response are lost.
    std::set<bool> seen;
    h.drop = [&](const Datagram& d) {
        auto m = wire::peek_header(d.data);
        if (!m || m->exchange != ExchangeType::kIkeAuth || m->message_id.value() != 3) {
            return false;
        }
        return seen.insert(m->is_response()).second;
    };
    const std::uint32_t sa = start(1);
    ASSERT_TRUE(up(1));
    EXPECT_EQ(seen.size(), 2U);
    const auto problems = check_consistent(h);
    EXPECT_TRUE(problems.empty()) << join(problems);
    EXPECT_EQ(vips_of(sa), std::vector<IpAddress>{ip("10.99.133.1")});
    const ike::IkeSa* g = gateway().established().front();
    EXPECT_EQ(g->remote_eap_id(), "carol");
    const auto* gv = ike::virtual_ips(*g);
    ASSERT_NE(gv, nullptr);
    EXPECT_EQ(gv->remote, std::vector<IpAddress>{ip("10.99.133.1")});
    EXPECT_EQ(ike::virtual_ips(*client().manager.sa(sa))->dns,
              std::vector<IpAddress>{ip("10.99.132.53")});
    // Leased once, to the EAP identity.
    EXPECT_EQ(the_pool().online(), 1U);
    ASSERT_EQ(the_pool().leases().size(), 1U);
    ASSERT_EQ(client().vips.size(), 1U);
    EXPECT_TRUE(client().vips[0].up);
    ASSERT_EQ(gateway().established().front()->children().size(), 1U);
    EXPECT_EQ(ike::to_string(gateway().established().front()->children().front()->remote_ts),
              "10.99.133.1/32");
}

TEST_P(EapVips, LeaseIsKeyedByTheEapIdentity) {
    // client1 and client2 are both "carol" to EAP; client3 is "dave".
    load({"carol", "carol", "dave"});
    const std::uint32_t one = start(1);
    ASSERT_TRUE(up(1));
    const std::uint32_t three = start(3);
    ASSERT_TRUE(up(2));
    EXPECT_EQ(vips_of(one), std::vector<IpAddress>{ip("10.99.133.1")});
    EXPECT_EQ(vips_of(three), std::vector<IpAddress>{ip("10.99.133.2")});
    terminate(one);
    EXPECT_EQ(the_pool().offline(), 1U);
    // client2, another IKE identity but carol's EAP identity: carol's address, not the next.
    const std::uint32_t two = start(2);
    ASSERT_TRUE(up(2));
    EXPECT_EQ(vips_of(two), std::vector<IpAddress>{ip("10.99.133.1")});
    EXPECT_EQ(the_pool().online(), 2U);
    EXPECT_EQ(the_pool().offline(), 0U);
    EXPECT_EQ(the_pool().leases().size(), 2U);
}

/// A client method that gives up on the server's first request (as strongSwan's MSCHAPv2 client
/// does on E=691: no acknowledgement).
class GivingUpPeer final : public eap::PeerMethod {
public:
    [[nodiscard]] eap::Type type() const noexcept override { return eap::Type::kMschapv2; }
    Result<eap::PeerStep> process(const eap::Packet& /*req*/) override {
        return make_error(Errc::kAuthFailed, "the test peer gives up");
    }
    [[nodiscard]] bool may_succeed() const noexcept override { return false; }
    [[nodiscard]] const eap::Msk& msk() const noexcept override { return msk_; }

private:
    eap::Msk msk_;
};

TEST_P(EapVips, ClientWhoseMethodFailsTellsTheGatewayWhichEndsAtOnce) {
    LogCapture::install();
    LogCapture::clear();
    load({"carol"});
    client().manager.services().eap.peer =
            [](eap::Type /*t*/,
               eap::PeerContext /*ctx*/) -> Result<std::unique_ptr<eap::PeerMethod>> {
        return std::unique_ptr<eap::PeerMethod>(std::make_unique<GivingUpPeer>());
    };
    const TimePoint began = h.now();
    start(1);
    // Both sides are empty long before the gateway's half-open timeout (30 s): the client
    // sent INFORMATIONAL N(AUTHENTICATION_FAILED), the gateway ended its IKE SA on it.
    ASSERT_TRUE(h.run_until(
            [&] { return client().manager.sas().empty() && gateway().manager.sas().empty(); },
            std::chrono::seconds(60)));
    EXPECT_LT(h.now() - began, std::chrono::seconds(5));
    EXPECT_TRUE(LogCapture::contains(gateway().name,
                                     "received AUTHENTICATION_FAILED notify during IKE_AUTH"));
    EXPECT_EQ(client().count(
                      {.sent = true, .exchange = ExchangeType::kInformational, .response = false}),
              1U);
    EXPECT_EQ(the_pool().leases().size(), 0U);
}

INSTANTIATE_TEST_SUITE_P(Roles, EapVips, ::testing::Bool(), role_name);

}  // namespace
}  // namespace ikeplex::test
