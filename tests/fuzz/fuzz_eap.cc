// libFuzzer target: the EAP layer (src/eap) as a hostile peer or server drives it.
// Input: a selector octet, then packets, each a 2-byte big-endian length and its bytes (a
// short tail is one last packet). The selector picks what the packets feed:
//  0  eap::decode(); whatever decodes re-encodes to exactly its first Length bytes.
//  1  EAP-TLS framing: parse() and one Reassembler (cap 4096) over the packets in order; a
//     whole message never exceeds the cap nor an announced TLS Message Length.
//  2  the MSCHAPv2 wire parsers on each packet (long form, Challenge, Response, S=, Failure).
//  3  an EAP-MD5 server, 4 an EAP-MD5 peer, 5 an MSCHAPv2 server, 6 an MSCHAPv2 peer,
//  7  an EAP-TLS peer, 8 an EAP-TLS server: each packet is the Type-Data of the next response
//     (servers) or request (peers), with the identifier the method expects: no crash, no
//     leak, identifiers as the method promises, and a peer that authenticates the server
//     (MSCHAPv2, TLS) never ready for EAP-Success (the fuzzer cannot forge S= or TLS).
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "cert_factory.h"
#include "eap/eap.h"
#include "eap/mschapv2_wire.h"
#include "eap/tls.h"
#include "eap/tls_framing.h"
#include "fuzz_records.h"

namespace {

using ikeplex::Bytes;
using ikeplex::ByteView;
using ikeplex::SecretBytes;
namespace eap = ikeplex::eap;

void require(bool ok) {
    if (!ok) {
        std::abort();
    }
}

std::vector<ByteView> split(ByteView in) {
    std::vector<ByteView> out;
    while (in.size() >= 2 && out.size() < 64) {
        const std::size_t n =
                std::min<std::size_t>((std::size_t{in[0]} << 8U) | in[1], in.size() - 2);
        out.push_back(in.subspan(2, n));
        in = in.subspan(2 + n);
    }
    if (!in.empty()) {
        out.push_back(in);
    }
    return out;
}

const SecretBytes& secret() {
    static const SecretBytes s = SecretBytes::copy_of(ikeplex::as_bytes("fuzz-secret"));
    return s;
}

/// A CA, and a server certificate with its key, made once.
struct Pki {
    Pki()
        : ca_key(ikeplex::test::make_key(ikeplex::crypto::KeyType::kEcP256)),
          ca(ikeplex::test::issue({.cn = "fuzz CA", .ca = true}, ca_key, nullptr, ca_key)),
          key(ikeplex::test::make_key(ikeplex::crypto::KeyType::kEcP256)),
          cert(ikeplex::test::issue({.cn = "gw.test", .dns = {"gw.test"}}, key, &ca, ca_key)) {
        (void)store.add_trusted(ca);
    }
    ikeplex::crypto::PrivateKey ca_key;
    ikeplex::crypto::Certificate ca;
    ikeplex::crypto::PrivateKey key;
    ikeplex::crypto::Certificate cert;
    ikeplex::crypto::CertStore store;
};

const Pki& pki() {
    static const Pki p;
    return p;
}

eap::ServerContext server_context(ikeplex::Random& random) {
    eap::ServerContext ctx;
    ctx.find_secret = [](std::string_view who) { return who == "carol" ? &secret() : nullptr; };
    ctx.own_cert = &pki().cert;
    ctx.own_key = &pki().key;
    ctx.trusted = &pki().store;
    ctx.unix_time = 1'800'000'000;
    ctx.random = &random;
    return ctx;
}

eap::PeerContext peer_context(ikeplex::Random& random) {
    eap::PeerContext ctx;
    ctx.identity = "carol";
    ctx.secret = &secret();
    ctx.trusted = &pki().store;
    ctx.unix_time = 1'800'000'000;
    ctx.server_name = "gw.test";
    ctx.random = &random;
    return ctx;
}

void run_server(eap::Type t, const std::vector<ByteView>& packets) {
    ikeplex::DeterministicRandom random(1);
    auto m = eap::make_server(t, server_context(random));
    require(m.has_value());
    std::uint8_t id = 7;
    auto first = (*m)->initiate(id, "carol");
    require(first.has_value());
    for (const ByteView p : packets) {
        const eap::Packet resp{eap::Code::kResponse, id, t, Bytes(p.begin(), p.end())};
        auto step = (*m)->process(resp, ++id);
        if (!step || step->kind != eap::ServerStep::Kind::kRequest) {
            return;
        }
        require(step->request.identifier == id);
    }
}

void run_peer(eap::Type t, const std::vector<ByteView>& packets) {
    ikeplex::DeterministicRandom random(2);
    auto m = eap::make_peer(t, peer_context(random));
    require(m.has_value());
    std::uint8_t id = 1;
    for (const ByteView p : packets) {
        const eap::Packet req{eap::Code::kRequest, id++, t, Bytes(p.begin(), p.end())};
        auto step = (*m)->process(req);
        if (!step || step->kind != eap::PeerStep::Kind::kResponse) {
            break;
        }
        require(step->response.identifier == req.identifier);
    }
    // MD5 authenticates no server; the others need what the fuzzer cannot make.
    require(t == eap::Type::kMd5 || !(*m)->may_succeed());
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
    ikeplex::fuzz::quiet_logs();
    (void)pki();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::vector<ByteView> packets = split(ByteView(data + 1, size - 1));
    switch (data[0] % 9) {
        case 0:
            for (const ByteView p : packets) {
                auto d = eap::decode(p);
                if (d) {
                    const std::size_t length = (std::size_t{p[2]} << 8U) | p[3];
                    require(ikeplex::equal_bytes(eap::encode(*d), p.first(length)));
                }
            }
            break;
        case 1: {
            eap::tls::Reassembler r(4096);
            for (const ByteView p : packets) {
                auto f = eap::tls::parse(p);
                if (!f || f->data.empty()) {
                    continue;
                }
                auto whole = r.add(*f);
                if (whole && *whole) {
                    require((*whole)->size() <= 4096);
                    require(!f->message_length || (*whole)->size() <= *f->message_length);
                }
            }
            break;
        }
        case 2:
            for (const ByteView p : packets) {
                namespace ms = eap::mschapv2;
                (void)ms::opcode_of(p);
                auto m = ms::decode(p);
                (void)ms::decode_challenge_data(p);
                auto r = ms::decode_response_data(p);
                require(!r || r->name.size() <= ms::kMaxNameSize);
                auto s = ms::parse_success_message(p);
                require(!s || s->size() == 20);
                (void)ms::parse_failure_message(p);
                if (m) {
                    require(m->data.size() + 4 == p.size());
                }
            }
            break;
        case 3:
            run_server(eap::Type::kMd5, packets);
            break;
        case 4:
            run_peer(eap::Type::kMd5, packets);
            break;
        case 5:
            run_server(eap::Type::kMschapv2, packets);
            break;
        case 6:
            run_peer(eap::Type::kMschapv2, packets);
            break;
        case 7:
            run_peer(eap::Type::kTls, packets);
            break;
        default:
            run_server(eap::Type::kTls, packets);
            break;
    }
    return 0;
}
