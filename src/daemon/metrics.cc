#include "daemon/metrics.h"

#include <cerrno>
#include <cstring>
#include <exception>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <netinet/in.h>
#include <sys/socket.h>

#include <prometheus/collectable.h>
#include <prometheus/exposer.h>

#include "util/log.h"
#include "util/sockaddr.h"
#include "util/unique_fd.h"

namespace ikeplex::daemon {

/// What a scrape returns: the last snapshot the control thread published.
class SnapshotCollectable final : public prometheus::Collectable {
public:
    void publish(std::vector<prometheus::MetricFamily> families) {
        {
            const std::lock_guard lock(mutex_);
            families_.swap(families);
        }
        // The previous snapshot is freed here, outside the lock.
    }

    /// Runs on a civetweb thread and must not throw: without memory for the copy, the
    /// scrape gets nothing rather than an exception inside prometheus-cpp.
    [[nodiscard]] std::vector<prometheus::MetricFamily> Collect() const override {
        try {
            const std::lock_guard lock(mutex_);
            return families_;
        } catch (const std::exception&) {
            return {};
        }
    }

private:
    mutable std::mutex mutex_;
    std::vector<prometheus::MetricFamily> families_;
};

namespace {

/// "127.0.0.1:9903" (civetweb's listening_ports and our messages; "[::1]:9903" for IPv6,
/// which the settings refuse while Debian's civetweb is built without it).
std::string host_port(const Endpoint& e) {
    const std::string a = e.address.to_string();
    return (e.address.is_v4() ? a : "[" + a + "]") + ":" + std::to_string(e.port);
}

/// Why `e` cannot be bound, as errno (0: it can be, the failure was something else): civetweb
/// reports only that it failed, so a plain socket asks the kernel.
int bind_errno(const Endpoint& e) {
    const UniqueFd fd(
            ::socket(e.address.is_v4() ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) {
        return errno;
    }
    const int one = 1;
    (void)::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_storage ss{};
    const socklen_t len = to_sockaddr(e, ss);
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&ss), len) != 0) {
        return errno;
    }
    return 0;
}

/// The one place prometheus-cpp's set-up exceptions are caught: the Exposer (civetweb's
/// threads, listening on `e`) with `collectable` registered at /metrics.
Result<std::unique_ptr<prometheus::Exposer>> open_exposer(
        const Endpoint& e, const std::weak_ptr<prometheus::Collectable>& collectable) {
    const std::string where = host_port(e);
    std::string why;
    try {
        auto exposer = std::make_unique<prometheus::Exposer>(where, 2);
        exposer->RegisterCollectable(collectable);
        return exposer;
    } catch (const std::exception& ex) {
        why = ex.what();
    }
    const int err = bind_errno(e);
    if (err != 0) {
        why = std::strerror(err);
    }
    log::error(log::Subsystem::kDmn, "metrics: cannot listen on {}: {}", where, why);
    return Error{Errc::kSystem, "metrics: cannot listen on its address (metrics.listen)", err, 0,
                 e.port};
}

}  // namespace

MetricsServer::MetricsServer(Key, asio::io_context& io, const config::MetricsSettings& settings,
                             const MetricsSources& sources, EngineHost& host)
    : sources_(sources),
      per_sa_(settings.per_sa),
      host_(host),
      timer_(io),
      snapshot_(std::make_shared<SnapshotCollectable>()) {}

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(asio::io_context& io,
                                                            const config::MetricsSettings& settings,
                                                            const MetricsSources& sources,
                                                            EngineHost& host) {
    if (!settings.listen) {
        return make_error(Errc::kInvalidArgument, "metrics: no listen address");
    }
    auto m = std::make_unique<MetricsServer>(Key{}, io, settings, sources, host);
    m->exposer_ = IKEPLEX_TRY(open_exposer(*settings.listen, m->snapshot_));
    MetricsServer* self = m.get();
    m->listener_ = host.add_listener([self](const ike::Event& e) { self->events_.on_event(e); });
    m->publish();
    log::info(log::Subsystem::kDmn, "metrics: Prometheus endpoint on http://{}/metrics{}",
              host_port(*settings.listen), settings.per_sa ? " (per-SA series)" : "");
    return m;
}

MetricsServer::~MetricsServer() {
    // civetweb's threads stop (and are joined) before anything they read goes away.
    exposer_.reset();
    host_.remove_listener(listener_);
}

void MetricsServer::publish() {
    snapshot_->publish(build_metrics(sources_, events_, per_sa_));
    arm();
}

void MetricsServer::arm() {
    timer_.expires_after(kInterval);
    timer_.async_wait([this](const asio::error_code& ec) {
        if (!ec) {
            publish();
        }
    });
}

}  // namespace ikeplex::daemon
