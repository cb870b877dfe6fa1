// The Prometheus endpoint (ikeplexd.conf `metrics { listen, per_sa }`, docs/config.md
// "Metrics"). prometheus-cpp serves scrapes from its own (civetweb) threads and throws; the
// control thread owns all state. So the control thread builds a snapshot of every metric
// family each second (metrics_snapshot.h) and publishes it under a mutex; a scrape returns the
// last snapshot. prometheus-cpp's exceptions are caught in metrics.cc and nowhere else: the
// Exposer's constructor (the address taken: a Result error) and Collect (an empty answer).
#pragma once

#include <chrono>
#include <memory>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "config/daemon_settings.h"
#include "daemon/engine_host.h"
#include "daemon/metrics_snapshot.h"
#include "util/result.h"

namespace prometheus {
class Exposer;
}

namespace ikeplex::daemon {

class SnapshotCollectable;

class MetricsServer {
    struct Key {
        explicit Key() = default;
    };

public:
    /// How often the control thread publishes a new snapshot.
    static constexpr std::chrono::milliseconds kInterval{1000};

    /// Listens on `settings.listen` (which must be set) and publishes the first snapshot.
    /// When the address cannot be bound: logs "metrics: cannot listen on ADDRESS:PORT: why"
    /// and returns an error (ikeplexd then refuses to start).
    /// `host` also gets a listener for the rekey events (removed again by the destructor).
    static Result<std::unique_ptr<MetricsServer>> start(asio::io_context& io,
                                                        const config::MetricsSettings& settings,
                                                        const MetricsSources& sources,
                                                        EngineHost& host);
    /// Use start(); `Key` keeps the constructor to it.
    MetricsServer(Key, asio::io_context& io, const config::MetricsSettings& settings,
                  const MetricsSources& sources, EngineHost& host);
    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;
    MetricsServer(MetricsServer&&) = delete;
    MetricsServer& operator=(MetricsServer&&) = delete;

private:
    /// Builds and publishes a snapshot, then arms the timer for the next one.
    void publish();
    void arm();

    MetricsSources sources_;
    bool per_sa_;
    EventTally events_;
    EngineHost& host_;
    int listener_{0};  ///< the engine host's listener handle (rekey events)
    asio::steady_timer timer_;
    std::shared_ptr<SnapshotCollectable> snapshot_;
    std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace ikeplex::daemon
