// VICI configuration commands: load-conn / unload-conn, pools (vici_pools.cc) and
// reload-settings; and swanctl.conf itself, loaded at start, on SIGHUP and by clear-creds. A
// load-conn body has swanctl.conf's keys (lists for comma-separated values), so it goes
// through the same mapping as the file.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "config/daemon_settings.h"
#include "daemon/engine_host.h"
#include "daemon/vici_credentials.h"
#include "vici/server.h"

namespace ikeplex::daemon {

/// A configuration load's warnings and errors, on the cfg group.
void log_findings(const config::Findings& f);

class ConfigCommands {
public:
    /// `settings`: the daemon's (they change on reload); `per_cpu_sas`: whether the backend
    /// can install per-CPU SAs; `reload`: what reload-settings does.
    ConfigCommands(EngineHost& host, const config::DaemonSettings& settings, bool per_cpu_sas,
                   CredentialCommands& credentials, std::function<Status()> reload)
        : host_(host),
          settings_(settings),
          per_cpu_sas_(per_cpu_sas),
          credentials_(credentials),
          reload_(std::move(reload)) {}

    void register_with(vici::Server& server);
    /// Loads settings.swanctl_conf: its connections replace those it had before (one that now
    /// has errors keeps its previous version), its credentials the file's.
    Status load_swanctl_conf();

private:
    void load_conn(const vici::Message& req, const vici::Reply& reply);
    void unload_conn(const vici::Message& req, const vici::Reply& reply);
    void reload_settings(const vici::Message& req, const vici::Reply& reply);
    // Virtual IP pools (vici_pools.cc).
    void load_pool(const vici::Message& req, const vici::Reply& reply);
    void unload_pool(const vici::Message& req, const vici::Reply& reply);
    void get_pools(const vici::Message& req, const vici::Reply& reply);
    /// The pools of swanctl.conf: loaded (updated keeping leases), and those it had before but
    /// no longer has unloaded once none of their leases is online.
    void sync_file_pools(std::vector<ike::PoolConfig> pools);
    /// Removes the connections of the file loaded before that `loaded` no longer has.
    void drop_missing(const config::SwanctlConfig& loaded);
    /// What the backend makes of connection `c` (config::check_backend): errors = it cannot run
    /// it; warnings = how its groups will start. `at`: the children's positions in the file.
    [[nodiscard]] config::Findings backend_findings(
            const ike::PeerConfig& c, const std::map<std::string, config::SourcePos>& at) const;

    EngineHost& host_;
    const config::DaemonSettings& settings_;
    bool per_cpu_sas_;
    CredentialCommands& credentials_;
    std::function<Status()> reload_;
    std::vector<std::string> file_conns_;  ///< names from swanctl.conf
    std::vector<std::string> file_pools_;  ///< pool names from swanctl.conf
};

}  // namespace ikeplex::daemon
