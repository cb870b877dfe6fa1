// EAP-MSCHAPv2 when things go wrong: wrong passwords (E=691, retries as strongSwan's), unknown
// users, a tampered or missing authenticator response, and malformed packets on both sides.
#include <string>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "eap/eap.h"
#include "eap/mschapv2_crypto.h"
#include "eap/mschapv2_wire.h"
#include "util/hex.h"
#include "util/random.h"

namespace ikeplex::eap {
namespace {

namespace m = mschapv2;

std::string text(ByteView b) {
    return {b.begin(), b.end()};
}

struct Sides {
    SecretBytes server_secret;
    SecretBytes peer_secret;
    std::string server_user;
    DeterministicRandom server_random{3};
    DeterministicRandom peer_random{4};
    std::unique_ptr<ServerMethod> server;
    std::unique_ptr<PeerMethod> peer;

    Sides(std::string_view server_pw, std::string_view peer_pw, std::string_view user = "carol")
        : server_secret(SecretBytes::copy_of(as_bytes(server_pw))),
          peer_secret(SecretBytes::copy_of(as_bytes(peer_pw))),
          server_user(user) {
        ServerContext sc;
        sc.find_secret = [this](std::string_view id) {
            return id == server_user ? &server_secret : nullptr;
        };
        sc.random = &server_random;
        server = std::move(make_server(Type::kMschapv2, std::move(sc)).value());
        PeerContext pc;
        pc.identity = "carol";
        pc.secret = &peer_secret;
        pc.random = &peer_random;
        peer = std::move(make_peer(Type::kMschapv2, std::move(pc)).value());
    }

    /// Challenge and the peer's Response.
    Packet response() {
        const Packet c = server->initiate(1, "carol").value();
        const PeerStep r = peer->process(c).value();
        EXPECT_EQ(r.kind, PeerStep::Kind::kResponse);
        return r.response;
    }
};

/// A Response to `failure_request`'s C= challenge computed for `password` (a retrying peer).
Packet retry_response(const Packet& failure_request, std::string_view password) {
    const auto msg = m::decode(failure_request.type_data).value();
    const m::Failure f = m::parse_failure_message(msg.data);
    const Bytes peer_challenge(16, 0x77);
    const auto d = m::derive(*f.challenge, peer_challenge, "carol", as_bytes(password)).value();
    const Bytes data = m::encode_response_data(peer_challenge, d.nt_response, "carol");
    return Packet{Code::kResponse, failure_request.identifier, Type::kMschapv2,
                  m::encode(m::OpCode::kResponse, msg.ms_id, data)};
}

TEST(EapMschapv2Failure, WrongPasswordGetsE691ThenFailsAfterTheAck) {
    Sides s("right", "wrong");
    const ServerStep st = s.server->process(s.response(), 2).value();
    ASSERT_EQ(st.kind, ServerStep::Kind::kRequest);
    EXPECT_EQ(st.request.identifier, 2);
    const auto msg = m::decode(st.request.type_data).value();
    EXPECT_EQ(msg.op, m::OpCode::kFailure);
    EXPECT_EQ(msg.ms_id, 1);  // the old MS-CHAPv2-ID; the next one is 2
    const std::string t = text(msg.data);
    EXPECT_EQ(t.substr(0, 12), "E=691 R=1 C=") << t;
    EXPECT_EQ(t.size(), 12U + 32U);

    const PeerStep ack = s.peer->process(st.request).value();
    ASSERT_EQ(ack.kind, PeerStep::Kind::kResponse);
    EXPECT_EQ(ack.response.type_data, Bytes{4});  // the Failure acknowledgement
    EXPECT_NE(ack.reason.find("E=691"), std::string::npos);
    EXPECT_FALSE(s.peer->may_succeed());
    EXPECT_TRUE(s.peer->msk().empty());

    const ServerStep end = s.server->process(ack.response, 3).value();
    EXPECT_EQ(end.kind, ServerStep::Kind::kFailure);
    EXPECT_NE(end.reason.find("wrong password"), std::string::npos);
    EXPECT_TRUE(s.server->msk().empty());
    EXPECT_EQ(s.server->authenticated_identity(), "");
    // Nothing more to process.
    EXPECT_FALSE(s.server->process(ack.response, 4));
}

TEST(EapMschapv2Failure, UnknownUserLooksLikeAWrongPassword) {
    Sides s("pw", "pw", "dave");
    const ServerStep st = s.server->process(s.response(), 2).value();
    ASSERT_EQ(st.kind, ServerStep::Kind::kRequest);
    EXPECT_EQ(text(m::decode(st.request.type_data).value().data).substr(0, 12), "E=691 R=1 C=");
}

TEST(EapMschapv2Failure, RetryWithTheNewChallengeSucceeds) {
    Sides s("right", "wrong");
    const ServerStep f1 = s.server->process(s.response(), 2).value();
    ASSERT_EQ(f1.kind, ServerStep::Kind::kRequest);
    const ServerStep ok = s.server->process(retry_response(f1.request, "right"), 3).value();
    ASSERT_EQ(ok.kind, ServerStep::Kind::kRequest);
    const auto msg = m::decode(ok.request.type_data).value();
    EXPECT_EQ(msg.op, m::OpCode::kSuccess);
    EXPECT_EQ(msg.ms_id, 2);
    const ServerStep done =
            s.server->process(Packet{Code::kResponse, 3, Type::kMschapv2, {3}}, 4).value();
    EXPECT_EQ(done.kind, ServerStep::Kind::kSuccess);
    EXPECT_EQ(s.server->msk().size(), 64U);
}

TEST(EapMschapv2Failure, TwoRetriesThenFailure) {
    Sides s("right", "wrong");
    const ServerStep f1 = s.server->process(s.response(), 2).value();
    ASSERT_EQ(f1.kind, ServerStep::Kind::kRequest);
    const ServerStep f2 = s.server->process(retry_response(f1.request, "wrong"), 3).value();
    ASSERT_EQ(f2.kind, ServerStep::Kind::kRequest);
    EXPECT_EQ(m::decode(f2.request.type_data).value().op, m::OpCode::kFailure);
    const ServerStep f3 = s.server->process(retry_response(f2.request, "wrong"), 4).value();
    EXPECT_EQ(f3.kind, ServerStep::Kind::kFailure);
}

TEST(EapMschapv2Failure, TamperedAuthenticatorResponseFailsThePeer) {
    for (const bool drop : {false, true}) {
        Sides s("pw", "pw");
        ServerStep st = s.server->process(s.response(), 2).value();
        ASSERT_EQ(st.kind, ServerStep::Kind::kRequest);
        Bytes& td = st.request.type_data;
        if (drop) {
            td.resize(4);  // no message at all
        } else {
            td[10] = td[10] == 'A' ? 'B' : 'A';  // one hex digit of S=
        }
        const PeerStep r = s.peer->process(st.request).value();
        EXPECT_EQ(r.kind, PeerStep::Kind::kFailure);
        EXPECT_FALSE(s.peer->may_succeed());
        EXPECT_TRUE(s.peer->msk().empty());
    }
}

TEST(EapMschapv2Failure, ServerRefusesMalformedResponses) {
    Sides probe("pw", "pw");
    const Packet good = probe.response();
    // Every truncation of a good Response, and some bad values.
    std::vector<Bytes> bad;
    for (std::size_t n = 0; n < 4 + 50; ++n) {
        bad.emplace_back(good.type_data.begin(),
                         good.type_data.begin() + static_cast<std::ptrdiff_t>(n));
    }
    Bytes wrong_size = good.type_data;
    wrong_size[4] = 48;
    bad.push_back(wrong_size);
    bad.push_back(Bytes{7, 1, 0, 4});  // Change-Password: not supported
    bad.push_back(Bytes{3});           // Success before we sent one
    bad.push_back(Bytes{99, 1, 0, 4});
    for (const Bytes& td : bad) {
        Sides s("pw", "pw");
        (void)s.server->initiate(1, "carol").value();
        auto st = s.server->process(Packet{Code::kResponse, 1, Type::kMschapv2, td}, 2);
        ASSERT_TRUE(st) << to_hex(td);
        EXPECT_EQ(st->kind, ServerStep::Kind::kFailure) << to_hex(td);
    }
    // A good Response with another identifier, code or type.
    for (int variant = 0; variant < 3; ++variant) {
        Sides s("pw", "pw");
        (void)s.server->initiate(1, "carol").value();
        Packet p = good;
        if (variant == 0) {
            p.identifier = 9;
        } else if (variant == 1) {
            p.code = Code::kRequest;
        } else {
            p.type = Type::kMd5;
        }
        EXPECT_EQ(s.server->process(p, 2).value().kind, ServerStep::Kind::kFailure) << variant;
    }
}

TEST(EapMschapv2Failure, PeerRefusesMalformedRequests) {
    Sides probe("pw", "pw");
    const Packet good = probe.server->initiate(1, "carol").value();
    std::vector<Bytes> bad;
    for (std::size_t n = 0; n <= 4 + 17; ++n) {  // up to a Challenge without a Name
        bad.emplace_back(good.type_data.begin(),
                         good.type_data.begin() + static_cast<std::ptrdiff_t>(n));
    }
    Bytes small = m::encode(m::OpCode::kChallenge, 1, m::encode_challenge_data(Bytes(8, 1), "x"));
    bad.push_back(small);
    bad.push_back(m::encode(m::OpCode::kSuccess, 1, as_bytes("S=00")));  // before a Challenge
    bad.push_back(m::encode(m::OpCode::kFailure, 1, as_bytes("E=691")));
    bad.push_back(Bytes{2, 1, 0, 4});
    for (const Bytes& td : bad) {
        Sides s("pw", "pw");
        auto r = s.peer->process(Packet{Code::kRequest, 1, Type::kMschapv2, td});
        ASSERT_TRUE(r) << to_hex(td);
        EXPECT_EQ(r->kind, PeerStep::Kind::kFailure) << to_hex(td);
        EXPECT_FALSE(s.peer->may_succeed());
    }
    // No secret: fail rather than answer.
    PeerContext pc;
    pc.identity = "carol";
    auto peer = make_peer(Type::kMschapv2, std::move(pc)).value();
    EXPECT_EQ(peer->process(good).value().kind, PeerStep::Kind::kFailure);
}

TEST(EapMschapv2Failure, PeerFailsOnAServerFailureWithoutRetrying) {
    // A Failure request right after our Response: acknowledged, never retried.
    Sides s("right", "wrong");
    const ServerStep f1 = s.server->process(s.response(), 2).value();
    ASSERT_EQ(s.peer->process(f1.request).value().kind, PeerStep::Kind::kResponse);
    // A second Challenge or Success afterwards is refused.
    const Packet again{Code::kRequest, 5, Type::kMschapv2,
                       m::encode(m::OpCode::kSuccess, 2, as_bytes("S=00"))};
    EXPECT_EQ(s.peer->process(again).value().kind, PeerStep::Kind::kFailure);
}

// Arbitrary Type-Data after a real Challenge (server) or as any request (peer): an answer or a
// clean failure, never a crash, a hang or an error Result.
RC_GTEST_PROP(EapMschapv2Property, ArbitraryPacketsNeverCrashEitherSide, ()) {
    const auto op = *rc::gen::element<std::uint8_t>(1, 2, 3, 4, 7, 0, 255);
    const auto tail = *rc::gen::container<Bytes>(*rc::gen::inRange<std::size_t>(0, 80),
                                                 rc::gen::arbitrary<std::uint8_t>());
    Bytes td{op};
    td.insert(td.end(), tail.begin(), tail.end());

    Sides s("pw", "pw");
    (void)s.server->initiate(1, "carol").value();
    auto st = s.server->process(Packet{Code::kResponse, 1, Type::kMschapv2, td}, 2);
    RC_ASSERT(st.has_value());
    RC_ASSERT(st->kind == ServerStep::Kind::kFailure || st->kind == ServerStep::Kind::kRequest);

    auto r = s.peer->process(Packet{Code::kRequest, 1, Type::kMschapv2, td});
    RC_ASSERT(r.has_value());
    RC_ASSERT(!s.peer->may_succeed());
}

}  // namespace
}  // namespace ikeplex::eap
