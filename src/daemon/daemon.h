// ikeplexd: configuration, UDP, the engine, the backend and the VICI server wired together on
// one Asio control thread. SIGTERM/SIGINT delete every IKE SA (the peers hear of it) and stop;
// SIGHUP reloads ikeplexd.conf and the swanctl.conf it names.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>

#include "config/daemon_settings.h"
#include "crypto/registry.h"
#include "daemon/engine_host.h"
#include "daemon/udp_transport.h"
#include "kernel/backend.h"
#include "kernel/backend_factory.h"
#include "vici/server.h"

namespace ikeplex::daemon {

/// One log line as VICI's log/control-log events carry it.
struct LogLine {
    std::string group;  ///< "IKE", "ENC", ...
    int level{1};       ///< strongSwan's 0..4
    std::string ike_name;
    std::uint32_t ike_id{0};
    std::string msg;
};

/// The local address the routing table picks to reach `remote` (a connected UDP socket).
std::optional<IpAddress> source_address(const IpAddress& remote);

class Daemon {
public:
    /// `config_path`: the ikeplexd.conf the settings came from (for reloads; may be empty).
    Daemon(asio::io_context& io, config::DaemonSettings settings, std::string config_path);
    ~Daemon();
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;
    Daemon(Daemon&&) = delete;
    Daemon& operator=(Daemon&&) = delete;

    /// Binds the sockets, starts VICI, loads swanctl.conf, installs start actions.
    Status start();
    /// Deletes every IKE SA, waits (at most `grace`) for the peers to answer, then stops.
    void shutdown(std::chrono::milliseconds grace = std::chrono::seconds(3));
    /// Reads ikeplexd.conf and swanctl.conf again (log levels, connections, secrets).
    /// Command-line overrides (see keep_on_reload) still win afterwards.
    Status reload();
    /// What the command line set over ikeplexd.conf, kept across reloads: a swanctl.conf path
    /// (empty: none given) and --debug.
    void keep_on_reload(std::string swanctl_conf, bool debug) {
        cli_swanctl_conf_ = std::move(swanctl_conf);
        cli_debug_ = debug;
    }

    /// A log line (from the spdlog sink), to VICI subscribers and waiting commands.
    void on_log(const LogLine& line);

    [[nodiscard]] EngineHost& host() noexcept { return *host_; }

private:
    /// An initiate or terminate waiting for its outcome (it streams control-log meanwhile).
    struct Control {
        std::optional<vici::Reply> reply;
        bool initiate{true};
        std::set<std::uint32_t> ike_ids;     ///< the IKE SAs it concerns (control-log filter)
        std::string child;                   ///< initiate: the child config that must come up
        std::set<std::uint32_t> ikes_to_go;  ///< terminate: IKE SAs still to go
        std::set<std::uint32_t> children;    ///< terminate: Child SAs still to go
        int loglevel{1};
        std::unique_ptr<asio::steady_timer> timer;
        std::size_t matches{0};
    };

    void wait_signals();
    void shutdown_poll(std::chrono::steady_clock::time_point deadline);
    void register_query_commands();
    void register_control_commands();
    void register_config_commands();
    void on_event(const ike::Event& e);
    void publish_event(const ike::Event& e);
    /// Drops the snapshots of SAs that event `e` ends.
    void forget_snapshots(const ike::Event& e);
    Status load_swanctl_conf();
    /// Credentials: swanctl.conf's (re-read) plus everything loaded over VICI.
    void rebuild_credentials(ike::Credentials from_file);
    void add_vici_credentials(ike::Credentials& c) const;
    void apply_log_levels();
    /// The backend ikeplexd.conf names, with `resources` data-plane workers.
    Status start_backend(unsigned resources);
    /// What the backend makes of connection `c` (config::check_backend): errors = it cannot run
    /// it; warnings = how its groups will start. `at`: the children's positions in the file.
    [[nodiscard]] config::Findings backend_findings(
            const ike::PeerConfig& c, const std::map<std::string, config::SourcePos>& at) const;
    void watch_backend_events();
    void arm_backend_events();
    /// Starts tracking a command; returns its id.
    std::uint64_t track(Control c, std::chrono::milliseconds timeout);
    void finish_control(std::uint64_t id, bool success, const std::string& errmsg);
    /// Whether event `e` settles control `c` (true: success, false: failure).
    [[nodiscard]] std::optional<bool> outcome(Control& c, const ike::Event& e) const;

    asio::io_context& io_;
    config::DaemonSettings settings_;
    std::string config_path_;
    std::string cli_swanctl_conf_;
    bool cli_debug_{false};
    /// What list-sa showed of each live IKE and Child SA when it came up, for the down events
    /// (published after the step, when the SA may be gone already). Erased on the way down.
    std::map<std::uint32_t, vici::Message> ike_snapshots_;
    std::map<std::uint32_t, vici::Message> child_snapshots_;
    std::unique_ptr<crypto::Registry> registry_;
    /// The backend, its SPI allocator (if it has one) and whether it can run per-CPU SAs.
    kernel::BuiltBackend backend_;
    std::unique_ptr<asio::posix::stream_descriptor> backend_events_;
    UdpTransport transport_;
    std::unique_ptr<EngineHost> host_;
    vici::Server vici_;
    asio::signal_set signals_;
    asio::steady_timer shutdown_timer_;

    std::vector<std::string> file_conns_;                       ///< names from swanctl.conf
    std::map<std::string, ike::Credentials::Psk> vici_shared_;  ///< load-shared, by id
    std::vector<Bytes> vici_certs_;                             ///< load-cert (flag NONE)
    std::vector<Bytes> vici_cas_;                               ///< load-cert (CA), load-authority
    std::vector<Bytes> vici_keys_;                              ///< load-key

    std::map<std::uint64_t, Control> controls_;
    std::uint64_t next_control_{1};
    std::uint64_t current_control_{0};  ///< gets every log line while its command runs
    bool in_log_{false};                ///< re-entrancy guard for on_log
    bool stopping_{false};
};

}  // namespace ikeplex::daemon
