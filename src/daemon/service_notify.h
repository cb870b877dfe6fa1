// systemd's notify protocol (sd_notify(3)) for ikeplexd run as a Type=notify service:
// READY=1 once the sockets, the backend and VICI are up, STATUS= with the IKE and Child SA
// counts (at most once a second), RELOADING=1 and READY=1 around a SIGHUP reload, STOPPING=1 at
// shutdown, and WATCHDOG=1 every WATCHDOG_USEC/2 when the service has a watchdog. Everything is
// sent from the control thread's event loop (a hung loop stops the watchdog pings). Without
// NOTIFY_SOCKET (not started by systemd) it does nothing.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

namespace ikeplex::daemon {

/// What STATUS= reports.
struct ServiceCounts {
    std::size_t ike_sas{0};    ///< established IKE SAs
    std::size_t child_sas{0};  ///< installed Child SAs
};

/// "2 IKE SAs, 5 Child SAs" (the text of STATUS=).
std::string status_text(const ServiceCounts& c);

class ServiceNotify {
public:
    /// `counts` is called on the control thread when a STATUS= is due.
    ServiceNotify(asio::io_context& io, std::function<ServiceCounts()> counts);
    ~ServiceNotify();
    ServiceNotify(const ServiceNotify&) = delete;
    ServiceNotify& operator=(const ServiceNotify&) = delete;
    ServiceNotify(ServiceNotify&&) = delete;
    ServiceNotify& operator=(ServiceNotify&&) = delete;

    /// Whether NOTIFY_SOCKET was set at start (else every call below does nothing).
    [[nodiscard]] bool active() const noexcept { return active_; }

    /// READY=1 with the current STATUS=; starts the watchdog pings if systemd asked for them.
    void ready();
    /// RELOADING=1 (before a reload; ready() afterwards).
    void reloading();
    /// STOPPING=1; no more STATUS= or pings.
    void stopping();
    /// The SA counts may have changed: a STATUS= within a second (one per second at most).
    void counts_changed();

private:
    void send(const std::string& state) const;
    void send_status();
    void ping();

    std::function<ServiceCounts()> counts_;
    asio::steady_timer status_timer_;
    asio::steady_timer watchdog_timer_;
    std::chrono::steady_clock::time_point last_status_{};
    std::chrono::microseconds watchdog_interval_{0};
    bool active_{false};
    bool status_pending_{false};
    bool stopping_{false};
};

}  // namespace ikeplex::daemon
