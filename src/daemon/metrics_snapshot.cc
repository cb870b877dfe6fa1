#include "daemon/metrics_snapshot.h"

#include <array>
#include <map>
#include <string>
#include <utility>

#include "esp/esp_types.h"
#include "ike/ike_sa.h"

namespace ikeplex::daemon {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;
using Families = std::vector<MetricFamily>;

constexpr MetricType kCounter = MetricType::Counter;
constexpr MetricType kGauge = MetricType::Gauge;

MetricFamily family(std::string name, std::string help, MetricType type) {
    MetricFamily f;
    f.name = std::move(name);
    f.help = std::move(help);
    f.type = type;
    return f;
}

void sample(MetricFamily& f, double value, Labels labels = {}) {
    ClientMetric m;
    m.label = std::move(labels);
    if (f.type == kCounter) {
        m.counter.value = value;
    } else {
        m.gauge.value = value;
    }
    f.metric.push_back(std::move(m));
}

template <class N>
double num(N n) {
    return static_cast<double>(n);
}

/// A family of one sample without labels.
void single(Families& out, std::string name, std::string help, MetricType type, double value) {
    MetricFamily f = family(std::move(name), std::move(help), type);
    sample(f, value);
    out.push_back(std::move(f));
}

/// The Child SAs that carry traffic now (not negotiating, replaced or being deleted).
bool live(const ike::ChildSa& c) {
    return c.state == ike::ChildState::kInstalled || c.state == ike::ChildState::kRekeying;
}

std::string cpu_label(const ike::ChildSa& c) {
    return c.resource.is_none() ? "fallback" : std::to_string(c.resource.index());
}

/// IKE SAs by state, half-open ones, COOKIEs required; Child SAs by state; RFC 9611 members.
void add_sas(Families& out, const MetricsSources& s) {
    const ike::IkeSaManager& m = s.manager;
    constexpr std::array kIkeStates{ike::IkeState::kCreated,     ike::IkeState::kConnecting,
                                    ike::IkeState::kEstablished, ike::IkeState::kRekeying,
                                    ike::IkeState::kRekeyed,     ike::IkeState::kDeleting};
    constexpr std::array kChildStates{ike::ChildState::kCreating, ike::ChildState::kInstalled,
                                      ike::ChildState::kRekeying, ike::ChildState::kRekeyed,
                                      ike::ChildState::kDeleting};
    std::map<ike::IkeState, std::uint64_t> ike_states;
    std::map<ike::ChildState, std::uint64_t> child_states;
    std::map<std::pair<std::string, std::string>, std::uint64_t> members;  // (child, cpu)
    for (const ike::IkeSa* sa : m.sas()) {
        ++ike_states[sa->state()];
        for (const auto& c : sa->children()) {
            ++child_states[c->state];
            if (c->group_member && live(*c)) {
                ++members[{c->name(), cpu_label(*c)}];
            }
        }
    }
    MetricFamily ike = family("ikeplex_ike_sas", "IKE SAs by state", kGauge);
    for (const ike::IkeState st : kIkeStates) {
        sample(ike, num(ike_states[st]), {{"state", ike::to_string(st)}});
    }
    out.push_back(std::move(ike));
    single(out, "ikeplex_ike_sas_half_open", "IKE SAs not yet past IKE_SA_INIT as responder",
           kGauge, num(m.half_open()));
    single(out, "ikeplex_ike_cookies_required",
           "1 while every IKE_SA_INIT must bring a COOKIE (half-open IKE SAs at cookie_threshold)",
           kGauge,
           s.cookie_threshold != ike::Settings::kNoLimit && m.half_open() >= s.cookie_threshold
                   ? 1
                   : 0);
    MetricFamily child = family("ikeplex_child_sas", "Child SAs by state", kGauge);
    for (const ike::ChildState st : kChildStates) {
        sample(child, num(child_states[st]), {{"state", ike::to_string(st)}});
    }
    out.push_back(std::move(child));
    MetricFamily group = family("ikeplex_group_members",
                                "Installed SAs of RFC 9611 groups by child config and CPU "
                                "(cpu=\"fallback\": the group's SA without a CPU)",
                                kGauge);
    for (const auto& [key, n] : members) {
        sample(group, num(n), {{"child", key.first}, {"cpu", key.second}});
    }
    out.push_back(std::move(group));
    single(out, "ikeplex_connections", "Connections loaded", kGauge, num(m.configs().size()));
    single(out, "ikeplex_scheduled_timers", "Timers the engine has pending", kGauge,
           num(m.pending_timers()));
}

struct EngineCounter {
    const char* name;
    const char* help;
    std::uint64_t ike::ManagerCounters::*field;
};

constexpr std::array kEngineCounters{
        EngineCounter{"ikeplex_ike_datagrams_total", "IKE datagrams handed to the engine",
                      &ike::ManagerCounters::datagrams},
        EngineCounter{"ikeplex_ike_malformed_total",
                      "IKE messages that did not parse or broke the payload rules",
                      &ike::ManagerCounters::malformed},
        EngineCounter{"ikeplex_ike_unknown_spi_total", "IKE messages for no known IKE SA",
                      &ike::ManagerCounters::unknown_spi},
        EngineCounter{"ikeplex_ike_sa_init_requests_total", "IKE_SA_INIT requests received",
                      &ike::ManagerCounters::init_requests},
        EngineCounter{"ikeplex_ike_cookies_sent_total", "COOKIE notifies sent (RFC 7296 2.6)",
                      &ike::ManagerCounters::cookies_sent},
        EngineCounter{"ikeplex_ike_cookies_rejected_total", "COOKIEs received that did not verify",
                      &ike::ManagerCounters::cookies_rejected},
        EngineCounter{"ikeplex_ike_half_open_dropped_total",
                      "IKE_SA_INIT requests ignored at init_limit_half_open",
                      &ike::ManagerCounters::half_open_dropped},
        EngineCounter{"ikeplex_ike_init_blocked_total",
                      "IKE_SA_INIT requests ignored at block_threshold of their address",
                      &ike::ManagerCounters::init_blocked},
        EngineCounter{"ikeplex_ike_init_refused_total",
                      "IKE_SA_INIT requests answered with an error notify",
                      &ike::ManagerCounters::init_refused},
        EngineCounter{"ikeplex_ike_retransmits_total", "Requests of ours sent again",
                      &ike::ManagerCounters::retransmits},
        EngineCounter{"ikeplex_ike_refused_stopping_total",
                      "IKE_SA_INIT requests and acquires refused while stopping",
                      &ike::ManagerCounters::refused_stopping},
        EngineCounter{"ikeplex_ike_illegal_transitions_total",
                      "IKE SA state changes refused (bugs; should stay 0)",
                      &ike::ManagerCounters::illegal_transitions},
        EngineCounter{"ikeplex_ike_duplicates_deleted_total",
                      "IKE SAs deleted as duplicates of one initiated by both peers at once",
                      &ike::ManagerCounters::duplicates_deleted},
        EngineCounter{"ikeplex_acquires_total", "Acquires from the backend",
                      &ike::ManagerCounters::acquires},
        EngineCounter{"ikeplex_backend_failures_total", "Backend commands that failed",
                      &ike::ManagerCounters::backend_failures},
        EngineCounter{"ikeplex_nat_mappings_total", "NAT mapping changes of peers",
                      &ike::ManagerCounters::nat_mappings},
        EngineCounter{"ikeplex_cp_attributes_refused_total",
                      "Configuration attributes peers sent that were ignored",
                      &ike::ManagerCounters::cp_attributes_refused},
        EngineCounter{"ikeplex_child_sas_refused_total",
                      "Peers' Child SA requests refused at max_child_sas (NO_ADDITIONAL_SAS)",
                      &ike::ManagerCounters::child_sas_refused},
        EngineCounter{"ikeplex_ts_max_queue_sent_total",
                      "RFC 9611 TS_MAX_QUEUE answers sent (a group at its limit)",
                      &ike::ManagerCounters::ts_max_queue_sent},
        EngineCounter{"ikeplex_ts_max_queue_received_total",
                      "RFC 9611 TS_MAX_QUEUE answers received from peers",
                      &ike::ManagerCounters::ts_max_queue_received},
        EngineCounter{"ikeplex_restarts_total",
                      "Connections initiated again (dpd_action = restart, close_action = start)",
                      &ike::ManagerCounters::restarts},
        EngineCounter{"ikeplex_retries_total", "Attempts repeated after a failed one (keyingtries)",
                      &ike::ManagerCounters::retries},
        EngineCounter{"ikeplex_traps_installed_total", "Trap policies installed",
                      &ike::ManagerCounters::traps},
        EngineCounter{"ikeplex_reauths_total", "Reauthentications started",
                      &ike::ManagerCounters::reauths},
        EngineCounter{"ikeplex_reauth_failures_total", "Reauthentications whose new IKE SA failed",
                      &ike::ManagerCounters::reauth_failures},
        EngineCounter{"ikeplex_initial_contacts_total",
                      "Old IKE SAs dropped after a peer's INITIAL_CONTACT",
                      &ike::ManagerCounters::initial_contacts},
        EngineCounter{"ikeplex_unique_replaced_total",
                      "IKE SAs deleted by unique = replace for a new one",
                      &ike::ManagerCounters::unique_replaced},
        EngineCounter{"ikeplex_unique_refused_total", "New IKE SAs refused by unique = keep",
                      &ike::ManagerCounters::unique_refused},
        EngineCounter{"ikeplex_redirects_sent_total", "RFC 5685 REDIRECTs sent to peers",
                      &ike::ManagerCounters::redirects_sent},
        EngineCounter{"ikeplex_redirects_followed_total", "RFC 5685 redirects followed",
                      &ike::ManagerCounters::redirects_followed},
        EngineCounter{"ikeplex_redirects_refused_total",
                      "RFC 5685 redirects not followed (loop bound, unresolvable gateway)",
                      &ike::ManagerCounters::redirects_refused},
};

void add_engine_counters(Families& out, const MetricsSources& s, const EventTally& events) {
    const ike::ManagerCounters& c = s.manager.counters();
    for (const EngineCounter& e : kEngineCounters) {
        single(out, e.name, e.help, kCounter, num(c.*e.field));
    }
    single(out, "ikeplex_ike_rekeys_total", "IKE SAs rekeyed (either side initiated)", kCounter,
           num(events.ike_rekeys));
    single(out, "ikeplex_child_rekeys_total", "Child SAs rekeyed (either side initiated)", kCounter,
           num(events.child_rekeys));
    single(out, "ikeplex_log_suppressed_total", "Log lines suppressed by the rate limit", kCounter,
           num(s.manager.log_suppressed()));
}

/// The data plane's workers (userspace backend: one per CPU / RFC 9611 resource).
void add_dataplane(Families& out, const MetricsSources& s) {
    MetricFamily packets = family("ikeplex_dataplane_packets_total",
                                  "ESP packets by worker (CPU) and direction", kCounter);
    MetricFamily bytes = family("ikeplex_dataplane_bytes_total",
                                "ESP bytes by worker (CPU) and direction", kCounter);
    MetricFamily fallback = family("ikeplex_dataplane_fallback_packets_total",
                                   "Outbound packets sent on a group's fallback SA", kCounter);
    MetricFamily handed = family("ikeplex_dataplane_handed_off_packets_total",
                                 "Inbound packets passed to the worker of their SPI", kCounter);
    MetricFamily drops = family("ikeplex_dataplane_drops_total",
                                "Packets dropped by worker and reason", kCounter);
    for (const kernel::WorkerStats& w : s.backend.worker_stats()) {
        const std::string cpu = std::to_string(w.worker);
        sample(packets, num(w.rx_packets), {{"cpu", cpu}, {"direction", "in"}});
        sample(packets, num(w.tx_packets), {{"cpu", cpu}, {"direction", "out"}});
        sample(bytes, num(w.rx_bytes), {{"cpu", cpu}, {"direction", "in"}});
        sample(bytes, num(w.tx_bytes), {{"cpu", cpu}, {"direction", "out"}});
        sample(fallback, num(w.fallback_tx), {{"cpu", cpu}});
        sample(handed, num(w.handed_off), {{"cpu", cpu}});
        for (std::size_t i = 1; i < w.drops.size(); ++i) {
            sample(drops, num(w.drops[i]),
                   {{"cpu", cpu}, {"reason", esp::to_string(static_cast<esp::Drop>(i))}});
        }
    }
    for (MetricFamily* f : {&packets, &bytes, &fallback, &handed, &drops}) {
        out.push_back(std::move(*f));
    }
    MetricFamily backend =
            family("ikeplex_backend_events_total", "The backend's own counters by name", kCounter);
    for (const auto& [name, n] : s.backend.counters()) {
        sample(backend, num(n), {{"counter", name}});
    }
    out.push_back(std::move(backend));
    single(out, "ikeplex_backend_sas", "SAs installed in the backend", kGauge,
           num(s.backend.installed_sas()));
    single(out, "ikeplex_backend_policies", "Policies installed in the backend", kGauge,
           num(s.backend.installed_policies()));
}

/// UDP sockets, the VICI server, updown scripts, start time.
void add_daemon(Families& out, const MetricsSources& s) {
    const UdpCounters& u = s.transport.counters();
    MetricFamily udp =
            family("ikeplex_udp_datagrams_total", "IKE datagrams by direction", kCounter);
    sample(udp, num(u.received), {{"direction", "in"}});
    sample(udp, num(u.sent), {{"direction", "out"}});
    out.push_back(std::move(udp));
    single(out, "ikeplex_udp_send_errors_total", "IKE datagrams that could not be sent", kCounter,
           num(u.send_errors));
    single(out, "ikeplex_nat_keepalives_received_total", "NAT keepalives received", kCounter,
           num(u.keepalives));
    const vici::ServerCounters& v = s.vici.counters();
    single(out, "ikeplex_vici_clients", "VICI clients connected", kGauge, num(s.vici.connected()));
    single(out, "ikeplex_vici_requests_total", "VICI requests", kCounter, num(v.requests));
    single(out, "ikeplex_vici_malformed_total", "VICI packets that did not decode", kCounter,
           num(v.malformed));
    single(out, "ikeplex_vici_clients_refused_total", "VICI clients closed at vici_max_clients",
           kCounter, num(v.clients_refused));
    single(out, "ikeplex_vici_accept_errors_total", "Failed accept() calls of the VICI server",
           kCounter, num(v.accept_errors));
    single(out, "ikeplex_vici_events_dropped_total", "VICI events dropped for slow clients",
           kCounter, num(v.events_dropped));
    single(out, "ikeplex_vici_throttled_total", "Times a VICI client's requests were held back",
           kCounter, num(v.throttled));
    single(out, "ikeplex_vici_ca_refused_total", "CA certificates loaded over VICI not trusted",
           kCounter, num(s.counters.ca_refused));
    single(out, "ikeplex_updown_runs_total", "Updown scripts started", kCounter,
           num(s.counters.updown_runs));
    single(out, "ikeplex_updown_failures_total", "Updown scripts that failed", kCounter,
           num(s.counters.updown_failures));
    single(out, "ikeplex_updown_timeouts_total", "Updown scripts killed at updown_timeout",
           kCounter, num(s.counters.updown_timeouts));
    single(out, "ikeplex_start_time_seconds", "When ikeplexd started (UNIX time)", kGauge,
           num(s.started_unix));
}

/// One series per IKE SA and per Child SA and direction (metrics { per_sa = yes }).
void add_per_sa(Families& out, const MetricsSources& s) {
    MetricFamily info =
            family("ikeplex_sa_info", "One per IKE SA: connection, unique id, state", kGauge);
    MetricFamily bytes =
            family("ikeplex_sa_child_bytes_total", "Bytes of each Child SA by direction", kCounter);
    MetricFamily packets = family("ikeplex_sa_child_packets_total",
                                  "Packets of each Child SA by direction", kCounter);
    for (const ike::IkeSa* sa : s.manager.sas()) {
        const std::string conn = sa->config() != nullptr ? sa->config()->name : "unknown";
        const std::string id = std::to_string(sa->id());
        sample(info, 1, {{"conn", conn}, {"ike_id", id}, {"state", ike::to_string(sa->state())}});
        for (const auto& c : sa->children()) {
            if (!live(*c)) {
                continue;
            }
            const auto in = s.backend.stats(c->spi_in, true).value_or(kernel::SaStats{});
            const auto outb = s.backend.stats(c->spi_out, false).value_or(kernel::SaStats{});
            const Labels base{{"conn", conn},
                              {"ike_id", id},
                              {"child", c->name()},
                              {"child_id", std::to_string(c->id)},
                              {"cpu", c->group_member ? cpu_label(*c) : "none"}};
            for (const auto& [dir, st] : {std::pair{"in", &in}, std::pair{"out", &outb}}) {
                Labels l = base;
                l.push_back({"direction", dir});
                sample(bytes, num(st->bytes), l);
                sample(packets, num(st->packets), std::move(l));
            }
        }
    }
    out.push_back(std::move(info));
    out.push_back(std::move(bytes));
    out.push_back(std::move(packets));
}

}  // namespace

void EventTally::on_event(const ike::Event& e) noexcept {
    if (e.kind == ike::EventKind::kIkeRekeyed) {
        ++ike_rekeys;
    } else if (e.kind == ike::EventKind::kChildRekeyed) {
        ++child_rekeys;
    }
}

std::vector<prometheus::MetricFamily> build_metrics(const MetricsSources& s,
                                                    const EventTally& events, bool per_sa) {
    Families out;
    out.reserve(kEngineCounters.size() + 48);
    add_sas(out, s);
    add_engine_counters(out, s, events);
    add_dataplane(out, s);
    add_daemon(out, s);
    if (per_sa) {
        add_per_sa(out, s);
    }
    return out;
}

}  // namespace ikeplex::daemon
