// ikeplex: the operator's command line for ikeplexd (and any VICI daemon). See ikeplex(8).
//
//   ikeplex [--uri unix:///run/ikeplexd/ikeplexd.vici] <command> [options]
//   commands: load-all, list-sas, list-conns, list-certs, list-authorities, list-pools, initiate,
//   terminate,
//             rekey, redirect, stats, counters, log
#include <iostream>
#include <optional>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/usage.h"
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

/// list-conns, list-certs and list-authorities with their options, and running the one given.
class Listings {
public:
    Listings(CLI::App& app, bool& json) : json_(json) {
        conns_ = app.add_subcommand("list-conns", "loaded connections");
        conns_->add_flag("--json", json, "the raw data as JSON");
        certs_ = app.add_subcommand("list-certs", "loaded certificates and CAs (decoded)");
        certs_->add_option("--type", query_.type, "X509, X509_CRL, ... or ANY");
        certs_->add_option("--flag", query_.flag, "with --type X509: NONE, CA, AA, OCSP or ANY");
        certs_->add_option("--subject", query_.subject, "only certificates of this identity");
        certs_->add_flag("--json", json, "the decoded data as JSON");
        authorities_ = app.add_subcommand("list-authorities", "loaded certification authorities");
        authorities_->add_option("--name", authority_, "only this authority");
        authorities_->add_flag("--json", json, "the raw data as JSON");
        pools_ = app.add_subcommand("list-pools", "virtual IP pools (with --leases: each lease)");
        pools_->add_flag("--leases", leases_, "list each lease: address, identity, status");
        pools_->add_option("--name", pool_, "only this pool");
        pools_->add_flag("--json", json, "the raw data as JSON");
    }

    /// The exit status of the listing the command line asked for; nullopt if none.
    std::optional<int> run(ikeplex::vici::Client& c) const {
        if (conns_->parsed()) {
            return ikeplex::cli::list_conns(c, json_, std::cout);
        }
        if (certs_->parsed()) {
            return ikeplex::cli::list_certs(c, query_, json_, std::cout);
        }
        if (authorities_->parsed()) {
            return ikeplex::cli::list_authorities(c, authority_, json_, std::cout);
        }
        if (pools_->parsed()) {
            return ikeplex::cli::list_pools(c, pool_, leases_, json_, std::cout);
        }
        return std::nullopt;
    }

private:
    bool& json_;
    CLI::App* conns_{nullptr};
    CLI::App* certs_{nullptr};
    CLI::App* authorities_{nullptr};
    CLI::App* pools_{nullptr};
    ikeplex::cli::CertQuery query_;
    std::string authority_;
    std::string pool_;
    bool leases_{false};
};

/// A parse error: an unknown command (or none) as ikeplex says it (cli/usage.h); anything else
/// as CLI11 says it. Every usage error exits with 2 (help with 0).
int parse_failed(const CLI::App& app, const CLI::ParseError& e) {
    // Without a command CLI11 says "A subcommand is required" (or, if a command is optional,
    // that the word was not expected): the word it could not place is in remaining().
    const bool no_command = app.get_subcommands().empty() &&
                            (e.get_name() == "RequiredError" || e.get_name() == "ExtrasError");
    std::string word;
    for (const std::string& arg : no_command ? app.remaining() : std::vector<std::string>{}) {
        if (!arg.starts_with("-")) {
            word = arg;
            break;
        }
    }
    if (!no_command || (word.empty() && e.get_name() == "ExtrasError")) {
        return app.exit(e) == 0 ? 0 : ikeplex::cli::kUsageError;
    }
    std::vector<ikeplex::cli::CommandHelp> commands;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
        commands.emplace_back(sub->get_name(), sub->get_description());
    }
    ikeplex::cli::print_unknown_command(word, commands, std::cerr);
    return ikeplex::cli::kUsageError;
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

    const Listings listings(app, json);
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
    cli::RedirectArgs redirect_args;
    auto* redirect = app.add_subcommand(
            "redirect", "send the peers of IKE SAs to another gateway (RFC 5685; as swanctl)");
    redirect->add_option("--ike", redirect_args.ike, "IKE SAs of this connection");
    redirect->add_option("--ike-id", redirect_args.ike_id, "this IKE SA");
    redirect->add_option("--peer-ip", redirect_args.peer_ip, "peers at this address or subnet");
    redirect->add_option("--peer-id", redirect_args.peer_id,
                         "peers with this identity (wildcards)");
    redirect->add_option("--gateway", redirect_args.gateway, "the gateway: address or FQDN")
            ->required();
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
        return parse_failed(app, e);
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
    if (const auto rc = listings.run(c)) {
        return *rc;
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
    if (redirect->parsed()) {
        return cli::redirect(c, redirect_args, std::cout);
    }
    if (load_all->parsed()) {
        return cli::load_all(c, file, std::cout, std::cerr);
    }
    return 2;
}
