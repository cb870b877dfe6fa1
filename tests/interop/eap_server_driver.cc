// Test-only driver: ikeplex's EAP server (eap::make_server) on stdin/stdout, so that
// tests/interop/eap_strongswan_radius.py can put it behind a RADIUS shim and let a real EAP
// peer (strongSwan's charon, through a strongSwan gateway's eap-radius) talk to it.
//
// Options: --method mschapv2|md5 --user NAME --password PW (the one secret the server knows), or
// --method tls --user NAME --cert PEM --key PEM --ca PEM [--tls-max 1.2|1.3] (EAP-TLS).
// Input lines: "START <identifier> <identity>" (initiate with that identifier) or
//              "RSP <hex>" (the peer's EAP response; the next request takes identifier + 1).
// Output, one line per input: "REQ <hex>" (the next EAP request), "SUCCESS <msk hex or -> <id>"
// (the authenticated identity), "FAILURE <reason>", "ERR <what>".
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "driver_tls.h"
#include "eap/eap.h"
#include "util/hex.h"

namespace {

using namespace ikeplex;

struct Server {
    eap::Type type{eap::Type::kMschapv2};
    std::string user;
    SecretBytes password;
    std::unique_ptr<eap::ServerMethod> method;
    std::uint8_t last_id{0};
    const test::DriverTls* tls{nullptr};  ///< EAP-TLS only

    std::string start(std::uint8_t id, const std::string& identity) {
        eap::ServerContext ctx;
        ctx.find_secret = [this](std::string_view name) {
            return name == user ? &password : nullptr;
        };
        if (tls != nullptr) {
            ctx.own_cert = &*tls->cert;
            ctx.own_key = &*tls->key;
            ctx.trusted = &tls->trusted;
            ctx.unix_time = tls->now;
            ctx.tls_versions = tls->versions;
        }
        auto m = eap::make_server(type, std::move(ctx));
        if (!m) {
            return "ERR " + m.error().to_string();
        }
        method = std::move(*m);
        auto req = method->initiate(id, identity);
        if (!req) {
            return "ERR " + req.error().to_string();
        }
        last_id = id;
        return "REQ " + to_hex(eap::encode(*req));
    }

    std::string respond(const std::string& hex) {
        const auto bytes = from_hex(hex);
        const auto packet = bytes ? eap::decode(*bytes) : Result<eap::Packet>(bytes.error());
        if (!packet || !method) {
            return "ERR no packet or no method";
        }
        const auto next = static_cast<std::uint8_t>(last_id + 1);
        auto step = method->process(*packet, next);
        if (!step) {
            return "ERR " + step.error().to_string();
        }
        switch (step->kind) {
            case eap::ServerStep::Kind::kRequest:
                last_id = next;
                return "REQ " + to_hex(eap::encode(step->request));
            case eap::ServerStep::Kind::kSuccess: {
                const std::string msk = method->msk().empty() ? "-" : to_hex(method->msk().view());
                return "SUCCESS " + msk + " " + method->authenticated_identity();
            }
            case eap::ServerStep::Kind::kFailure:
                return "FAILURE " + step->reason;
        }
        return "ERR unknown step";
    }
};

}  // namespace

int main(int argc, char** argv) {
    std::map<std::string, std::string> args;
    for (int i = 1; i + 1 < argc; i += 2) {
        args[argv[i]] = argv[i + 1];
    }
    // Log lines go to stderr: stdout carries the protocol.
    spdlog::set_default_logger(spdlog::stderr_logger_mt("eap_server_driver"));
    const auto type = eap::type_from_name(args["--method"]);
    const bool with_tls = type == eap::Type::kTls;
    if (!type || !args.contains("--user") || (!with_tls && !args.contains("--password"))) {
        std::cerr << "usage: see the comment at the top of eap_server_driver.cc\n";
        return 2;
    }
    Server server;
    server.type = *type;
    server.user = args["--user"];
    server.password = SecretBytes::copy_of(as_bytes(args["--password"]));
    test::DriverTls tls_files;
    if (with_tls) {
        if (!tls_files.load(args)) {
            std::cerr << "cannot load --cert, --key or --ca\n";
            return 2;
        }
        server.tls = &tls_files;
    }
    std::string line;
    while (std::getline(std::cin, line)) {
        std::istringstream in(line);
        std::string command;
        in >> command;
        std::string out = "ERR unknown command";
        if (command == "START") {
            unsigned id = 0;
            std::string identity;
            in >> id >> identity;
            out = server.start(static_cast<std::uint8_t>(id), identity);
        } else if (command == "RSP") {
            std::string hex;
            in >> hex;
            out = server.respond(hex);
        }
        std::cout << out << std::endl;  // flushed: the shim waits for each line
    }
    return 0;
}
