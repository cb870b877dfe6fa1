// The daemon's VICI listings that an operator reads: list-policies lists a policy once however
// many Child SAs share it (an RFC 9611 group), list-conn carries the IKE ports, list-certs
// lists every certificate with its flag and whether its key is there, filtered as charon
// filters (CRLs as X509_CRL by their issuer), list-authorities names the authorities with their
// URIs, a newer CRL of an issuer replaces the older, and load-authority parses as charon does.
#include <gtest/gtest.h>

#include "../../exchange/groups_fixture.h"
#include "cert_factory.h"
#include "crl_factory.h"
#include "crypto/crl_info.h"
#include "daemon/vici_certs.h"
#include "daemon/vici_credentials.h"
#include "daemon/vici_format.h"

namespace ikeplex::test {
namespace {

class PolicyListing : public Groups {};

TEST_P(PolicyListing, AGroupIsOnePolicy) {
    establish();
    for (std::uint32_t cpu : {0U, 1U, 2U, 3U}) {
        acquire(ini(), cpu);
    }
    settle();
    ASSERT_EQ(group(ini()).size(), 5U);  // the fallback and four members
    for (Node* n : {&ini(), &res()}) {
        const auto events = daemon::policy_events(n->manager, std::nullopt);
        ASSERT_EQ(events.size(), 1U) << n->name << ": one group, one policy";
        const vici::Message* p = events[0].find_section("conn/net");
        ASSERT_NE(p, nullptr);
        EXPECT_EQ(p->get("child"), std::optional<std::string_view>("net"));
        EXPECT_EQ(p->get("ike"), std::optional<std::string_view>("conn"));
        EXPECT_EQ(p->get("mode"), std::optional<std::string_view>("TUNNEL"));
        ASSERT_NE(p->find_list("local-ts"), nullptr);
        EXPECT_FALSE(p->find_list("local-ts")->items.empty());
    }
    EXPECT_EQ(daemon::policy_events(ini().manager, "net").size(), 1U);
    EXPECT_TRUE(daemon::policy_events(ini().manager, "other").empty());
}

INSTANTIATE_TEST_SUITE_P(Roles, PolicyListing, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "AInitiates" : "BInitiates"; });

TEST(ConnListing, CarriesTheIkePorts) {
    ike::PeerConfig c = psk_pair().a;
    c.remote_port = 4500;
    vici::Message m;
    daemon::add_conn_section(m, c);
    const vici::Message* conn = m.find_section(c.name);
    ASSERT_NE(conn, nullptr);
    EXPECT_EQ(conn->get("local_port"), std::optional<std::string_view>("500"));
    EXPECT_EQ(conn->get("remote_port"), std::optional<std::string_view>("4500"));
}

TEST(ConnListing, CarriesTheUniquePolicyAsStrongSwanNamesIt) {
    ike::PeerConfig c = psk_pair().a;
    for (const auto& [policy, name] : {std::pair{ike::UniquePolicy::kNo, "UNIQUE_NO"},
                                       {ike::UniquePolicy::kIgnoreInitialContact, "UNIQUE_NEVER"},
                                       {ike::UniquePolicy::kKeep, "UNIQUE_KEEP"},
                                       {ike::UniquePolicy::kReplace, "UNIQUE_REPLACE"}}) {
        c.unique = policy;
        vici::Message m;
        daemon::add_conn_section(m, c);
        const vici::Message* conn = m.find_section(c.name);
        ASSERT_NE(conn, nullptr);
        EXPECT_EQ(conn->get("unique"), std::optional<std::string_view>(name));
    }
}

/// A CA, our certificate with its key, and a peer's certificate without one.
class CertListing : public ::testing::Test {
protected:
    CertListing() {
        crypto::Certificate ca = issue({.cn = "Test CA", .ca = true}, ca_key, nullptr, ca_key);
        crypto::PrivateKey own_key = make_key(crypto::KeyType::kEcP256);
        own_der = issue({.cn = "a.test", .dns = {"a.test"}}, own_key, &ca, ca_key).der();
        peer_der = issue({.cn = "b.test", .dns = {"b.test"}}, make_key(crypto::KeyType::kEcP256),
                         &ca, ca_key)
                           .der();
        ca_der = ca.der();
        EXPECT_TRUE(creds.add_ca(std::move(ca)));
        creds.add_own_cert(*crypto::Certificate::from_der(own_der));
        creds.add_key(std::move(own_key));
        creds.add_own_cert(*crypto::Certificate::from_der(peer_der));
    }

    std::vector<vici::Message> list(std::initializer_list<std::pair<const char*, const char*>> kv) {
        vici::Message req;
        for (const auto& [k, v] : kv) {
            req.add(k, v);
        }
        std::string why;
        auto f = daemon::parse_cert_filter(req, why);
        EXPECT_TRUE(f) << why;
        return f ? daemon::cert_events(daemon::listed_credentials(creds), *f)
                 : std::vector<vici::Message>{};
    }

    static Bytes data(const vici::Message& ev) {
        const vici::KeyValue* d = ev.find_value("data");
        return d != nullptr ? d->value : Bytes{};
    }

    crypto::PrivateKey ca_key = make_key(crypto::KeyType::kEcP256);
    ike::Credentials creds;
    Bytes own_der, peer_der, ca_der;
};

TEST_F(CertListing, EveryCertificateWithItsFlagAndKey) {
    const auto all = list({});
    ASSERT_EQ(all.size(), 3U);
    EXPECT_EQ(data(all[0]), own_der);
    EXPECT_EQ(all[0].get("type"), std::optional<std::string_view>("X509"));
    EXPECT_EQ(all[0].get("flag"), std::optional<std::string_view>("NONE"));
    EXPECT_EQ(all[0].get("has_privkey"), std::optional<std::string_view>("yes"));
    EXPECT_EQ(data(all[1]), peer_der);
    EXPECT_FALSE(all[1].get("has_privkey"));
    EXPECT_EQ(data(all[2]), ca_der);
    EXPECT_EQ(all[2].get("flag"), std::optional<std::string_view>("CA"));
}

TEST_F(CertListing, FiltersAsCharonDoes) {
    const auto cas = list({{"type", "X509"}, {"flag", "CA"}});
    ASSERT_EQ(cas.size(), 1U);
    EXPECT_EQ(data(cas[0]), ca_der);
    EXPECT_EQ(list({{"type", "x509"}, {"flag", "none"}}).size(), 2U);  // any case
    EXPECT_TRUE(list({{"type", "X509_CRL"}}).empty());                 // none loaded yet
    EXPECT_EQ(list({{"flag", "CA"}}).size(), 3U);  // the flag counts with type X509 only
    const auto b = list({{"subject", "b.test"}});
    ASSERT_EQ(b.size(), 1U);
    EXPECT_EQ(data(b[0]), peer_der);
    EXPECT_EQ(list({{"subject", "O=ikeplex test, CN=Test CA"}}).size(), 1U);
    vici::Message bad;
    bad.add("type", "X510");
    std::string why;
    EXPECT_FALSE(daemon::parse_cert_filter(bad, why));
    EXPECT_EQ(why, "invalid certificate type 'X510'");
}

TEST_F(CertListing, AuthoritiesByName) {
    std::vector<ike::Credentials::Authority> a(2);
    a[0].name = "ca-one";
    a[0].cacert = *crypto::Certificate::from_der(ca_der);
    a[0].crl_uris = {"http://10.99.220.1/ca.crl", "file:///etc/ca.crl"};
    a[0].ocsp_uris = {"http://10.99.220.1:8080"};
    a[0].cert_uri_base = "http://10.99.220.1/certs/";
    a[1].name = "ca-two";
    a[1].cacert = *crypto::Certificate::from_der(ca_der);
    const auto all = daemon::authority_events(a, std::nullopt);
    ASSERT_EQ(all.size(), 2U);
    const vici::Message* one = all[0].find_section("ca-one");
    ASSERT_NE(one, nullptr);
    EXPECT_EQ(one->get("cacert"), std::optional<std::string_view>("O=ikeplex test, CN=Test CA"));
    ASSERT_NE(one->find_list("crl_uris"), nullptr);
    EXPECT_EQ(one->find_list("crl_uris")->texts(),
              (std::vector<std::string_view>{"http://10.99.220.1/ca.crl", "file:///etc/ca.crl"}));
    EXPECT_EQ(one->find_list("ocsp_uris")->texts(),
              (std::vector<std::string_view>{"http://10.99.220.1:8080"}));
    EXPECT_EQ(one->get("cert_uri_base"),
              std::optional<std::string_view>("http://10.99.220.1/certs/"));
    const vici::Message* two = all[1].find_section("ca-two");
    ASSERT_NE(two, nullptr);
    EXPECT_TRUE(two->find_list("crl_uris")->items.empty());
    EXPECT_FALSE(two->get("cert_uri_base"));  // charon adds it only when set
    EXPECT_EQ(daemon::authority_events(a, "ca-two").size(), 1U);
}

TEST_F(CertListing, CrlsListedAsX509CrlByIssuer) {
    const crypto::Certificate ca = *crypto::Certificate::from_der(ca_der);
    const crypto::Certificate peer = *crypto::Certificate::from_der(peer_der);
    ASSERT_TRUE(crypto::hold_crl(
            creds.crls,
            issue_numbered_crl(ca, ca_key, {&peer}, kPinnedNow - 60, kPinnedNow + 60, 5)));
    const auto crls = list({{"type", "X509_CRL"}});
    ASSERT_EQ(crls.size(), 1U);
    EXPECT_EQ(data(crls[0]), crypto::crl_der(creds.crls[0]));
    EXPECT_FALSE(crls[0].get("flag"));                  // charon's flag is for X.509 certificates
    EXPECT_EQ(list({{"type", "x509crl"}}).size(), 1U);  // swanctl --list-certs --type x509crl
    EXPECT_EQ(list({{"type", "x509ca"}}).size(), 1U);   // swanctl's folder names: type and flag
    EXPECT_EQ(list({}).size(), 4U);
    // A subject filter naming the CA finds the CA and its CRL (charon matches a CRL's issuer).
    EXPECT_EQ(list({{"subject", "O=ikeplex test, CN=Test CA"}}).size(), 2U);
    EXPECT_EQ(list({{"type", "X509_CRL"}, {"subject", "b.test"}}).size(), 0U);
}

TEST_F(CertListing, ANewerCrlOfAnIssuerReplacesTheOlder) {
    const crypto::Certificate ca = *crypto::Certificate::from_der(ca_der);
    const crypto::Certificate peer = *crypto::Certificate::from_der(peer_der);
    // cRLNumber decides when both carry one, whatever thisUpdate says.
    ASSERT_TRUE(crypto::hold_crl(
            creds.crls, issue_numbered_crl(ca, ca_key, {}, kPinnedNow, kPinnedNow + 60, 7)));
    EXPECT_FALSE(crypto::hold_crl(
            creds.crls,
            issue_numbered_crl(ca, ca_key, {&peer}, kPinnedNow + 10, kPinnedNow + 60, 6)));
    EXPECT_EQ(crypto::crl_info(creds.crls[0]).number, "07");
    EXPECT_TRUE(crypto::hold_crl(
            creds.crls,
            issue_numbered_crl(ca, ca_key, {&peer}, kPinnedNow - 10, kPinnedNow + 60, 8)));
    ASSERT_EQ(creds.crls.size(), 1U);
    EXPECT_TRUE(creds.crls[0].lists(peer));
    // Without cRLNumbers: the later thisUpdate.
    ike::Credentials plain;
    ASSERT_TRUE(
            crypto::hold_crl(plain.crls, issue_crl(ca, ca_key, {}, kPinnedNow, kPinnedNow + 60)));
    EXPECT_FALSE(crypto::hold_crl(plain.crls,
                                  issue_crl(ca, ca_key, {&peer}, kPinnedNow - 1, kPinnedNow + 60)));
    EXPECT_TRUE(crypto::hold_crl(plain.crls,
                                 issue_crl(ca, ca_key, {&peer}, kPinnedNow + 1, kPinnedNow + 60)));
    EXPECT_EQ(plain.crls.size(), 1U);
    EXPECT_TRUE(plain.crls[0].lists(peer));
    // Another issuer's CRL is held beside.
    const crypto::PrivateKey k2 = make_key(crypto::KeyType::kEcP256);
    const crypto::Certificate ca2 = issue({.cn = "Second CA", .ca = true}, k2, nullptr, k2);
    EXPECT_TRUE(crypto::hold_crl(plain.crls, issue_crl(ca2, k2, {})));
    EXPECT_EQ(plain.crls.size(), 2U);
}

TEST_F(CertListing, LoadAuthorityMessageAsCharonParsesIt) {
    vici::Message req;
    vici::Message& body = req.add_section("vici-ca");
    body.add_bytes("cacert", ca_der);
    body.add_list("crl_uris", {"http://10.99.220.1/ca.crl"});
    body.add_list("ocsp_uris", {"https://10.99.220.1/ocsp"});
    body.add("cert_uri_base", "http://10.99.220.1/certs/");
    ike::Credentials::Authority a;
    std::vector<Bytes> crls;
    const auto* sec = std::get_if<vici::Section>(&req.entries[0]);
    ASSERT_NE(sec, nullptr);
    EXPECT_EQ(daemon::parse_vici_authority(*sec, a, crls), "");
    EXPECT_EQ(a.name, "vici-ca");
    ASSERT_TRUE(a.cacert);
    EXPECT_EQ(a.cacert->der(), ca_der);
    EXPECT_EQ(a.crl_uris, (std::vector<std::string>{"http://10.99.220.1/ca.crl"}));
    EXPECT_EQ(a.ocsp_uris, (std::vector<std::string>{"https://10.99.220.1/ocsp"}));
    EXPECT_EQ(a.cert_uri_base, "http://10.99.220.1/certs/");
    EXPECT_TRUE(crls.empty());

    const auto why = [](const std::function<void(vici::Message&)>& fill) {
        vici::Message m;
        fill(m.add_section("x"));
        ike::Credentials::Authority out;
        std::vector<Bytes> c;
        return daemon::parse_vici_authority(std::get<vici::Section>(m.entries[0]), out, c);
    };
    EXPECT_EQ(why([](vici::Message&) {}), "CA certificate missing: x");
    EXPECT_EQ(why([](vici::Message& m) { m.add("colour", "blue"); }),
              "unknown option: colour, authority discarded");
    EXPECT_EQ(why([&](vici::Message& m) { m.add_bytes("cacert", own_der); }),
              "certificate without CA flag, rejected");
    EXPECT_EQ(why([](vici::Message& m) {
                  m.add("cacert", "garbage");
              }).rfind("parsing X509 certificate failed", 0),
              0U);
    EXPECT_EQ(why([&](vici::Message& m) {
                  m.add_bytes("cacert", ca_der);
                  m.add_list("crl_uris", {"ldap://10.99.220.1/cn=ca"});
              }),
              "'ldap://10.99.220.1/cn=ca': only file, http and https URIs are supported, "
              "authority discarded");
}

TEST(CertificateInfo, WhatAListingShows) {
    const crypto::PrivateKey key = make_key(crypto::KeyType::kEcP256);
    const crypto::Certificate c = issue(
            {.cn = "a.test", .dns = {"a.test"}, .ips = {Bytes{10, 99, 0, 1}}}, key, nullptr, key);
    const crypto::CertificateInfo i = c.info();
    EXPECT_EQ(i.subject, "O=ikeplex test, CN=a.test");
    EXPECT_EQ(i.issuer, i.subject);
    EXPECT_EQ(i.not_before, kPinnedNow - 86400);
    EXPECT_EQ(i.not_after, kPinnedNow + 365 * 86400);
    EXPECT_EQ(i.key, "ECDSA 256 bits");
    EXPECT_FALSE(i.ca);
    EXPECT_EQ(i.alt_names, (std::vector<std::string>{"a.test", "10.99.0.1"}));
    EXPECT_FALSE(i.serial.empty());
}

}  // namespace
}  // namespace ikeplex::test
