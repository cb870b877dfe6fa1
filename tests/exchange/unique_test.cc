// Uniqueness policies (swanctl.conf `unique`, strongSwan's semantics; src/ike/uniqueness.cc)
// between two engines: node a is the client with two connections c1 and c2 of one identity
// (two IKE SAs of one user), node b the gateway (remote id %any). Each policy with and without
// INITIAL_CONTACT (c2 with `unique = never` sends none); the second IKE SA comes from another
// address (a NAT in front of the client), as a second device of the user would; the same
// address with no INITIAL_CONTACT is a reauthentication. Reauthentication and IKE rekeys are
// never duplicates.
#include <tuple>

#include "eap/eap.h"
#include "flow_fixture.h"

namespace ikeplex::test {
namespace {

using ike::EventKind;
using ike::UniquePolicy;
using wire::ExchangeType;
using wire::NotifyType;

ike::Identity id(const char* s) {
    return *ike::Identity::parse(s);
}

class Unique : public ::testing::Test {
protected:
    /// Loads c1 and c2 (c2 sends INITIAL_CONTACT if `contact`) and the gateway with `policy`.
    void load(UniquePolicy policy, bool contact) {
        std::vector<ike::PeerConfig> clients;
        for (const char* name : {"c1", "c2"}) {
            ike::PeerConfig c = cfg.a;
            c.name = name;
            c.local.id = id("carol@vpn.example");
            clients.push_back(std::move(c));
        }
        clients[0].unique =
                UniquePolicy::kIgnoreInitialContact;  // c1: the first IKE SA, no INITIAL_CONTACT
        clients[1].unique = contact ? UniquePolicy::kNo : UniquePolicy::kIgnoreInitialContact;
        gateway = cfg.b;
        gateway.remote.id = id("%any");
        gateway.remote_addrs.clear();  // %any: the client comes from two addresses
        gateway.unique = policy;
        h.a().manager.load(std::move(clients));
        h.b().manager.load({gateway});
        h.a().manager.set_credentials(psk_credentials());
        h.b().manager.set_credentials(psk_credentials());
    }

    std::uint32_t start(const char* conn) {
        std::uint32_t ike = 0;
        h.act(h.a(), [&](ike::Step& s) {
            auto r = h.a().manager.initiate(conn, "net", s);
            ASSERT_TRUE(r) << r.error().detail;
            ike = *r;
        });
        return ike;
    }

    /// c1 up, then c2 from another address (`other_address`), run until quiet.
    void second_sa(bool other_address = true) {
        first = start("c1");
        ASSERT_TRUE(h.run_until([&] { return h.b().established().size() == 1; },
                                std::chrono::seconds(30)));
        gateway_first = h.b().established().front()->id();
        if (other_address) {
            h.nat_a(*IpAddress::parse("10.99.0.77"));
        }
        second = start("c2");
        h.run_for(std::chrono::seconds(20));
    }

    [[nodiscard]] bool gateway_holds(std::uint32_t id) {
        for (const ike::IkeSa* sa : h.b().established()) {
            if (sa->id() == id) {
                return true;
            }
        }
        return false;
    }
    [[nodiscard]] std::size_t contact_sent() {
        return h.a().count({.sent = true,
                            .exchange = ExchangeType::kIkeAuth,
                            .response = false,
                            .notify = NotifyType::kInitialContact});
    }
    [[nodiscard]] std::size_t deletes_sent_by_gateway() {
        return h.b().count({.sent = true,
                            .exchange = ExchangeType::kInformational,
                            .response = false,
                            .payloads = "D"});
    }
    [[nodiscard]] const ike::ManagerCounters& counters() { return h.b().manager.counters(); }

    Harness h{41};
    PairConfig cfg = psk_pair();
    ike::PeerConfig gateway;
    std::uint32_t first{0};
    std::uint32_t second{0};
    std::uint32_t gateway_first{0};
};

TEST_F(Unique, NoKeepsBothWithoutInitialContact) {
    load(UniquePolicy::kNo, false);
    second_sa();
    EXPECT_EQ(contact_sent(), 0U);
    EXPECT_EQ(h.a().established().size(), 2U);
    EXPECT_EQ(h.b().established().size(), 2U);
    EXPECT_TRUE(gateway_holds(gateway_first));
    EXPECT_EQ(counters().initial_contacts + counters().unique_replaced + counters().unique_refused,
              0U);
}

TEST_F(Unique, NeverIgnoresInitialContact) {
    load(UniquePolicy::kIgnoreInitialContact, true);
    second_sa();
    EXPECT_EQ(contact_sent(), 1U);
    EXPECT_EQ(h.b().established().size(), 2U);
    EXPECT_TRUE(gateway_holds(gateway_first));
    EXPECT_EQ(counters().initial_contacts, 0U);
}

TEST_F(Unique, NeverSendsNoInitialContact) {
    load(UniquePolicy::kNo, true);
    first = start("c1");  // c1 has unique = never: its first IKE SA goes without one
    ASSERT_TRUE(
            h.run_until([&] { return h.b().established().size() == 1; }, std::chrono::seconds(30)));
    EXPECT_EQ(contact_sent(), 0U);
}

TEST_F(Unique, ReplaceDeletesTheOldIkeSaWithoutInitialContact) {
    load(UniquePolicy::kReplace, false);
    second_sa();
    EXPECT_EQ(contact_sent(), 0U);
    // The gateway deleted the old IKE SA with a Delete; the client saw it go (its first IKE SA
    // is gone), the new one stays on both sides.
    EXPECT_EQ(deletes_sent_by_gateway(), 1U);
    ASSERT_EQ(h.b().established().size(), 1U);
    EXPECT_FALSE(gateway_holds(gateway_first));
    EXPECT_EQ(h.a().manager.sa(first), nullptr);
    ASSERT_NE(h.a().manager.sa(second), nullptr);
    EXPECT_EQ(h.a().manager.sa(second)->state(), ike::IkeState::kEstablished);
    EXPECT_EQ(counters().unique_replaced, 1U);
    EXPECT_EQ(counters().initial_contacts, 0U);
}

TEST_F(Unique, KeepRefusesTheNewIkeSaWithAuthenticationFailed) {
    load(UniquePolicy::kKeep, false);
    second_sa();
    // What the refused client gets: the IKE_AUTH response carries AUTHENTICATION_FAILED alone
    // (charon's answer), its new IKE SA fails; the old one stays on both sides.
    EXPECT_EQ(h.b().count({.sent = true,
                           .exchange = ExchangeType::kIkeAuth,
                           .response = true,
                           .payloads = "N(AUTH_FAILED)"}),
              1U);
    EXPECT_EQ(h.a().manager.sa(second), nullptr);
    EXPECT_EQ(h.a().count(EventKind::kIkeFailed), 1U);
    ASSERT_EQ(h.b().established().size(), 1U);
    EXPECT_TRUE(gateway_holds(gateway_first));
    ASSERT_NE(h.a().manager.sa(first), nullptr);
    EXPECT_EQ(h.a().manager.sa(first)->state(), ike::IkeState::kEstablished);
    EXPECT_EQ(counters().unique_refused, 1U);
    EXPECT_EQ(h.b().manager.half_open(), 0U);
}

TEST_F(Unique, TheEapIdentityNamesThePeer) {
    // charon's rule: where the peer authenticated with EAP, its EAP identity is the one that
    // counts. carol on two devices (two IKE identities) is one peer under keep; dave, with
    // the IKE identity of carol's first device, is another.
    gateway = cfg.b;
    gateway.remote.id = id("%any");
    gateway.remote_addrs.clear();
    gateway.remote.kind = ike::AuthKind::kEap;
    gateway.remote.eap_type = static_cast<std::uint8_t>(eap::Type::kMd5);
    gateway.remote.eap_id = id("%any");
    gateway.unique = UniquePolicy::kKeep;
    std::vector<ike::PeerConfig> clients;
    const std::tuple<const char*, const char*, const char*> devices[] = {
            {"c1", "laptop@vpn.example", "carol"},
            {"c2", "phone@vpn.example", "carol"},
            {"d1", "laptop@vpn.example", "dave"}};
    auto ac = psk_credentials();
    auto bc = psk_credentials();
    for (const auto& [name, ike_id, user] : devices) {
        ike::PeerConfig c = cfg.a;
        c.name = name;
        c.local.id = id(ike_id);
        c.local.kind = ike::AuthKind::kEap;
        c.local.eap_type = static_cast<std::uint8_t>(eap::Type::kMd5);
        c.local.eap_id = id(user);
        c.unique = UniquePolicy::kIgnoreInitialContact;
        clients.push_back(std::move(c));
    }
    for (const char* user : {"carol", "dave"}) {
        for (auto* creds : {&ac, &bc}) {
            creds->eap_secrets.push_back(ike::Credentials::Psk{
                    {id(user)}, SecretBytes::copy_of(as_bytes("md5-secret"))});
        }
    }
    h.a().manager.load(std::move(clients));
    h.b().manager.load({gateway});
    h.a().manager.set_credentials(std::move(ac));
    h.b().manager.set_credentials(std::move(bc));
    second_sa();
    EXPECT_EQ(h.b().manager.sa(gateway_first)->remote_eap_id(), "carol");
    EXPECT_EQ(counters().unique_refused, 1U);
    ASSERT_EQ(h.b().established().size(), 1U);
    start("d1");
    h.run_for(std::chrono::seconds(20));
    EXPECT_EQ(counters().unique_refused, 1U);
    EXPECT_EQ(h.b().established().size(), 2U);
}

const char* policy_name(const ::testing::TestParamInfo<UniquePolicy>& info) {
    switch (info.param) {
        case UniquePolicy::kNo:
            return "no";
        case UniquePolicy::kIgnoreInitialContact:
            return "never";
        case UniquePolicy::kKeep:
            return "keep";
        case UniquePolicy::kReplace:
            return "replace";
    }
    return "?";
}

class UniqueContact : public Unique, public ::testing::WithParamInterface<UniquePolicy> {};

TEST_P(UniqueContact, InitialContactForgetsTheOldIkeSaWithoutADelete) {
    // RFC 7296 §2.4 under no, replace and keep (strongSwan: the peer says it lost the old IKE
    // SA, so even keep yields): the old one is forgotten at once, no Delete goes to the peer.
    load(GetParam(), true);
    second_sa();
    EXPECT_EQ(contact_sent(), 1U);
    ASSERT_EQ(h.b().established().size(), 1U);
    EXPECT_FALSE(gateway_holds(gateway_first));
    EXPECT_EQ(deletes_sent_by_gateway(), 0U);
    EXPECT_EQ(counters().initial_contacts, 1U);
    EXPECT_EQ(counters().unique_replaced + counters().unique_refused, 0U);
    ASSERT_NE(h.a().manager.sa(second), nullptr);
    EXPECT_EQ(h.a().manager.sa(second)->state(), ike::IkeState::kEstablished);
}

INSTANTIATE_TEST_SUITE_P(Policies, UniqueContact,
                         ::testing::Values(UniquePolicy::kNo, UniquePolicy::kReplace,
                                           UniquePolicy::kKeep),
                         policy_name);

class UniqueStrict : public Unique, public ::testing::WithParamInterface<UniquePolicy> {};

TEST_P(UniqueStrict, SecondIkeSaFromTheSameAddressIsTakenForAReauthentication) {
    load(GetParam(), false);
    second_sa(/*other_address=*/false);
    EXPECT_EQ(h.b().established().size(), 2U);
    EXPECT_EQ(counters().unique_replaced + counters().unique_refused, 0U);
}

TEST_P(UniqueStrict, ReauthenticationIsNoDuplicate) {
    // The client reauthenticates make-before-break (reauth_time): its new IKE SA comes without
    // INITIAL_CONTACT while the old one is up; the gateway neither refuses nor deletes, the
    // client deletes the old one itself.
    cfg.a.reauth_time = std::chrono::minutes(10);
    cfg.a.over_time = std::chrono::minutes(1);
    cfg.a.rand_time = Duration(0);
    load(GetParam(), false);
    first = start("c1");
    ASSERT_TRUE(
            h.run_until([&] { return h.b().established().size() == 1; }, std::chrono::seconds(30)));
    gateway_first = h.b().established().front()->id();
    h.run_for(std::chrono::minutes(11));
    EXPECT_EQ(h.a().manager.counters().reauths, 1U);
    EXPECT_EQ(h.a().manager.counters().reauth_failures, 0U);
    ASSERT_EQ(h.b().established().size(), 1U);
    EXPECT_FALSE(gateway_holds(gateway_first));
    ASSERT_EQ(h.a().established().size(), 1U);
    EXPECT_NE(h.a().established().front()->id(), first);
    EXPECT_EQ(h.a().established().front()->children().size(), 1U);
    EXPECT_EQ(counters().unique_replaced + counters().unique_refused, 0U);
    const auto problems = check_consistent(h);
    EXPECT_TRUE(problems.empty()) << join(problems);
}

TEST_P(UniqueStrict, IkeRekeyIsNoDuplicate) {
    load(GetParam(), false);
    first = start("c1");
    ASSERT_TRUE(
            h.run_until([&] { return h.b().established().size() == 1; }, std::chrono::seconds(30)));
    h.run_for(std::chrono::seconds(2));
    h.act(h.a(), [&](ike::Step& s) { ASSERT_TRUE(h.a().manager.rekey_ike(first, s)); });
    h.run_for(std::chrono::seconds(20));
    ASSERT_EQ(h.b().established().size(), 1U);
    ASSERT_EQ(h.a().established().size(), 1U);
    EXPECT_NE(h.a().established().front()->id(), first);
    EXPECT_EQ(h.a().established().front()->children().size(), 1U);
    EXPECT_EQ(counters().unique_replaced + counters().unique_refused + counters().initial_contacts,
              0U);
    const auto problems = check_consistent(h);
    EXPECT_TRUE(problems.empty()) << join(problems);
}

INSTANTIATE_TEST_SUITE_P(Policies, UniqueStrict,
                         ::testing::Values(UniquePolicy::kKeep, UniquePolicy::kReplace),
                         policy_name);

}  // namespace
}  // namespace ikeplex::test
