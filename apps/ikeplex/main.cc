// ikeplex: the operator's command line for ikeplexd (and any VICI daemon). See ikeplex(8).
//
//   ikeplex [--uri unix:///run/ikeplexd/ikeplexd.vici] <command> [options]
//   commands: load-all, list-sas, list-conns, initiate, terminate, rekey, stats, counters, log
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "common/version.h"
#include "completion.h"

namespace {

struct ControlCommands {
    CLI::App* initiate;
    CLI::App* terminate;
    CLI::App* rekey;
};

/// initiate, terminate and rekey with their options.
ControlCommands add_control_commands(CLI::App& app, ikeplex::cli::Target& target, int& loglevel,
                                     int& timeout, bool& force) {
    const auto names = [&](CLI::App* c) {
        c->add_option("--ike", target.ike, "connection name");
        c->add_option("--child", target.child, "child name");
    };
    const auto targets = [&](CLI::App* c) {
        names(c);
        c->add_option("--ike-id", target.ike_id, "IKE SA unique id");
        c->add_option("--child-id", target.child_id, "Child SA unique id");
    };
    const auto waits = [&](CLI::App* c) {
        c->add_option("--timeout", timeout,
                      "seconds to wait (0: until the outcome; default: what the daemon's "
                      "retransmissions and keyingtries take)")
                ->check(CLI::Range(0, 86400));
    };
    auto* initiate = app.add_subcommand("initiate", "bring up a connection or child");
    names(initiate);  // like swanctl --initiate: by configuration name
    initiate->add_option("--loglevel", loglevel, "control log level (0-4)");
    waits(initiate);
    auto* terminate = app.add_subcommand("terminate", "delete IKE or Child SAs");
    targets(terminate);
    terminate->add_flag("--force", force, "forget the IKE SA without waiting for the peer");
    waits(terminate);
    auto* rekey = app.add_subcommand("rekey", "rekey IKE or Child SAs (waits for the outcome)");
    targets(rekey);
    rekey->add_option("--loglevel", loglevel, "control log level (0-4)");
    waits(rekey);
    return {initiate, terminate, rekey};
}

}  // namespace

// CLI11 and spdlog report some errors by exception; apps/ catches the ones it can act on
// (parse errors, log files) and lets anything else end the process.
int main(int argc, char** argv) {  // NOLINT(bugprone-exception-escape)
    using namespace ikeplex;
    CLI::App app{"ikeplex: control ikeplexd over VICI"};
    app.require_subcommand(1);
    std::string uri = "unix:///run/ikeplexd/ikeplexd.vici";
    app.add_option("-u,--uri", uri, "the daemon's VICI socket");

    bool json = false;
    cli::SaFilter filter;
    auto* list_sas = app.add_subcommand("list-sas",
                                        "IKE and Child SAs, with CPU column and RFC 9611 groups");
    list_sas->add_option("--ike", filter.ike, "only this connection");
    list_sas->add_option("--ike-id", filter.ike_id, "only this IKE SA");
    list_sas->add_flag("--json", json, "the raw data as JSON");

    auto* list_conns = app.add_subcommand("list-conns", "loaded connections");
    list_conns->add_flag("--json", json, "the raw data as JSON");
    auto* stats = app.add_subcommand("stats", "daemon statistics");
    stats->add_flag("--json", json, "the raw data as JSON");
    auto* counters =
            app.add_subcommand("counters", "event counters (IKE_SA_INIT, COOKIEs, drops, VICI)");
    counters->add_flag("--json", json, "the raw data as JSON");

    cli::Target target;
    int loglevel = 1;
    int timeout = -1;  // not given: the daemon's default
    bool force = false;
    const auto [initiate, terminate, rekey] =
            add_control_commands(app, target, loglevel, timeout, force);
    std::size_t lines = 0;
    auto* log = app.add_subcommand("log", "follow the daemon's log");
    log->add_option("--lines", lines, "stop after this many lines (0: never)");
    std::string file = "/etc/swanctl/swanctl.conf";
    auto* load_all =
            app.add_subcommand("load-all", "load connections and secrets from a swanctl.conf");
    load_all->add_option("-f,--file", file,
                         "the swanctl.conf (its folders hold certificates and keys)");
    apps::add_version_flag(app, "ikeplex");
    apps::add_completion_option(app, "ikeplex");  // last: it walks every command and option
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    auto client = vici::Client::connect(uri);
    if (!client) {
        std::cerr << "ikeplex: " << client.error().to_string() << " (" << uri << ")\n";
        return 2;
    }
    vici::Client& c = *client;
    const cli::Timeout secs =
            timeout < 0 ? cli::Timeout() : cli::Timeout(std::chrono::seconds(timeout));
    if (list_sas->parsed()) {
        return cli::list_sas(c, filter, json, std::cout);
    }
    if (list_conns->parsed()) {
        return cli::list_conns(c, json, std::cout);
    }
    if (stats->parsed()) {
        return cli::stats(c, json, std::cout);
    }
    if (counters->parsed()) {
        return cli::counters(c, json, std::cout);
    }
    if (initiate->parsed()) {
        return cli::initiate(c, target, loglevel, secs, std::cout);
    }
    if (terminate->parsed()) {
        return cli::terminate(c, target, force, secs, std::cout);
    }
    if (rekey->parsed()) {
        return cli::rekey(c, target, loglevel, secs, std::cout);
    }
    if (log->parsed()) {
        return cli::log(c, lines, std::cout);
    }
    if (load_all->parsed()) {
        return cli::load_all(c, file, std::cout, std::cerr);
    }
    return 2;
}
