#include "daemon/engine_host.h"

#include <ctime>
#include <vector>

#include "util/log.h"

namespace ikeplex::daemon {

EngineHost::EngineHost(asio::io_context& io, const crypto::Registry& registry,
                       const ike::Settings& settings, kernel::Backend& backend,
                       UdpTransport& transport, std::chrono::milliseconds keep_alive,
                       ike::SpiAllocator* spis)
    : backend_(backend),
      transport_(transport),
      spis_(random_),
      manager_(registry, random_, spis != nullptr ? *spis : spis_, settings),
      timer_(io),
      keepalive_timer_(io),
      trim_timer_(io),
      keep_alive_(keep_alive),
      epoch_(std::chrono::steady_clock::now()),
      started_unix_(unix_now()) {
    backend_.set_event_sink([this](const ike::BackendEvent& e) {
        execute([&](ike::Step& s) { manager_.on_backend_event(e, s); });
    });
    keepalives();
}

// asio's cancel() throws only if the reactor cannot deregister a timer, which does not happen
// for steady timers; there is no error_code overload with ASIO_NO_DEPRECATED.
EngineHost::~EngineHost() {  // NOLINT(bugprone-exception-escape)
    backend_.set_event_sink(nullptr);
    timer_.cancel();
    keepalive_timer_.cancel();
    trim_timer_.cancel();
}

ike::TimePoint EngineHost::now() const {
    return ike::TimePoint{std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::steady_clock::now() - epoch_)
                                  .count()};
}

std::int64_t EngineHost::unix_now() {
    return static_cast<std::int64_t>(std::time(nullptr));
}

void EngineHost::execute(const std::function<void(ike::Step&)>& f) {
    ike::Output out;
    ike::Step step{now(), out, unix_now()};
    f(step);
    if (command_tap_ && !out.commands.empty()) {
        command_tap_(out.commands);
    }
    if (retire_tap_ && !out.commands.empty()) {
        retire_tap_(out.commands);
    }
    const auto vips = [&](bool up) {
        for (const ike::VirtualIpChange& v : out.vips) {
            if (vip_sink_ && v.up == up) {
                vip_sink_(v);
            }
        }
    };
    vips(true);
    backend_.apply(out.commands);
    vips(false);
    // Only now the messages: a response or Delete lets the peer send on a new SA at once, so
    // its inbound SA must be in the data plane first (charon installs before it answers too).
    // Sent before, the peer's first packets on a member rekeyed under load could beat the
    // install (`no_sa` drops in the bench's rekey phase, 2026-12-06).
    for (const ike::OutDatagram& d : out.datagrams) {
        transport_.send(d);
    }
    // Listeners may run further commands (a VICI initiate waiting for child-up); they get a
    // copy so that a nested execute() cannot invalidate what is being iterated.
    const std::vector<ike::Event> events = std::move(out.events);
    std::vector<ike::EapBackendQuery> queries = std::move(out.eap_queries);
    const std::vector<ike::RevocationQuery> revocation = std::move(out.revocation_queries);
    const auto listeners = listeners_;
    for (const ike::Event& e : events) {
        for (const auto& [handle, l] : listeners) {
            l(e);
        }
    }
    if (eap_sink_ && !queries.empty()) {
        eap_sink_(std::move(queries));
    }
    if (revocation_sink_ && !revocation.empty()) {
        revocation_sink_(revocation);
    }
    arm(manager_.pending_timers() == 0 ? ike::kNever : out.wakeup);
    track_memory(events);
}

void EngineHost::track_memory(const std::vector<ike::Event>& events) {
    for (const ike::Event& e : events) {
        if (e.kind == ike::EventKind::kIkeUp) {
            ++ike_up_;
        } else if (e.kind == ike::EventKind::kIkeDown && ike_up_ > 0) {
            --ike_up_;
        }
    }
    if (trim_policy_.update(ike_up_, now().ms) != TrimPolicy::Action::kNone) {
        request_trim("IKE SAs deleted");
    }
}

void EngineHost::request_trim(const char* why) {
    if (now().ms >= trim_policy_.next_allowed_ms()) {
        trim(why);
        return;
    }
    trim_why_ = why;
    if (trim_armed_) {
        return;
    }
    trim_armed_ = true;
    trim_timer_.expires_at(epoch_ + std::chrono::milliseconds(trim_policy_.next_allowed_ms()));
    trim_timer_.async_wait([this](const asio::error_code& ec) {
        if (ec) {
            return;  // cancelled: the host is going away
        }
        trim_armed_ = false;
        trim(trim_why_);
    });
}

void EngineHost::trim(const char* why) {
    trim_heap();
    trim_policy_.trimmed(ike_up_, now().ms);
    log::info(log::Subsystem::kDmn, "heap trimmed ({}): {} IKE SAs established", why, ike_up_);
}

void EngineHost::on_datagram(ByteView message, const Endpoint& local, const Endpoint& remote) {
    execute([&](ike::Step& s) { manager_.on_datagram(message, local, remote, s); });
}

int EngineHost::add_listener(Listener l) {
    listeners_[next_listener_] = std::move(l);
    return next_listener_++;
}

void EngineHost::remove_listener(int handle) {
    listeners_.erase(handle);
}

void EngineHost::arm(ike::TimePoint at) {
    if (at == armed_) {
        return;
    }
    armed_ = at;
    if (at == ike::kNever) {
        timer_.cancel();
        return;
    }
    timer_.expires_at(epoch_ + std::chrono::milliseconds(at.ms));
    timer_.async_wait([this](const asio::error_code& ec) {
        if (ec) {
            return;  // re-armed or cancelled
        }
        armed_ = ike::kNever;
        execute([&](ike::Step& s) { manager_.on_timer(s); });
    });
}

void EngineHost::keepalives() {
    if (keep_alive_.count() == 0) {
        return;
    }
    keepalive_timer_.expires_after(keep_alive_);
    keepalive_timer_.async_wait([this](const asio::error_code& ec) {
        if (ec) {
            return;
        }
        for (const ike::IkeSa* sa : manager_.sas()) {
            if (sa->nat_here() && sa->local().port == transport_.natt_port()) {
                transport_.send_keepalive(sa->local(), sa->remote());
            }
        }
        keepalives();
    });
}

}  // namespace ikeplex::daemon
