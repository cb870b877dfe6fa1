// VICI queries: version, stats, list-sas, list-conns, get-conns, list-policies, get-counters
// (list-certs and list-authorities are credential commands: vici_credentials.h).
#pragma once

#include "daemon/engine_host.h"
#include "daemon/udp_transport.h"
#include "daemon/vici_command.h"
#include "kernel/backend.h"
#include "vici/server.h"

namespace ikeplex::daemon {

class QueryCommands {
public:
    QueryCommands(const EngineHost& host, const kernel::Backend& backend,
                  const UdpTransport& transport, const vici::Server& server,
                  const DaemonCounters& counters)
        : host_(host),
          backend_(backend),
          transport_(transport),
          server_(server),
          counters_(counters) {}

    void register_with(vici::Server& server);

private:
    void version(const vici::Message& req, const vici::Reply& reply);
    void stats(const vici::Message& req, const vici::Reply& reply);
    void list_sas(const vici::Message& req, const vici::Reply& reply);
    void list_conns(const vici::Message& req, const vici::Reply& reply);
    void get_conns(const vici::Message& req, const vici::Reply& reply);
    void list_policies(const vici::Message& req, const vici::Reply& reply);
    void get_counters(const vici::Message& req, const vici::Reply& reply);
    /// list-retries (ikeplex's own): the connections waiting for their next attempt
    /// (keyingtries), one section each: children, attempt (failed so far), next-attempt-in (s).
    void list_retries(const vici::Message& req, const vici::Reply& reply);
    /// The data plane's workers in `stats` (one section each) and get-counters (summed).
    void add_worker_sections(vici::Message& r) const;
    void add_worker_sums(vici::Message& all) const;

    const EngineHost& host_;
    const kernel::Backend& backend_;
    const UdpTransport& transport_;
    const vici::Server& server_;
    const DaemonCounters& counters_;
};

}  // namespace ikeplex::daemon
