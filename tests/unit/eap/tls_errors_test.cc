// EAP-TLS refusals on broken input: truncated and garbled fragment streams, TLS alerts from the
// other side, flags out of order, and the limits (reassembled size, packet count). Each ends in
// kFailure with a reason; none crashes or hangs.
#include <random>

#include <gtest/gtest.h>

#include "tls_fixture.h"

namespace ikeplex::eap {
namespace {

using namespace tls_test;  // NOLINT(google-build-using-namespace)

constexpr TlsOptions kSmall{.fragment_size = 64, .max_message_bytes = 64 * 1024, .max_packets = 0};

/// A server after its Start (identifier 1) and the step for one response (identifier 1).
ServerStep answer(ServerMethod& s, const Bytes& type_data) {
    auto step = s.process(response(1, type_data), 2);
    EXPECT_TRUE(step);
    return step ? *step : ServerStep{};
}

std::unique_ptr<ServerMethod> started_server(TlsOptions o = {}) {
    auto s = server(pki().server_ctx(), o);
    EXPECT_TRUE(s->initiate(1, "alice@ikeplex.test"));
    return s;
}

/// A peer's first response: its ClientHello (or the first fragment of it).
Packet client_hello(PeerMethod& p) {
    auto step = p.process(request(1, tls::start_type_data()));
    EXPECT_TRUE(step && step->kind == PeerStep::Kind::kResponse);
    return step ? step->response : Packet{};
}

bool mentions(const std::string& reason, std::string_view what) {
    return reason.find(what) != std::string::npos;
}

TEST(EapTlsErrors, ServerRefusesBrokenHeaders) {
    for (const Bytes& td : {Bytes{}, Bytes{0x80, 0, 0}, Bytes{0xc0, 0, 0, 0, 10}}) {
        auto s = started_server();
        const ServerStep st = answer(*s, td);
        EXPECT_EQ(st.kind, ServerStep::Kind::kFailure);
        EXPECT_FALSE(st.reason.empty());
    }
}

TEST(EapTlsErrors, ServerRefusesFlagsOutOfOrder) {
    {  // S from the peer
        auto s = started_server();
        const ServerStep st = answer(*s, tls::start_type_data());
        EXPECT_EQ(st.kind, ServerStep::Kind::kFailure);
        EXPECT_TRUE(mentions(st.reason, "Start")) << st.reason;
    }
    {  // an acknowledgement before anything was said
        auto s = started_server();
        const ServerStep st = answer(*s, tls::ack_type_data());
        EXPECT_EQ(st.kind, ServerStep::Kind::kFailure);
        EXPECT_TRUE(mentions(st.reason, "before the conversation")) << st.reason;
    }
    {  // data while our fragments are unacknowledged
        auto s = started_server(kSmall);
        auto p = peer(pki().peer_ctx());
        const ServerStep first = answer(*s, client_hello(*p).type_data);
        ASSERT_EQ(first.kind, ServerStep::Kind::kRequest);
        ASSERT_NE(first.request.type_data[0] & tls::kFlagMore, 0);
        const ServerStep st = answer(*s, whole(Bytes{0x16, 3, 3, 0, 1, 0}));
        EXPECT_EQ(st.kind, ServerStep::Kind::kFailure);
        EXPECT_TRUE(mentions(st.reason, "unacknowledged")) << st.reason;
    }
    {  // a response after the end
        auto s = server(pki().server_ctx());
        auto p = peer(pki().peer_ctx());
        ASSERT_TRUE(converse(*s, *p).success);
        auto st = s->process(response(9, tls::ack_type_data()), 10);
        ASSERT_TRUE(st);
        EXPECT_EQ(st->kind, ServerStep::Kind::kFailure);
    }
}

TEST(EapTlsErrors, ServerRefusesGarbageAndAlerts) {
    {
        auto s = started_server();
        const ServerStep st = answer(*s, whole(Bytes{0x16, 3, 3, 0, 5, 1, 2, 3, 4, 5}));
        EXPECT_EQ(st.kind, ServerStep::Kind::kFailure);
        EXPECT_TRUE(mentions(st.reason, "TLS handshake failed")) << st.reason;
    }
    {  // the client's answer to our first flight is an alert (it refused our certificate)
        auto s = started_server();
        auto p = peer(pki().peer_ctx());
        ASSERT_EQ(answer(*s, client_hello(*p).type_data).kind, ServerStep::Kind::kRequest);
        const ServerStep st = answer(*s, whole(kAlert));
        EXPECT_EQ(st.kind, ServerStep::Kind::kFailure);
        EXPECT_TRUE(mentions(st.reason, "alert")) << st.reason;
        EXPECT_TRUE(mentions(st.reason, "handshake failure")) << st.reason;
    }
}

TEST(EapTlsErrors, ServerRefusesATruncatedFragmentStream) {
    auto s = started_server();
    const Bytes ten(10, 0x16);
    Bytes first{tls::kFlagLength | tls::kFlagMore, 0, 0, 0, 100};
    first.insert(first.end(), ten.begin(), ten.end());
    const ServerStep ack = answer(*s, first);
    ASSERT_EQ(ack.kind, ServerStep::Kind::kRequest);
    EXPECT_EQ(ack.request.type_data, tls::ack_type_data());  // RFC 5216 §3.2
    Bytes last{0};
    last.insert(last.end(), ten.begin(), ten.end());
    const ServerStep st = answer(*s, last);
    EXPECT_EQ(st.kind, ServerStep::Kind::kFailure);
    EXPECT_TRUE(mentions(st.reason, "short of the TLS Message Length")) << st.reason;
}

TEST(EapTlsErrors, ServerEnforcesTheReassemblyCap) {
    {  // a ClientHello (about 200 bytes) over a 64-byte cap, announced in L
        auto s =
                started_server({.fragment_size = 1024, .max_message_bytes = 64, .max_packets = 32});
        auto p = peer(pki().peer_ctx());
        const ServerStep st = answer(*s, client_hello(*p).type_data);
        EXPECT_EQ(st.kind, ServerStep::Kind::kFailure);
        EXPECT_TRUE(mentions(st.reason, "over the limit")) << st.reason;
    }
    {  // fragments that announce nothing beyond the first but keep coming
        auto s = started_server(
                {.fragment_size = 1024, .max_message_bytes = 1000, .max_packets = 0});
        Bytes first{tls::kFlagLength | tls::kFlagMore, 0, 0, 0x03, 0xe8};
        first.resize(first.size() + 600, 0x16);
        ASSERT_EQ(answer(*s, first).kind, ServerStep::Kind::kRequest);
        Bytes more{tls::kFlagMore};
        more.resize(more.size() + 600, 0x16);
        const ServerStep st = answer(*s, more);
        EXPECT_EQ(st.kind, ServerStep::Kind::kFailure);
        EXPECT_TRUE(mentions(st.reason, "exceed")) << st.reason;
    }
}

TEST(EapTlsErrors, PacketCountLimit) {
    auto s = server(pki().server_ctx(), {.fragment_size = 64, .max_packets = 5});
    auto p = peer(pki().peer_ctx(), kSmall);
    const Outcome r = converse(*s, *p);
    ASSERT_TRUE(r.server_failure);
    EXPECT_TRUE(mentions(*r.server_failure, "too many packets")) << *r.server_failure;
}

TEST(EapTlsErrors, PeerRefusesFlagsOutOfOrder) {
    {  // the first request must be a Start
        auto p = peer(pki().peer_ctx());
        auto st = p->process(request(1, whole(Bytes{0x16, 3, 3, 0, 0})));
        ASSERT_TRUE(st);
        EXPECT_EQ(st->kind, PeerStep::Kind::kFailure);
        EXPECT_TRUE(mentions(st->reason, "without the Start flag")) << st->reason;
    }
    {  // a second Start
        auto p = peer(pki().peer_ctx());
        (void)client_hello(*p);
        EXPECT_FALSE(p->may_succeed());
        auto st = p->process(request(2, tls::start_type_data()));
        ASSERT_TRUE(st);
        EXPECT_EQ(st->kind, PeerStep::Kind::kFailure);
    }
    {  // an acknowledgement when nothing of ours is pending
        auto p = peer(pki().peer_ctx());
        (void)client_hello(*p);
        auto st = p->process(request(2, tls::ack_type_data()));
        ASSERT_TRUE(st);
        EXPECT_EQ(st->kind, PeerStep::Kind::kFailure);
        EXPECT_TRUE(mentions(st->reason, "unexpected acknowledgement")) << st->reason;
    }
    {  // data while our fragments are unacknowledged
        auto p = peer(pki().peer_ctx(), kSmall);
        ASSERT_NE(client_hello(*p).type_data[0] & tls::kFlagMore, 0);
        auto st = p->process(request(2, whole(kAlert)));
        ASSERT_TRUE(st);
        EXPECT_EQ(st->kind, PeerStep::Kind::kFailure);
        EXPECT_TRUE(mentions(st->reason, "unacknowledged")) << st->reason;
    }
}

TEST(EapTlsErrors, PeerReportsAnAlertFromTheServer) {
    auto p = peer(pki().peer_ctx());
    (void)client_hello(*p);
    auto st = p->process(request(2, whole(kAlert)));
    ASSERT_TRUE(st);
    EXPECT_EQ(st->kind, PeerStep::Kind::kFailure);
    EXPECT_TRUE(mentions(st->reason, "alert")) << st->reason;
    EXPECT_FALSE(p->may_succeed());
}

TEST(EapTlsErrors, PeerRefusesADroppedFragment) {
    auto s = server(pki().server_ctx(), kSmall);
    auto p = peer(pki().peer_ctx(), kSmall);
    // Drop the server's second fragment of its first flight (a fragment with data after one
    // with L and M).
    int seen = 0;
    const Outcome r = converse(*s, *p, "alice@ikeplex.test", [&](int, Packet& req) {
        const bool data = req.type_data.size() > 1;
        return !(data && ++seen == 2);
    });
    ASSERT_TRUE(r.peer_failure);
    EXPECT_TRUE(mentions(*r.peer_failure, "short of the TLS Message Length")) << *r.peer_failure;
}

TEST(EapTlsErrors, GarbledFragmentsFailTheHandshake) {
    for (int victim = 1; victim <= 8; ++victim) {
        auto s = server(pki().server_ctx(), kSmall);
        auto p = peer(pki().peer_ctx(), kSmall);
        int seen = 0;
        const Outcome r = converse(*s, *p, "alice@ikeplex.test", [&](int, Packet& req) {
            if (req.type_data.size() > 20 && ++seen == victim) {
                req.type_data[req.type_data.size() / 2] ^= 0x5a;
            }
            return true;
        });
        EXPECT_FALSE(r.success) << victim;
        EXPECT_TRUE(r.peer_failure || r.server_failure) << victim;
    }
}

TEST(EapTlsErrors, PeerEnforcesTheReassemblyCap) {
    auto s = server(pki().server_ctx());
    auto p = peer(pki().peer_ctx(), {.fragment_size = 1024, .max_message_bytes = 200});
    const Outcome r = converse(*s, *p);
    ASSERT_TRUE(r.peer_failure);
    EXPECT_TRUE(mentions(*r.peer_failure, "over the limit")) << *r.peer_failure;
}

TEST(EapTlsErrors, BadOptionsAndCredentials) {
    EXPECT_FALSE(make_tls_server(pki().server_ctx(), {.fragment_size = 10}));
    EXPECT_FALSE(make_tls_peer(pki().peer_ctx(), {.fragment_size = 70000}));
    ServerContext no_cert = pki().server_ctx();
    no_cert.own_cert = nullptr;
    no_cert.own_key = nullptr;
    EXPECT_FALSE(make_tls_server(no_cert));
    ServerContext no_ca = pki().server_ctx();
    no_ca.trusted = nullptr;
    EXPECT_FALSE(make_tls_server(no_ca));
    ServerContext wrong_key = pki().server_ctx();
    wrong_key.own_key = &pki().client_key;
    EXPECT_FALSE(make_tls_server(wrong_key));
}

}  // namespace
}  // namespace ikeplex::eap

namespace ikeplex::eap {
namespace {

using namespace tls_test;  // NOLINT(google-build-using-namespace)

/// Random Type-Data: L and M at random, S rarely, a length that may or may not fit, and data.
Bytes random_type_data(std::mt19937& rng) {
    std::uniform_int_distribution<int> byte(0, 255);
    const int flags = (byte(rng) & 0xc0) | (byte(rng) % 16 == 0 ? tls::kFlagStart : 0);
    Bytes td{static_cast<std::uint8_t>(flags)};
    const int n = byte(rng) % 48;
    for (int i = 0; i < n; ++i) {
        td.push_back(static_cast<std::uint8_t>(i < 4 && (td[0] & tls::kFlagLength) != 0
                                                       ? (i < 2 ? 0 : byte(rng) % 64)
                                                       : byte(rng)));
    }
    return td;
}

TEST(EapTlsErrors, RandomInputEndsInFailureNeverACrash) {
    std::mt19937 rng(20261206);
    for (int run = 0; run < 40; ++run) {
        auto s = server(pki().server_ctx());
        ASSERT_TRUE(s->initiate(1, "alice@ikeplex.test"));
        bool failed = false;
        for (std::uint8_t id = 1; id < 60 && !failed; ++id) {
            auto st = s->process(response(id, random_type_data(rng)),
                                 static_cast<std::uint8_t>(id + 1));
            ASSERT_TRUE(st);
            EXPECT_NE(st->kind, ServerStep::Kind::kSuccess);
            failed = st->kind == ServerStep::Kind::kFailure;
        }
        EXPECT_TRUE(failed) << run;  // at most 32 packets are accepted

        auto p = peer(pki().peer_ctx());
        (void)p->process(request(1, tls::start_type_data()));
        for (std::uint8_t id = 2; id < 60; ++id) {
            auto st = p->process(request(id, random_type_data(rng)));
            ASSERT_TRUE(st);
            if (st->kind == PeerStep::Kind::kFailure) {
                break;
            }
        }
        EXPECT_FALSE(p->may_succeed());
    }
}

}  // namespace
}  // namespace ikeplex::eap
