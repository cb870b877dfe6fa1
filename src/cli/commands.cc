#include "cli/commands.h"

#include <algorithm>
#include <map>
#include <sstream>
#include <vector>

#include <fmt/format.h>

namespace ikeplex::cli {

namespace {

std::string str(const vici::Message& m, std::string_view key, std::string_view fallback = "") {
    return std::string(m.get(key).value_or(fallback));
}

std::string quote(std::string_view s) {
    std::string out = "\"";
    for (char ch : s) {
        switch (ch) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (static_cast<unsigned char>(ch) < 0x20) {
                    out += fmt::format("\\u{:04x}",
                                       static_cast<unsigned>(static_cast<unsigned char>(ch)));
                } else {
                    out += ch;
                }
        }
    }
    return out + "\"";
}

std::string bytes_h(std::uint64_t b) {
    if (b < 10000) {
        return fmt::format("{} B", b);
    }
    if (b < 10000ULL * 1024) {
        return fmt::format("{} KiB", b / 1024);
    }
    if (b < 10000ULL * 1024 * 1024) {
        return fmt::format("{} MiB", b / (1024ULL * 1024));
    }
    return fmt::format("{} GiB", b / (1024ULL * 1024 * 1024));
}

std::uint64_t num(const vici::Message& m, std::string_view key) {
    const auto v = m.get(key);
    return v ? std::strtoull(std::string(*v).c_str(), nullptr, 10) : 0;
}

std::string joined_list(const vici::Message& m, std::string_view key) {
    std::string out;
    if (const vici::List* l = m.find_list(key)) {
        for (const auto& t : l->texts()) {
            out += (out.empty() ? "" : " ") + std::string(t);
        }
    }
    return out;
}

/// The addresses of list `key`, each followed by `[port]` when the message has `port_key`
/// (strongSwan 6 and ikeplexd send it; 5.9 does not).
std::string with_port(const vici::Message& m, std::string_view key, std::string_view port_key) {
    const auto port = m.get(port_key);
    std::string out;
    if (const vici::List* l = m.find_list(key)) {
        for (const auto& t : l->texts()) {
            out += (out.empty() ? "" : " ") + std::string(t) +
                   (port ? "[" + std::string(*port) + "]" : "");
        }
    }
    return out;
}

/// Column-aligned rows.
void print_table(const std::vector<std::vector<std::string>>& rows, std::ostream& out,
                 const std::string& indent) {
    std::vector<std::size_t> width;
    for (const auto& r : rows) {
        width.resize(std::max(width.size(), r.size()));
        for (std::size_t i = 0; i < r.size(); ++i) {
            width[i] = std::max(width[i], r[i].size());
        }
    }
    for (const auto& r : rows) {
        std::string line = indent;
        for (std::size_t i = 0; i < r.size(); ++i) {
            line += r[i];
            if (i + 1 < r.size()) {
                line += std::string(width[i] - r[i].size() + 2, ' ');
            }
        }
        out << line << '\n';
    }
}

int failed(const Error& e, std::ostream& out) {
    out << "error: " << e.to_string() << '\n';
    return 1;
}

}  // namespace

std::string to_json(const vici::Message& m) {
    std::string out = "{";
    bool first = true;
    for (const vici::Entry& e : m) {
        out += first ? "" : ",";
        first = false;
        out += quote(vici::entry_name(e)) + ":";
        if (const auto* kv = std::get_if<vici::KeyValue>(&e)) {
            out += quote(kv->text());
        } else if (const auto* l = std::get_if<vici::List>(&e)) {
            out += "[";
            for (std::size_t i = 0; i < l->items.size(); ++i) {
                out += (i == 0 ? "" : ",") + quote(vici::as_text(l->items[i]));
            }
            out += "]";
        } else if (const auto* s = std::get_if<vici::Section>(&e)) {
            out += to_json(s->body);
        }
    }
    return out + "}";
}

namespace {

/// An IKE SA's first two lines: SPIs and peers, then the algorithms and times.
void print_ike_sa(const std::string& name, const vici::Message& s, std::ostream& out) {
    out << fmt::format("{}: #{}, {}, {}_i {}_r, {}[{}] ... {}[{}]\n", name, str(s, "uniqueid"),
                       str(s, "state"), str(s, "initiator-spi"), str(s, "responder-spi"),
                       str(s, "local-host"), str(s, "local-id"), str(s, "remote-host"),
                       str(s, "remote-id"));
    std::string algs = str(s, "encr-alg");
    if (s.get("encr-keysize")) {
        algs += "-" + str(s, "encr-keysize");
    }
    for (const char* k : {"integ-alg", "prf-alg", "dh-group"}) {
        if (s.get(k)) {
            algs += "/" + str(s, k);
        }
    }
    out << "  " << algs
        << (s.get("established") ? ", established " + str(s, "established") + "s ago" : "")
        << (s.get("rekey-time") ? ", rekeying in " + str(s, "rekey-time") + "s" : "") << '\n';
    // Virtual IPs (swanctl shows them in brackets after the addresses).
    if (s.find_list("local-vips") != nullptr || s.find_list("remote-vips") != nullptr) {
        out << "  virtual IPs: local [" << joined_list(s, "local-vips") << "], remote ["
            << joined_list(s, "remote-vips") << "]\n";
    }
    // The peer's EAP identity where it differs from its IKE identity (swanctl: "remote EAP
    // identity"), e.g. the second authentication round's (RFC 4739).
    if (s.get("remote-eap-id")) {
        out << "  remote EAP identity: " << str(s, "remote-eap-id") << '\n';
    }
}

/// An RFC 9611 group: per child config, the fallback and the members.
struct Group {
    bool fallback{false};
    std::vector<std::string> cpus;
    std::uint64_t in{0};
    std::uint64_t out{0};
};

/// One line per group: fallback, members (their CPUs in numeric order) and traffic.
void print_groups(std::map<std::string, Group>& groups, std::ostream& out) {
    for (auto& [name, g] : groups) {
        std::sort(g.cpus.begin(), g.cpus.end(), [](const auto& a, const auto& b) {
            return a.size() != b.size() ? a.size() < b.size() : a < b;  // numeric
        });
        std::string cpus;
        for (const auto& x : g.cpus) {
            cpus += (cpus.empty() ? "" : " ") + x;
        }
        out << fmt::format("  group {}: {} + {} per-CPU SA{}{}, {} in, {} out\n", name,
                           g.fallback ? "fallback" : "no fallback", g.cpus.size(),
                           g.cpus.size() == 1 ? "" : "s", cpus.empty() ? "" : " (cpu " + cpus + ")",
                           bytes_h(g.in), bytes_h(g.out));
    }
}

/// The CHILD SAs of an IKE SA as a table, then their per-CPU groups.
void print_child_sas(const vici::Message& children, std::ostream& out) {
    std::vector<std::vector<std::string>> rows{
            {"CHILD", "#", "cpu", "state", "spi-in", "spi-out", "in", "out", "selectors"}};
    std::map<std::string, Group> groups;
    for (const vici::Entry& ce : children) {
        const auto* ch = std::get_if<vici::Section>(&ce);
        if (ch == nullptr) {
            continue;
        }
        const vici::Message& cm = ch->body;
        const bool member = cm.get("per-cpu-sas").has_value();
        const std::string cpu = cm.get("cpu") ? str(cm, "cpu") : (member ? "-" : "");
        rows.push_back({str(cm, "name"), str(cm, "uniqueid"), cpu, str(cm, "state"),
                        str(cm, "spi-in"), str(cm, "spi-out"),
                        bytes_h(num(cm, "bytes-in")) + " " + str(cm, "packets-in", "0") + "p",
                        bytes_h(num(cm, "bytes-out")) + " " + str(cm, "packets-out", "0") + "p",
                        joined_list(cm, "local-ts") + " === " + joined_list(cm, "remote-ts")});
        if (member) {
            Group& g = groups[str(cm, "name")];
            if (cm.get("cpu")) {
                g.cpus.push_back(str(cm, "cpu"));
            } else {
                g.fallback = true;
            }
            g.in += num(cm, "bytes-in");
            g.out += num(cm, "bytes-out");
        }
    }
    print_table(rows, out, "  ");
    print_groups(groups, out);
}

/// The daemon left Child SAs out of an IKE SA's listing that would not fit a VICI message.
void print_truncation(const vici::Message& ike, const vici::Message* children, std::ostream& out) {
    if (ike.get("child-sas-truncated") != std::optional<std::string_view>("yes")) {
        return;
    }
    std::uint64_t listed = 0;
    if (children != nullptr) {
        listed = static_cast<std::uint64_t>(std::count_if(
                children->begin(), children->end(),
                [](const vici::Entry& e) { return std::holds_alternative<vici::Section>(e); }));
    }
    const std::uint64_t total = num(ike, "child-sas-total");
    out << fmt::format(
            "  ... {} more Child SAs not listed ({} of {}: the listing of this IKE SA "
            "is truncated to fit one VICI message)\n",
            total > listed ? total - listed : 0, listed, total);
}

}  // namespace

int list_sas(vici::Client& c, const SaFilter& f, bool json, std::ostream& out) {
    std::vector<vici::Message> sas;
    vici::Message req;
    if (!f.ike.empty()) {
        req.add("ike", f.ike);
    }
    if (!f.ike_id.empty()) {
        req.add("ike-id", f.ike_id);
    }
    auto r = c.request("list-sas", req, [&](const std::string& name, const vici::Message& m) {
        if (name == "list-sa") {
            sas.push_back(m);
        }
    });
    if (!r) {
        return failed(r.error(), out);
    }
    // Connections waiting for their next attempt (ikeplex's list-retries; none from others).
    std::vector<vici::Message> waiting;
    if (auto w = c.request("list-retries", req)) {
        for (const vici::Entry& e : *w) {
            if (const auto* s = std::get_if<vici::Section>(&e)) {
                vici::Message m;
                vici::Message& body = m.add_section(s->name);
                body.add("state", "WAITING");
                for (const vici::Entry& entry : s->body) {
                    body.entries.push_back(entry);
                }
                waiting.push_back(std::move(m));
            }
        }
    }
    if (json) {
        out << "[";
        std::size_t i = 0;
        for (const auto* list : {&sas, &waiting}) {
            for (const vici::Message& m : *list) {
                out << (i++ == 0 ? "" : ",") << to_json(m);
            }
        }
        out << "]\n";
        return 0;
    }
    for (const vici::Message& m : waiting) {
        for (const vici::Entry& e : m) {
            if (const auto* s = std::get_if<vici::Section>(&e)) {
                out << fmt::format("{}: waiting to retry (attempt {} failed, next in {} s)\n",
                                   s->name, str(s->body, "attempt"),
                                   str(s->body, "next-attempt-in"));
            }
        }
    }
    if (sas.empty()) {
        if (waiting.empty()) {
            out << "no IKE SAs\n";
        }
        return 0;
    }
    for (const vici::Message& ev : sas) {
        for (const vici::Entry& e : ev) {
            const auto* ike = std::get_if<vici::Section>(&e);
            if (ike == nullptr) {
                continue;
            }
            print_ike_sa(ike->name, ike->body, out);
            const vici::Message* children = ike->body.find_section("child-sas");
            if (children != nullptr && !children->empty()) {
                print_child_sas(*children, out);
            }
            print_truncation(ike->body, children, out);
        }
    }
    return 0;
}

int list_conns(vici::Client& c, bool json, std::ostream& out) {
    std::vector<vici::Message> conns;
    auto r = c.request("list-conns", {}, [&](const std::string& name, const vici::Message& m) {
        if (name == "list-conn") {
            conns.push_back(m);
        }
    });
    if (!r) {
        return failed(r.error(), out);
    }
    if (json) {
        out << "[";
        for (std::size_t i = 0; i < conns.size(); ++i) {
            out << (i == 0 ? "" : ",") << to_json(conns[i]);
        }
        out << "]\n";
        return 0;
    }
    for (const vici::Message& ev : conns) {
        for (const vici::Entry& e : ev) {
            const auto* conn = std::get_if<vici::Section>(&e);
            if (conn == nullptr) {
                continue;
            }
            const vici::Message& s = conn->body;
            out << fmt::format("{}: {}, {} ... {}\n", conn->name, str(s, "version"),
                               with_port(s, "local_addrs", "local_port"),
                               with_port(s, "remote_addrs", "remote_port"));
            if (const vici::Message* children = s.find_section("children")) {
                for (const vici::Entry& ce : *children) {
                    if (const auto* ch = std::get_if<vici::Section>(&ce)) {
                        out << fmt::format(
                                "  {}: {}{}, {} === {}\n", ch->name, str(ch->body, "mode"),
                                ch->body.get("per_cpu_sas")
                                        ? ", per-CPU SAs (" + str(ch->body, "per_cpu_sas_start") +
                                                  ", max " + str(ch->body, "per_cpu_sas_max") + ")"
                                        : "",
                                joined_list(ch->body, "local-ts"),
                                joined_list(ch->body, "remote-ts"));
                    }
                }
            }
        }
    }
    return 0;
}

int list_pools(vici::Client& c, const std::string& name, bool leases, bool json,
               std::ostream& out) {
    vici::Message req;
    if (leases) {
        req.add("leases", "yes");
    }
    if (!name.empty()) {
        req.add("name", name);
    }
    auto r = c.request("get-pools", req);
    if (!r) {
        return failed(r.error(), out);
    }
    if (json) {
        out << to_json(*r) << '\n';
        return 0;
    }
    // swanctl --list-pools' layout: "name  base  online / size" and the leases below.
    for (const vici::Entry& e : *r) {
        const auto* p = std::get_if<vici::Section>(&e);
        if (p == nullptr) {
            continue;
        }
        out << fmt::format("{:<20} {:<39} {} / {} / {}\n", p->name, str(p->body, "base"),
                           str(p->body, "online"), str(p->body, "offline"), str(p->body, "size"));
        if (const vici::Message* ls = p->body.find_section("leases"); ls != nullptr) {
            for (const vici::Entry& le : *ls) {
                if (const auto* l = std::get_if<vici::Section>(&le)) {
                    out << fmt::format("  {:<39} {:<7} '{}'\n", str(l->body, "address"),
                                       str(l->body, "status"), str(l->body, "identity"));
                }
            }
        }
    }
    return 0;
}

int stats(vici::Client& c, bool json, std::ostream& out) {
    auto r = c.request("stats", {});
    if (!r) {
        return failed(r.error(), out);
    }
    if (json) {
        out << to_json(*r) << '\n';
        return 0;
    }
    const vici::Message* up = r->find_section("uptime");
    const vici::Message* sas = r->find_section("ikesas");
    out << "uptime: "
        << (up != nullptr ? str(*up, "running") + ", since " + str(*up, "since") : "?") << '\n';
    out << "IKE SAs: "
        << (sas != nullptr ? str(*sas, "total") + " total, " + str(*sas, "half-open") + " half-open"
                           : "?")
        << '\n';
    if (sas != nullptr && sas->get("child-sas-refused")) {
        out << "Child SAs refused (max_child_sas, NO_ADDITIONAL_SAS): "
            << str(*sas, "child-sas-refused") << '\n';
    }
    out << "scheduled timers: " << str(*r, "scheduled") << '\n';
    out << "plugins: " << joined_list(*r, "plugins") << '\n';
    if (const vici::Message* v = r->find_section("vici"); v != nullptr) {
        out << "VICI: " << str(*v, "clients") << " clients (max " << str(*v, "max-clients") << "), "
            << str(*v, "clients-refused") << " refused, " << str(*v, "accept-errors")
            << " accept errors, " << str(*v, "events-dropped") << " events dropped, "
            << str(*v, "throttled") << " times throttled\n";
    }
    if (const vici::Message* u = r->find_section("updown"); u != nullptr) {
        out << "updown scripts: " << str(*u, "runs") << " run, " << str(*u, "failures")
            << " failed, " << str(*u, "timeouts") << " killed at the timeout\n";
    }
    if (const vici::Message* rv = r->find_section("revocation"); rv != nullptr) {
        out << "revocation: " << str(*rv, "fetches-ok") << " fetches ok, "
            << str(*rv, "fetches-failed") << " failed, " << str(*rv, "fetches-timeout")
            << " timed out; " << str(*rv, "queries") << " queries, " << str(*rv, "answers")
            << " answered; " << str(*rv, "crls-fetched") << " CRLs, " << str(*rv, "ocsp-answers")
            << " OCSP answers, " << str(*rv, "unusable") << " unusable\n";
    }
    if (const vici::Message* dp = r->find_section("dataplane"); dp != nullptr) {
        std::vector<std::vector<std::string>> rows{{"worker", "tx-packets", "tx-bytes",
                                                    "rx-packets", "rx-bytes", "fallback-tx",
                                                    "drops"}};
        for (const vici::Entry& e : *dp) {
            const auto* w = std::get_if<vici::Section>(&e);
            if (w == nullptr) {
                continue;
            }
            std::string drops;
            for (const vici::Entry& f : w->body) {
                const auto* kv = std::get_if<vici::KeyValue>(&f);
                if (kv != nullptr && kv->name.starts_with("dropped-")) {
                    drops += (drops.empty() ? "" : " ") + kv->name.substr(8) + "=" +
                             std::string(kv->text());
                }
            }
            rows.push_back({w->name.substr(w->name.find('-') + 1), str(w->body, "tx-packets"),
                            str(w->body, "tx-bytes"), str(w->body, "rx-packets"),
                            str(w->body, "rx-bytes"), str(w->body, "fallback-tx-packets"),
                            drops.empty() ? "-" : drops});
        }
        out << "data plane:\n";
        print_table(rows, out, "  ");
    }
    return 0;
}

int counters(vici::Client& c, bool json, std::ostream& out) {
    auto r = c.request("get-counters", {});
    if (!r) {
        return failed(r.error(), out);
    }
    const vici::Message* all = r->find_section("counters");
    all = all != nullptr ? all->find_section("all") : nullptr;
    if (all == nullptr) {
        out << "no counters\n";
        return 1;
    }
    if (json) {
        out << to_json(*all) << '\n';
        return 0;
    }
    std::vector<std::vector<std::string>> rows;
    for (const vici::Entry& e : *all) {
        if (const auto* kv = std::get_if<vici::KeyValue>(&e)) {
            rows.push_back({kv->name, std::string(kv->text())});
        }
    }
    print_table(rows, out, "");
    return 0;
}

namespace {

vici::Message target_message(const Target& t) {
    vici::Message m;
    for (const auto& [key, value] :
         {std::pair{"ike", &t.ike}, std::pair{"child", &t.child}, std::pair{"ike-id", &t.ike_id},
          std::pair{"child-id", &t.child_id}}) {
        if (!value->empty()) {
            m.add(key, *value);
        }
    }
    return m;
}

int controlled(vici::Client& c, const char* cmd, vici::Message req, Timeout timeout,
               std::ostream& out) {
    // The daemon answers when it is done (or at its timeout): without a limit of our own
    // unless one was given (then a little more than it, for the answer to arrive).
    std::chrono::milliseconds wait = std::chrono::hours(24 * 365);
    if (timeout) {
        req.add("timeout", std::to_string(std::chrono::milliseconds(*timeout).count()));
        if (timeout->count() > 0) {
            wait = *timeout + std::chrono::seconds(5);
        }
    }
    (void)c.subscribe("control-log");
    auto r = c.request(
            cmd, req,
            [&](const std::string& name, const vici::Message& m) {
                if (name == "control-log") {
                    out << "[" << str(m, "group") << "] " << str(m, "msg") << std::endl;
                }
            },
            wait);
    if (!r) {
        return failed(r.error(), out);
    }
    if (r->get("success") != std::optional<std::string_view>("yes")) {
        out << cmd << " failed: " << str(*r, "errmsg", "unknown reason") << '\n';
        return 1;
    }
    out << cmd << " completed successfully";
    if (std::string_view(cmd) == "rekey") {
        out << " (" << str(*r, "matches") << " SA(s))";
    }
    out << '\n';
    return 0;
}

}  // namespace

int initiate(vici::Client& c, const Target& t, int loglevel, Timeout timeout, std::ostream& out) {
    vici::Message req = target_message(t);
    req.add("loglevel", std::to_string(loglevel));
    return controlled(c, "initiate", req, timeout, out);
}

int terminate(vici::Client& c, const Target& t, bool force, Timeout timeout, std::ostream& out) {
    vici::Message req = target_message(t);
    if (force) {
        req.add("force", "yes");
    }
    return controlled(c, "terminate", req, timeout, out);
}

int rekey(vici::Client& c, const Target& t, int loglevel, Timeout timeout, std::ostream& out) {
    vici::Message req = target_message(t);
    req.add("loglevel", std::to_string(loglevel));
    return controlled(c, "rekey", req, timeout, out);
}

int log(vici::Client& c, std::size_t limit, std::ostream& out) {
    if (auto st = c.subscribe("log"); !st) {
        return failed(st.error(), out);
    }
    for (std::size_t n = 0; limit == 0 || n < limit; ++n) {
        auto ev = c.next_event(std::chrono::hours(24 * 365));
        if (!ev) {
            return failed(ev.error(), out);
        }
        const vici::Message& m = ev->message;
        out << "[" << str(m, "group") << "] "
            << (m.get("ikesa-name") ? str(m, "ikesa-name") + "[" + str(m, "ikesa-uniqueid") + "] "
                                    : "")
            << str(m, "msg") << std::endl;
    }
    return 0;
}

}  // namespace ikeplex::cli
