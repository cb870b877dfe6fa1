// ikeplex-relay: the data plane's I/O without ESP, for benchmarks (performance anchors G3:
// "ESP tunnel pps >= 0.8x a plain UDP-over-TUN relay on the same I/O code"). Packets routed
// into its TUN device go to the peer relay as plain UDP payloads; what arrives goes to the TUN.
// Not a tunnel for real use: nothing is authenticated or encrypted.
//
//   ikeplex-relay --local 10.99.0.1:4600 --peer 10.99.0.2:4600 --route 10.99.2.0/24
//                 [--src 10.99.1.1] [--workers 2] [--tun ikerelay0] [--mtu 1400] [--no-offloads]
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "crypto/registry.h"
#include "esp/dataplane.h"
#include "esp/io/rtnl.h"
#include "esp/io/tun.h"
#include "esp/io/udp_io.h"
#include "relay_core.h"
#include "util/log.h"

namespace {

using namespace ikeplex;

Result<Endpoint> parse_endpoint(const std::string& text) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) {
        return make_error(Errc::kInvalidArgument, "expected address:port");
    }
    auto a = IpAddress::parse(text.substr(0, colon));
    if (!a) {
        return a.error();
    }
    const int port = std::atoi(text.c_str() + colon + 1);
    if (port <= 0 || port > 65535) {
        return make_error(Errc::kInvalidArgument, "bad port");
    }
    return Endpoint{*a, static_cast<std::uint16_t>(port)};
}

int fail(const std::string& what, const Error& e) {
    std::fprintf(stderr, "ikeplex-relay: %s: %s\n", what.c_str(), e.to_string().c_str());
    return 1;
}

}  // namespace

// CLI11 reports parse errors by exception (CLI11_PARSE catches them); anything else ends the
// process, as in the other apps.
int main(int argc, char** argv) {  // NOLINT(bugprone-exception-escape)
    CLI::App app{"ikeplex-relay: plain UDP-over-TUN relay on the data plane's I/O (benchmarks)"};
    std::string local_text, peer_text, route_text, src_text, tun = "ikerelay0";
    unsigned workers = 1, mtu = 1400;
    bool no_offloads = false;
    app.add_option("--local", local_text, "address:port to bind")->required();
    app.add_option("--peer", peer_text, "the other relay's address:port")->required();
    app.add_option("--route", route_text, "prefix/len routed into the relay")->required();
    app.add_option("--src", src_text, "preferred source address of the route");
    app.add_option("--workers", workers, "workers (TUN queues)");
    app.add_option("--tun", tun, "TUN device name");
    app.add_option("--mtu", mtu, "TUN MTU");
    app.add_flag("--no-offloads", no_offloads, "per-packet I/O (no TSO/USO, no UDP GSO/GRO)");
    CLI11_PARSE(app, argc, argv);

    auto local = parse_endpoint(local_text);
    auto peer = parse_endpoint(peer_text);
    if (!local || !peer) {
        return fail("--local/--peer", !local ? local.error() : peer.error());
    }
    const auto slash = route_text.find('/');
    auto prefix = IpAddress::parse(route_text.substr(0, slash));
    if (!prefix || slash == std::string::npos) {
        return fail("--route", prefix ? make_error(Errc::kInvalidArgument, "expected prefix/len")
                                      : prefix.error());
    }
    const auto len = static_cast<unsigned>(std::atoi(route_text.c_str() + slash + 1));
    std::optional<IpAddress> src;
    if (!src_text.empty()) {
        auto s = IpAddress::parse(src_text);
        if (!s) {
            return fail("--src", s.error());
        }
        src = *s;
    }
    // Index 0 of the reuseport group is the daemon's IKE socket; here a placeholder that only
    // keeps the group's numbering the same as in ikeplexd.
    auto control = esp::io::UdpSocket::open(*local, true, false);
    if (!control) {
        return fail("control socket", control.error());
    }
    auto registry = crypto::Registry::create();
    if (!registry) {
        return fail("crypto", registry.error());
    }
    esp::DataplaneOptions o;
    o.workers = workers;
    o.tun_name = tun;
    o.mtu = mtu;
    o.offloads = !no_offloads;
    o.udp_binds = {*local};
    o.make_core = [to = *peer](unsigned k) -> std::unique_ptr<esp::PacketCore> {
        return std::make_unique<relay::RelayCore>(k, to);
    };
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);  // workers inherit the mask: sigwait below
    auto dp = esp::Dataplane::create(**registry, o);
    if (!dp) {
        return fail("data plane", dp.error());
    }
    if (auto r = esp::io::add_route((*dp)->tun()->ifindex(), *prefix, len, src ? &*src : nullptr);
        !r) {
        return fail("route", r.error());
    }
    std::printf("ikeplex-relay: %s <-> %s, %s via %s, %u workers, %s\n", local_text.c_str(),
                peer_text.c_str(), route_text.c_str(), (*dp)->tun()->name().c_str(), workers,
                no_offloads ? "per-packet I/O" : "offloads");
    std::fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    for (unsigned k = 0; k < workers; ++k) {
        const esp::WorkerStats s = (*dp)->stats(k);
        std::printf("worker %u: tx %llu rx %llu\n", k,
                    static_cast<unsigned long long>(s.tx_packets),
                    static_cast<unsigned long long>(s.rx_packets));
    }
    return 0;
}
