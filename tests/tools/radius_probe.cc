// radius_probe: drives the daemon's RADIUS client (daemon/radius_client.h) against a real
// RADIUS server for tests/integration/test_radius.py. It reads the RADIUS section of an
// ikeplexd.conf (plugins { eap-radius { ... } }) and prints key=value lines.
//
//   radius_probe -c CONF [--nas ADDR] md5 USER PASSWORD
//       EAP-Identity, then EAP-MD5 (RFC 3748 §5.4: MD5(identifier | password | challenge))
//       through Access-Challenge rounds; prints result=accept|reject|error, rounds, eap_code,
//       framed_ip, msk (hex: a test tool with test keys), server, and the client's counters.
//   radius_probe -c CONF [--nas ADDR] acct SESSION USER
//       Accounting Start, Interim-Update, then Stop (with octets, packets and a session time);
//       prints start=, interim= and stop= (ok or the error) and the counters.
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include <asio/io_context.hpp>

#include "config/daemon_settings.h"
#include "daemon/radius_client.h"
#include "eap/eap.h"
#include "radius/security.h"
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

int run_md5(asio::io_context& io, daemon::RadiusClient& client, const Args& args) {
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
            eap::Packet resp{eap::Code::kResponse, req->identifier, eap::Type::kNak, {4}};
            if (req->type == eap::Type::kMd5) {
                auto m = md5_response(*req, args.b);
                if (!m) {
                    std::printf("result=error\nerror=%s\n", m.error().to_string().c_str());
                    return 0;
                }
                resp = *m;
            }
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
    if (argc - i != 3 || args.conf.empty()) {
        std::fprintf(stderr,
                     "usage: radius_probe -c CONF [--nas ADDR] md5 USER PASSWORD | acct "
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
    const int rc = args.command == "md5"    ? run_md5(io, **client, args)
                   : args.command == "acct" ? run_acct(io, **client, args)
                                            : 2;
    print_counters(**client);
    return rc;
}
