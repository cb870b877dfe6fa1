// radius_probe: drives the daemon's RADIUS client (daemon/radius_client.h) against a real
// RADIUS server for tests/integration/test_radius.py. It reads the RADIUS section of an
// ikeplexd.conf (plugins { eap-radius { ... } }) and prints key=value lines.
//
//   radius_probe -c CONF [--nas ADDR] md5 USER PASSWORD
//       EAP-Identity, then EAP-MD5 (RFC 3748 §5.4: MD5(identifier | password | challenge))
//       through Access-Challenge rounds; prints result=accept|reject|error, rounds, eap_code,
//       framed_ip, msk (hex: a test tool with test keys), server, and the client's counters.
//   radius_probe -c CONF [--nas ADDR] mschapv2 USER PASSWORD
//       The same with EAP-MSCHAPv2 (a Nak to radiusd's MD5 first); also prints msk_rfc3079, the
//       MPPE keys RFC 3079 derives from the exchange, to compare with the MSK.
//   radius_probe selftest
//       RFC 2759 §9.2's NT-Response example.
//   radius_probe -c CONF [--nas ADDR] acct SESSION USER
//       Accounting Start, Interim-Update, then Stop (with octets, packets and a session time);
//       prints start=, interim= and stop= (ok or the error) and the counters.
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include <openssl/evp.h>
#include <openssl/provider.h>

#include <asio/io_context.hpp>

#include "config/daemon_settings.h"
#include "daemon/radius_client.h"
#include "eap/eap.h"
#include "radius/security.h"
#include "util/bytes.h"
#include "util/hex.h"
#include "util/random.h"

namespace {

using namespace ikeplex;

struct Args {
    std::string conf;
    std::string nas = "10.99.121.1";
    std::string command;
    std::string a;
    std::string b;
};

void print_counters(const daemon::RadiusClient& c) {
    const auto& k = c.counters();
    std::printf(
            "requests=%llu\nsent=%llu\nretransmits=%llu\nfailovers=%llu\nreplies=%llu\n"
            "dropped=%llu\ntimeouts=%llu\n",
            static_cast<unsigned long long>(k.requests), static_cast<unsigned long long>(k.sent),
            static_cast<unsigned long long>(k.retransmits),
            static_cast<unsigned long long>(k.failovers),
            static_cast<unsigned long long>(k.replies), static_cast<unsigned long long>(k.dropped),
            static_cast<unsigned long long>(k.timeouts));
}

template <class T>
std::optional<T> wait(asio::io_context& io, std::optional<T>& slot) {
    for (int i = 0; i < 600 && !slot; ++i) {  // at most 60 s
        io.run_one_for(std::chrono::milliseconds(100));
    }
    return std::move(slot);
}

/// The EAP-MD5 response to a request (RFC 3748 §5.4): Value-Size 16, MD5(id | secret | value).
Result<eap::Packet> md5_response(const eap::Packet& req, const std::string& password) {
    if (req.type_data.empty() || req.type_data[0] == 0 ||
        req.type_data[0] + 1U > req.type_data.size()) {
        return make_error(Errc::kBadLength, "EAP-MD5: bad Value-Size");
    }
    const ByteView challenge = ByteView(req.type_data).subspan(1, req.type_data[0]);
    const std::uint8_t id = req.identifier;
    const auto digest = IKEPLEX_TRY(radius::md5({ByteView(&id, 1), as_bytes(password), challenge}));
    eap::Packet resp{eap::Code::kResponse, req.identifier, eap::Type::kMd5, {16}};
    resp.type_data.insert(resp.type_data.end(), digest.begin(), digest.end());
    return resp;
}

// EAP-MSCHAPv2 peer (RFC 2759, draft-kamath-pppext-eap-mschapv2), for this probe only: MD4 and
// DES come from OpenSSL's legacy provider, loaded here.

Bytes digest(const char* name, std::initializer_list<ByteView> parts) {
    EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    Bytes out(EVP_MAX_MD_SIZE);
    unsigned int len = 0;
    EVP_DigestInit_ex2(ctx, md, nullptr);
    for (ByteView p : parts) {
        EVP_DigestUpdate(ctx, p.data(), p.size());
    }
    EVP_DigestFinal_ex(ctx, out.data(), &len);
    out.resize(len);
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md);
    return out;
}

/// DES-ECB of one block with a 7-byte key spread over 8 (RFC 2759 §8.6, parity ignored).
Bytes des_block(ByteView key7, ByteView block) {
    std::uint8_t k[8];
    k[0] = key7[0];
    for (std::size_t i = 1; i < 7; ++i) {
        k[i] = static_cast<std::uint8_t>((key7[i - 1] << (8U - i)) | (key7[i] >> i));
    }
    k[7] = static_cast<std::uint8_t>(key7[6] << 1U);
    EVP_CIPHER* des = EVP_CIPHER_fetch(nullptr, "DES-ECB", nullptr);
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    Bytes out(16);
    int len = 0;
    EVP_EncryptInit_ex2(ctx, des, k, nullptr, nullptr);
    EVP_CIPHER_CTX_set_padding(ctx, 0);
    EVP_EncryptUpdate(ctx, out.data(), &len, block.data(), static_cast<int>(block.size()));
    out.resize(8);
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(des);
    return out;
}

Bytes utf16le(const std::string& s) {
    Bytes out;
    for (char c : s) {
        out.push_back(static_cast<std::uint8_t>(c));
        out.push_back(0);
    }
    return out;
}

/// RFC 2759 §8.1-8.5: the NT-Response.
Bytes nt_response(ByteView auth_challenge, ByteView peer_challenge, const std::string& user,
                  const std::string& password) {
    Bytes challenge = digest("SHA1", {peer_challenge, auth_challenge, as_bytes(user)});
    challenge.resize(8);
    Bytes hash = digest("MD4", {utf16le(password)});
    hash.resize(21, 0);
    Bytes out;
    for (std::size_t i = 0; i < 3; ++i) {
        const Bytes b = des_block(ByteView(hash).subspan(i * 7, 7), challenge);
        out.insert(out.end(), b.begin(), b.end());
    }
    return out;
}

/// RFC 3079 §3.4 (its magic strings written from memory; integration_radius compares the
/// result with the keys radiusd derives, which confirms them):
/// the server's receive key | send key (what MS-MPPE-Recv-Key | -Send-Key should carry).
Bytes rfc3079_server_keys(const std::string& password, ByteView nt_resp) {
    const Bytes hash_hash = digest("MD4", {digest("MD4", {utf16le(password)})});
    const Bytes master =
            digest("SHA1", {hash_hash, nt_resp, as_bytes("This is the MPPE Master Key")});
    const ByteView mk = ByteView(master).first(16);
    const Bytes pad1(40, 0x00);
    const Bytes pad2(40, 0xf2);
    const char* client_send =
            "On the client side, this is the send key; on the server side, it is the receive key.";
    const char* client_recv =
            "On the client side, this is the receive key; on the server side, it is the send key.";
    Bytes recv = digest("SHA1", {mk, pad1, as_bytes(client_send), pad2});
    Bytes send = digest("SHA1", {mk, pad1, as_bytes(client_recv), pad2});
    Bytes out(recv.begin(), recv.begin() + 16);
    out.insert(out.end(), send.begin(), send.begin() + 16);
    return out;
}

/// RFC 2759 §9.2's example: user "User", password "clientPass".
bool mschapv2_selftest() {
    const Bytes auth = from_hex("5B5D7C7D7B3F2F3E3C2C602132262628").value();
    const Bytes peer = from_hex("21402324255E262A28295F2B3A337C7E").value();
    return to_hex(nt_response(auth, peer, "User", "clientPass")) ==
           "82309ecd8d708b5ea08faa3981cd83544233114a3d85d6df";
}

struct Mschapv2Peer {
    std::string user;
    std::string password;
    Bytes last_nt_response;

    /// A response to an EAP-MSCHAPv2 request (Challenge -> Response, Success -> Success).
    Result<eap::Packet> respond(const eap::Packet& req) {
        const Bytes& d = req.type_data;
        if (d.size() < 4) {
            return make_error(Errc::kTruncated, "EAP-MSCHAPv2: short request");
        }
        eap::Packet resp{eap::Code::kResponse, req.identifier, eap::Type::kMschapv2, {}};
        if (d[0] == 3) {  // Success: acknowledge with the Success opcode alone
            resp.type_data = {3};
            return resp;
        }
        if (d[0] != 1 || d.size() < 5 + 16 || d[4] != 16) {
            return make_error(Errc::kInvalidSyntax, "EAP-MSCHAPv2: not a Challenge");
        }
        const ByteView auth_challenge = ByteView(d).subspan(5, 16);
        Bytes peer_challenge(16);
        for (std::size_t i = 0; i < 16; ++i) {
            peer_challenge[i] = static_cast<std::uint8_t>(0xA0 + i);
        }
        last_nt_response = nt_response(auth_challenge, peer_challenge, user, password);
        const std::size_t ms_length = 4 + 1 + 49 + user.size();
        resp.type_data = {2, d[1], static_cast<std::uint8_t>(ms_length >> 8U),
                          static_cast<std::uint8_t>(ms_length & 0xFFU), 49};
        resp.type_data.insert(resp.type_data.end(), peer_challenge.begin(), peer_challenge.end());
        resp.type_data.insert(resp.type_data.end(), 8, 0);
        resp.type_data.insert(resp.type_data.end(), last_nt_response.begin(),
                              last_nt_response.end());
        resp.type_data.push_back(0);  // Flags
        resp.type_data.insert(resp.type_data.end(), user.begin(), user.end());
        return resp;
    }
};

int run_eap(asio::io_context& io, daemon::RadiusClient& client, const Args& args, bool mschapv2) {
    Mschapv2Peer peer{args.a, args.b, {}};
    daemon::RadiusAuthRequest r;
    r.user = args.a;
    r.nas = Endpoint{IpAddress::parse(args.nas).value(), 4500};
    r.peer = Endpoint{IpAddress::parse("10.99.121.9").value(), 4500};
    r.nas_port = 1;
    r.nas_port_id = "rw";
    const Bytes identity(args.a.begin(), args.a.end());
    r.eap = eap::encode(eap::Packet{eap::Code::kResponse, 0, eap::Type::kIdentity, identity});
    for (int round = 1; round <= 10; ++round) {
        std::optional<Result<daemon::RadiusAuthReply>> slot;
        client.authenticate(r, [&](Result<daemon::RadiusAuthReply> x) { slot = std::move(x); });
        auto got = wait(io, slot);
        if (!got || !*got) {
            std::printf("result=error\nerror=%s\nrounds=%d\n",
                        got ? got->error().to_string().c_str() : "no callback", round);
            return 0;
        }
        daemon::RadiusAuthReply& reply = **got;
        std::printf("server=%s\n", reply.server_name.c_str());
        if (reply.code == radius::Code::kAccessChallenge) {
            auto req = eap::decode(reply.eap);
            if (!req || req->code != eap::Code::kRequest) {
                std::printf("result=error\nerror=challenge without an EAP request\n");
                return 0;
            }
            // a Nak proposes the method we want when the server offers another
            eap::Packet resp{eap::Code::kResponse,
                             req->identifier,
                             eap::Type::kNak,
                             {static_cast<std::uint8_t>(mschapv2 ? 26 : 4)}};
            Result<eap::Packet> m = resp;
            if (req->type == eap::Type::kMd5 && !mschapv2) {
                m = md5_response(*req, args.b);
            } else if (req->type == eap::Type::kMschapv2 && mschapv2) {
                m = peer.respond(*req);
            }
            if (!m) {
                std::printf("result=error\nerror=%s\n", m.error().to_string().c_str());
                return 0;
            }
            resp = *m;
            r.eap = eap::encode(resp);
            r.state = reply.state;
            r.server = reply.server;
            continue;
        }
        const bool accept = reply.code == radius::Code::kAccessAccept;
        std::printf("result=%s\nrounds=%d\n", accept ? "accept" : "reject", round);
        if (auto e = eap::decode(reply.eap)) {
            std::printf("eap_code=%u\n", static_cast<unsigned>(e->code));
        }
        if (reply.framed_ip) {
            std::printf("framed_ip=%s\n", reply.framed_ip->to_string().c_str());
        }
        std::printf("msk=%s\n", to_hex(reply.msk.view()).c_str());
        if (mschapv2 && !peer.last_nt_response.empty()) {
            std::printf("msk_rfc3079=%s\n",
                        to_hex(rfc3079_server_keys(args.b, peer.last_nt_response)).c_str());
        }
        return 0;
    }
    std::printf("result=error\nerror=too many rounds\n");
    return 0;
}

int run_acct(asio::io_context& io, daemon::RadiusClient& client, const Args& args) {
    daemon::RadiusSession s;
    s.session_id = args.a;
    s.user = args.b;
    s.nas = Endpoint{IpAddress::parse(args.nas).value(), 4500};
    s.peer = Endpoint{IpAddress::parse("10.99.121.9").value(), 4500};
    s.framed_ip = IpAddress::parse("10.99.121.77").value();
    s.nas_port = 1;
    for (const auto status : {radius::AcctStatus::kStart, radius::AcctStatus::kInterimUpdate,
                              radius::AcctStatus::kStop}) {
        const char* name = status == radius::AcctStatus::kStart           ? "start"
                           : status == radius::AcctStatus::kInterimUpdate ? "interim"
                                                                          : "stop";
        if (status == radius::AcctStatus::kInterimUpdate) {
            s.input_octets = 1000;
            s.output_octets = 2000;
            s.input_packets = 10;
            s.output_packets = 20;
            s.session_time = 21;
        } else if (status == radius::AcctStatus::kStop) {
            s.input_octets = 123456;
            s.output_octets = (2ULL << 32U) + 654321;
            s.input_packets = 100;
            s.output_packets = 200;
            s.session_time = 42;
            s.terminate_cause = 1;  // User-Request
        }
        std::optional<Status> slot;
        client.account(status, s, [&](Status st) { slot = st; });
        auto got = wait(io, slot);
        std::printf("%s=%s\n", name,
                    got && *got ? "ok"
                    : got       ? got->error().to_string().c_str()
                                : "no callback");
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Args args;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i += 2) {
        if (i + 1 >= argc) {
            return 2;
        }
        if (std::strcmp(argv[i], "-c") == 0) {
            args.conf = argv[i + 1];
        } else if (std::strcmp(argv[i], "--nas") == 0) {
            args.nas = argv[i + 1];
        } else {
            return 2;
        }
    }
    // MD4 and DES for the MSCHAPv2 peer; an explicit load replaces the implicit default
    struct Providers {
        OSSL_PROVIDER* standard = OSSL_PROVIDER_load(nullptr, "default");
        OSSL_PROVIDER* legacy = OSSL_PROVIDER_load(nullptr, "legacy");
        Providers() = default;
        Providers(const Providers&) = delete;
        Providers& operator=(const Providers&) = delete;
        ~Providers() {
            OSSL_PROVIDER_unload(legacy);
            OSSL_PROVIDER_unload(standard);
        }
    } providers;
    if (argc - i == 1 && std::strcmp(argv[i], "selftest") == 0) {
        const bool good = mschapv2_selftest();
        std::printf("selftest=%s\n", good ? "ok" : "fail");
        return good ? 0 : 1;
    }
    if (argc - i != 3 || args.conf.empty()) {
        std::fprintf(stderr,
                     "usage: radius_probe -c CONF [--nas ADDR] md5|mschapv2 USER PASSWORD | acct "
                     "SESSION USER\n");
        return 2;
    }
    args.command = argv[i];
    args.a = argv[i + 1];
    args.b = argv[i + 2];
    config::Findings findings;
    auto settings = config::load_daemon_settings(args.conf, findings);
    if (!settings) {
        for (const auto& e : findings.errors) {
            std::fprintf(stderr, "%s\n", e.to_string().c_str());
        }
        return 1;
    }
    asio::io_context io;
    OsRandom random;
    auto client = daemon::RadiusClient::create(io, settings->radius, random);
    if (!client) {
        std::fprintf(stderr, "%s\n", client.error().to_string().c_str());
        return 1;
    }
    const int rc = args.command == "md5"        ? run_eap(io, **client, args, false)
                   : args.command == "mschapv2" ? run_eap(io, **client, args, true)
                   : args.command == "acct"     ? run_acct(io, **client, args)
                                                : 2;
    print_counters(**client);
    return rc;
}
