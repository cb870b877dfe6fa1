// Test-only driver: the IKE engine behind real UDP sockets (ports 500 and 4500 on one
// address), driven line by line on stdin, reporting on stdout. It has no data plane: backend
// commands are only printed. tests/interop/strongswan_interop.py runs it against Debian's
// strongSwan in a network-namespace pair.
//
// Options: --local A --remote B --psk S --local-id ID --remote-id ID --local-ts T --remote-ts T
//          --ike P --esp P [--window N] [--per-cpu yes --resources N]
// Commands: initiate | rekey-child ID | rekey-ike ID | delete-child ID | delete-ike ID
//           | acquire CPU (an RFC 9611 acquire for that resource) | list | quit
// Output: "EVENT <kind> ike=<id> child=<id> new=<id>", "SA ike=<id> <spi_i> <spi_r> <state>",
//         "CHILD id=<id> ike=<id> in=<spi> out=<spi> <state>
//         <regular|group-fallback|group-member>", "END" after each list, "ERR ...".
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <poll.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "exchange_harness.h"
#include "ike/manager.h"
#include "ike/proposal.h"
#include "util/random.h"

namespace {

using namespace ikeplex;

int udp_socket(const IpAddress& addr, std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    std::memcpy(&sa.sin_addr, addr.bytes().data(), 4);
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
        std::perror("bind");
        std::exit(2);
    }
    return fd;
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now().time_since_epoch())
            .count();
}

struct Driver {
    IpAddress local;
    int fd500{-1};
    int fd4500{-1};
    OsRandom random;
    ike::RandomSpiAllocator spis{random};
    ike::IkeSaManager manager;
    ike::TimePoint wakeup{ike::kNever};

    Driver(IpAddress l, const ike::Settings& settings)
        : local(l), manager(test::test_registry(), random, spis, settings) {
        fd500 = udp_socket(local, 500);
        fd4500 = udp_socket(local, 4500);
    }

    void run(const std::function<void(ike::Step&)>& f) {
        ike::Output out;
        ike::Step step{ike::TimePoint{now_ms()}, out,
                       static_cast<std::int64_t>(std::time(nullptr))};
        f(step);
        for (const ike::OutDatagram& d : out.datagrams) {
            send(d);
        }
        for (const ike::BackendCommand& c : out.commands) {
            if (const auto* in = std::get_if<ike::InstallSa>(&c)) {
                std::printf("CMD install-sa child=%u spi=%08x %s\n", in->child_id, in->spi.value(),
                            in->inbound ? "in" : "out");
            } else if (const auto* del = std::get_if<ike::DeleteSa>(&c)) {
                std::printf("CMD delete-sa child=%u spi=%08x %s\n", del->child_id, del->spi.value(),
                            del->inbound ? "in" : "out");
            }
        }
        for (const ike::Event& e : out.events) {
            std::printf("EVENT %s ike=%u child=%u new=%u %s\n", ike::to_string(e.kind), e.ike_id,
                        e.child_id, e.new_id, e.reason.c_str());
        }
        std::fflush(stdout);
        wakeup = out.wakeup;
    }

    void send(const ike::OutDatagram& d) {
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(d.remote.port);
        std::memcpy(&to.sin_addr, d.remote.address.bytes().data(), 4);
        Bytes buf;
        const bool encap = d.local.port == 4500;
        if (encap) {
            buf.assign(4, 0);  // RFC 3948 non-ESP marker
        }
        buf.insert(buf.end(), d.data.begin(), d.data.end());
        ::sendto(encap ? fd4500 : fd500, buf.data(), buf.size(), 0,
                 reinterpret_cast<sockaddr*>(&to), sizeof to);
    }

    void receive(int fd, std::uint16_t port) {
        std::uint8_t buf[65536];
        sockaddr_in from{};
        socklen_t len = sizeof from;
        const ssize_t n =
                ::recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
        if (n <= 0) {
            return;
        }
        ByteView data(buf, static_cast<std::size_t>(n));
        if (port == 4500) {
            if (data.size() < 4 || data[0] != 0 || data[1] != 0 || data[2] != 0 || data[3] != 0) {
                return;  // ESP in UDP or a NAT keepalive: no data plane here
            }
            data = data.subspan(4);
        }
        const auto src = IpAddress::from_bytes(
                ByteView(reinterpret_cast<const std::uint8_t*>(&from.sin_addr), 4));
        if (!src) {
            return;
        }
        const Endpoint remote{*src, ntohs(from.sin_port)};
        const Endpoint here{local, port};
        run([&](ike::Step& s) { manager.on_datagram(data, here, remote, s); });
    }

    void command(const std::string& line) {
        std::istringstream in(line);
        std::string cmd;
        std::uint32_t id = 0;
        in >> cmd >> id;
        Status st = ok();
        if (cmd == "initiate") {
            run([&](ike::Step& s) {
                auto r = manager.initiate("conn", "net", s);
                st = r ? ok() : Status(r.error());
            });
        } else if (cmd == "rekey-child") {
            run([&](ike::Step& s) {
                auto r = manager.rekey_child(id, s);
                st = r ? ok() : Status(r.error());
            });
        } else if (cmd == "rekey-ike") {
            run([&](ike::Step& s) { st = manager.rekey_ike(id, s); });
        } else if (cmd == "delete-child") {
            run([&](ike::Step& s) { st = manager.terminate_child(id, s); });
        } else if (cmd == "delete-ike") {
            run([&](ike::Step& s) { st = manager.terminate_ike(id, s); });
        } else if (cmd == "acquire") {
            const ike::ChildConfig& child = manager.configs().front().children.front();
            const ReqId reqid = manager.reqid_for(manager.configs().front(), child);
            run([&](ike::Step& s) {
                manager.on_backend_event(ike::Acquire{reqid, ResourceId::cpu(id), {}, {}}, s);
            });
        } else if (cmd == "list") {
            for (const ike::IkeSa* sa : manager.sas()) {
                std::printf("SA ike=%u %016llx %016llx %s\n", sa->id(),
                            static_cast<unsigned long long>(sa->spi_i().value()),
                            static_cast<unsigned long long>(sa->spi_r().value()),
                            ike::to_string(sa->state()));
                for (const auto& c : sa->children()) {
                    std::printf("CHILD id=%u ike=%u in=%08x out=%08x %s %s\n", c->id, sa->id(),
                                c->spi_in.value(), c->spi_out.value(), ike::to_string(c->state),
                                c->group_member ? (c->resource.is_none() ? "group-fallback"
                                                                         : "group-member")
                                                : "regular");
                }
            }
            std::printf("END\n");
        }
        if (!st) {
            std::printf("ERR %s\n", st.error().detail);
        }
        std::fflush(stdout);
    }
};

std::map<std::string, std::string> parse_args(int argc, char** argv) {
    std::map<std::string, std::string> a;
    for (int i = 1; i + 1 < argc; i += 2) {
        a[argv[i]] = argv[i + 1];
    }
    return a;
}

}  // namespace

int main(int argc, char** argv) {
    auto args = parse_args(argc, argv);
    auto logger = std::make_shared<spdlog::logger>(
            "driver", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::debug);
    spdlog::set_pattern("%H:%M:%S.%e %v");

    ike::PeerConfig c;
    c.name = "conn";
    const auto local = IpAddress::parse(args["--local"]);
    const auto remote = IpAddress::parse(args["--remote"]);
    auto ike_props = ike::parse_proposals(args["--ike"], wire::ProtocolId::kIke);
    auto esp_props = ike::parse_proposals(args["--esp"], wire::ProtocolId::kEsp);
    auto lid = ike::Identity::parse(args["--local-id"]);
    auto rid = ike::Identity::parse(args["--remote-id"]);
    auto lts = ike::TrafficSelector::parse(args["--local-ts"]);
    auto rts = ike::TrafficSelector::parse(args["--remote-ts"]);
    if (!local || !remote || !ike_props || !esp_props || !lid || !rid || !lts || !rts) {
        std::fprintf(stderr, "usage: see the comment at the top of ike_driver.cc\n");
        return 2;
    }
    c.local_addrs = {*local};
    c.remote_addrs = {*remote};
    c.ike_proposals = *ike_props;
    c.local.id = *lid;
    c.remote.id = *rid;
    c.window_size = args.contains("--window")
                            ? static_cast<std::uint32_t>(std::stoul(args["--window"]))
                            : 1;
    ike::ChildConfig child;
    child.name = "net";
    child.local_ts = {*lts};
    child.remote_ts = {*rts};
    child.esp_proposals = *esp_props;
    child.per_cpu_sas = args["--per-cpu"] == "yes";
    c.children.push_back(std::move(child));

    ike::Settings settings;
    settings.resources = args.contains("--resources")
                                 ? static_cast<std::uint32_t>(std::stoul(args["--resources"]))
                                 : 1;
    Driver d(*local, settings);
    d.manager.load({c});
    d.manager.set_credentials(test::psk_credentials(args["--psk"]));
    std::printf("READY\n");
    std::fflush(stdout);

    std::string pending;
    for (;;) {
        pollfd fds[3] = {{d.fd500, POLLIN, 0}, {d.fd4500, POLLIN, 0}, {0, POLLIN, 0}};
        int timeout = 1000;
        if (d.wakeup != ike::kNever) {
            timeout = static_cast<int>(std::clamp<std::int64_t>(d.wakeup.ms - now_ms(), 0, 1000));
        }
        ::poll(fds, 3, timeout);
        if ((fds[0].revents & POLLIN) != 0) {
            d.receive(d.fd500, 500);
        }
        if ((fds[1].revents & POLLIN) != 0) {
            d.receive(d.fd4500, 4500);
        }
        if ((fds[2].revents & (POLLIN | POLLHUP)) != 0) {
            char buf[4096];
            const ssize_t n = ::read(0, buf, sizeof buf);
            if (n <= 0) {
                return 0;
            }
            pending.append(buf, static_cast<std::size_t>(n));
            for (std::size_t nl; (nl = pending.find('\n')) != std::string::npos;) {
                const std::string line = pending.substr(0, nl);
                pending.erase(0, nl + 1);
                if (line == "quit") {
                    return 0;
                }
                d.command(line);
            }
        }
        if (d.wakeup != ike::kNever && now_ms() >= d.wakeup.ms) {
            d.run([&](ike::Step& s) { d.manager.on_timer(s); });
        }
    }
}
