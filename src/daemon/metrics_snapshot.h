// The daemon's state as Prometheus metric families (docs/config.md, "Metrics"), built on the
// control thread; MetricsServer (metrics.h) hands the result to the scrape threads. Labels have
// bounded values (states, CPUs, drop reasons, configured names) unless per_sa asks for one
// series per IKE SA and Child SA.
#pragma once

#include <cstdint>
#include <vector>

#include <prometheus/metric_family.h>

#include "daemon/udp_transport.h"
#include "daemon/vici_command.h"
#include "ike/manager.h"
#include "ike/output.h"
#include "kernel/backend.h"
#include "vici/server.h"

namespace ikeplex::daemon {

/// Engine events counted for the metrics (the engine has no rekey counters of its own).
struct EventTally {
    std::uint64_t ike_rekeys{0};
    std::uint64_t child_rekeys{0};

    void on_event(const ike::Event& e) noexcept;
};

/// Where the metrics are read from: all of it owned by, and read on, the control thread.
struct MetricsSources {
    const ike::IkeSaManager& manager;
    std::int64_t started_unix;  ///< when the daemon started (UNIX seconds)
    const kernel::Backend& backend;
    const UdpTransport& transport;
    const vici::Server& vici;
    const DaemonCounters& counters;
    /// Half-open IKE SAs from which every IKE_SA_INIT must bring a COOKIE
    /// (ike::Settings::kNoLimit: never).
    std::uint32_t cookie_threshold;
};

/// Every metric family, in a fixed order; with `per_sa`, also the per-SA ones.
std::vector<prometheus::MetricFamily> build_metrics(const MetricsSources& s,
                                                    const EventTally& events, bool per_sa);

}  // namespace ikeplex::daemon
