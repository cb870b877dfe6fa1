// ikeplex-load's command line and what it turns into: the checked options and one
// connection (ike::PeerConfig) per IKE SA.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "ike/config.h"
#include "util/ip_address.h"

namespace ikeplex::load {

struct Options {
    IpAddress remote;
    std::uint16_t remote_port{500};
    std::uint16_t ike_port{500};
    std::uint16_t natt_port{4500};
    std::uint16_t ports{1};  ///< port pairs (ike_port + i, natt_port + i) on every source address
    std::vector<IpAddress> sources;  ///< the first --addresses hosts of --sources
    std::size_t sas{0};
    double rate{0};               ///< new IKE SAs per second (0: as fast as possible)
    std::size_t concurrency{32};  ///< IKE SAs in set-up (or deletes outstanding) at once
    double delete_rate{0};        ///< deletes per second (0: as fast as possible)
    double hold_s{0};             ///< seconds between set-up and deletes
    double timeout_s{120};        ///< per phase
    std::uint32_t group{0};       ///< RFC 9611 members per IKE SA (0: one regular Child SA)
    /// Ask for a virtual IPv4 address in each IKE SA (a CP request, RFC 7296 §3.15, as
    /// swanctl's `vips = 0.0.0.0`) and count those assigned.
    bool vips{false};
    std::optional<pid_t> responder_pid;
    std::string out_file;
    bool verbose{false};
    std::string id_format{"load-{}@ikeplex"};
    ike::AuthConfig remote_auth;  ///< PSK, the --remote-id
    SecretBytes psk;
    std::vector<wire::Proposal> ike_proposals;
    std::vector<wire::Proposal> esp_proposals;
    std::vector<ike::TrafficSelector> local_ts;
    std::vector<ike::TrafficSelector> remote_ts;

    /// Child SAs that make one IKE SA established (the fallback and K members, or 1).
    [[nodiscard]] std::size_t children_per_sa() const noexcept { return group + 1; }
};

/// Parses and checks the command line. Returns the exit code when the program should end
/// (--help: 0; bad input: 2, with the reason on stderr), else nullopt with `out` filled in.
std::optional<int> parse_options(int argc, char** argv, Options& out);

/// The connection name of IKE SA `index` ("load-<index>").
std::string connection_name(std::size_t index);
/// The connection of IKE SA `index`: its source address, its identity, one child "c".
ike::PeerConfig make_connection(const Options& o, std::size_t index);

}  // namespace ikeplex::load
