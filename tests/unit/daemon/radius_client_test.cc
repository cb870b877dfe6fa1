// The daemon's RADIUS client (daemon/radius_client.h) against fake servers on loopback sockets
// in this process: EAP rounds with State echoed and the MSK from MS-MPPE keys, replies that
// fail a check dropped, retransmissions and failover counted, 256 identifiers per socket,
// accounting; and the ikeplexd.conf section (config/radius_settings.h). The live test against
// FreeRADIUS is tests/integration/test_radius.py.
#include "daemon/radius_client.h"

#include <chrono>
#include <functional>
#include <set>

#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>
#include <gtest/gtest.h>

#include "config/daemon_settings.h"
#include "config/settings.h"
#include "radius/security.h"

namespace ikeplex::daemon {
namespace {

using asio::ip::udp;
using radius::Code;
namespace attr = radius::attr;

const char* const kSecret = "fake-server-secret";

/// Answers each request with what `answer` returns (zero or more datagrams).
class FakeServer {
public:
    using Answer = std::function<std::vector<Bytes>(const radius::Packet& req, ByteView raw)>;
    FakeServer(asio::io_context& io, Answer a)
        : sock_(io, udp::endpoint(asio::ip::address_v4::loopback(), 0)), answer_(std::move(a)) {
        receive();
    }
    std::uint16_t port() const { return sock_.local_endpoint().port(); }
    /// A datagram to the client that sent the last request.
    void send(const Bytes& b) { sock_.send_to(asio::buffer(b), from_); }
    std::vector<Bytes> requests;

private:
    void receive() {
        sock_.async_receive_from(
                asio::buffer(buf_), from_, [this](asio::error_code ec, std::size_t n) {
                    if (ec) {
                        return;
                    }
                    Bytes raw(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(n));
                    requests.push_back(raw);
                    auto req = radius::decode(raw);
                    if (req) {
                        for (const Bytes& b : answer_(*req, raw)) {
                            sock_.send_to(asio::buffer(b), from_);
                        }
                    }
                    receive();
                });
    }
    udp::socket sock_;
    Answer answer_;
    udp::endpoint from_;
    std::array<std::uint8_t, 4096> buf_{};
};

Bytes reply(const radius::Packet& req, Code code, std::vector<radius::Attribute> attrs,
            bool with_ma = true, const char* secret = kSecret) {
    radius::Packet p;
    p.code = code;
    p.identifier = req.identifier;
    p.attributes = std::move(attrs);
    return radius::seal_reply(p, req.authenticator, as_bytes(secret), with_ma).value();
}

config::RadiusServer server(const std::string& name, std::uint16_t port, int preference = 0) {
    config::RadiusServer s;
    s.name = name;
    s.address = IpAddress::parse("127.0.0.1").value();
    s.auth_port = port;
    s.acct_port = port;
    s.preference = preference;
    s.nas_identifier = "ikeplex";
    s.secret = std::make_shared<const SecretBytes>(SecretBytes::copy_of(as_bytes(kSecret)));
    return s;
}

config::RadiusSettings fast(std::vector<config::RadiusServer> servers) {
    config::RadiusSettings s;
    s.servers = std::move(servers);
    s.retransmit_timeout = std::chrono::milliseconds(40);
    s.retransmit_base = 1.4;
    s.retransmit_tries = 2;
    s.accounting = true;
    return s;
}

void run_until(asio::io_context& io, const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
        io.run_one_for(std::chrono::milliseconds(20));
    }
    ASSERT_TRUE(done()) << "timed out";
}

RadiusAuthRequest first_round() {
    RadiusAuthRequest r;
    r.eap = {2, 1, 0, 10, 1, 'a', 'l', 'i', 'c', 'e'};
    r.user = "alice";
    r.nas = Endpoint{IpAddress::parse("10.99.121.1").value(), 4500};
    r.peer = Endpoint{IpAddress::parse("10.99.121.9").value(), 4500};
    r.nas_port = 7;
    return r;
}

TEST(RadiusClient, ChallengeThenAcceptWithStateAndMsk) {
    asio::io_context io;
    Bytes recv_key(32, 0x11);
    Bytes send_key(32, 0x22);
    FakeServer srv(io, [&](const radius::Packet& req, ByteView raw) -> std::vector<Bytes> {
        EXPECT_TRUE(radius::verify_request_message_authenticator(raw, as_bytes(kSecret)));
        if (req.find(attr::kState) == nullptr) {
            return {reply(req, Code::kAccessChallenge,
                          {{attr::kState, to_bytes("round-1")},
                           {attr::kEapMessage, {1, 2, 0, 6, 4, 0}}})};
        }
        EXPECT_EQ(req.find(attr::kState)->value, to_bytes("round-1"));
        radius::Packet acc;
        acc.code = Code::kAccessAccept;
        acc.identifier = req.identifier;
        acc.attributes = {{attr::kEapMessage, {3, 2, 0, 4}}};
        acc.add_ipv4(attr::kFramedIpAddress, IpAddress::parse("10.99.121.77").value()).value();
        acc.add_u32(attr::kAcctInterimInterval, 600);
        radius::add_vendor(
                acc, radius::kVendorMicrosoft, radius::kMsMppeRecvKey,
                radius::encrypt_mppe_key(recv_key, 0x8001, req.authenticator, as_bytes(kSecret))
                        .value())
                .value();
        radius::add_vendor(
                acc, radius::kVendorMicrosoft, radius::kMsMppeSendKey,
                radius::encrypt_mppe_key(send_key, 0x8002, req.authenticator, as_bytes(kSecret))
                        .value())
                .value();
        return {radius::seal_reply(acc, req.authenticator, as_bytes(kSecret)).value()};
    });
    OsRandom random;
    auto client = RadiusClient::create(io, fast({server("one", srv.port())}), random);
    ASSERT_TRUE(client);
    std::optional<Result<RadiusAuthReply>> got;
    (*client)->authenticate(first_round(), [&](Result<RadiusAuthReply> r) { got = std::move(r); });
    EXPECT_EQ((*client)->pending(), 1U);  // what a reload waits for before freeing a client
    run_until(io, [&] { return got.has_value(); });
    ASSERT_TRUE(*got) << got->error().to_string();
    EXPECT_EQ((*client)->pending(), 0U);
    EXPECT_EQ((*got)->code, Code::kAccessChallenge);
    EXPECT_EQ((*got)->state, to_bytes("round-1"));
    EXPECT_EQ((*got)->eap, (Bytes{1, 2, 0, 6, 4, 0}));
    // what the request carried
    auto req = radius::decode(srv.requests.at(0)).value();
    EXPECT_EQ(req.find(attr::kUserName)->value, to_bytes("alice"));
    EXPECT_EQ(req.find(attr::kNasIdentifier)->value, to_bytes("ikeplex"));
    EXPECT_EQ(*radius::value_u32(*req.find(attr::kNasPortType)), 5U);
    EXPECT_EQ(*radius::value_u32(*req.find(attr::kServiceType)), 2U);
    EXPECT_EQ(req.find(attr::kCalledStationId)->value, to_bytes("10.99.121.1[4500]"));
    EXPECT_EQ(req.find(attr::kCallingStationId)->value, to_bytes("10.99.121.9[4500]"));
    EXPECT_EQ(radius::eap_message(req), first_round().eap);

    RadiusAuthRequest second = first_round();
    second.eap = {2, 2, 0, 6, 4, 0};
    second.state = (*got)->state;
    second.server = (*got)->server;
    got.reset();
    (*client)->authenticate(second, [&](Result<RadiusAuthReply> r) { got = std::move(r); });
    run_until(io, [&] { return got.has_value(); });
    ASSERT_TRUE(*got) << got->error().to_string();
    EXPECT_EQ((*got)->code, Code::kAccessAccept);
    EXPECT_EQ((*got)->framed_ip->to_string(), "10.99.121.77");
    EXPECT_EQ((*got)->interim_interval, 600U);
    EXPECT_EQ((*client)->pending(), 0U);
    ASSERT_EQ((*got)->msk.size(), 64U);
    EXPECT_TRUE((*got)->msk.slice(0, 32).equals(recv_key));  // Recv-Key first
    EXPECT_TRUE((*got)->msk.slice(32, 32).equals(send_key));
    EXPECT_EQ((*client)->counters().replies, 2U);
}

TEST(RadiusClient, DropsRepliesThatFailAChecks) {
    asio::io_context io;
    FakeServer srv(io, [&](const radius::Packet& req, ByteView) -> std::vector<Bytes> {
        Bytes wrong_secret = reply(req, Code::kAccessAccept, {}, true, "other-secret");
        Bytes no_ma = reply(req, Code::kAccessAccept, {}, false);
        Bytes truncated = reply(req, Code::kAccessAccept, {});
        truncated.resize(25);
        Bytes wrong_id = reply(req, Code::kAccessAccept, {});
        wrong_id[1] ^= 0x80U;
        Bytes acct_code = reply(req, Code::kAccountingResponse, {});
        return {wrong_secret, no_ma,
                truncated,    wrong_id,
                acct_code,    reply(req, Code::kAccessReject, {{attr::kEapMessage, {4, 1, 0, 4}}})};
    });
    OsRandom random;
    auto client = RadiusClient::create(io, fast({server("one", srv.port())}), random);
    std::optional<Result<RadiusAuthReply>> got;
    (*client)->authenticate(first_round(), [&](Result<RadiusAuthReply> r) { got = std::move(r); });
    run_until(io, [&] { return got.has_value(); });
    ASSERT_TRUE(*got);
    EXPECT_EQ((*got)->code, Code::kAccessReject);
    EXPECT_EQ((*client)->counters().dropped, 5U);
    EXPECT_EQ((*client)->counters().replies, 1U);
}

TEST(RadiusClient, RetransmitsThenFailsOverThenRemembers) {
    asio::io_context io;
    FakeServer silent(io, [](const radius::Packet&, ByteView) { return std::vector<Bytes>{}; });
    FakeServer good(io, [](const radius::Packet& req, ByteView) -> std::vector<Bytes> {
        return {reply(req,
                      req.code == Code::kAccountingRequest ? Code::kAccountingResponse
                                                           : Code::kAccessReject,
                      {})};
    });
    OsRandom random;
    // the silent one has the higher preference: tried first
    auto client = RadiusClient::create(
            io, fast({server("good", good.port(), 1), server("silent", silent.port(), 5)}), random);
    ASSERT_EQ((*client)->settings().servers.size(), 2U);
    std::optional<Result<RadiusAuthReply>> got;
    (*client)->authenticate(first_round(), [&](Result<RadiusAuthReply> r) { got = std::move(r); });
    run_until(io, [&] { return got.has_value(); });
    ASSERT_TRUE(*got) << got->error().to_string();
    EXPECT_EQ((*got)->server_name, "good");
    EXPECT_EQ(silent.requests.size(), 3U);  // the request and retransmit_tries = 2 retransmits
    EXPECT_EQ(silent.requests[0], silent.requests[2]);  // same identifier, same bytes
    EXPECT_EQ((*client)->counters().retransmits, 2U);
    EXPECT_EQ((*client)->counters().failovers, 1U);
    // the next request goes to the server that answered
    got.reset();
    (*client)->authenticate(first_round(), [&](Result<RadiusAuthReply> r) { got = std::move(r); });
    run_until(io, [&] { return got.has_value(); });
    EXPECT_EQ(silent.requests.size(), 3U);
    EXPECT_EQ(good.requests.size(), 2U);
    // accounting, on its own retransmissions
    std::optional<Status> acct;
    RadiusSession s;
    s.session_id = "sess-9";
    s.user = "alice";
    s.input_octets = (5ULL << 32U) + 7;
    (*client)->account(radius::AcctStatus::kStop, s, [&](Status st) { acct = st; });
    run_until(io, [&] { return acct.has_value(); });
    EXPECT_TRUE(*acct);
    const Bytes& raw = good.requests.back();
    EXPECT_TRUE(radius::verify_accounting_request(raw, as_bytes(kSecret)));
    auto p = radius::decode(raw).value();
    EXPECT_EQ(*radius::value_u32(*p.find(attr::kAcctStatusType)), 2U);
    EXPECT_EQ(*radius::value_u32(*p.find(attr::kAcctInputOctets)), 7U);
    EXPECT_EQ(*radius::value_u32(*p.find(attr::kAcctInputGigawords)), 5U);
    // Output under 2^32: no Output-Gigawords (as strongSwan's eap-radius).
    EXPECT_EQ(p.find(attr::kAcctOutputGigawords), nullptr);
}

TEST(RadiusClient, TimesOutWhenNoServerAnswersAndStateStaysOnItsServer) {
    asio::io_context io;
    FakeServer a(io, [](const radius::Packet&, ByteView) { return std::vector<Bytes>{}; });
    FakeServer b(io, [](const radius::Packet&, ByteView) { return std::vector<Bytes>{}; });
    OsRandom random;
    auto client =
            RadiusClient::create(io, fast({server("a", a.port()), server("b", b.port())}), random);
    std::optional<Result<RadiusAuthReply>> got;
    RadiusAuthRequest r = first_round();
    r.state = to_bytes("bound");
    r.server = 1;
    (*client)->authenticate(r, [&](Result<RadiusAuthReply> x) { got = std::move(x); });
    run_until(io, [&] { return got.has_value(); });
    EXPECT_FALSE(*got);
    EXPECT_EQ(a.requests.size(), 0U);
    EXPECT_EQ(b.requests.size(), 3U);
    EXPECT_EQ((*client)->counters().timeouts, 1U);
}

TEST(RadiusClient, AtMost256OutstandingPerSocket) {
    asio::io_context io;
    std::vector<radius::Packet> held;
    FakeServer srv(io, [&](const radius::Packet& req, ByteView) {
        held.push_back(req);
        return std::vector<Bytes>{};
    });
    OsRandom random;
    auto settings = fast({server("one", srv.port())});
    settings.retransmit_timeout = std::chrono::seconds(30);
    auto client = RadiusClient::create(io, settings, random);
    int done = 0;
    for (int i = 0; i < 300; ++i) {
        (*client)->authenticate(first_round(), [&](Result<RadiusAuthReply> x) {
            EXPECT_TRUE(x);
            ++done;
        });
    }
    run_until(io, [&] { return held.size() == 256; });
    EXPECT_EQ((*client)->counters().queued, 44U);
    // every identifier once
    std::set<std::uint8_t> ids;
    for (const radius::Packet& p : held) {
        ids.insert(p.identifier);
    }
    EXPECT_EQ(ids.size(), 256U);
    // answering frees identifiers for the 44 waiting ones
    for (const std::size_t batch : {256U, 44U}) {
        run_until(io, [&] { return held.size() == batch; });
        std::vector<radius::Packet> now;
        now.swap(held);
        for (const radius::Packet& req : now) {
            srv.send(reply(req, Code::kAccessReject, {}));
        }
        const int want = done + static_cast<int>(batch);
        run_until(io, [&] { return done == want; });
    }
    EXPECT_EQ(done, 300);
}

TEST(RadiusSettings, MapsTheEapRadiusSection) {
    config::Findings f;
    auto root = config::parse_settings(R"(ikeplexd {
    plugins {
        eap-radius {
            accounting = yes
            accounting_interval = 5m
            nas_identifier = gw1
            retransmit_timeout = 0.5
            retransmit_tries = 3
            servers {
                primary {
                    address = 10.99.121.2
                    secret = s3cret
                    auth_port = 11812
                    preference = 10
                }
                backup {
                    address = fd00::2
                    secret = other
                    acct_port = 11813
                    nas_identifier = gw1-backup
                }
            }
        }
    }
})",
                                       "ikeplexd.conf", f.errors);
    ASSERT_TRUE(root);
    const auto d = config::map_daemon_settings(*root, f);
    ASSERT_TRUE(f.ok()) << f.errors.at(0).to_string();
    const config::RadiusSettings& r = d.radius;
    EXPECT_TRUE(r.accounting);
    EXPECT_EQ(r.accounting_interval, std::chrono::minutes(5));
    EXPECT_EQ(r.retransmit_timeout, std::chrono::milliseconds(500));
    EXPECT_EQ(r.retransmit_tries, 3U);
    EXPECT_DOUBLE_EQ(r.retransmit_base, 1.4);
    ASSERT_EQ(r.servers.size(), 2U);
    EXPECT_EQ(r.servers[0].name, "primary");  // preference 10 before 0
    EXPECT_EQ(r.servers[0].auth_port, 11812);
    EXPECT_EQ(r.servers[0].acct_port, 1813);
    EXPECT_EQ(r.servers[0].nas_identifier, "gw1");
    EXPECT_TRUE(r.servers[0].secret->equals(as_bytes("s3cret")));
    EXPECT_EQ(r.servers[1].address.to_string(), "fd00::2");
    EXPECT_EQ(r.servers[1].nas_identifier, "gw1-backup");

    config::Findings bad;
    auto broken = config::parse_settings(R"(ikeplexd { plugins { eap-radius {
        server = 10.0.0.1
        retransmit_base = 0.5
        accounting_interval = soon
        servers { x { address = nope } y { secret = s } }
    } attr { } } })",
                                         "ikeplexd.conf", bad.errors);
    ASSERT_TRUE(broken);
    const auto d2 = config::map_daemon_settings(*broken, bad);
    EXPECT_TRUE(d2.radius.servers.empty());
    std::string all;
    for (const auto& e : bad.errors) {
        all += e.to_string() + "\n";
    }
    EXPECT_NE(all.find("eap-radius.server:"), std::string::npos) << all;
    EXPECT_NE(all.find("retransmit_base: expected a factor from 1 to 10"), std::string::npos)
            << all;
    EXPECT_NE(all.find("accounting_interval"), std::string::npos) << all;
    EXPECT_NE(all.find("servers.x.address: 'nope'"), std::string::npos) << all;
    EXPECT_NE(all.find("servers.x.secret: missing"), std::string::npos) << all;
    EXPECT_NE(all.find("servers.y.address: missing"), std::string::npos) << all;
    EXPECT_NE(all.find("plugins.attr: unknown plugin"), std::string::npos) << all;
}

}  // namespace
}  // namespace ikeplex::daemon
