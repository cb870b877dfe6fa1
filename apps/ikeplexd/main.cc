// ikeplexd: the IKEv2 daemon. See ikeplexd(8) and docs/config.md.
//
//   ikeplexd [--config /etc/ikeplexd.conf] [--swanctl-conf FILE] [--vici URI] [--debug] [--check]
#include <array>
#include <cstdio>
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

#include "config/daemon_settings.h"
#include "config/swanctl.h"
#include "daemon/daemon.h"
#include "daemon/log_sink.h"

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
                  const std::string& backend) {
    using namespace ikeplex;
    std::printf("%s: ok\n",
                used_config.empty() ? "ikeplexd.conf (built-in defaults)" : used_config.c_str());
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
    }
    config::check_secrets(*loaded, f);
    print_findings(f, stdout);
    const auto& cr = loaded->credentials;
    std::printf(
            "%s: %zu connection(s), %zu child(ren), %zu shared key(s), %zu certificate(s) "
            "with key, %zu CA certificate(s); %zu error(s), %zu warning(s)\n",
            path.c_str(), loaded->connections.size(), children, cr.psks.size(), cr.certs.size(),
            cr.ca_certs.size(), f.errors.size(), f.warnings.size());
    if (!cr.pending_certs.empty() || !cr.pending_keys.empty()) {
        std::printf(
                "note: %zu certificate(s) without their private key, %zu key(s) without "
                "a certificate\n",
                cr.pending_certs.size(), cr.pending_keys.size());
    }
    return f.ok() ? 0 : 1;
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
    app.add_option("-c,--config", config_path, "ikeplexd.conf (missing: built-in defaults)");
    app.add_option("--swanctl-conf", swanctl_conf,
                   "load connections and secrets from this swanctl.conf");
    app.add_option("--vici", vici_uri, "VICI socket, e.g. unix:///run/ikeplexd/ikeplexd.vici");
    app.add_flag("-d,--debug", debug, "log at level 2 for every group");
    app.add_flag("--check", check,
                 "check ikeplexd.conf and the swanctl.conf, print every finding, and exit (0: no "
                 "errors)");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }

    config::DaemonSettings settings;
    std::string used_config;
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
        return check_swanctl(settings.swanctl_conf, used_config, settings.backend);
    }

    // Log to the configured target and to VICI subscribers.
    asio::io_context io;
    auto dist = std::make_shared<spdlog::sinks::dist_sink_st>();
    if (settings.log_target == "syslog") {
        dist->add_sink(std::make_shared<spdlog::sinks::syslog_sink_st>("ikeplexd", 0, 3 << 3,
                                                                       false));  // LOG_DAEMON
    } else if (settings.log_target != "stderr") {
        try {  // spdlog reports an unwritable file by exception (apps/ may catch; src/ never)
            dist->add_sink(
                    std::make_shared<spdlog::sinks::basic_file_sink_st>(settings.log_target));
        } catch (const spdlog::spdlog_ex& e) {
            std::fprintf(stderr, "%s: log target: %s\n",
                         used_config.empty() ? "ikeplexd" : used_config.c_str(), e.what());
            return 1;
        }
    } else {
        // buffered like a file (stderr is unbuffered: one write per line); flushed below
        static std::array<char, 1U << 16U> stderr_buffer{};
        std::setvbuf(stderr, stderr_buffer.data(), _IOFBF, stderr_buffer.size());
        dist->add_sink(std::make_shared<daemon::StderrSink>());
    }
    auto vici_sink = std::make_shared<daemon::ViciLogSink>();
    dist->add_sink(vici_sink);
    auto flush_soon = std::make_shared<daemon::FlushSoonSink>(io);
    dist->add_sink(flush_soon);
    auto logger = std::make_shared<spdlog::logger>("ikeplexd", dist);
    logger->set_pattern("%H:%M:%S.%e %v");
    logger->flush_on(spdlog::level::warn);  // the rest once per turn of the event loop
    flush_soon->set_logger(logger);
    spdlog::set_default_logger(logger);

    daemon::Daemon d(io, std::move(settings), used_config);
    d.keep_on_reload(swanctl_conf, debug);
    vici_sink->attach(&d);
    if (auto st = d.start(); !st) {
        spdlog::error("ikeplexd: cannot start: {}", st.error().to_string());
        vici_sink->attach(nullptr);
        return 1;
    }
    io.run();
    vici_sink->attach(nullptr);
    return 0;
}
