#include "config/daemon_settings.h"

#include <cstdlib>

#include "config/decimal_values.h"
#include "config/redirect_settings.h"
#include "config/swanctl_values.h"
#include "util/log.h"

namespace ikeplex::config {

namespace {

Handler u32(Reporter& r, std::uint32_t& out, std::uint64_t max, std::uint64_t min = 0) {
    return [&r, &out, max, min](std::string_view v, const Setting& s) {
        const auto n = parse_u64(v);
        if (!n || *n > max || *n < min) {
            r.error(s.pos, s.name,
                    min == 0 ? "expected a number up to " + std::to_string(max)
                             : "expected a number from " + std::to_string(min) + " to " +
                                       std::to_string(max));
            return;
        }
        out = static_cast<std::uint32_t>(*n);
    };
}

void map_log(const Section& sec, DaemonSettings& d, Reporter& r) {
    for (const Section& sub : sec.sections) {
        r.error(sub.pos, "log." + sub.name, "unknown section (log holds levels and a target)");
    }
    for (const Setting& s : sec.settings) {
        if (!s.value) {
            continue;
        }
        if (s.name == "target") {
            d.log_target = *s.value;
            continue;
        }
        if (s.name == "time_format") {
            d.log_time_format = *s.value;
            continue;
        }
        if (s.name == "time_add_ms") {
            if (const auto b = parse_bool(*s.value)) {
                d.log_time_add_ms = *b;
            } else {
                r.error(s.pos, "log.time_add_ms", "expected yes or no");
            }
            continue;
        }
        char* end = nullptr;
        const long level = std::strtol(s.value->c_str(), &end, 10);
        if (end == s.value->c_str() || *end != '\0' || level < -1 || level > 4) {
            r.error(s.pos, "log." + s.name, "expected a level from -1 to 4");
            continue;
        }
        if (s.name == "default") {
            d.log_default = static_cast<int>(level);
        } else if (log::subsystem_of(s.name)) {
            d.log_levels[s.name] = static_cast<int>(level);
        } else if (s.name == "mgr" || s.name == "job") {
            r.warning(s.pos, "log." + s.name, "charon's group has no counterpart in ikeplexd");
        } else {
            r.error(s.pos, "log." + s.name,
                    "unknown log group (dmn ike chd cfg knl net enc esp lib vci)");
        }
    }
}

/// save_keys { ike = FILE  esp = FILE }: absolute paths (the daemon's working directory is
/// no place for keys).
void map_save_keys(const Section& sec, DaemonSettings& d, Reporter& r) {
    for (const Section& sub : sec.sections) {
        r.error(sub.pos, "save_keys." + sub.name, "unknown section (save_keys holds ike and esp)");
    }
    for (const Setting& s : sec.settings) {
        std::string* out = s.name == "ike"   ? &d.save_keys.ike
                           : s.name == "esp" ? &d.save_keys.esp
                                             : nullptr;
        if (out == nullptr) {
            r.error(s.pos, "save_keys." + s.name, "unknown key (save_keys holds ike and esp)");
        } else if (!s.value || s.value->empty() || !s.value->starts_with("/")) {
            r.error(s.pos, "save_keys." + s.name, "expected an absolute file path");
        } else {
            *out = *s.value;
        }
    }
}

/// resolve { file = FILE }: where DNS servers a peer assigned us go (strongSwan's resolve
/// plugin writes /etc/resolv.conf).
void map_resolve(const Section& sec, DaemonSettings& d, Reporter& r) {
    for (const Section& sub : sec.sections) {
        r.error(sub.pos, "resolve." + sub.name, "unknown section (resolve holds file)");
    }
    for (const Setting& s : sec.settings) {
        if (s.name != "file") {
            r.error(s.pos, "resolve." + s.name, "unknown key (resolve holds file)");
        } else if (!s.value || !s.value->starts_with("/")) {
            r.error(s.pos, "resolve.file", "expected an absolute file path");
        } else {
            d.resolve_file = *s.value;
        }
    }
}

/// tls { version_min, version_max }: EAP-TLS's protocol versions (strongSwan 5.9.8's
/// charon.tls.version_min/max, both 1.2 by default; "1.2" or "1.3" here).
void map_tls(const Section& sec, DaemonSettings& d, Reporter& r) {
    for (const Section& sub : sec.sections) {
        r.error(sub.pos, "tls." + sub.name, "unknown section (tls holds version_min, version_max)");
    }
    for (const Setting& s : sec.settings) {
        const std::string key = "tls." + s.name;
        std::uint16_t* out = s.name == "version_min"   ? &d.tls_version_min
                             : s.name == "version_max" ? &d.tls_version_max
                                                       : nullptr;
        if (out == nullptr) {
            r.error(s.pos, key, "unknown key (tls holds version_min, version_max)");
        } else if (s.value && (*s.value == "1.2" || *s.value == "1.3")) {
            *out = *s.value == "1.2" ? 0x0303 : 0x0304;
        } else {
            r.error(s.pos, key, "expected 1.2 or 1.3 (TLS 1.0 and 1.1 are not supported)");
        }
    }
    if (d.tls_version_min > d.tls_version_max) {
        r.error(sec.pos, "tls.version_min", "is above tls.version_max");
    }
}

/// `ADDRESS:PORT` (IPv4) or `[ADDRESS]:PORT` (IPv6), port 1 to 65535.
std::optional<Endpoint> parse_host_port(std::string_view v) {
    const std::size_t colon = v.rfind(':');
    if (colon == std::string_view::npos) {
        return std::nullopt;
    }
    std::string_view host = v.substr(0, colon);
    const bool bracketed = host.starts_with('[') && host.ends_with(']');
    if (bracketed) {
        host = host.substr(1, host.size() - 2);
    }
    const auto address = IpAddress::parse(host);
    const auto port = parse_u64(v.substr(colon + 1));
    if (!address || address->is_v4() == bracketed || !port || *port == 0 || *port > 65535) {
        return std::nullopt;
    }
    return Endpoint{*address, static_cast<std::uint16_t>(*port)};
}

/// metrics { listen, per_sa }: the Prometheus endpoint (off while listen is unset).
void map_metrics(const Section& sec, DaemonSettings& d, Reporter& r) {
    for (const Section& sub : sec.sections) {
        r.error(sub.pos, "metrics." + sub.name, "unknown section (metrics holds listen, per_sa)");
    }
    for (const Setting& s : sec.settings) {
        if (!s.value) {
            continue;
        }
        const std::string key = "metrics." + s.name;
        if (s.name == "listen") {
            const auto e = parse_host_port(*s.value);
            if (!e) {
                r.error(s.pos, key, "'" + *s.value + "' is not ADDRESS:PORT (e.g. 127.0.0.1:9903)");
            } else if (!e->address.is_v4()) {
                // mg_check_feature(8) of Debian 12's libcivetweb1 is 0: built without IPv6.
                r.error(s.pos, key,
                        "'" + *s.value +
                                "': IPv6 is not supported (Debian's civetweb is built without "
                                "it); use an IPv4 address");
            } else {
                d.metrics.listen = *e;
            }
        } else if (s.name == "per_sa") {
            if (auto b = parse_bool(*s.value)) {
                d.metrics.per_sa = *b;
            } else {
                r.error(s.pos, key, "expected yes or no");
            }
        } else {
            r.error(s.pos, key, "unknown key (metrics holds listen, per_sa)");
        }
    }
}

/// ikeplexd.conf holds one section, ikeplexd, and nothing beside it.
void check_top_level(const Section& root, Findings& findings) {
    for (const Section& top : root.sections) {
        if (top.name != "ikeplexd") {
            findings.errors.push_back(Diagnostic{
                    top.pos,
                    top.name + ": unknown section (ikeplexd.conf has one section, ikeplexd)"});
        }
    }
    for (const Setting& s : root.settings) {
        findings.errors.push_back(
                Diagnostic{s.pos, s.name + ": unknown key (settings go in the ikeplexd section)"});
    }
}

/// Values read as 32-bit numbers and narrowed once all settings are applied.
struct Narrowed {
    std::uint32_t tries;
    std::uint32_t fragment;
    std::uint32_t port;
    std::uint32_t natt;
};

/// A network interface's name (IFNAMSIZ - 1 characters, no '/' or blanks) into `out`.
Handler interface_name(Reporter& r, std::string& out) {
    return [&r, &out](std::string_view v, const Setting& s) {
        if (v.empty() || v.size() > 15 || v.find_first_of("/ \t") != std::string_view::npos) {
            r.error(s.pos, s.name, "expected an interface name of at most 15 characters");
            return;
        }
        out = std::string(v);
    };
}

/// The daemon's keys: sockets, VICI, backend, workers and the data plane.
void add_daemon_handlers(Handlers& h, Reporter& r, DaemonSettings& d, Narrowed& wide) {
    h["listen"] = [&r, &d](std::string_view v, const Setting& s) {
        d.listen.clear();
        for (const std::string& item : split_list(v)) {
            auto a = IpAddress::parse(item);
            if (!a) {
                r.error(s.pos, s.name, "'" + item + "' is not an IP address");
                continue;
            }
            d.listen.push_back(*a);
        }
    };
    h["port"] = u32(r, wide.port, 65535);
    h["port_nat_t"] = u32(r, wide.natt, 65535);
    h["vici"] = [&r, &d](std::string_view v, const Setting& s) {
        if (!v.starts_with("unix://")) {
            r.error(s.pos, s.name, "only unix:// sockets are supported");
            return;
        }
        d.vici = std::string(v);
    };
    h["vici_swanctl_socket"] = flag(r, d.vici_swanctl_socket);
    h["vici_max_clients"] = [&r, &d](std::string_view v, const Setting& s) {
        const auto n = parse_u64(v);
        if (!n || *n < 1 || *n > 65536) {
            r.error(s.pos, s.name, "expected a number of clients from 1 to 65536");
            return;
        }
        d.vici_max_clients = static_cast<std::uint32_t>(*n);
    };
    h["backend"] = [&r, &d](std::string_view v, const Setting& s) {
        if (v != "none" && v != "userspace" && v != "xfrm") {
            r.error(s.pos, s.name, "expected none, userspace or xfrm");
            return;
        }
        d.backend = std::string(v);
    };
    h["workers"] = u32(r, d.workers, 256);
    h["tun"] = interface_name(r, d.tun_name);
    h["mtu"] = [&r, &d](std::string_view v, const Setting& s) {
        const auto n = parse_u64(v);
        if (!n || *n < 1280 || *n > 9000) {
            r.error(s.pos, s.name, "expected an MTU from 1280 to 9000");
            return;
        }
        d.mtu = static_cast<std::uint32_t>(*n);
    };
    h["legacy_algorithms"] = [&r, &d](std::string_view v, const Setting& s) {
        if (v != "warn" && v != "refuse") {
            r.error(s.pos, s.name, "expected warn or refuse");
            return;
        }
        d.refuse_legacy = v == "refuse";
    };
    h["install_virtual_ip"] = flag(r, d.install_virtual_ip);
    h["install_virtual_ip_on"] = interface_name(r, d.install_virtual_ip_on);
    h["offloads"] = flag(r, d.offloads);
    h["raw_esp"] = flag(r, d.raw_esp);
    h["ipsec_mb"] = flag(r, d.ipsec_mb);
    h["swanctl_conf"] = [&d](std::string_view v, const Setting&) {
        d.swanctl_conf = std::string(v);
    };
}

/// charon's DoS protection keys as written (strongSwan's meaning: 0 turns a threshold off;
/// dos_protection = no turns off the COOKIE and per-address ones).
struct DosKeys {
    bool protection{true};
    std::uint32_t cookie{30};
    std::uint32_t cookie_ip{3};
    std::uint32_t block{5};
    std::uint32_t limit{10000};  ///< init_limit_half_open (charon's default: 0, none)
};

void add_dos_handlers(Handlers& h, Reporter& r, DosKeys& k) {
    h["dos_protection"] = flag(r, k.protection);
    h["cookie_threshold"] = u32(r, k.cookie, 10000000);
    h["cookie_threshold_ip"] = u32(r, k.cookie_ip, 10000000);
    h["block_threshold"] = u32(r, k.block, 10000000);
    h["init_limit_half_open"] = u32(r, k.limit, 10000000);
}

/// The engine's thresholds (ike::Settings::kNoLimit for "off"). As charon does, a per-address
/// COOKIE threshold at or above block_threshold raises block_threshold above it: a spoofed
/// source must meet a COOKIE before it can block the address it pretends to be.
void apply_dos(const DosKeys& k, ike::Settings& e, Reporter& r, const SourcePos& pos) {
    const auto limit = [](std::uint32_t v) { return v == 0 ? ike::Settings::kNoLimit : v; };
    e.init_limit_half_open = limit(k.limit);
    if (!k.protection) {
        e.cookie_threshold = e.cookie_threshold_ip = e.block_threshold = ike::Settings::kNoLimit;
        return;
    }
    e.cookie_threshold = limit(k.cookie);
    e.cookie_threshold_ip = limit(k.cookie_ip);
    e.block_threshold = limit(k.block);
    if (k.cookie_ip != 0 && k.block != 0 && k.cookie_ip >= k.block) {
        e.block_threshold = k.cookie_ip + 1;
        r.warning(pos, "block_threshold",
                  "raised to " + std::to_string(e.block_threshold) +
                          ": it must be above cookie_threshold_ip (" + std::to_string(k.cookie_ip) +
                          ")");
    }
}

/// The IKE engine's keys: retransmission, half-open SAs, Child SAs per IKE SA, fragments,
/// window, keepalives.
void add_engine_handlers(Handlers& h, Reporter& r, DaemonSettings& d, Narrowed& wide) {
    ike::Settings& e = d.engine;
    h["retransmit_timeout"] = fractional_seconds(r, e.retransmit_timeout);
    h["retransmit_base"] = factor(r, e.retransmit_base, 1.0, 10.0);
    h["retransmit_tries"] = u32(r, wide.tries, 100);
    h["half_open_timeout"] = fractional_seconds(r, e.half_open_timeout);
    // Revocation (docs/revocation.md): how long IKE_AUTH waits for a status, and for how many
    // IKE SAs at once (0: never waits).
    h["revocation_timeout"] = fractional_seconds(r, e.revocation_timeout);
    h["max_revocation_holds"] = u32(r, e.max_revocation_holds, 1000000);
    h["restart_delay"] = fractional_seconds(r, e.restart_delay);
    h["restart_delay_max"] = fractional_seconds(r, e.restart_delay_max);
    h["make_before_break"] = [&r, &e](std::string_view v, const Setting& s) {
        if (const auto b = parse_bool(v)) {
            e.make_before_break = *b;
        } else {
            r.error(s.pos, s.name, "expected yes or no");
        }
    };
    h["max_child_sas"] = u32(r, e.max_child_sas, 1000000, 1);
    h["fragment_size"] = u32(r, wide.fragment, 65535);
    h["window_size"] = u32(r, d.window_size, 64);
    h["delete_rekeyed_delay"] = fractional_seconds(r, e.delete_rekeyed_delay);
    h["keep_alive"] = [&r, &d](std::string_view v, const Setting& s) {
        if (v == "0") {
            d.keep_alive = ike::Duration(0);
            return;
        }
        fractional_seconds(r, d.keep_alive)(v, s);
    };
    h["updown_timeout"] = fractional_seconds(r, d.updown_timeout);
    h["follow_redirects"] = flag(r, e.follow_redirects);  // RFC 5685 (charon's key)
}

}  // namespace

DaemonSettings map_daemon_settings(const Section& root, Findings& findings) {
    DaemonSettings d;
    Reporter r(findings, "ikeplexd");
    check_top_level(root, findings);
    const Section* sec = root.find_section("ikeplexd");
    if (sec == nullptr) {
        return d;
    }
    ike::Settings& e = d.engine;
    Narrowed wide{e.retransmit_tries, static_cast<std::uint32_t>(e.fragment_size), d.port,
                  d.port_nat_t};
    DosKeys dos;
    Handlers h;
    add_daemon_handlers(h, r, d, wide);
    add_engine_handlers(h, r, d, wide);
    add_dos_handlers(h, r, dos);
    apply_settings(*sec, h, r);
    apply_dos(dos, e, r, sec->pos);
    for (const Section& sub : sec->sections) {
        if (sub.name == "log") {
            map_log(sub, d, r);
        } else if (sub.name == "save_keys") {
            map_save_keys(sub, d, r);
        } else if (sub.name == "metrics") {
            map_metrics(sub, d, r);
        } else if (sub.name == "plugins") {
            map_radius_settings(sub, d.radius, findings);
        } else if (sub.name == "resolve") {
            map_resolve(sub, d, r);
        } else if (sub.name == "tls") {
            map_tls(sub, d, r);
        } else if (sub.name == "redirect") {
            map_redirect_settings(sub, e.redirect_rules, r);
        } else {
            r.error(sub.pos, sub.name, "unknown section");
        }
    }
    e.retransmit_tries = wide.tries;
    e.fragment_size = wide.fragment < 576 ? 576 : wide.fragment;
    d.port = static_cast<std::uint16_t>(wide.port);
    d.port_nat_t = static_cast<std::uint16_t>(wide.natt);
    if (d.port == d.port_nat_t) {
        r.error(sec->pos, "port_nat_t", "must differ from port");
    }
    return d;
}

Result<DaemonSettings> load_daemon_settings(const std::string& path, Findings& findings,
                                            const FileSystem& fs) {
    auto resolved = load_settings_file(path, findings.errors, fs);
    if (!resolved) {
        return resolved.error();
    }
    DaemonSettings d = map_daemon_settings(*resolved, findings);
    if (!findings.ok()) {
        return make_error(Errc::kConfig, "ikeplexd.conf has errors");
    }
    return d;
}

void check_backend(const ike::PeerConfig& c, std::string_view backend, bool kernel_per_cpu,
                   const std::map<std::string, SourcePos>& positions, Findings& out) {
    if (backend != "xfrm") {
        return;
    }
    for (const ike::ChildConfig& child : c.children) {
        if (!child.per_cpu_sas) {
            continue;
        }
        const std::string key = "connections." + c.name + ".children." + child.name;
        const auto at = positions.find(key);
        const SourcePos pos = at != positions.end() ? at->second : SourcePos{};
        if (!kernel_per_cpu) {
            out.errors.push_back(Diagnostic{
                    pos, key + ": per_cpu_sas needs per-CPU SAs in the kernel (XFRMA_SA_PCPU, "
                               "Linux 6.13+), which this kernel lacks; use backend = userspace "
                               "or per_cpu_sas = no"});
            continue;
        }
        if (child.start_action == ike::StartAction::kTrap ||
            child.per_cpu_sas_start == ike::PerCpuStart::kAll) {
            continue;
        }
        std::string how = child.start_action == ike::StartAction::kStart
                                  ? "the fallback starts with the connection (start_action = start)"
                                  : "the group starts when the peer or `ikeplex initiate` brings "
                                    "up the fallback";
        std::string text = key;
        text.append(": per_cpu_sas with backend xfrm without start_action = trap: ")
                .append(how)
                .append("; the kernel's per-CPU acquires then bring a member per CPU "
                        "(per_cpu_sas_start = all: every member at once)");
        out.warnings.push_back(Diagnostic{pos, std::move(text)});
    }
}

void check_radius(const ike::PeerConfig& c, bool radius_enabled,
                  const std::map<std::string, SourcePos>& positions, Findings& out) {
    const bool relays =
            c.remote.eap_radius || (!c.remote_more.empty() && c.remote_more.front().eap_radius);
    if (radius_enabled || !relays) {
        return;
    }
    const std::string key = "connections." + c.name;
    const auto at = positions.find(key);
    const SourcePos pos = at != positions.end() ? at->second : SourcePos{};
    out.errors.push_back(
            Diagnostic{pos, key + ".remote.auth = eap-radius needs RADIUS servers in ikeplexd.conf "
                                  "(plugins { eap-radius { servers { ... } } })"});
}

}  // namespace ikeplex::config
