// EAP-TLS over TLS 1.3 (RFC 9190): ikeplex's server and peer with each other, and each against
// a plain OpenSSL end written here. The MSK is checked against OpenSSL's exporter called with
// RFC 9190 §2.3's label, context and length as this file spells them; the commitment message
// (§2.5) is read by the plain client and sent, omitted or altered by the plain server.
#include <string>

#include <openssl/ssl.h>

#include <gtest/gtest.h>

#include "eap/tls_session.h"
#include "plain_tls.h"
#include "tls_fixture.h"

namespace ikeplex::eap {
namespace {

using namespace tls_test;  // NOLINT(google-build-using-namespace)

constexpr TlsVersions kBoth{kTls12, kTls13};
constexpr TlsVersions kOnly13{kTls13, kTls13};
/// Fragments large enough that every message goes in one EAP packet (rounds are counted).
constexpr TlsOptions kWhole{
        .fragment_size = 8192, .max_message_bytes = 64 * 1024, .max_packets = 32};

ServerContext server_ctx(TlsVersions v) {
    ServerContext c = pki().server_ctx();
    c.tls_versions = v;
    return c;
}

PeerContext peer_ctx(TlsVersions v) {
    PeerContext c = pki().peer_ctx();
    c.tls_versions = v;
    return c;
}

/// RFC 9190 §2.3: Key_Material = TLS-Exporter("EXPORTER_EAP_TLS_Key_Material", 0x0D, 128),
/// MSK = Key_Material(0, 63), from the plain end's side.
Bytes rfc9190_msk(SSL* ssl) {
    const std::string label = "EXPORTER_EAP_TLS_Key_Material";
    const std::uint8_t type_code = 0x0D;
    Bytes material(128);
    EXPECT_EQ(SSL_export_keying_material(ssl, material.data(), material.size(), label.data(),
                                         label.size(), &type_code, 1, 1),
              1);
    material.resize(64);
    return material;
}

/// A TLS 1.3 server requiring a client certificate (any), sending `tickets` NewSessionTickets.
class PlainServer : public PlainEnd {
public:
    explicit PlainServer(std::size_t tickets = 0) : PlainEnd(make(tickets).get(), true) {}

private:
    static SslCtxPtr make(std::size_t tickets) {
        SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
        SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION);
        SSL_CTX_set_max_proto_version(ctx.get(), TLS1_3_VERSION);
        SSL_CTX_set_num_tickets(ctx.get(), tickets);
        SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                           [](int, X509_STORE_CTX*) { return 1; });
        EXPECT_EQ(SSL_CTX_use_certificate(ctx.get(), pki().server.raw()), 1);
        EXPECT_EQ(SSL_CTX_use_PrivateKey(ctx.get(), pki().server_key.raw()), 1);
        return ctx;
    }
};

/// The TLS data of a request or response (unfragmented at the default fragment size here).
Bytes data_of(const Packet& p) {
    auto f = tls::parse(p.type_data);
    EXPECT_TRUE(f);
    EXPECT_EQ(f->flags & tls::kFlagMore, 0);
    return Bytes(f->data.begin(), f->data.end());
}

TEST(EapTls13, BothHalvesAgreeOnTheMsk) {
    auto s = server(server_ctx(kBoth), kWhole);
    auto p = peer(peer_ctx(kBoth), kWhole);
    const Outcome out = converse(*s, *p);
    ASSERT_TRUE(out.success) << out.server_failure.value_or("") << out.peer_failure.value_or("");
    EXPECT_TRUE(p->may_succeed());
    ASSERT_EQ(s->msk().size(), 64U);
    EXPECT_TRUE(s->msk().equals(p->msk().view()));
    EXPECT_EQ(s->authenticated_identity(), pki().client.subject());
    // Start, the server's flight, the commitment message (RFC 9190 Figure 1).
    EXPECT_EQ(out.requests, 3);
}

TEST(EapTls13, ServerSendsTheCommitmentAndRfc9190sMsk) {
    auto s = server(server_ctx(kOnly13), kWhole);
    PlainClient c(TLS1_3_VERSION);
    ASSERT_TRUE(s->initiate(1, "alice@ikeplex.test"));
    auto st = s->process(response(1, c.step({})), 2);  // ClientHello -> the server's flight
    ASSERT_TRUE(st);
    ASSERT_EQ(st->kind, ServerStep::Kind::kRequest) << st->reason;
    const Bytes finished = c.step(data_of(st->request));  // Certificate .. Finished
    ASSERT_TRUE(c.done());
    EXPECT_STREQ(SSL_get_version(c.ssl()), "TLSv1.3");
    st = s->process(response(2, finished), 3);
    ASSERT_TRUE(st);
    ASSERT_EQ(st->kind, ServerStep::Kind::kRequest) << st->reason;
    EXPECT_EQ(c.read(data_of(st->request)), Bytes{0x00});  // the commitment message, alone
    EXPECT_EQ(SSL_SESSION_is_resumable(SSL_get_session(c.ssl())), 0);  // no NewSessionTicket
    st = s->process(response(3, tls::ack_type_data()), 4);
    ASSERT_TRUE(st);
    ASSERT_EQ(st->kind, ServerStep::Kind::kSuccess) << st->reason;
    ASSERT_EQ(s->msk().size(), 64U);
    EXPECT_TRUE(s->msk().equals(rfc9190_msk(c.ssl())));
}

/// Our peer against the plain server up to our Finished; what the server then sends is the
/// test's: `after` gets the plain server and returns the next request's Type-Data.
struct PeerRun {
    std::unique_ptr<PeerMethod> p = peer(peer_ctx(kOnly13), kWhole);
    PlainServer srv;
    Bytes tickets;  ///< what the server sent on our Finished (NewSessionTickets, if any)

    explicit PeerRun(std::size_t n_tickets = 0) : srv(n_tickets) {
        auto st = p->process(request(1, tls::start_type_data()));  // -> ClientHello
        EXPECT_TRUE(st && st->kind == PeerStep::Kind::kResponse);
        st = p->process(request(2, srv.step(data_of(st->response))));  // -> our Finished
        EXPECT_TRUE(st && st->kind == PeerStep::Kind::kResponse) << (st ? st->reason : "");
        tickets = data_of(request(0, srv.step(data_of(st->response))));
        EXPECT_TRUE(srv.done());
    }
};

TEST(EapTls13, PeerNeedsTheCommitmentBeforeSuccess) {
    PeerRun run;
    EXPECT_FALSE(run.p->may_succeed());  // the MSK exists, the commitment does not yet
    auto st = run.p->process(request(3, run.srv.write(Bytes{0x00})));
    ASSERT_TRUE(st);
    ASSERT_EQ(st->kind, PeerStep::Kind::kResponse) << st->reason;
    EXPECT_EQ(st->response.type_data, tls::ack_type_data());
    EXPECT_TRUE(run.p->may_succeed());
    EXPECT_TRUE(run.p->msk().equals(rfc9190_msk(run.srv.ssl())));
    // Nothing may follow the commitment but EAP-Success.
    st = run.p->process(request(4, run.srv.write(Bytes{0x00})));
    ASSERT_TRUE(st);
    EXPECT_EQ(st->kind, PeerStep::Kind::kFailure);
}

TEST(EapTls13, PeerTakesTheCommitmentBesideSessionTickets) {
    {  // NewSessionTickets and the commitment in one request
        PeerRun run(2);
        ASSERT_FALSE(run.tickets.empty());
        Bytes both = run.tickets;
        const Bytes commitment = data_of(request(0, run.srv.write(Bytes{0x00})));
        both.insert(both.end(), commitment.begin(), commitment.end());
        auto st = run.p->process(request(3, whole(both)));
        ASSERT_TRUE(st);
        ASSERT_EQ(st->kind, PeerStep::Kind::kResponse) << st->reason;
        EXPECT_TRUE(run.p->may_succeed());
    }
    {  // the tickets first (acknowledged, no success yet), then the commitment
        PeerRun run(1);
        auto st = run.p->process(request(3, whole(run.tickets)));
        ASSERT_TRUE(st);
        ASSERT_EQ(st->kind, PeerStep::Kind::kResponse) << st->reason;
        EXPECT_EQ(st->response.type_data, tls::ack_type_data());
        EXPECT_FALSE(run.p->may_succeed());
        st = run.p->process(request(4, run.srv.write(Bytes{0x00})));
        ASSERT_TRUE(st);
        ASSERT_EQ(st->kind, PeerStep::Kind::kResponse) << st->reason;
        EXPECT_TRUE(run.p->may_succeed());
    }
}

TEST(EapTls13, PeerRefusesAServerThatOmitsTheCommitment) {
    // EAP-Success straight after our Finished: the conversation (ike layer) asks
    // may_succeed() and refuses the success.
    PeerRun run;
    EXPECT_FALSE(run.p->may_succeed());
    // An empty request instead of the commitment fails the method.
    auto st = run.p->process(request(3, tls::ack_type_data()));
    ASSERT_TRUE(st);
    EXPECT_EQ(st->kind, PeerStep::Kind::kFailure);
    EXPECT_FALSE(run.p->may_succeed());
}

TEST(EapTls13, PeerRefusesOtherApplicationData) {
    for (const Bytes& data : {Bytes{0x01}, Bytes{0x00, 0x00}}) {
        PeerRun run;
        auto st = run.p->process(request(3, run.srv.write(data)));
        ASSERT_TRUE(st);
        EXPECT_EQ(st->kind, PeerStep::Kind::kFailure);
        EXPECT_NE(st->reason.find("commitment"), std::string::npos) << st->reason;
        EXPECT_FALSE(run.p->may_succeed());
    }
}

TEST(EapTls13, PeerReportsAnAlertInsteadOfTheCommitment) {
    PeerRun run;
    SSL_shutdown(run.srv.ssl());  // close_notify, an alert record
    auto st = run.p->process(request(3, run.srv.write({})));
    ASSERT_TRUE(st);
    EXPECT_EQ(st->kind, PeerStep::Kind::kFailure);
    EXPECT_NE(st->reason.find("close"), std::string::npos) << st->reason;
}

TEST(EapTls13, VersionRanges) {
    {  // TLS 1.2 and 1.3 on both sides: 1.3 (above). A peer of strongSwan 5.9.8's default
       // (1.2 only) still gets TLS 1.2 from a server that allows 1.3.
        auto s = server(server_ctx(kBoth), kWhole);
        auto p = peer(pki().peer_ctx(), kWhole);
        const Outcome out = converse(*s, *p);
        ASSERT_TRUE(out.success);
        EXPECT_EQ(out.requests, 3);  // Start, the flight, ChangeCipherSpec + Finished
        EXPECT_TRUE(s->msk().equals(p->msk().view()));
    }
    {  // A 1.3-only peer against the default server (1.2 only), and the other way round.
        auto s = server(pki().server_ctx());
        auto p = peer(peer_ctx(kOnly13));
        EXPECT_FALSE(converse(*s, *p).success);
        auto s13 = server(server_ctx(kOnly13));
        auto p12 = peer(pki().peer_ctx());
        EXPECT_FALSE(converse(*s13, *p12).success);
    }
}

TEST(EapTls13, SessionIdIsTheTypeCodeAndTheMethodId) {
    const tls::Credentials sc{&pki().server, &pki().server_key, &pki().trusted, kPinnedNow,
                              kOnly13};
    const tls::Credentials pc{&pki().client, &pki().client_key, &pki().trusted, kPinnedNow,
                              kOnly13};
    auto s = tls::Session::create(tls::Session::Role::kServer, sc, {});
    auto c = tls::Session::create(tls::Session::Role::kClient, pc, {});
    ASSERT_TRUE(s && c);
    EXPECT_FALSE((*c)->session_id());  // not before the handshake
    const Bytes hello = (*c)->advance({}).value();
    const Bytes flight = (*s)->advance(hello).value();
    const Bytes finished = (*c)->advance(flight).value();
    ASSERT_TRUE((*s)->advance(finished));
    ASSERT_TRUE((*s)->done() && (*c)->done() && (*s)->tls13());
    const Bytes id = (*s)->session_id().value();
    ASSERT_EQ(id.size(), 65U);
    EXPECT_EQ(id[0], 0x0D);
    EXPECT_EQ((*c)->session_id().value(), id);
}

}  // namespace
}  // namespace ikeplex::eap
