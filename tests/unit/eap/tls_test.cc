// EAP-TLS (RFC 5216) server and peer against each other in memory: the TLS 1.2 handshake in
// EAP packets, fragmentation, the final acknowledgement (§2.1.1), equal 64-byte MSKs (§2.3),
// and the refusals: untrusted chains on either side, a wrong server name, a client that is not
// the EAP identity, alerts, broken fragment streams, flags out of order and the limits.
#include <gtest/gtest.h>

#include "eap/tls_session.h"
#include "tls_fixture.h"

namespace ikeplex::eap {
namespace {

using namespace tls_test;  // NOLINT(google-build-using-namespace)

TEST(EapTls, HandshakeGivesBothSidesTheSameMsk) {
    auto s = server(pki().server_ctx());
    auto p = peer(pki().peer_ctx());
    EXPECT_FALSE(p->may_succeed());
    const Outcome r = converse(*s, *p);
    ASSERT_TRUE(r.success) << r.server_failure.value_or("") << r.peer_failure.value_or("");
    EXPECT_TRUE(p->may_succeed());
    ASSERT_EQ(s->msk().size(), 64U);
    EXPECT_TRUE(s->msk().equals(p->msk().view()));
    EXPECT_EQ(s->authenticated_identity(), pki().client.subject());
    EXPECT_EQ(s->type(), Type::kTls);
    EXPECT_LE(r.largest, 1024U);

    // A second conversation has other keys.
    auto s2 = server(pki().server_ctx());
    auto p2 = peer(pki().peer_ctx());
    ASSERT_TRUE(converse(*s2, *p2).success);
    EXPECT_FALSE(s2->msk().equals(s->msk().view()));
}

TEST(EapTls, TheFactoriesMakeIt) {
    auto s = make_server(Type::kTls, pki().server_ctx());
    auto p = make_peer(Type::kTls, pki().peer_ctx());
    ASSERT_TRUE(s);
    ASSERT_TRUE(p);
    EXPECT_TRUE(converse(**s, **p).success);
}

TEST(EapTls, SmallFragmentsMakeManyRoundsAndTheSameKeys) {
    const TlsOptions small{.fragment_size = 64, .max_message_bytes = 64 * 1024, .max_packets = 0};
    auto s = server(pki().server_ctx(), small);
    auto p = peer(pki().peer_ctx(), small);
    const Outcome r = converse(*s, *p);
    ASSERT_TRUE(r.success) << r.server_failure.value_or("") << r.peer_failure.value_or("");
    EXPECT_GT(r.requests, 20);
    EXPECT_LE(r.largest, 64U);
    EXPECT_TRUE(s->msk().equals(p->msk().view()));
    EXPECT_EQ(s->msk().size(), 64U);
}

TEST(EapTls, RsaServerAtStrongSwansFragmentSize) {
    Pki rsa;
    rsa.server_key = make_key(KeyType::kRsa);
    rsa.server = issue({.cn = "gw.ikeplex.test", .dns = {"gw.ikeplex.test"}}, rsa.server_key,
                       &rsa.ca, rsa.ca_key);
    auto s = server(rsa.server_ctx());
    auto p = peer(rsa.peer_ctx());
    const Outcome r = converse(*s, *p);
    ASSERT_TRUE(r.success) << r.server_failure.value_or("") << r.peer_failure.value_or("");
    EXPECT_EQ(r.largest, 1024U);  // the server's flight took more than one fragment
    EXPECT_TRUE(s->msk().equals(p->msk().view()));
}

TEST(EapTls, PeerRefusesAServerFromAnUntrustedCa) {
    PeerContext c = pki().peer_ctx();
    c.trusted = &pki().rogue_trusted;
    auto s = server(pki().server_ctx());
    auto p = peer(c);
    const Outcome r = converse(*s, *p);
    ASSERT_TRUE(r.peer_failure);
    EXPECT_NE(r.peer_failure->find("not trusted"), std::string::npos) << *r.peer_failure;
    EXPECT_FALSE(p->may_succeed());
}

TEST(EapTls, ServerRefusesAnUntrustedClient) {
    const Pki& k = pki();
    const Certificate client = issue({.cn = "mallory", .email = {"alice@ikeplex.test"}},
                                     k.client_key, &k.rogue, k.rogue_key);
    PeerContext c = k.peer_ctx();
    c.own_cert = &client;
    auto s = server(k.server_ctx());
    auto p = peer(c);
    const Outcome r = converse(*s, *p);
    ASSERT_TRUE(r.server_failure);
    EXPECT_NE(r.server_failure->find("not trusted"), std::string::npos) << *r.server_failure;
    EXPECT_EQ(s->authenticated_identity(), "");
    EXPECT_TRUE(s->msk().empty());
}

TEST(EapTls, ServerRefusesAnExpiredClientAndOneWithoutACertificate) {
    const Pki& k = pki();
    const Certificate old = issue({.cn = "alice",
                                   .email = {"alice@ikeplex.test"},
                                   .not_before = kPinnedNow - 10 * 86400,
                                   .not_after = kPinnedNow - 86400},
                                  k.client_key, &k.ca, k.ca_key);
    PeerContext c = k.peer_ctx();
    c.own_cert = &old;
    auto s = server(k.server_ctx());
    auto p = peer(c);
    const Outcome r = converse(*s, *p);
    ASSERT_TRUE(r.server_failure);
    EXPECT_NE(r.server_failure->find("expired"), std::string::npos) << *r.server_failure;

    PeerContext none = k.peer_ctx();
    none.own_cert = nullptr;
    none.own_key = nullptr;
    auto s2 = server(k.server_ctx());
    auto p2 = peer(none);
    const Outcome r2 = converse(*s2, *p2);
    ASSERT_TRUE(r2.server_failure);
}

TEST(EapTls, ServerChecksTheEapIdentityAsStrongSwanDoes) {
    {
        auto s = server(pki().server_ctx());
        auto p = peer(pki().peer_ctx());
        const Outcome r = converse(*s, *p, "bob@ikeplex.test");
        ASSERT_TRUE(r.server_failure);
        EXPECT_NE(r.server_failure->find("EAP identity"), std::string::npos) << *r.server_failure;
    }
    for (const char* id : {"O=ikeplex test, CN=alice", "%any", ""}) {
        auto s = server(pki().server_ctx());
        auto p = peer(pki().peer_ctx());
        EXPECT_TRUE(converse(*s, *p, id).success) << id;
    }
}

TEST(EapTls, PeerRefusesAWrongServerName) {
    PeerContext c = pki().peer_ctx();
    c.server_name = "other.ikeplex.test";
    auto s = server(pki().server_ctx());
    auto p = peer(c);
    const Outcome r = converse(*s, *p);
    ASSERT_TRUE(r.peer_failure);
    EXPECT_NE(r.peer_failure->find("does not name"), std::string::npos) << *r.peer_failure;

    c.server_name = "";  // chain only
    auto s2 = server(pki().server_ctx());
    auto p2 = peer(c);
    EXPECT_TRUE(converse(*s2, *p2).success);
}

TEST(EapTls, ServerSendsTheIntermediateItTrusts) {
    // The server's certificate is under an intermediate CA that is among its trusted CAs; the
    // peer trusts only the root, so it needs the intermediate from the TLS Certificate message.
    const Pki& k = pki();
    const PrivateKey sub_key = make_key(KeyType::kEcP256);
    const Certificate sub = issue({.cn = "EAP Test Sub CA", .ca = true}, sub_key, &k.ca, k.ca_key);
    const PrivateKey leaf_key = make_key(KeyType::kEcP256);
    const Certificate leaf =
            issue({.cn = "gw.ikeplex.test", .dns = {"gw.ikeplex.test"}}, leaf_key, &sub, sub_key);
    CertStore server_trusted = store_of(k.ca);
    ASSERT_TRUE(server_trusted.add_trusted(sub));
    ServerContext c = k.server_ctx();
    c.own_cert = &leaf;
    c.own_key = &leaf_key;
    c.trusted = &server_trusted;
    auto s = server(c);
    auto p = peer(k.peer_ctx());
    const Outcome r = converse(*s, *p);
    ASSERT_TRUE(r.success) << r.server_failure.value_or("") << r.peer_failure.value_or("");
    EXPECT_TRUE(s->msk().equals(p->msk().view()));
}

TEST(EapTls, IdentitiesAreReadAsStrongSwanReadsThem) {
    const Pki& k = pki();
    const Certificate c =
            issue({.cn = "carol",
                   .dns = {"carol.ikeplex.test"},
                   .email = {"carol@ikeplex.test"},
                   .ips = {{10, 99, 21, 7},
                           Bytes{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7}}},
                  k.client_key, &k.ca, k.ca_key);
    for (const char* yes : {"carol.ikeplex.test", "@carol.ikeplex.test", "CAROL@ikeplex.test",
                            "10.99.21.7", "2001:db8::7", "O=ikeplex test, CN=carol"}) {
        EXPECT_TRUE(tls::names_identity(c, yes)) << yes;
    }
    for (const char* no : {"carol", "dave@ikeplex.test", "10.99.21.8", "2001:db8::8",
                           "O=ikeplex test, CN=dave", "CN=carol", "@ikeplex.test", "Q=bad"}) {
        EXPECT_FALSE(tls::names_identity(c, no)) << no;
    }
}

}  // namespace
}  // namespace ikeplex::eap
