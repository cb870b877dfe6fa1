#include "daemon/daemon.h"

#include <csignal>
#include <cstring>
#include <filesystem>
#include <thread>

#include <netinet/in.h>
#include <sys/socket.h>

#include <unistd.h>

#include "config/swanctl.h"
#include "daemon/metrics.h"
#include "daemon/vici_format.h"
#include "eap/eap.h"
#include "util/log.h"
#include "util/sockaddr.h"
#include "util/unique_fd.h"

namespace ikeplex::daemon {

namespace {

using log::Subsystem;

/// Address and route changes are handed to the engine after this long without another one.
constexpr std::chrono::milliseconds kAddressQuiet{150};

}  // namespace

std::optional<IpAddress> source_address(const IpAddress& remote) {
    const UniqueFd fd(::socket(remote.is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd) {
        return std::nullopt;
    }
    sockaddr_storage ss{};
    const socklen_t len = to_sockaddr(Endpoint{remote, 500}, ss);
    std::optional<IpAddress> out;
    sockaddr_storage local{};
    socklen_t local_len = sizeof local;
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&ss), len) == 0 &&
        ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&local), &local_len) == 0) {
        out = from_sockaddr(local).address;
    }
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
      shutdown_timer_(io),
      notify_(io, [this] { return service_counts(); }) {}

Daemon::~Daemon() = default;

void Daemon::apply_log_levels() {
    int most = settings_.log_default;
    for (const auto& [group, l] : settings_.log_levels) {
        most = std::max(most, l);
    }
    spdlog::set_level(log::spdlog_level(most));
    for (std::size_t i = 0; i < log::kSubsystems; ++i) {
        const auto s = static_cast<Subsystem>(i);
        int level = settings_.log_default;
        for (const auto& [group, l] : settings_.log_levels) {
            if (log::subsystem_of(group) == s) {
                level = l;
            }
        }
        log::set_level(s, level);
    }
}

namespace {

/// The eap layer's methods with ikeplexd.conf's EAP-TLS versions (tls { }).
ike::EapFactory eap_factory(eap::TlsVersions tls) {
    return {[tls](eap::Type t, eap::ServerContext ctx) {
                ctx.tls_versions = tls;
                return eap::make_server(t, std::move(ctx));
            },
            [tls](eap::Type t, eap::PeerContext ctx) {
                ctx.tls_versions = tls;
                return eap::make_peer(t, std::move(ctx));
            }};
}

}  // namespace

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
    host_->manager().set_host_lookup(resolve_host);  // RFC 5685 REDIRECT to an FQDN
    host_->manager().services().eap =
            eap_factory({settings_.tls_version_min, settings_.tls_version_max});
    IKEPLEX_TRY(apply_save_keys());
    updown_ = std::make_unique<UpdownRunner>(
            io_, counters_,
            std::chrono::duration_cast<std::chrono::milliseconds>(settings_.updown_timeout));
    updown_hooks_ = std::make_unique<UpdownHooks>(
            host_->manager(),
            [this](const UpdownSa& sa, bool up) { run_updown(*updown_, sa, up); });
    host_->add_listener([this](const ike::Event& e) { on_event(e); });
    vips_ = std::make_unique<VirtualIpHost>(
            *backend_.backend, [this] { return settings_.resolve_file; },
            [this] { return settings_.install_virtual_ip; });
    host_->set_vip_sink([this](const ike::VirtualIpChange& v) { vips_->apply(v); });
    if (settings_.radius.enabled()) {
        eap_radius_ = IKEPLEX_TRY(EapRadius::create(io_, *host_, settings_.radius));
    }
    start_revocation();
    if (backend_.backend->event_fd() >= 0) {
        watch_backend_events();
    }
    start_address_monitor();
    start_vici_groups();
    if (settings_.metrics.listen) {
        // Before VICI: once its socket exists, the metrics endpoint listens too.
        const MetricsSources sources{
                host_->manager(), host_->started_unix(),  *backend_.backend, transport_, vici_,
                counters_,        engine.cookie_threshold};
        metrics_ = IKEPLEX_TRY(MetricsServer::start(io_, settings_.metrics, sources, *host_));
    }
    std::string path =
            settings_.vici.starts_with("unix://") ? settings_.vici.substr(7) : settings_.vici;
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    vici::ServerLimits limits = vici_.limits();
    limits.max_clients = settings_.vici_max_clients;
    vici_.set_limits(limits);
    // Clients that leave free their buffers; after enough of them, give the heap back.
    vici_.on_client_gone([this](std::size_t released) {
        if (vici_released_.add(released)) {
            host_->request_trim("VICI clients left");
        }
    });
    IKEPLEX_TRY(vici_.listen(path));
    if (settings_.vici_swanctl_socket) {
        const std::string charon(config::kCharonViciPath);
        std::filesystem::create_directories(std::filesystem::path(charon).parent_path(), ec);
        IKEPLEX_TRY(vici_.listen(charon));
    }
    load_swanctl_at_start();
    wait_signals();
    log::info(Subsystem::kDmn, "ikeplexd started: {} resources, backend {}, VICI on {}",
              engine.resources, backend_.backend->name(), settings_.vici);
    notify_.ready();
    return ok();
}

void Daemon::load_swanctl_at_start() {
    if (!settings_.swanctl_conf.empty()) {
        if (auto st = config_->load_swanctl_conf(); !st) {
            log::error(Subsystem::kCfg, "{}: not loaded completely", settings_.swanctl_conf);
        }
    }
    if (revocation_) {
        revocation_->refresh_authorities();  // the authorities' CRLs, fetched ahead of need
    }
}

void Daemon::start_revocation() {
    auto fetcher = HttpFetcher::create(io_, {}, &counters_.fetches);
    if (!fetcher) {
        log::error(Subsystem::kDmn, "no revocation fetcher: {}", fetcher.error().to_string());
        return;
    }
    fetcher_ = std::move(*fetcher);
    revocation_ = std::make_unique<RevocationService>(
            io_, *fetcher_, host_->manager().revocation(),
            [this]() -> const ike::Credentials& { return host_->manager().credentials(); },
            [this](std::uint32_t ike_id, std::uint32_t seq) {
                host_->execute([&](ike::Step& s) {
                    host_->manager().on_revocation_answer(ike_id, seq, s);
                });
            },
            counters_.revocation, [] { return EngineHost::unix_now(); });
    host_->set_revocation_sink(
            [this](const std::vector<ike::RevocationQuery>& q) { revocation_->on_queries(q); });
}

Status Daemon::apply_save_keys() {
    const Status opened = key_logger_.open(settings_.save_keys);
    // Keys leave the engine only while a file takes them.
    ike::IkeKeyLog ike_keys;
    if (key_logger_.ike_on()) {
        ike_keys = [this](const ike::IkeKeyRecord& r) { key_logger_.ike_sa(r); };
    }
    host_->manager().set_key_log(std::move(ike_keys));
    EngineHost::CommandTap esp_keys;
    if (key_logger_.esp_on()) {
        esp_keys = [this](const std::vector<ike::BackendCommand>& c) { key_logger_.child_sas(c); };
    }
    host_->set_command_tap(std::move(esp_keys));
    return opened;
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
    b.vip_interface = settings_.install_virtual_ip_on;
    for (const IpAddress& a : settings_.listen) {
        b.udp_binds.push_back(Endpoint{a, settings_.port_nat_t});
    }
    backend_ = IKEPLEX_TRY(kernel::make_backend(b, *registry_));
    return ok();
}

void Daemon::start_address_monitor() {
    // MOBIKE (RFC 4555): the engine learns the host's addresses now and after each change.
    auto sink = [this](std::vector<IpAddress> addresses) {
        host_->execute([&](ike::Step& s) {
            host_->manager().on_local_addresses(std::move(addresses), s);
        });
    };
    auto exclude = [this](const HostAddress& a) { return vips_->holds(a.address); };
    auto m = AddressMonitor::start(io_, std::move(sink), std::move(exclude), kAddressQuiet,
                                   counters_.addresses);
    if (!m) {
        log::warn(Subsystem::kDmn,
                  "no address monitor (MOBIKE will not follow address changes): {}",
                  m.error().to_string());
        return;
    }
    addresses_ = std::move(*m);
}

void Daemon::start_vici_groups() {
    credentials_ = std::make_unique<CredentialCommands>(*host_, counters_, [this] {
        if (!settings_.swanctl_conf.empty()) {
            (void)config_->load_swanctl_conf();
        }
    });
    config_ = std::make_unique<ConfigCommands>(*host_, settings_, backend_.per_cpu_sas,
                                               *credentials_, [this] { return reload(); });
    control_ = std::make_unique<ControlCommands>(io_, *host_);
    query_ = std::make_unique<QueryCommands>(*host_, *backend_.backend, transport_, vici_,
                                             counters_);
    events_ = std::make_unique<EventPublisher>(vici_, *host_, *backend_.backend);
    credentials_->register_with(vici_);
    config_->register_with(vici_);
    control_->register_with(vici_);
    query_->register_with(vici_);
    events_->register_with(vici_);
    register_redirect(vici_, *host_);
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
    notify_.stopping();
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
    // The IKE SAs gone and their down scripts finished (or the grace period over).
    const bool scripts_done = updown_ == nullptr || updown_->idle();
    if ((host_->manager().sas().empty() && scripts_done) ||
        std::chrono::steady_clock::now() >= deadline) {
        signals_.cancel();
        if (addresses_) {
            addresses_->stop();
        }
        if (backend_events_) {
            asio::error_code ec;
            backend_events_->close(ec);
        }
        vici_.close();
        transport_.close();
        if (fetcher_) {
            fetcher_->stop();  // aborts the transfers and joins the fetcher thread
        }
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

Status Daemon::reload() {
    notify_.reloading();
    Status st = reread_configuration();
    notify_.ready();
    return st;
}

Status Daemon::reread_configuration() {
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
        settings_.updown_timeout = s->updown_timeout;
        settings_.save_keys = s->save_keys;
        (void)apply_save_keys();  // a file it cannot open is logged, the others are kept
        reload_radius(std::move(s->radius));
        if (updown_) {
            updown_->set_timeout(std::chrono::duration_cast<std::chrono::milliseconds>(
                    settings_.updown_timeout));
        }
        if (cli_debug_) {
            settings_.log_default = std::max(settings_.log_default, 2);
        }
        apply_log_levels();
    }
    Status st = settings_.swanctl_conf.empty() ? ok() : config_->load_swanctl_conf();
    if (revocation_) {
        revocation_->refresh_authorities();  // new authorities' CRLs now, gone ones stop
    }
    return st;
}

void Daemon::reload_radius(config::RadiusSettings radius) {
    // Servers, secrets and accounting as in the file now (eap_radius.h: what is in flight
    // finishes on the old client); a socket that cannot be opened keeps the old settings.
    Status st = ok();
    if (eap_radius_) {
        st = eap_radius_->reconfigure(radius);
    } else if (radius.enabled()) {
        auto created = EapRadius::create(io_, *host_, radius);
        st = created ? ok() : Status(created.error());
        if (created) {
            eap_radius_ = std::move(*created);
        }
    }
    if (!st) {
        log::error(Subsystem::kCfg, "RADIUS settings not reloaded: {}", st.error().to_string());
        return;
    }
    settings_.radius = std::move(radius);
}

bool Daemon::wants_log() const {
    return !in_log_ && (vici_.wanted("log") || (control_ && control_->waiting()));
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
    if (control_) {
        control_->on_log(line.ike_id, line.level, m);
    }
    in_log_ = false;
}

ServiceCounts Daemon::service_counts() const {
    ServiceCounts c;
    if (!host_) {
        return c;
    }
    for (const ike::IkeSa* sa : host_->manager().sas()) {
        if (sa->state() != ike::IkeState::kEstablished && sa->state() != ike::IkeState::kRekeying) {
            continue;
        }
        ++c.ike_sas;
        for (const auto& child : sa->children()) {
            const bool up = child->state == ike::ChildState::kInstalled ||
                            child->state == ike::ChildState::kRekeying;
            c.child_sas += up ? 1U : 0U;
        }
    }
    return c;
}

void Daemon::on_event(const ike::Event& e) {
    notify_.counts_changed();
    events_->on_event(e);
    updown_hooks_->on_event(e);
    control_->on_event(e);
}

}  // namespace ikeplex::daemon
