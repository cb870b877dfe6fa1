#include "daemon/vici_query.h"

#include <algorithm>
#include <ctime>
#include <map>

#include <sys/utsname.h>

#include <fmt/format.h>

#include "daemon/vici_command.h"
#include "daemon/vici_format.h"

namespace ikeplex::daemon {

namespace {

std::string since(std::int64_t unix_time) {
    const auto t = static_cast<std::time_t>(unix_time);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%b %d %H:%M:%S %Y", &tm);
    return buf;
}

std::string running(std::int64_t seconds) {
    if (seconds < 60) {
        return std::to_string(seconds) + (seconds == 1 ? " second" : " seconds");
    }
    if (seconds < 3600) {
        return std::to_string(seconds / 60) + " minutes";
    }
    if (seconds < 86400) {
        return std::to_string(seconds / 3600) + " hours";
    }
    return std::to_string(seconds / 86400) + " days";
}

/// Whether a request's ike / ike-id filter lets `sa` through.
bool selected(const vici::Message& req, const ike::IkeSa& sa) {
    if (auto name = req.get("ike");
        name && (sa.config() == nullptr || sa.config()->name != *name)) {
        return false;
    }
    if (auto id = req.get("ike-id"); id && *id != std::to_string(sa.id())) {
        return false;
    }
    return true;
}

}  // namespace

void QueryCommands::register_with(vici::Server& server) {
    add_command(server, "version", this, &QueryCommands::version);
    add_command(server, "stats", this, &QueryCommands::stats);
    add_command(server, "list-sas", this, &QueryCommands::list_sas);
    add_command(server, "list-conns", this, &QueryCommands::list_conns);
    add_command(server, "get-conns", this, &QueryCommands::get_conns);
    add_command(server, "list-policies", this, &QueryCommands::list_policies);
    add_command(server, "get-counters", this, &QueryCommands::get_counters);
    add_command(server, "list-retries", this, &QueryCommands::list_retries);
}

void QueryCommands::list_retries(const vici::Message& req, const vici::Reply& reply) {
    const auto name = req.get("ike");
    const std::int64_t now = host_.now().ms;
    vici::Message r;
    for (const ike::PendingRestart& p : host_.manager().pending_restarts()) {
        if (name && *name != p.conn) {
            continue;
        }
        vici::Message& s = r.add_section(p.conn);
        s.add("attempt", std::to_string(p.attempts));
        s.add("next-attempt-in",
              fmt::format("{:.1f}",
                          static_cast<double>(std::max<std::int64_t>(p.at.ms - now, 0)) / 1000));
        vici::List& children = s.add_list("children");
        for (const std::string& c : p.children) {
            children.add(c);
        }
    }
    reply.respond(r);
}

void QueryCommands::version(const vici::Message&, const vici::Reply& reply) {
    utsname u{};
    ::uname(&u);
    vici::Message r;
    r.add("daemon", "ikeplexd");
    r.add("version", IKEPLEX_VERSION);
    r.add("sysname", u.sysname);
    r.add("release", u.release);
    r.add("machine", u.machine);
    reply.respond(r);
}

void QueryCommands::stats(const vici::Message&, const vici::Reply& reply) {
    const ike::IkeSaManager& m = host_.manager();
    vici::Message r;
    vici::Message& up = r.add_section("uptime");
    up.add("running", running(EngineHost::unix_now() - host_.started_unix()));
    up.add("since", since(host_.started_unix()));
    // Workers and queues as charon reports them: one control thread, no job queues.
    vici::Message& w = r.add_section("workers");
    w.add("total", "1");
    w.add("idle", "1");
    vici::Message& active = w.add_section("active");
    for (const char* q : {"critical", "high", "medium", "low"}) {
        active.add(q, "0");
    }
    vici::Message& queues = r.add_section("queues");
    for (const char* q : {"critical", "high", "medium", "low"}) {
        queues.add(q, "0");
    }
    r.add("scheduled", std::to_string(m.pending_timers()));
    vici::Message& sas = r.add_section("ikesas");
    sas.add("total", std::to_string(m.sas().size()));
    sas.add("half-open", std::to_string(m.half_open()));
    // ikeplex: peers' requests for a Child SA beyond max_child_sas (NO_ADDITIONAL_SAS).
    sas.add("child-sas-refused", std::to_string(m.counters().child_sas_refused));
    vici::List& plugins = r.add_list("plugins");
    plugins.add("ikeplex-engine");
    plugins.add(std::string("backend-") + backend_.name());
    add_worker_sections(r);
    // ikeplex: the VICI server's own load (issue 18: clients, limits, what it held back).
    const vici::ServerCounters& v = server_.counters();
    vici::Message& vs = r.add_section("vici");
    vs.add("clients", std::to_string(server_.connected()));
    vs.add("max-clients", std::to_string(server_.limits().max_clients));
    vs.add("clients-refused", std::to_string(v.clients_refused));
    vs.add("accept-errors", std::to_string(v.accept_errors));
    vs.add("events-dropped", std::to_string(v.events_dropped));
    vs.add("throttled", std::to_string(v.throttled));
    // ikeplex: updown scripts (swanctl.conf's updown).
    vici::Message& ud = r.add_section("updown");
    ud.add("runs", std::to_string(counters_.updown_runs));
    ud.add("failures", std::to_string(counters_.updown_failures));
    ud.add("timeouts", std::to_string(counters_.updown_timeouts));
    // ikeplex: CRL and OCSP fetches and the answers to the engine's revocation queries.
    vici::Message& rv = r.add_section("revocation");
    rv.add("fetches-ok", std::to_string(counters_.fetches.ok));
    rv.add("fetches-failed", std::to_string(counters_.fetches.failed));
    rv.add("fetches-timeout", std::to_string(counters_.fetches.timeout));
    rv.add("fetches-shared", std::to_string(counters_.fetches.shared));
    rv.add("queries", std::to_string(counters_.revocation.queries));
    rv.add("answers", std::to_string(counters_.revocation.answers));
    rv.add("crls-fetched", std::to_string(counters_.revocation.crls));
    rv.add("ocsp-answers", std::to_string(counters_.revocation.ocsp));
    rv.add("unusable", std::to_string(counters_.revocation.unusable));
    reply.respond(r);
}

void QueryCommands::add_worker_sections(vici::Message& r) const {
    const auto workers = backend_.worker_stats();
    if (workers.empty()) {
        return;
    }
    // ikeplex: the data plane's workers (one per CPU / RFC 9611 resource).
    vici::Message& dp = r.add_section("dataplane");
    for (const kernel::WorkerStats& ws : workers) {
        vici::Message& one = dp.add_section("worker-" + std::to_string(ws.worker));
        one.add("tx-packets", std::to_string(ws.tx_packets));
        one.add("tx-bytes", std::to_string(ws.tx_bytes));
        one.add("rx-packets", std::to_string(ws.rx_packets));
        one.add("rx-bytes", std::to_string(ws.rx_bytes));
        one.add("fallback-tx-packets", std::to_string(ws.fallback_tx));
        one.add("handed-off-packets", std::to_string(ws.handed_off));
        for (const auto& [reason, n] : ws.named_drops()) {
            one.add("dropped-" + reason, std::to_string(n));
        }
    }
}

void QueryCommands::list_sas(const vici::Message& req, const vici::Reply& reply) {
    const ike::IkeSaManager& m = host_.manager();
    const std::int64_t now = host_.now().ms;
    for (const ike::IkeSa* sa : m.sas()) {
        if (!selected(req, *sa)) {
            continue;
        }
        vici::Message ev;
        add_ike_section(ev, m, backend_, *sa, now);
        reply.event("list-sa", ev);
    }
    reply.respond({});
}

void QueryCommands::list_conns(const vici::Message& req, const vici::Reply& reply) {
    const auto filter = req.get("ike");
    for (const ike::PeerConfig& c : host_.manager().configs()) {
        if (filter && c.name != *filter) {
            continue;
        }
        vici::Message ev;
        add_conn_section(ev, c);
        reply.event("list-conn", ev);
    }
    reply.respond({});
}

void QueryCommands::get_conns(const vici::Message&, const vici::Reply& reply) {
    vici::Message r;
    vici::List& l = r.add_list("conns");
    for (const ike::PeerConfig& c : host_.manager().configs()) {
        l.add(c.name);
    }
    reply.respond(r);
}

void QueryCommands::list_policies(const vici::Message& req, const vici::Reply& reply) {
    for (const vici::Message& ev : policy_events(host_.manager(), req.get("child"))) {
        reply.event("list-policy", ev);
    }
    reply.respond({});
}

void QueryCommands::get_counters(const vici::Message&, const vici::Reply& reply) {
    const ike::ManagerCounters& c = host_.manager().counters();
    const UdpCounters& u = transport_.counters();
    const vici::ServerCounters& v = server_.counters();
    vici::Message r;
    vici::Message& all = r.add_section("counters").add_section("all");
    all.add("ike-init-in-req", std::to_string(c.init_requests));
    all.add("ike-invalid-spi", std::to_string(c.unknown_spi));
    all.add("ike-malformed", std::to_string(c.malformed));
    all.add("ike-cookies-sent", std::to_string(c.cookies_sent));
    all.add("ike-half-open-dropped", std::to_string(c.half_open_dropped));
    all.add("ike-init-blocked", std::to_string(c.init_blocked));
    all.add("ike-cookies-rejected", std::to_string(c.cookies_rejected));
    all.add("log-suppressed", std::to_string(host_.manager().log_suppressed()));
    all.add("ike-init-refused", std::to_string(c.init_refused));
    all.add("acquires", std::to_string(c.acquires));
    all.add("backend-failures", std::to_string(c.backend_failures));
    all.add("nat-mappings", std::to_string(c.nat_mappings));
    all.add("mobike-updates", std::to_string(c.mobike_updates));
    all.add("mobike-refused", std::to_string(c.mobike_refused));
    all.add("followup-ke-refused", std::to_string(c.followup_refused));
    all.add("legacy-algorithms-chosen", std::to_string(c.legacy_chosen));
    all.add("ike-refused-stopping", std::to_string(c.refused_stopping));
    all.add("ike-illegal-transitions", std::to_string(c.illegal_transitions));
    all.add("ike-retransmits", std::to_string(c.retransmits));
    all.add("child-sas-refused", std::to_string(c.child_sas_refused));
    all.add("restarts", std::to_string(c.restarts));
    all.add("retries", std::to_string(c.retries));
    all.add("traps-installed", std::to_string(c.traps));
    all.add("duplicates-deleted", std::to_string(c.duplicates_deleted));
    all.add("reauths", std::to_string(c.reauths));
    all.add("reauth-failures", std::to_string(c.reauth_failures));
    all.add("initial-contacts", std::to_string(c.initial_contacts));
    all.add("unique-replaced", std::to_string(c.unique_replaced));
    all.add("unique-refused", std::to_string(c.unique_refused));
    all.add("ts-max-queue-sent", std::to_string(c.ts_max_queue_sent));
    all.add("ts-max-queue-received", std::to_string(c.ts_max_queue_received));
    all.add("intermediate-failed", std::to_string(c.intermediate_failed));
    all.add("redirects-sent", std::to_string(c.redirects_sent));
    all.add("redirects-followed", std::to_string(c.redirects_followed));
    all.add("redirects-refused", std::to_string(c.redirects_refused));
    all.add("revoked", std::to_string(c.revoked));  // revocation (docs/revocation.md)
    all.add("revocation-unknown", std::to_string(c.revocation_unknown));
    all.add("revocation-held", std::to_string(c.revocation_held));
    all.add("revocation-timeout", std::to_string(c.revocation_timeout));
    all.add("revocation-hold-refused", std::to_string(c.revocation_hold_refused));
    all.add("revocation-retransmits-dropped", std::to_string(c.revocation_retransmits_dropped));
    for (const auto& [name, n] : backend_.counters()) {
        all.add(name, std::to_string(n));
    }
    all.add("udp-in", std::to_string(u.received));
    all.add("udp-out", std::to_string(u.sent));
    all.add("udp-send-errors", std::to_string(u.send_errors));
    all.add("nat-keepalives-in", std::to_string(u.keepalives));
    add_worker_sums(all);
    all.add("vici-requests", std::to_string(v.requests));
    all.add("vici-malformed", std::to_string(v.malformed));
    all.add("vici-clients", std::to_string(server_.connected()));
    all.add("vici-clients-refused", std::to_string(v.clients_refused));
    all.add("vici-accept-errors", std::to_string(v.accept_errors));
    all.add("vici-events-dropped", std::to_string(v.events_dropped));
    all.add("vici-throttled", std::to_string(v.throttled));
    all.add("vici-ca-refused", std::to_string(counters_.ca_refused));
    all.add("updown-runs", std::to_string(counters_.updown_runs));
    all.add("updown-failures", std::to_string(counters_.updown_failures));
    all.add("updown-timeouts", std::to_string(counters_.updown_timeouts));
    all.add("address-events", std::to_string(counters_.addresses.events));
    all.add("address-updates", std::to_string(counters_.addresses.updates));
    all.add("address-malformed", std::to_string(counters_.addresses.malformed));
    for (const auto& [event, n] : server_.listeners()) {
        all.add("vici-listeners-" + event, std::to_string(n));
    }
    r.add("success", "yes");
    reply.respond(r);
}

void QueryCommands::add_worker_sums(vici::Message& all) const {
    std::map<std::string, std::uint64_t> esp;
    for (const kernel::WorkerStats& ws : backend_.worker_stats()) {
        esp["esp-tx-packets"] += ws.tx_packets;
        esp["esp-rx-packets"] += ws.rx_packets;
        esp["esp-fallback-tx-packets"] += ws.fallback_tx;
        esp["esp-handed-off-packets"] += ws.handed_off;
        for (const auto& [reason, n] : ws.named_drops()) {
            esp["esp-dropped-" + reason] += n;
        }
    }
    for (const auto& [name, n] : esp) {
        all.add(name, std::to_string(n));
    }
}

}  // namespace ikeplex::daemon
