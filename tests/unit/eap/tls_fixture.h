// Test PKI and an in-memory EAP-TLS conversation driver for the tls tests.
#pragma once

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cert_factory.h"
#include "eap/eap.h"
#include "eap/tls.h"
#include "eap/tls_framing.h"

namespace ikeplex::eap {
namespace tls_test {

using crypto::Certificate;
using crypto::CertStore;
using crypto::KeyType;
using crypto::PrivateKey;
using test::issue;
using test::kPinnedNow;
using test::make_key;

inline CertStore store_of(const Certificate& ca) {
    CertStore s;
    EXPECT_TRUE(s.add_trusted(ca));
    return s;
}

struct Pki {
    PrivateKey ca_key = make_key(KeyType::kEcP256);
    Certificate ca = issue({.cn = "EAP Test CA", .ca = true}, ca_key, nullptr, ca_key);
    PrivateKey server_key = make_key(KeyType::kEcP256);
    Certificate server =
            issue({.cn = "gw.ikeplex.test", .dns = {"gw.ikeplex.test"}}, server_key, &ca, ca_key);
    PrivateKey client_key = make_key(KeyType::kEcP256);
    Certificate client =
            issue({.cn = "alice", .email = {"alice@ikeplex.test"}}, client_key, &ca, ca_key);
    CertStore trusted = store_of(ca);
    // A second CA nobody trusts, and what it signed.
    PrivateKey rogue_key = make_key(KeyType::kEcP256);
    Certificate rogue = issue({.cn = "Rogue CA", .ca = true}, rogue_key, nullptr, rogue_key);
    CertStore rogue_trusted = store_of(rogue);

    [[nodiscard]] ServerContext server_ctx() const {
        ServerContext c;
        c.own_cert = &server;
        c.own_key = &server_key;
        c.trusted = &trusted;
        c.unix_time = kPinnedNow;
        return c;
    }
    [[nodiscard]] PeerContext peer_ctx() const {
        PeerContext c;
        c.identity = "alice@ikeplex.test";
        c.own_cert = &client;
        c.own_key = &client_key;
        c.trusted = &trusted;
        c.unix_time = kPinnedNow;
        c.server_name = "gw.ikeplex.test";
        return c;
    }
};

inline const Pki& pki() {
    static const Pki p;
    return p;
}

inline std::unique_ptr<ServerMethod> server(ServerContext c, TlsOptions o = {}) {
    auto m = make_tls_server(std::move(c), o);
    EXPECT_TRUE(m) << m.error().to_string();
    return std::move(*m);
}

inline std::unique_ptr<PeerMethod> peer(PeerContext c, TlsOptions o = {}) {
    auto m = make_tls_peer(std::move(c), o);
    EXPECT_TRUE(m) << m.error().to_string();
    return std::move(*m);
}

struct Outcome {
    bool success{false};
    std::optional<std::string> server_failure;
    std::optional<std::string> peer_failure;
    int requests{0};
    std::size_t largest{0};  ///< the largest EAP packet either side sent
};

/// What a test does to a request on its way to the peer: false drops it (the test then
/// acknowledges it to the server in the peer's place).
using Tamper = std::function<bool(int index, Packet& request)>;

inline Outcome converse(ServerMethod& s, PeerMethod& p,
                        std::string_view identity = "alice@ikeplex.test",
                        const Tamper& tamper = {}) {
    Outcome r;
    std::uint8_t id = 77;
    auto first = s.initiate(id, identity);
    if (!first) {
        r.server_failure = "initiate";
        return r;
    }
    Packet req = *first;
    for (int i = 0; i < 1000; ++i) {
        ++r.requests;
        r.largest = std::max(r.largest, encode(req).size());
        if (tamper && !tamper(i, req)) {
            auto ss =
                    s.process(Packet{Code::kResponse, req.identifier, Type::kTls, Bytes{0}}, ++id);
            if (!ss || ss->kind != ServerStep::Kind::kRequest) {
                r.server_failure = ss ? ss->reason : "error";
                return r;
            }
            req = ss->request;
            continue;
        }
        auto ps = p.process(req);
        if (!ps || ps->kind == PeerStep::Kind::kFailure) {
            r.peer_failure = ps ? ps->reason : "error";
            return r;
        }
        EXPECT_EQ(ps->response.identifier, req.identifier);
        EXPECT_EQ(ps->response.code, Code::kResponse);
        r.largest = std::max(r.largest, encode(ps->response).size());
        auto ss = s.process(ps->response, ++id);
        if (!ss || ss->kind == ServerStep::Kind::kFailure) {
            r.server_failure = ss ? ss->reason : "error";
            return r;
        }
        if (ss->kind == ServerStep::Kind::kSuccess) {
            r.success = true;
            return r;
        }
        EXPECT_EQ(ss->request.identifier, id);
        req = ss->request;
    }
    r.server_failure = "no end";
    return r;
}

inline Packet response(std::uint8_t id, Bytes type_data) {
    return Packet{Code::kResponse, id, Type::kTls, std::move(type_data)};
}

inline Packet request(std::uint8_t id, Bytes type_data) {
    return Packet{Code::kRequest, id, Type::kTls, std::move(type_data)};
}

/// Type-Data of one unfragmented message.
inline Bytes whole(const Bytes& tls) {
    Bytes td{tls::kFlagLength, 0, 0, static_cast<std::uint8_t>(tls.size() >> 8),
             static_cast<std::uint8_t>(tls.size())};
    td.insert(td.end(), tls.begin(), tls.end());
    return td;
}

/// A fatal handshake_failure alert record (RFC 5246 §7.2).
inline const Bytes kAlert{0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28};

}  // namespace tls_test
}  // namespace ikeplex::eap
