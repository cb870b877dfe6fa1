// ikeplexd: the IKEv2 daemon. See ikeplexd(8) and docs/config.md.
//
//   ikeplexd [--config /etc/ikeplexd.conf] [--swanctl-conf FILE] [--vici URI] [--debug]
#include <cstdio>
#include <filesystem>
#include <memory>

#include <CLI/CLI.hpp>
#include <asio/io_context.hpp>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/spdlog.h>

#include "config/daemon_settings.h"
#include "daemon/daemon.h"
#include "daemon/log_sink.h"

int main(int argc, char** argv) {
    using namespace ikeplex;
    CLI::App app{"ikeplexd: IKEv2 daemon with RFC 9611 per-resource Child SAs"};
    std::string config_path = "/etc/ikeplexd.conf";
    std::string swanctl_conf;
    std::string vici_uri;
    bool debug = false;
    app.add_option("-c,--config", config_path, "ikeplexd.conf (missing: built-in defaults)");
    app.add_option("--swanctl-conf", swanctl_conf,
                   "load connections and secrets from this swanctl.conf");
    app.add_option("--vici", vici_uri, "VICI socket, e.g. unix:///run/ikeplexd/ikeplexd.vici");
    app.add_flag("-d,--debug", debug, "log at level 2 for every group");
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
        for (const auto& w : f.warnings) {
            std::fprintf(stderr, "warning: %s\n", w.to_string().c_str());
        }
        for (const auto& e : f.errors) {
            std::fprintf(stderr, "%s\n", e.to_string().c_str());
        }
        if (!loaded) {
            std::fprintf(stderr, "ikeplexd: %s has errors, not starting\n", config_path.c_str());
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

    // Log to the configured target and to VICI subscribers.
    auto dist = std::make_shared<spdlog::sinks::dist_sink_st>();
    if (settings.log_target == "syslog") {
        dist->add_sink(std::make_shared<spdlog::sinks::syslog_sink_st>("ikeplexd", 0, 3 << 3,
                                                                       false));  // LOG_DAEMON
    } else if (settings.log_target != "stderr") {
        dist->add_sink(std::make_shared<spdlog::sinks::basic_file_sink_st>(settings.log_target));
    } else {
        dist->add_sink(std::make_shared<spdlog::sinks::stderr_sink_st>());
    }
    auto vici_sink = std::make_shared<daemon::ViciLogSink>();
    dist->add_sink(vici_sink);
    auto logger = std::make_shared<spdlog::logger>("ikeplexd", dist);
    logger->set_pattern("%H:%M:%S.%e %v");
    spdlog::set_default_logger(logger);

    asio::io_context io;
    daemon::Daemon d(io, std::move(settings), used_config);
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
