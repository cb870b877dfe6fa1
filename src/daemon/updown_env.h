// The environment of an updown script, as strongSwan's updown plugin sets it (PLUTO_VERB,
// PLUTO_ME, PLUTO_MY_CLIENT, ...; interface version 1.1). Pure: from a copy of what a Child SA
// and its IKE SA were when it came up (UpdownSa), so that the same values reach the script when
// the SA goes down, after the engine has removed it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ike/ike_sa.h"
#include "util/ip_address.h"

namespace ikeplex::daemon {

/// What the script of one Child SA needs, captured while the SA exists.
struct UpdownSa {
    std::string command;  ///< the child config's `updown` (run by /bin/sh -c)
    bool hostaccess{false};
    std::string child;  ///< the child config's name: PLUTO_CONNECTION
    std::uint32_t ike_id{0};
    std::uint32_t child_id{0};
    std::uint32_t reqid{0};
    Endpoint me;
    Endpoint peer;
    std::string my_id;
    std::string peer_id;
    bool udp_encap{false};
    std::uint32_t spi_in{0};
    std::uint32_t spi_out{0};
    std::vector<ike::TrafficSelector> local_ts;
    std::vector<ike::TrafficSelector> remote_ts;
    std::string interface;  ///< PLUTO_INTERFACE ("unknown" when not found)
};

/// The Child SA `c` of `sa` (its config must have an updown command).
UpdownSa capture_updown(const ike::IkeSa& sa, const ike::ChildSa& c, std::string interface);

/// The network interface that holds `address`, or "unknown".
std::string interface_of(const IpAddress& address);

/// One environment ("NAME=value" strings) per pair of local and remote traffic selectors, as
/// strongSwan runs the script once per policy. `path` is passed on as PATH.
std::vector<std::vector<std::string>> updown_environments(const UpdownSa& sa, bool up,
                                                          const std::string& path);

/// The smallest subnet holding a selector's range, "10.99.1.0/24" (PLUTO_MY_CLIENT).
std::string subnet_of(const ike::TrafficSelector& ts);

}  // namespace ikeplex::daemon
