// What the VICI command groups (vici_query, vici_control, vici_config, vici_credentials) share:
// registering a member function as a command, charon's `success` / `errmsg` answer, and the
// daemon's own counters.
#pragma once

#include <cstdint>
#include <string>

#include "daemon/revocation_counters.h"
#include "vici/server.h"

namespace ikeplex::daemon {

/// Counters of the daemon's own that get-counters reports beside the engine's, the backend's,
/// the transport's and the VICI server's.
/// The address monitor's (address_monitor.h), for MOBIKE.
struct AddressMonitorCounters {
    std::uint64_t events{0};     ///< address and route messages received
    std::uint64_t updates{0};    ///< address sets handed to the engine
    std::uint64_t malformed{0};  ///< messages (or datagrams) that did not parse
    std::uint64_t overruns{0};   ///< the kernel dropped events (ENOBUFS): a full dump follows
};

struct DaemonCounters {
    /// CA certificates loaded over VICI (load-cert, load-authority, load-conn's cacerts) that
    /// could not be trusted: `vici-ca-refused`.
    std::uint64_t ca_refused{0};
    /// Updown scripts started (one per pair of traffic selectors), those that failed (could
    /// not start, exit status not 0, killed) and those killed at updown_timeout.
    std::uint64_t updown_runs{0};
    std::uint64_t updown_failures{0};
    std::uint64_t updown_timeouts{0};
    AddressMonitorCounters addresses;
    /// The revocation fetcher's transfers and the revocation service (`stats`: revocation).
    FetchCounters fetches;
    RevocationCounters revocation;
};

/// `success = yes`, or `success = no` with `errmsg` when one is given.
inline vici::Message result(bool success, const std::string& errmsg = {}) {
    vici::Message r;
    r.add("success", success ? "yes" : "no");
    if (!success && !errmsg.empty()) {
        r.add("errmsg", errmsg);
    }
    return r;
}

/// The first section of a request (load-conn's connection, load-authority's CA), or nullptr.
inline const vici::Section* first_section(const vici::Message& req) {
    for (const vici::Entry& e : req) {
        if (const auto* s = std::get_if<vici::Section>(&e)) {
            return s;
        }
    }
    return nullptr;
}

/// Registers `group->*handler` as the VICI command `name`.
template <class Group>
void add_command(vici::Server& server, const std::string& name, Group* group,
                 void (Group::*handler)(const vici::Message&, const vici::Reply&)) {
    server.add_command(name, [group, handler](const vici::Message& req, const vici::Reply& reply) {
        (group->*handler)(req, reply);
    });
}

}  // namespace ikeplex::daemon
