// ikeplexd: the IKEv2 daemon. See ikeplexd(8) and docs/config.md.
//
//   ikeplexd [--config /etc/ikeplexd.conf] [--swanctl-conf FILE] [--vici URI] [--debug] [--check]
#include <array>
#include <cstdio>
#include <ctime>
#include <filesystem>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <memory>

#include <CLI/CLI.hpp>
#include <asio/io_context.hpp>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/spdlog.h>

#include "common/version.h"
#include "config/daemon_settings.h"
#include "config/legacy_policy.h"
#include "config/swanctl.h"
#include "daemon/daemon.h"
#include "daemon/journald_sink.h"
#include "daemon/log_sink.h"
#include "util/log.h"

namespace {

/// A configuration load's warnings ("warning: file:line: ...") and errors ("file:line: ...").
void print_findings(const ikeplex::config::Findings& f, std::FILE* to) {
    for (const auto& w : f.warnings) {
        std::fprintf(to, "warning: %s\n", w.to_string().c_str());
    }
    for (const auto& e : f.errors) {
        std::fprintf(to, "%s\n", e.to_string().c_str());
    }
}

/// --check: loads the swanctl.conf as the daemon would and reports what it found.
int check_swanctl(const std::string& path, const std::string& used_config,
                  const std::string& backend, bool radius, const ikeplex::ike::Settings& engine,
                  bool refuse_legacy) {
    using namespace ikeplex;
    std::printf("%s: ok\n",
                used_config.empty() ? "ikeplexd.conf (built-in defaults)" : used_config.c_str());
    if (!engine.follow_redirects || !engine.redirect_rules.empty()) {
        // RFC 5685: what the gateway rules do, and whether we follow redirects ourselves.
        for (const ike::RedirectRule& r : engine.redirect_rules) {
            std::printf("redirect %s: clients %s to %s\n", r.name.c_str(),
                        r.remote_id.empty() ? "in IKE_SA_INIT" : "in IKE_AUTH (by remote_id)",
                        r.gateway.to_string().c_str());
        }
        std::printf("follow_redirects = %s\n", engine.follow_redirects ? "yes" : "no");
    }
    if (path.empty()) {
        std::printf("no swanctl.conf configured (connections come over VICI)\n");
        return 0;
    }
    config::Findings f;
    auto loaded = config::load_swanctl_file(path, f);
    if (!loaded) {
        print_findings(f, stdout);
        std::printf("%s: cannot be loaded: %s\n", path.c_str(), loaded.error().to_string().c_str());
        return 1;
    }
    std::size_t children = 0;
    for (const auto& c : loaded->connections) {
        children += c.children.size();
        // The kernel's per-CPU support is only known at start (the xfrm probe): assumed here.
        config::check_backend(c, backend, true, loaded->positions, f);
        config::check_radius(c, radius, loaded->positions, f);
        config::check_legacy(c, refuse_legacy, loaded->positions, f);
    }
    config::check_secrets(*loaded, f);
    config::check_pools(*loaded, f);
    config::check_crls(*loaded, static_cast<std::int64_t>(std::time(nullptr)), f);
    print_findings(f, stdout);
    const auto& cr = loaded->credentials;
    std::printf(
            "%s: %zu connection(s), %zu child(ren), %zu shared key(s), %zu certificate(s) "
            "with key, %zu CA certificate(s), %zu pool(s); %zu error(s), %zu warning(s)\n",
            path.c_str(), loaded->connections.size(), children, cr.psks.size(), cr.certs.size(),
            cr.ca_certs.size(), loaded->pools.size(), f.errors.size(), f.warnings.size());
    if (!cr.crls.empty() || !cr.authorities.empty()) {
        std::printf("note: %zu CRL(s), %zu authorit%s\n", cr.crls.size(), cr.authorities.size(),
                    cr.authorities.size() == 1 ? "y" : "ies");
    }
    if (!cr.ppks.empty()) {
        std::printf("note: %zu post-quantum preshared key(s) (RFC 8784)\n", cr.ppks.size());
    }
    if (!cr.pending_certs.empty() || !cr.pending_keys.empty()) {
        std::printf(
                "note: %zu certificate(s) without their private key, %zu key(s) without "
                "a certificate\n",
                cr.pending_certs.size(), cr.pending_keys.size());
    }
    return f.ok() ? 0 : 1;
}

/// The sink of `log { target }`: stderr, syslog, journald or a file; nullptr (said on stderr)
/// when a file cannot be opened.
std::shared_ptr<spdlog::sinks::sink> make_target_sink(const ikeplex::config::DaemonSettings& s,
                                                      const std::string& used_config) {
    using namespace ikeplex;
    if (s.log_target == "syslog") {
        return std::make_shared<spdlog::sinks::syslog_sink_st>("ikeplexd", 0, 3 << 3,
                                                               false);  // LOG_DAEMON
    }
    if (s.log_target == "journald") {
        return std::make_shared<daemon::JournaldSink>();
    }
    if (s.log_target == "stderr") {
        // buffered like a file (stderr is unbuffered: one write per line); flushed below
        static std::array<char, 1U << 16U> stderr_buffer{};
        std::setvbuf(stderr, stderr_buffer.data(), _IOFBF, stderr_buffer.size());
        return std::make_shared<daemon::StderrSink>();
    }
    try {  // spdlog reports an unwritable file by exception (apps/ may catch; src/ never)
        return std::make_shared<spdlog::sinks::basic_file_sink_st>(s.log_target);
    } catch (const spdlog::spdlog_ex& e) {
        std::fprintf(stderr, "%s: log target: %s\n",
                     used_config.empty() ? "ikeplexd" : used_config.c_str(), e.what());
        return nullptr;
    }
}

/// The process's logger: the target sink, `vici` (VICI subscribers), flushed once per turn of
/// the event loop; nullptr when the target cannot be opened (said on stderr).
std::shared_ptr<spdlog::logger> start_logging(const ikeplex::config::DaemonSettings& settings,
                                              const std::string& used_config, asio::io_context& io,
                                              const std::shared_ptr<spdlog::sinks::sink>& vici) {
    using namespace ikeplex;
    auto target = make_target_sink(settings, used_config);
    if (!target) {
        return nullptr;
    }
    auto dist = std::make_shared<spdlog::sinks::dist_sink_st>();
    dist->add_sink(target);
    dist->add_sink(vici);
    auto flush_soon = std::make_shared<daemon::FlushSoonSink>(io);
    dist->add_sink(flush_soon);
    auto logger = std::make_shared<spdlog::logger>("ikeplexd", dist);
    // A file's lines carry the date; stderr's the time of day (a terminal, or a supervisor
    // that adds its own).
    const bool to_stderr = settings.log_target == "stderr";
    logger->set_formatter(daemon::make_line_formatter(
            settings.log_time_format.value_or(to_stderr ? "%H:%M:%S" : "%Y-%m-%d %H:%M:%S"),
            settings.log_time_add_ms));
    logger->flush_on(spdlog::level::warn);  // the rest once per turn of the event loop
    flush_soon->set_logger(logger);
    spdlog::set_default_logger(logger);
    return logger;
}

}  // namespace

// CLI11 and spdlog report some errors by exception; apps/ catches the ones it can act on
// (parse errors, log files) and lets anything else end the process.
int main(int argc, char** argv) {  // NOLINT(bugprone-exception-escape)
    using namespace ikeplex;
#if defined(__GLIBC__)
    // No fastbins: while thousands of IKE SAs were deleted, glibc consolidated them again and
    // again over an ever larger heap (docs/performance.md, G7a); tcache still serves the small
    // blocks of one SA.
    mallopt(M_MXFAST, 0);
#endif
    CLI::App app{"ikeplexd: IKEv2 daemon with RFC 9611 per-resource Child SAs"};
    std::string config_path = "/etc/ikeplexd.conf";
    std::string swanctl_conf;
    std::string vici_uri;
    bool debug = false;
    bool check = false;
    auto* config_opt = app.add_option(
            "-c,--config", config_path,
            "ikeplexd.conf (must exist; without -c a missing /etc/ikeplexd.conf means built-in "
            "defaults)");
    app.add_option("--swanctl-conf", swanctl_conf,
                   "load connections and secrets from this swanctl.conf");
    app.add_option("--vici", vici_uri, "VICI socket, e.g. unix:///run/ikeplexd/ikeplexd.vici");
    app.add_flag("-d,--debug", debug, "log at level 2 for every group");
    app.add_flag("--check", check,
                 "check ikeplexd.conf and the swanctl.conf, print every finding, and exit (0: no "
                 "errors)");
    apps::add_version_flag(app, "ikeplexd");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }

    config::DaemonSettings settings;
    std::string used_config;
    const bool given = config_opt->count() > 0;
    if (given && !std::filesystem::exists(config_path)) {
        std::fprintf(stderr, "ikeplexd: %s: no such file%s\n", config_path.c_str(),
                     check ? "" : ", not starting");
        return 1;
    }
    if (std::filesystem::exists(config_path)) {
        config::Findings f;
        auto loaded = config::load_daemon_settings(config_path, f);
        print_findings(f, stderr);
        if (!loaded) {
            std::fprintf(stderr, "ikeplexd: %s has errors%s\n", config_path.c_str(),
                         check ? "" : ", not starting");
            return 1;
        }
        settings = std::move(*loaded);
        used_config = config_path;
    }
    if (!swanctl_conf.empty()) {
        settings.swanctl_conf = swanctl_conf;
    }
    if (!vici_uri.empty()) {
        settings.vici = vici_uri;
    }
    if (debug) {
        settings.log_default = 2;
    }
    if (check) {
        return check_swanctl(settings.swanctl_conf, used_config, settings.backend,
                             settings.radius.enabled(), settings.engine, settings.refuse_legacy);
    }

    // Log to the configured target and to VICI subscribers.
    asio::io_context io;
    const bool to_stderr = settings.log_target == "stderr";
    auto vici_sink = std::make_shared<daemon::ViciLogSink>();
    auto logger = start_logging(settings, used_config, io, vici_sink);
    if (!logger) {
        return 1;
    }
    if (used_config.empty()) {
        log::info(log::Subsystem::kDmn, "{} not found: built-in defaults", config_path);
    }

    daemon::Daemon d(io, std::move(settings), used_config);
    d.keep_on_reload(swanctl_conf, debug);
    vici_sink->attach(&d);
    if (auto st = d.start(); !st) {
        spdlog::error("ikeplexd: cannot start: {}", st.error().to_string());
        logger->flush();
        // Whatever the target and level, whoever started us reads why on stderr.
        if (!to_stderr || !spdlog::should_log(spdlog::level::err)) {
            std::fprintf(stderr, "ikeplexd: cannot start: %s\n", st.error().to_string().c_str());
        }
        vici_sink->attach(nullptr);
        return 1;
    }
    io.run();
    vici_sink->attach(nullptr);
    return 0;
}
