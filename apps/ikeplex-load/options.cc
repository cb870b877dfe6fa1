#include "options.h"

#include <cstdio>

#include <CLI/CLI.hpp>

#include "ike/proposal.h"
#include "load_math.h"

namespace ikeplex::load {

namespace {

/// The text form of the command line, before checking.
struct Raw {
    std::string remote;
    std::string sources;
    std::size_t addresses{256};
    std::string psk;
    std::string remote_id{"%any"};
    std::string ike{"aes128gcm16-prfsha256-x25519"};
    std::string esp{"aes128gcm16"};
    std::string local_ts{"10.98.0.0/16"};
    std::string remote_ts{"10.97.0.0/16"};
    long responder_pid{0};
};

void add_options(CLI::App& app, Raw& r, Options& o) {
    app.add_option("--remote", r.remote, "the responder's address")->required();
    app.add_option("--remote-port", o.remote_port, "the responder's IKE port");
    app.add_option("--ike-port", o.ike_port, "local IKE port bound on every source address");
    app.add_option("--natt-port", o.natt_port, "local NAT-T port bound on every source address");
    app.add_option("--ports", o.ports,
                   "source port pairs per address: IKE SA n uses pair (n / addresses) % ports, "
                   "i.e. --ike-port + i and --natt-port + i");
    app.add_option("--sources", r.sources, "prefix of the source addresses")->required();
    app.add_option("--addresses", r.addresses, "source addresses: the first N hosts of --sources");
    app.add_option("--sas", o.sas, "IKE SAs to set up")->required();
    app.add_option("--rate", o.rate, "new IKE SAs per second (0: as fast as possible)");
    app.add_option("--concurrency", o.concurrency, "most IKE SAs in set-up at once");
    app.add_option("--psk", r.psk, "the pre-shared key (both directions)")->required();
    app.add_option("--id-format", o.id_format, "local identity of IKE SA n ({} = n)");
    app.add_option("--remote-id", r.remote_id, "identity required of the responder");
    app.add_option("--ike", r.ike, "IKE proposals");
    app.add_option("--esp", r.esp, "ESP proposals");
    app.add_option("--group", o.group,
                   "0: one regular Child SA per IKE SA; K: an RFC 9611 group of K members and "
                   "the fallback");
    app.add_flag("--vips", o.vips,
                 "ask for a virtual IPv4 address in each IKE SA (our selectors: the address); "
                 "every one must be assigned and distinct");
    app.add_option("--local-ts", r.local_ts, "local traffic selectors");
    app.add_option("--remote-ts", r.remote_ts, "remote traffic selectors");
    app.add_option("--responder-pid", r.responder_pid, "measure this process's CPU and RSS");
    app.add_option("--delete-rate", o.delete_rate, "deletes per second (0: as fast as possible)");
    app.add_option("--hold", o.hold_s, "seconds between set-up and deletes");
    app.add_option("--timeout", o.timeout_s, "seconds each phase may take");
    app.add_option("--out", o.out_file, "also write the figures to this file");
    app.add_flag("-v,--verbose", o.verbose, "log the engine's info messages");
}

std::optional<int> bad(const std::string& what, const std::string& why) {
    std::fprintf(stderr, "ikeplex-load: %s: %s\n", what.c_str(), why.c_str());
    return 2;
}

Status parse_ts(const std::string& text, std::vector<ike::TrafficSelector>& out) {
    for (std::size_t start = 0; start <= text.size();) {
        const auto comma = std::min(text.find(',', start), text.size());
        auto ts = ike::TrafficSelector::parse(text.substr(start, comma - start));
        if (!ts) {
            return ts.error();
        }
        out.push_back(*ts);
        start = comma + 1;
    }
    return ok();
}

std::optional<int> check_numbers(const Options& o) {
    if (o.sas == 0) {
        return bad("--sas", "must be at least 1");
    }
    if (o.concurrency == 0) {
        return bad("--concurrency", "must be at least 1");
    }
    if (o.rate < 0 || o.delete_rate < 0 || o.hold_s < 0 || o.timeout_s <= 0) {
        return bad("--rate/--delete-rate/--hold/--timeout", "must not be negative (timeout > 0)");
    }
    if (o.group > 256) {
        return bad("--group", "at most 256 members");
    }
    if (o.sas > 1 && o.id_format.find("{}") == std::string::npos) {
        return bad("--id-format", "must contain {} so that every IKE SA has its own identity");
    }
    return std::nullopt;
}

std::optional<int> check_addresses(const Raw& r, Options& o) {
    auto remote = IpAddress::parse(r.remote);
    if (!remote) {
        return bad("--remote", remote.error().to_string());
    }
    o.remote = *remote;
    auto prefix = parse_prefix(r.sources);
    if (!prefix) {
        return bad("--sources", prefix.error().to_string());
    }
    if (prefix->network.family() != o.remote.family()) {
        return bad("--sources", "not the family of --remote");
    }
    if (r.addresses == 0) {
        return bad("--addresses", "must be at least 1");
    }
    auto list = hosts(*prefix, r.addresses);
    if (!list) {
        return bad("--addresses", std::to_string(r.addresses) + " is more than the " +
                                          std::to_string(host_capacity(*prefix)) +
                                          " host addresses of " + r.sources);
    }
    o.sources = std::move(*list);
    return std::nullopt;
}

std::optional<int> check_ike(const Raw& r, Options& o) {
    if (r.psk.empty()) {
        return bad("--psk", "must not be empty");
    }
    o.psk = SecretBytes::copy_of(
            ByteView(reinterpret_cast<const std::uint8_t*>(r.psk.data()), r.psk.size()));
    auto remote_id = ike::Identity::parse(r.remote_id);
    if (!remote_id) {
        return bad("--remote-id", remote_id.error().to_string());
    }
    o.remote_auth = ike::AuthConfig{ike::AuthKind::kPsk, *remote_id};
    if (auto id = ike::Identity::parse(expand_id(o.id_format, 0)); !id) {
        return bad("--id-format", id.error().to_string());
    }
    auto ike = ike::parse_proposals(r.ike, wire::ProtocolId::kIke);
    if (!ike) {
        return bad("--ike", ike.error().to_string());
    }
    o.ike_proposals = std::move(*ike);
    auto esp = ike::parse_proposals(r.esp, wire::ProtocolId::kEsp);
    if (!esp) {
        return bad("--esp", esp.error().to_string());
    }
    o.esp_proposals = std::move(*esp);
    if (auto st = parse_ts(r.local_ts, o.local_ts); !st) {
        return bad("--local-ts", st.error().to_string());
    }
    if (auto st = parse_ts(r.remote_ts, o.remote_ts); !st) {
        return bad("--remote-ts", st.error().to_string());
    }
    return std::nullopt;
}

}  // namespace

std::optional<int> parse_options(int argc, char** argv, Options& out) {
    CLI::App app{"ikeplex-load: sets up and deletes N IKE SAs against a responder, with figures"};
    Raw raw;
    add_options(app, raw, out);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? 0 : 2;
    }
    if (raw.responder_pid < 0) {
        return bad("--responder-pid", "not a process id");
    }
    if (raw.responder_pid > 0) {
        out.responder_pid = static_cast<pid_t>(raw.responder_pid);
    }
    if (auto code = check_numbers(out)) {
        return code;
    }
    if (auto code = check_addresses(raw, out)) {
        return code;
    }
    const auto ike_end = std::size_t{out.ike_port} + out.ports;
    const auto natt_end = std::size_t{out.natt_port} + out.ports;
    if (out.ports == 0 || out.ports > 64 || ike_end > 65536 || natt_end > 65536 ||
        (out.ike_port < natt_end && out.natt_port < ike_end)) {
        return bad("--ports",
                   "must be 1..64, with the IKE and NAT-T port ranges apart and below "
                   "65536");
    }
    return check_ike(raw, out);
}

std::string connection_name(std::size_t index) {
    return "load-" + std::to_string(index);
}

ike::PeerConfig make_connection(const Options& o, std::size_t index) {
    ike::PeerConfig c;
    c.name = connection_name(index);
    c.local_addrs = {o.sources[index % o.sources.size()]};
    c.remote_addrs = {o.remote};
    c.local_port = static_cast<std::uint16_t>(o.ike_port + (index / o.sources.size()) % o.ports);
    c.remote_port = o.remote_port;
    c.ike_proposals = o.ike_proposals;
    c.local = ike::AuthConfig{
            ike::AuthKind::kPsk,
            ike::Identity::parse(expand_id(o.id_format, index)).value_or(ike::Identity{})};
    c.remote = o.remote_auth;
    c.rekey_time = ike::Duration{0};  // no rekeys during a run
    ike::ChildConfig child;
    child.name = "c";
    child.local_ts = o.local_ts;
    child.remote_ts = o.remote_ts;
    child.esp_proposals = o.esp_proposals;
    if (o.group > 0) {
        child.per_cpu_sas = true;
        child.per_cpu_sas_start = ike::PerCpuStart::kAll;
        child.per_cpu_sas_max = o.group;
    }
    if (o.vips) {
        c.vips = {*IpAddress::parse("0.0.0.0")};
        child.local_ts.clear();  // the assigned address (narrowed by the responder)
    }
    c.children.push_back(std::move(child));
    return c;
}

}  // namespace ikeplex::load
