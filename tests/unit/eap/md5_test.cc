// EAP-MD5-Challenge (RFC 3748 §5.4, RFC 1994 §4.1): a known answer, both halves in memory,
// wrong secrets and malformed packets.
#include "eap/md5.h"

#include <string>

#include <gtest/gtest.h>

#include "eap/eap.h"
#include "util/hex.h"
#include "util/random.h"

namespace ikeplex::eap {
namespace {

Bytes hex(std::string_view h) {
    return from_hex(h).value();
}

// The vector was computed by hand, outside ikeplex:
//   printf '\x2a' > kat.bin; printf 'password' >> kat.bin
//   printf '\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f' >> kat.bin
//   openssl dgst -md5 kat.bin   ->  3e0949a5572c2d338c182b7f6377471d
// i.e. MD5(Identifier 0x2a || "password" || challenge 00..0f).
constexpr std::string_view kKatChallenge = "000102030405060708090a0b0c0d0e0f";
constexpr std::string_view kKatValue = "3e0949a5572c2d338c182b7f6377471d";

TEST(EapMd5, KnownAnswer) {
    auto v = md5_chap_response(0x2a, as_bytes("password"), hex(kKatChallenge));
    ASSERT_TRUE(v);
    EXPECT_EQ(to_hex(*v), kKatValue);
}

TEST(EapMd5, PeerAnswersTheKnownChallenge) {
    const SecretBytes secret = SecretBytes::copy_of(as_bytes("password"));
    PeerContext pc;
    pc.identity = "carol";
    pc.secret = &secret;
    auto peer = make_peer(Type::kMd5, std::move(pc));
    ASSERT_TRUE(peer);
    Bytes data{16};
    const Bytes challenge = hex(kKatChallenge);
    data.insert(data.end(), challenge.begin(), challenge.end());
    data.insert(data.end(), {'g', 'w'});  // a Name, which does not enter the hash
    EXPECT_FALSE((*peer)->may_succeed());
    auto step = (*peer)->process(Packet{Code::kRequest, 0x2a, Type::kMd5, data});
    ASSERT_TRUE(step);
    ASSERT_EQ(step->kind, PeerStep::Kind::kResponse);
    EXPECT_EQ(step->response.code, Code::kResponse);
    EXPECT_EQ(step->response.identifier, 0x2a);
    EXPECT_EQ(to_hex(step->response.type_data), std::string("10") + std::string(kKatValue));
    EXPECT_TRUE((*peer)->may_succeed());
    EXPECT_TRUE((*peer)->msk().empty());
}

struct Pair {
    SecretBytes server_secret = SecretBytes::copy_of(as_bytes("s3cret-pw"));
    SecretBytes peer_secret = SecretBytes::copy_of(as_bytes("s3cret-pw"));
    DeterministicRandom random{21};
    std::unique_ptr<ServerMethod> server;
    std::unique_ptr<PeerMethod> peer;

    explicit Pair(std::string_view server_user = "carol") {
        ServerContext sc;
        sc.find_secret = [this, user = std::string(server_user)](std::string_view id) {
            return id == user ? &server_secret : nullptr;
        };
        sc.random = &random;
        server = std::move(make_server(Type::kMd5, std::move(sc)).value());
        PeerContext pc;
        pc.identity = "carol";
        pc.secret = &peer_secret;
        peer = std::move(make_peer(Type::kMd5, std::move(pc)).value());
    }

    /// Challenge, answer, verdict.
    ServerStep run() {
        const Packet req = server->initiate(5, "carol").value();
        EXPECT_EQ(req.type_data.size(), 17U);
        EXPECT_EQ(req.type_data[0], 16);
        const PeerStep ps = peer->process(req).value();
        EXPECT_EQ(ps.kind, PeerStep::Kind::kResponse);
        return server->process(ps.response, 6).value();
    }
};

TEST(EapMd5, ServerAndPeerAgree) {
    Pair p;
    EXPECT_EQ(p.run().kind, ServerStep::Kind::kSuccess);
    EXPECT_EQ(p.server->authenticated_identity(), "carol");
    EXPECT_TRUE(p.server->msk().empty());
    EXPECT_EQ(p.server->type(), Type::kMd5);
}

TEST(EapMd5, WrongSecretFails) {
    Pair p;
    p.peer_secret = SecretBytes::copy_of(as_bytes("s3cret-pX"));
    const ServerStep s = p.run();
    EXPECT_EQ(s.kind, ServerStep::Kind::kFailure);
    EXPECT_FALSE(s.reason.empty());
    EXPECT_EQ(p.server->authenticated_identity(), "");
}

TEST(EapMd5, UnknownUserFailsLikeAWrongSecret) {
    Pair p("dave");
    EXPECT_EQ(p.run().kind, ServerStep::Kind::kFailure);
}

TEST(EapMd5, MalformedResponsesFail) {
    const std::vector<Bytes> bad{
            {},                                                       // no Value-Size
            {16},                                                     // Value-Size without a value
            {16, 1, 2, 3},                                            // short
            {0},                                                      // zero size
            {15, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},  // wrong size
            Bytes(1 + 200, 200),                                      // wrong size, long
    };
    for (const Bytes& data : bad) {
        Pair p;
        const Packet req = p.server->initiate(9, "carol").value();
        auto s = p.server->process(Packet{Code::kResponse, 9, Type::kMd5, data}, 10);
        ASSERT_TRUE(s);
        EXPECT_EQ(s->kind, ServerStep::Kind::kFailure) << to_hex(data);
        (void)req;
    }
    // A response carrying another identifier is not an answer to this challenge.
    Pair p;
    const Packet req = p.server->initiate(9, "carol").value();
    PeerStep ps = p.peer->process(req).value();
    ps.response.identifier = 10;
    EXPECT_EQ(p.server->process(ps.response, 11).value().kind, ServerStep::Kind::kFailure);
}

TEST(EapMd5, ServerRefusesOutOfOrderCalls) {
    Pair p;
    EXPECT_FALSE(p.server->process(Packet{Code::kResponse, 1, Type::kMd5, {16}}, 2));
    ASSERT_TRUE(p.server->initiate(1, "carol"));
    EXPECT_FALSE(p.server->initiate(2, "carol"));
}

TEST(EapMd5, MalformedChallengesFailAtThePeer) {
    const SecretBytes secret = SecretBytes::copy_of(as_bytes("pw"));
    for (const Bytes& data : std::vector<Bytes>{{}, {0}, {16, 1, 2}, {255}}) {
        PeerContext pc;
        pc.secret = &secret;
        auto peer = make_peer(Type::kMd5, std::move(pc)).value();
        auto s = peer->process(Packet{Code::kRequest, 1, Type::kMd5, data});
        ASSERT_TRUE(s);
        EXPECT_EQ(s->kind, PeerStep::Kind::kFailure) << to_hex(data);
        EXPECT_FALSE(peer->may_succeed());
    }
    // No secret: fail, do not answer.
    auto peer = make_peer(Type::kMd5, PeerContext{}).value();
    auto s = peer->process(Packet{Code::kRequest, 1, Type::kMd5, {1, 0xab}});
    ASSERT_TRUE(s);
    EXPECT_EQ(s->kind, PeerStep::Kind::kFailure);
}

}  // namespace
}  // namespace ikeplex::eap
