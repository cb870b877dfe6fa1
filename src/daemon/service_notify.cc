#include "daemon/service_notify.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include <fmt/format.h>
#include <systemd/sd-daemon.h>

#include "util/log.h"

namespace ikeplex::daemon {

namespace {

using log::Subsystem;
constexpr std::chrono::seconds kStatusInterval{1};

}  // namespace

std::string status_text(const ServiceCounts& c) {
    return fmt::format("{} IKE SA{}, {} Child SA{}", c.ike_sas, c.ike_sas == 1 ? "" : "s",
                       c.child_sas, c.child_sas == 1 ? "" : "s");
}

ServiceNotify::ServiceNotify(asio::io_context& io, std::function<ServiceCounts()> counts)
    : counts_(std::move(counts)),
      status_timer_(io),
      watchdog_timer_(io),
      active_(std::getenv("NOTIFY_SOCKET") != nullptr) {}

ServiceNotify::~ServiceNotify() = default;

void ServiceNotify::send(const std::string& state) const {
    if (!active_) {
        return;
    }
    const int r = sd_notify(0, state.c_str());
    if (r < 0) {
        log::warn(Subsystem::kDmn, "sd_notify: {}", std::strerror(-r));
    }
}

void ServiceNotify::ready() {
    if (!active_ || stopping_) {
        return;
    }
    send("READY=1\nSTATUS=" + status_text(counts_()));
    last_status_ = std::chrono::steady_clock::now();
    std::uint64_t usec = 0;
    if (watchdog_interval_.count() == 0 && sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        watchdog_interval_ = std::chrono::microseconds(usec / 2);
        log::info(Subsystem::kDmn, "systemd watchdog: a ping every {} ms",
                  watchdog_interval_.count() / 1000);
        ping();
    }
}

void ServiceNotify::reloading() {
    if (!active_ || stopping_) {
        return;
    }
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    const auto usec = static_cast<std::uint64_t>(ts.tv_sec) * 1000000U +
                      static_cast<std::uint64_t>(ts.tv_nsec) / 1000U;
    send(fmt::format("RELOADING=1\nMONOTONIC_USEC={}", usec));
}

void ServiceNotify::stopping() {
    if (!active_ || stopping_) {
        return;
    }
    stopping_ = true;
    send("STOPPING=1");
    status_timer_.cancel();
    // The pings go on until the loop ends: systemd's stop timeout, not the watchdog, bounds
    // the shutdown.
}

void ServiceNotify::counts_changed() {
    if (!active_ || stopping_ || status_pending_) {
        return;
    }
    status_pending_ = true;
    const auto due = last_status_ + kStatusInterval;
    status_timer_.expires_at(std::max(due, std::chrono::steady_clock::now()));
    status_timer_.async_wait([this](const asio::error_code& ec) {
        status_pending_ = false;
        if (!ec && !stopping_) {
            send_status();
        }
    });
}

void ServiceNotify::send_status() {
    send("STATUS=" + status_text(counts_()));
    last_status_ = std::chrono::steady_clock::now();
}

void ServiceNotify::ping() {
    send("WATCHDOG=1");
    watchdog_timer_.expires_after(watchdog_interval_);
    watchdog_timer_.async_wait([this](const asio::error_code& ec) {
        if (!ec) {
            ping();
        }
    });
}

}  // namespace ikeplex::daemon
