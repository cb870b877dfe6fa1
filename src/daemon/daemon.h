// ikeplexd: configuration, UDP, the engine, the backend and the VICI server wired together on
// one Asio control thread; the VICI commands are groups of their own (vici_query, vici_control,
// vici_config, vici_credentials; engine events in vici_events) that the daemon owns. SIGTERM/SIGINT
// delete every IKE SA (the peers hear of it) and stop; SIGHUP reloads ikeplexd.conf and the
// swanctl.conf it names. Under systemd it tells the service manager so (service_notify.h).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>

#include "config/daemon_settings.h"
#include "crypto/registry.h"
#include "daemon/address_monitor.h"
#include "daemon/eap_radius.h"
#include "daemon/engine_host.h"
#include "daemon/http_fetcher.h"
#include "daemon/key_log.h"
#include "daemon/memory_trim.h"
#include "daemon/revocation_service.h"
#include "daemon/service_notify.h"
#include "daemon/udp_transport.h"
#include "daemon/updown.h"
#include "daemon/updown_hooks.h"
#include "daemon/vici_config.h"
#include "daemon/vici_control.h"
#include "daemon/vici_credentials.h"
#include "daemon/vici_events.h"
#include "daemon/vici_query.h"
#include "daemon/vici_redirect.h"
#include "daemon/virtual_ips.h"
#include "kernel/backend.h"
#include "kernel/backend_factory.h"
#include "vici/server.h"

namespace ikeplex::daemon {

class MetricsServer;

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
    /// Reads ikeplexd.conf and swanctl.conf again (log levels, connections, secrets), between
    /// systemd's RELOADING=1 and READY=1: on SIGHUP and on VICI's reload-settings alike.
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
    /// Whether anyone would read on_log()'s lines (a "log" subscriber, a command waiting for
    /// control-log); else the sink does not even parse them.
    [[nodiscard]] bool wants_log() const;

    [[nodiscard]] EngineHost& host() noexcept { return *host_; }

private:
    Status reread_configuration();  ///< reload() without the notify messages
    void reload_radius(config::RadiusSettings radius);
    void wait_signals();
    void shutdown_poll(std::chrono::steady_clock::time_point deadline);
    void on_event(const ike::Event& e);
    void apply_log_levels();
    /// Established IKE SAs and installed Child SAs (systemd's STATUS=).
    [[nodiscard]] ServiceCounts service_counts() const;
    /// The backend ikeplexd.conf names, with `resources` data-plane workers.
    Status start_backend(unsigned resources);
    /// The VICI command groups, registered with the server.
    void start_vici_groups();
    void start_address_monitor();
    void watch_backend_events();
    void arm_backend_events();
    /// swanctl.conf at start (errors logged), then the authorities' CRL prefetch.
    void load_swanctl_at_start();
    /// The revocation fetcher and service (none if libcurl cannot start: logged).
    void start_revocation();
    /// Opens the key logs of settings_.save_keys (or none) and hooks them to the engine.
    Status apply_save_keys();

    asio::io_context& io_;
    config::DaemonSettings settings_;
    std::string config_path_;
    std::string cli_swanctl_conf_;
    bool cli_debug_{false};
    std::unique_ptr<crypto::Registry> registry_;
    /// The backend, its SPI allocator (if it has one) and whether it can run per-CPU SAs.
    kernel::BuiltBackend backend_;
    std::unique_ptr<asio::posix::stream_descriptor> backend_events_;
    UdpTransport transport_;
    std::unique_ptr<EngineHost> host_;
    vici::Server vici_;
    asio::signal_set signals_;
    asio::steady_timer shutdown_timer_;
    DaemonCounters counters_;
    ReleaseTally vici_released_;  ///< buffers of VICI clients gone since the last trim
    // The VICI command groups (made at start, when the engine host exists).
    std::unique_ptr<CredentialCommands> credentials_;
    std::unique_ptr<ConfigCommands> config_;
    std::unique_ptr<ControlCommands> control_;
    std::unique_ptr<QueryCommands> query_;
    std::unique_ptr<EventPublisher> events_;
    std::unique_ptr<UpdownRunner> updown_;  ///< updown scripts (updown.h)
    std::unique_ptr<UpdownHooks> updown_hooks_;
    std::unique_ptr<VirtualIpHost> vips_;    ///< virtual IPs assigned to us (virtual_ips.h)
    std::unique_ptr<EapRadius> eap_radius_;  ///< EAP-RADIUS and accounting (eap_radius.h)
    /// CRL/OCSP fetches on their own thread (http_fetcher.h) and the answers to the engine's
    /// revocation queries (revocation_service.h); the service before the fetcher goes.
    std::unique_ptr<HttpFetcher> fetcher_;
    std::unique_ptr<RevocationService> revocation_;
    std::unique_ptr<AddressMonitor> addresses_;  ///< the host's addresses, for MOBIKE
    KeyLogger key_logger_;                       ///< save_keys (key_log.h)
    /// The Prometheus endpoint (metrics.h), when metrics.listen is set; destroyed before the
    /// engine host and everything else it reads.
    std::unique_ptr<MetricsServer> metrics_;
    ServiceNotify notify_;  ///< systemd's notify protocol (service_notify.h)

    bool in_log_{false};  ///< re-entrancy guard for on_log
    bool stopping_{false};
};

}  // namespace ikeplex::daemon
