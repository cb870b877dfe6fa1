// Test-only driver: ikeplex's EAP peer (eap::make_peer) on stdin/stdout, so that
// tests/interop/eap_radius_interop.py can run it against a real EAP server (FreeRADIUS).
//
// Options: --method mschapv2|md5 --identity ID --password PW, or --method tls --identity ID
// --cert PEM --key PEM --ca PEM [--server-name NAME] [--tls-max 1.2|1.3] (EAP-TLS; no password).
// Input: one EAP packet from the server per line, in hex.
// Output, one line per input: "RSP <hex>" (our response: Identity, a Nak proposing our method
// for another method's request, or the method's answer), "FAIL <reason>" (the method gave up),
// "SUCCESS <msk hex>" (EAP-Success after the method allowed it; the MSK may be empty),
// "REFUSED" (EAP-Success too early), "EAPFAILURE" (EAP-Failure), "ERR <what>".
#include <iostream>
#include <map>
#include <string>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "driver_tls.h"
#include "eap/eap.h"
#include "util/hex.h"

namespace {

using namespace ikeplex;

std::string respond(eap::PeerMethod& method, const eap::Packet& p, const std::string& identity) {
    if (p.code == eap::Code::kSuccess) {
        return method.may_succeed() ? "SUCCESS " + to_hex(method.msk().view()) : "REFUSED";
    }
    if (p.code == eap::Code::kFailure) {
        return "EAPFAILURE";
    }
    if (p.code != eap::Code::kRequest) {
        return "ERR not a request";
    }
    if (p.type == eap::Type::kIdentity) {
        return "RSP " + to_hex(eap::encode(eap::Packet{eap::Code::kResponse, p.identifier,
                                                       eap::Type::kIdentity, to_bytes(identity)}));
    }
    if (p.type != method.type()) {
        const Bytes want{static_cast<std::uint8_t>(method.type())};
        return "RSP " + to_hex(eap::encode(eap::Packet{eap::Code::kResponse, p.identifier,
                                                       eap::Type::kNak, want}));
    }
    auto step = method.process(p);
    if (!step) {
        return "ERR " + step.error().to_string();
    }
    if (step->kind == eap::PeerStep::Kind::kFailure) {
        return "FAIL " + step->reason;
    }
    return "RSP " + to_hex(eap::encode(step->response));
}

}  // namespace

int main(int argc, char** argv) {
    // Log lines go to stderr: stdout carries the protocol.
    spdlog::set_default_logger(spdlog::stderr_logger_mt("eap_peer_driver"));
    std::map<std::string, std::string> args;
    for (int i = 1; i + 1 < argc; i += 2) {
        args[argv[i]] = argv[i + 1];
    }
    const auto type = eap::type_from_name(args["--method"]);
    const bool tls = type == eap::Type::kTls;
    if (!type || !args.contains("--identity") || (!tls && !args.contains("--password"))) {
        std::cerr << "usage: see the comment at the top of eap_peer_driver.cc\n";
        return 2;
    }
    const SecretBytes secret = SecretBytes::copy_of(as_bytes(args["--password"]));
    eap::PeerContext ctx;
    ctx.identity = args["--identity"];
    ctx.secret = &secret;
    test::DriverTls tls_files;
    if (tls) {
        if (!tls_files.load(args)) {
            std::cerr << "cannot load --cert, --key or --ca\n";
            return 2;
        }
        ctx.own_cert = &*tls_files.cert;
        ctx.own_key = &*tls_files.key;
        ctx.trusted = &tls_files.trusted;
        ctx.unix_time = tls_files.now;
        ctx.tls_versions = tls_files.versions;
        ctx.server_name = args["--server-name"];
    }
    auto method = eap::make_peer(*type, std::move(ctx));
    if (!method) {
        std::cerr << method.error().to_string() << "\n";
        return 2;
    }
    std::string line;
    while (std::getline(std::cin, line)) {
        const auto bytes = from_hex(line);
        const auto packet = bytes ? eap::decode(*bytes) : Result<eap::Packet>(bytes.error());
        const std::string out = packet ? respond(**method, *packet, args["--identity"])
                                       : "ERR " + packet.error().to_string();
        std::cout << out << std::endl;  // flushed: the script waits for each line
    }
    return 0;
}
