// RFC 5685 in the daemon: the VICI `redirect` command (strongSwan's: selectors ike, ike-id,
// peer-ip, peer-id; target gateway; answer success / errmsg) and the DNS lookup the engine
// uses for REDIRECTs that name their gateway by FQDN.
#pragma once

#include <optional>
#include <string>

#include "daemon/engine_host.h"
#include "util/ip_address.h"
#include "vici/server.h"

namespace ikeplex::daemon {

/// Registers `redirect` with the VICI server (`host` must outlive it).
void register_redirect(vici::Server& server, EngineHost& host);

/// The first address getaddrinfo(3) gives for `fqdn` (blocking: the control thread waits for
/// the resolver, as long as the host's resolv.conf timeouts allow).
std::optional<IpAddress> resolve_host(const std::string& fqdn);

}  // namespace ikeplex::daemon
