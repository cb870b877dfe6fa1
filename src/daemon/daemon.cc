#include "daemon/daemon.h"

#include <csignal>
#include <cstring>
#include <filesystem>
#include <thread>

#include <netinet/in.h>
#include <sys/socket.h>

#include <unistd.h>

#include "config/swanctl.h"
#include "daemon/vici_format.h"
#include "util/log.h"
#include "util/sockaddr.h"

namespace ikeplex::daemon {

namespace {

using log::Subsystem;

spdlog::level::level_enum spd_level(int strongswan_level) {
    // strongSwan: -1 silent, 0 basic, 1 audit (default), 2 control, 3 controlmore, 4 raw.
    if (strongswan_level < 0) {
        return spdlog::level::off;
    }
    if (strongswan_level <= 1) {
        return spdlog::level::info;
    }
    return strongswan_level >= 4 ? spdlog::level::trace : spdlog::level::debug;
}

}  // namespace

std::optional<IpAddress> source_address(const IpAddress& remote) {
    const int fd = ::socket(remote.is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return std::nullopt;
    }
    sockaddr_storage ss{};
    const socklen_t len = to_sockaddr(Endpoint{remote, 500}, ss);
    std::optional<IpAddress> out;
    sockaddr_storage local{};
    socklen_t local_len = sizeof local;
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&ss), len) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) == 0) {
        out = from_sockaddr(local).address;
    }
    ::close(fd);
    return out;
}

Daemon::Daemon(asio::io_context& io, config::DaemonSettings settings, std::string config_path)
    : io_(io),
      settings_(std::move(settings)),
      config_path_(std::move(config_path)),
      transport_(io, [this](ByteView m, const Endpoint& l,
                            const Endpoint& r) { host_->on_datagram(m, l, r); }),
      vici_(io),
      signals_(io, SIGTERM, SIGINT, SIGHUP),
      shutdown_timer_(io) {}

Daemon::~Daemon() = default;

void Daemon::apply_log_levels() {
    int most = settings_.log_default;
    for (const auto& [group, l] : settings_.log_levels) {
        most = std::max(most, l);
    }
    spdlog::set_level(spd_level(most));
    for (std::size_t i = 0; i < log::kSubsystems; ++i) {
        const auto s = static_cast<Subsystem>(i);
        int level = settings_.log_default;
        for (const auto& [group, l] : settings_.log_levels) {
            if (log::subsystem_of(group) == s) {
                level = l;
            }
        }
        log::set_level(s, spd_level(level));
    }
}

Status Daemon::start() {
    apply_log_levels();
    auto registry = crypto::Registry::create();
    if (!registry) {
        return registry.error();
    }
    registry_ = std::move(*registry);
    ike::Settings engine = settings_.engine;
    const bool userspace = settings_.backend == "userspace";
    const bool xfrm = settings_.backend == "xfrm";
    // With the kernel the resources are its CPUs (XFRMA_SA_PCPU must name one that exists).
    engine.resources = settings_.workers != 0 && !xfrm
                               ? settings_.workers
                               : std::max(1U, std::thread::hardware_concurrency());
    // Without raw ESP sockets every SA must be UDP-encapsulated: fake a NAT (as libipsec does).
    engine.force_encap = userspace && !settings_.raw_esp;
    IKEPLEX_TRY(transport_.open(settings_.listen, settings_.port, settings_.port_nat_t, userspace,
                                xfrm));
    IKEPLEX_TRY(start_backend(engine.resources));
    host_ = std::make_unique<EngineHost>(io_, *registry_, engine, *backend_.backend, transport_,
                                         settings_.keep_alive, backend_.spis);
    host_->manager().set_source_lookup(source_address);
    host_->add_listener([this](const ike::Event& e) { on_event(e); });
    if (backend_.backend->event_fd() >= 0) {
        watch_backend_events();
    }
    register_query_commands();
    register_control_commands();
    register_config_commands();
    for (const char* e :
         {"log", "control-log", "ike-updown", "child-updown", "ike-rekey", "child-rekey", "list-sa",
          "list-conn", "list-policy", "list-cert", "list-authority"}) {
        vici_.add_event(e);
    }
    std::string path =
            settings_.vici.starts_with("unix://") ? settings_.vici.substr(7) : settings_.vici;
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    IKEPLEX_TRY(vici_.listen(path));
    if (!settings_.swanctl_conf.empty()) {
        if (auto st = load_swanctl_conf(); !st) {
            log::error(Subsystem::kCfg, "{}: not loaded completely", settings_.swanctl_conf);
        }
    }
    wait_signals();
    log::info(Subsystem::kDmn, "ikeplexd started: {} resources, backend {}, VICI on {}",
              engine.resources, backend_.backend->name(), settings_.vici);
    return ok();
}

Status Daemon::start_backend(unsigned resources) {
    kernel::BackendSettings b;
    b.kind = settings_.backend;
    b.workers = resources;
    b.tun_name = settings_.tun_name;
    b.mtu = settings_.mtu;
    b.offloads = settings_.offloads;
    b.raw_esp = settings_.raw_esp;
    b.ipsec_mb = settings_.ipsec_mb;
    for (const IpAddress& a : settings_.listen) {
        b.udp_binds.push_back(Endpoint{a, settings_.port_nat_t});
    }
    backend_ = IKEPLEX_TRY(kernel::make_backend(b, *registry_));
    return ok();
}

void Daemon::watch_backend_events() {
    const int fd = ::dup(backend_.backend->event_fd());
    if (fd < 0) {
        log::error(Subsystem::kDmn, "cannot watch data-plane events: {}", std::strerror(errno));
        return;
    }
    backend_events_ = std::make_unique<asio::posix::stream_descriptor>(io_, fd);
    arm_backend_events();
}

void Daemon::arm_backend_events() {
    backend_events_->async_wait(asio::posix::stream_descriptor::wait_read,
                                [this](const asio::error_code& ec) {
                                    if (ec || stopping_) {
                                        return;
                                    }
                                    backend_.backend->poll_events();
                                    arm_backend_events();
                                });
}

void Daemon::wait_signals() {
    signals_.async_wait([this](const asio::error_code& e, int sig) {
        if (e) {
            return;
        }
        if (sig == SIGHUP) {
            log::info(Subsystem::kDmn, "SIGHUP: reloading the configuration");
            (void)reload();
            wait_signals();
            return;
        }
        log::info(Subsystem::kDmn, "signal {}: deleting all IKE SAs and stopping", sig);
        shutdown();
    });
}

void Daemon::shutdown(std::chrono::milliseconds grace) {
    if (stopping_) {
        return;
    }
    stopping_ = true;
    host_->manager().stop_accepting();
    std::vector<std::uint32_t> ids;
    for (const ike::IkeSa* sa : host_->manager().sas()) {
        ids.push_back(sa->id());
    }
    for (std::uint32_t id : ids) {
        host_->execute([&](ike::Step& s) { (void)host_->manager().terminate_ike(id, s); });
    }
    shutdown_poll(std::chrono::steady_clock::now() + grace);
}

void Daemon::shutdown_poll(std::chrono::steady_clock::time_point deadline) {
    if (host_->manager().sas().empty() || std::chrono::steady_clock::now() >= deadline) {
        signals_.cancel();
        if (backend_events_) {
            asio::error_code ec;
            backend_events_->close(ec);
        }
        vici_.close();
        transport_.close();
        io_.stop();
        return;
    }
    shutdown_timer_.expires_after(std::chrono::milliseconds(50));
    shutdown_timer_.async_wait([this, deadline](const asio::error_code& ec) {
        if (!ec) {
            shutdown_poll(deadline);
        }
    });
}

namespace {

/// A configuration load's warnings and errors, on the cfg group.
void log_findings(const config::Findings& f) {
    for (const auto& w : f.warnings) {
        log::info(Subsystem::kCfg, "{}", w.to_string());
    }
    for (const auto& e : f.errors) {
        log::error(Subsystem::kCfg, "{}", e.to_string());
    }
}

}  // namespace

Status Daemon::reload() {
    if (!config_path_.empty()) {
        config::Findings f;
        auto s = config::load_daemon_settings(config_path_, f);
        log_findings(f);
        if (!s) {
            return s.error();
        }
        // Sockets, the VICI path and the backend stay as they are until a restart.
        settings_.log_default = s->log_default;
        settings_.log_levels = s->log_levels;
        settings_.swanctl_conf = cli_swanctl_conf_.empty() ? s->swanctl_conf : cli_swanctl_conf_;
        settings_.window_size = s->window_size;
        if (cli_debug_) {
            settings_.log_default = std::max(settings_.log_default, 2);
        }
        apply_log_levels();
    }
    if (!settings_.swanctl_conf.empty()) {
        return load_swanctl_conf();
    }
    return ok();
}

Status Daemon::load_swanctl_conf() {
    config::Findings f;
    auto loaded = config::load_swanctl_file(settings_.swanctl_conf, f);
    log_findings(f);
    if (!loaded) {
        return loaded.error();
    }
    ike::IkeSaManager& m = host_->manager();
    // Connections the file no longer has go; the others are replaced or added. One the file
    // still has but that now has errors keeps its previous version.
    std::vector<std::string> previous = std::move(file_conns_);
    file_conns_.clear();
    for (const std::string& old : previous) {
        const auto& failed = loaded->failed_connections;
        if (std::find(failed.begin(), failed.end(), old) != failed.end()) {
            file_conns_.push_back(old);
            log::error(Subsystem::kCfg, "connection '{}' has errors: its previous version stays",
                       old);
            continue;
        }
        const bool kept = std::any_of(loaded->connections.begin(), loaded->connections.end(),
                                      [&](const ike::PeerConfig& c) { return c.name == old; });
        if (!kept) {
            m.remove(old);
        }
    }
    std::size_t refused = 0;
    for (ike::PeerConfig c : loaded->connections) {
        const config::Findings bf = backend_findings(c, loaded->positions);
        for (const auto& w : bf.warnings) {
            log::warn(Subsystem::kCfg, "{}", w.to_string());
        }
        if (!bf.ok()) {
            for (const auto& e : bf.errors) {
                log::error(Subsystem::kCfg, "{} (connection '{}' not loaded)", e.to_string(),
                           c.name);
            }
            ++refused;
            continue;
        }
        file_conns_.push_back(c.name);
        if (settings_.window_size > 1) {
            c.window_size = settings_.window_size;
        }
        m.upsert(std::move(c));
    }
    rebuild_credentials(std::move(loaded->credentials));
    host_->execute([&](ike::Step& s) { m.start_actions(s); });
    const std::size_t failed = refused + loaded->failed_connections.size();
    if (failed == 0) {
        log::info(Subsystem::kCfg, "loaded {} connection(s) from {}", loaded->connections.size(),
                  settings_.swanctl_conf);
    } else {
        log::error(Subsystem::kCfg, "loaded {} connection(s) from {}; {} not loaded (see above)",
                   loaded->connections.size() - refused, settings_.swanctl_conf, failed);
    }
    return f.errors.empty() && refused == 0 ? ok()
                                            : make_error(Errc::kConfig, "swanctl.conf has errors");
}

config::Findings Daemon::backend_findings(
        const ike::PeerConfig& c, const std::map<std::string, config::SourcePos>& at) const {
    config::Findings f;
    config::check_backend(c, settings_.backend, backend_.per_cpu_sas, at, f);
    return f;
}

void Daemon::add_vici_credentials(ike::Credentials& c) const {
    for (const auto& [id, psk] : vici_shared_) {
        c.psks.push_back(ike::Credentials::Psk{psk.ids, psk.secret.clone()});
    }
    for (const Bytes& b : vici_cas_) {
        if (auto cert = crypto::Certificate::from_any(b)) {
            (void)c.add_ca(std::move(*cert));
        }
    }
    for (const Bytes& b : vici_certs_) {
        if (auto cert = crypto::Certificate::from_any(b)) {
            c.add_own_cert(std::move(*cert));
        }
    }
    for (const Bytes& b : vici_keys_) {
        if (auto key = crypto::PrivateKey::from_any(b)) {
            c.add_key(std::move(*key));
        }
    }
}

void Daemon::rebuild_credentials(ike::Credentials from_file) {
    add_vici_credentials(from_file);
    host_->manager().set_credentials(std::move(from_file));
}

void Daemon::on_log(const LogLine& line) {
    if (in_log_) {
        return;
    }
    in_log_ = true;
    vici::Message m;
    m.add("group", line.group);
    m.add("level", std::to_string(line.level));
    if (!line.ike_name.empty()) {
        m.add("ikesa-name", line.ike_name);
        m.add("ikesa-uniqueid", std::to_string(line.ike_id));
    }
    m.add("msg", line.msg);
    if (vici_.wanted("log")) {
        vici_.publish("log", m);
    }
    // control-log: to the command running now, and to those waiting for this IKE SA.
    for (auto& [id, c] : controls_) {
        const bool concerns =
                id == current_control_ || (line.ike_id != 0 && c.ike_ids.contains(line.ike_id));
        if (concerns && line.level <= c.loglevel && c.reply && c.reply->alive()) {
            c.reply->event("control-log", m);
        }
    }
    in_log_ = false;
}

std::uint64_t Daemon::track(Control c, std::chrono::milliseconds timeout) {
    const std::uint64_t id = next_control_++;
    if (timeout.count() > 0) {
        c.timer = std::make_unique<asio::steady_timer>(io_, timeout);
        c.timer->async_wait([this, id](const asio::error_code& ec) {
            if (!ec) {
                finish_control(id, false, "timeout");
            }
        });
    }
    controls_.emplace(id, std::move(c));
    return id;
}

void Daemon::finish_control(std::uint64_t id, bool success, const std::string& errmsg) {
    auto it = controls_.find(id);
    if (it == controls_.end()) {
        return;
    }
    Control c = std::move(it->second);
    controls_.erase(it);
    if (c.timer) {
        c.timer->cancel();
    }
    if (!c.reply) {
        return;
    }
    vici::Message r;
    r.add("success", success ? "yes" : "no");
    if (!c.initiate) {
        r.add("matches", std::to_string(c.matches));
        r.add("terminated", std::to_string(success ? c.matches : 0));
    }
    if (!success && !errmsg.empty()) {
        r.add("errmsg", errmsg);
    }
    c.reply->respond(r);
}

std::optional<bool> Daemon::outcome(Control& c, const ike::Event& e) const {
    if (!c.ike_ids.contains(e.ike_id)) {
        // An IKE rekey hands the SA over: follow it.
        return std::nullopt;
    }
    using ike::EventKind;
    if (c.initiate) {
        switch (e.kind) {
            case EventKind::kChildUp:
                return c.child.empty() || e.name == c.child ? std::optional<bool>(true)
                                                            : std::nullopt;
            case EventKind::kIkeUp:
                return c.child.empty() ? std::optional<bool>(true) : std::nullopt;
            case EventKind::kChildFailed:
                return e.name == c.child ? std::optional<bool>(false) : std::nullopt;
            case EventKind::kIkeFailed:
            case EventKind::kIkeDown:
                return false;
            default:
                return std::nullopt;
        }
    }
    switch (e.kind) {
        case EventKind::kChildDown:
            c.children.erase(e.child_id);
            break;
        case EventKind::kIkeDown:
        case EventKind::kIkeFailed:
            c.ikes_to_go.erase(e.ike_id);
            break;
        default:
            break;
    }
    if (c.children.empty() && c.ikes_to_go.empty()) {
        return true;
    }
    return std::nullopt;
}

void Daemon::on_event(const ike::Event& e) {
    publish_event(e);
    forget_snapshots(e);
    // IKE rekeys move SAs to new ids: waiting commands follow them.
    if (e.kind == ike::EventKind::kIkeRekeyed) {
        for (auto& [id, c] : controls_) {
            if (c.ike_ids.contains(e.ike_id)) {
                c.ike_ids.insert(e.new_id);
            }
        }
    }
    std::vector<std::pair<std::uint64_t, bool>> done;
    for (auto& [id, c] : controls_) {
        if (auto o = outcome(c, e)) {
            done.emplace_back(id, *o);
        }
    }
    for (const auto& [id, success] : done) {
        finish_control(id, success, success ? std::string() : e.reason);
    }
}

}  // namespace ikeplex::daemon
