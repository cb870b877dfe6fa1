// connections.<name>.children.<child> of swanctl.conf: selectors, ESP proposals, mode, start
// action, lifetimes and the RFC 9611 options (strongSwan's per_cpu_sas and ikeplex's
// per_cpu_sas_max / per_cpu_sas_start).
#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "config/swanctl.h"
#include "config/swanctl_values.h"
#include "ike/proposal.h"

namespace ikeplex::config {

namespace {

/// Lifetime in time, bytes or packets: rekey, life and rand with strongSwan's defaults
/// (life = rekey + 10 %, rand = life - rekey).
template <class T>
struct Limit {
    std::optional<T> rekey;
    std::optional<T> life;
    std::optional<T> rand;
};

/// The lifetime settings of a child, before strongSwan's defaults are applied.
struct Limits {
    Limit<ike::Duration> time;
    Limit<std::uint64_t> bytes;
    Limit<std::uint64_t> packets;
};

/// local_ts / remote_ts: a list of selectors; "dynamic" (or nothing) is the IKE SA's own or
/// the peer's address, "dynamic[udp/1701]" that address with a protocol and port.
Handler selectors(Reporter& r, std::vector<ike::TrafficSelector>& out) {
    return [&r, &out](std::string_view v, const Setting& s) {
        out.clear();
        for (const std::string& item : split_list(v)) {
            std::string why;
            auto t = ike::TrafficSelector::parse(item, &why);
            if (!t) {
                r.error(s.pos, s.name, fmt::format("'{}': {}", item, why));
                return;
            }
            out.push_back(*t);
        }
        const auto plain_dynamic = [](const ike::TrafficSelector& t) {
            return t.dynamic && t.protocol == 0 && t.start_port == 0 && t.end_port == 65535;
        };
        if (out.size() == 1 && plain_dynamic(out.front())) {
            out.clear();  // plain "dynamic": the default
        }
    };
}

/// Traffic selectors and proposals.
void add_selector_handlers(Handlers& h, Reporter& r, ike::ChildConfig& c) {
    h["local_ts"] = selectors(r, c.local_ts);
    h["remote_ts"] = selectors(r, c.remote_ts);
    h["esp_proposals"] = proposals(r, c.esp_proposals, wire::ProtocolId::kEsp);
    h["ah_proposals"] = [&r](std::string_view, const Setting& s) {
        r.error(s.pos, s.name, "AH is not supported; use ESP");
    };
}

/// An action word as strongSwan reads it: 0 none/clear, 1 trap/route, 2 start/restart.
std::optional<std::size_t> parse_action(std::string_view v) {
    if (v == "none" || v == "clear") {
        return 0;
    }
    if (v == "trap" || v == "route") {
        return 1;
    }
    if (v == "start" || v == "restart") {
        return 2;
    }
    return std::nullopt;
}

/// mode and the actions (start_action, dpd_action, close_action).
void add_mode_handlers(Handlers& h, Reporter& r, ike::ChildConfig& c) {
    h["mode"] = [&r, &c](std::string_view v, const Setting& s) {
        if (v == "tunnel") {
            c.mode = ike::Mode::kTunnel;
        } else if (v == "transport") {
            c.mode = ike::Mode::kTransport;
        } else {
            r.error(s.pos, s.name,
                    "'" + std::string(v) + "': only tunnel and transport are supported");
        }
    };
    // strongSwan reads the three actions with one vocabulary: start or restart, trap or
    // route, none or clear; strongSwan 6 also takes "trap|start" for start_action.
    h["start_action"] = [&r, &c](std::string_view v, const Setting& s) {
        if (v == "trap|start" || v == "start|trap") {
            c.start_action = ike::StartAction::kTrapStart;
            return;
        }
        static constexpr ike::StartAction kAs[] = {ike::StartAction::kNone, ike::StartAction::kTrap,
                                                   ike::StartAction::kStart};
        if (const auto a = parse_action(v)) {
            c.start_action = kAs[*a];
        } else {
            r.error(s.pos, s.name, "expected none, trap, start or trap|start");
        }
    };
    h["dpd_action"] = [&r, &c](std::string_view v, const Setting& s) {
        static constexpr ike::DpdAction kAs[] = {ike::DpdAction::kClear, ike::DpdAction::kTrap,
                                                 ike::DpdAction::kRestart};
        if (const auto a = parse_action(v)) {
            c.dpd_action = kAs[*a];
        } else {
            r.error(s.pos, s.name, "expected clear, trap or restart");
        }
    };
    h["close_action"] = [&r, &c](std::string_view v, const Setting& s) {
        static constexpr ike::CloseAction kAs[] = {ike::CloseAction::kNone, ike::CloseAction::kTrap,
                                                   ike::CloseAction::kStart};
        if (const auto a = parse_action(v)) {
            c.close_action = kAs[*a];
        } else {
            r.error(s.pos, s.name, "expected none, trap or start");
        }
    };
}

/// Lifetimes in time, bytes and packets.
void add_lifetime_handlers(Handlers& h, Reporter& r, Limits& l) {
    h["rekey_time"] = duration(r, l.time.rekey);
    h["life_time"] = duration(r, l.time.life);
    h["rand_time"] = duration(r, l.time.rand);
    h["rekey_bytes"] = number(r, l.bytes.rekey);
    h["life_bytes"] = number(r, l.bytes.life);
    h["rand_bytes"] = number(r, l.bytes.rand);
    h["rekey_packets"] = number(r, l.packets.rekey);
    h["life_packets"] = number(r, l.packets.life);
    h["rand_packets"] = number(r, l.packets.rand);
}

/// The replay window and the RFC 9611 per-CPU SA options.
void add_data_plane_handlers(Handlers& h, Reporter& r, ike::ChildConfig& c) {
    h["replay_window"] = [&r, &c](std::string_view v, const Setting& s) {
        const auto n = parse_u64(v);
        // The data plane keeps a bitmap of up to 4096 packets (RFC 4303 §3.4.3).
        if (!n || *n > 4096) {
            r.error(s.pos, s.name, "not a window size (0..4096)");
            return;
        }
        c.replay_window = static_cast<std::uint32_t>(*n);
    };
    h["per_cpu_sas"] = [&r, &c](std::string_view v, const Setting& s) {
        if (v == "encap") {
            c.per_cpu_sas = true;
            r.warning(s.pos, s.name, "per-CPU UDP source ports are not used; treated as yes");
            return;
        }
        if (auto b = parse_bool(v)) {
            c.per_cpu_sas = *b;
        } else {
            r.error(s.pos, s.name, "expected yes, no or encap");
        }
    };
    h["per_cpu_sas_max"] = [&r, &c](std::string_view v, const Setting& s) {
        const auto n = parse_u64(v);
        if (!n || *n == 0 || *n > 4096) {
            r.error(s.pos, s.name, "expected 1..4096");
            return;
        }
        c.per_cpu_sas_max = static_cast<std::uint32_t>(*n);
    };
    h["per_cpu_sas_start"] = [&r, &c](std::string_view v, const Setting& s) {
        if (v == "acquire") {
            c.per_cpu_sas_start = ike::PerCpuStart::kAcquire;
        } else if (v == "all") {
            c.per_cpu_sas_start = ike::PerCpuStart::kAll;
        } else {
            r.error(s.pos, s.name, "expected acquire or all");
        }
    };
}

/// The updown script (the daemon runs it, as strongSwan's updown plugin does).
void add_updown_handlers(Handlers& h, Reporter& r, ike::ChildConfig& c) {
    h["updown"] = [&c](std::string_view v, const Setting&) { c.updown = std::string(v); };
    h["hostaccess"] = flag(r, c.hostaccess);
}

/// strongSwan keys ikeplex ignores (a warning) or supports only at one value (an error
/// otherwise): actions, policies, marks, labels, offload.
void add_unsupported_handlers(Handlers& h, Reporter& r) {
    h["ipcomp"] = only(r, {"no"}, "IPComp is not supported");
    h["sha256_96"] = only(r, {"no"}, "the non-standard 96-bit SHA-256 truncation is not supported");
    h["policies"] = only(r, {"yes"}, "policies = no is not supported");
    h["policies_fwd_out"] = only(r, {"no"}, "policies_fwd_out is not supported");
    h["inactivity"] = unsupported(r, "inactivity timeouts are not supported");
    h["reqid"] = ignored(r, "reqids are assigned by ikeplex");
    h["priority"] = ignored(r, "policy priorities are computed by ikeplex");
    h["interface"] = unsupported(r, "interface-bound policies are not supported");
    for (const char* k : {"mark_in", "mark_in_sa", "mark_out", "set_mark_in", "set_mark_out",
                          "if_id_in", "if_id_out"}) {
        h[k] = unsupported(r, "marks and interface ids are not supported");
    }
    for (const char* k : {"label", "label_mode"}) {
        h[k] = unsupported(r, "security labels are not supported");
    }
    h["tfc_padding"] = only(r, {"0"}, "TFC padding is not supported");
    h["hw_offload"] = only(r, {"no"}, "hardware offload is not supported");
    for (const char* k : {"copy_df", "copy_ecn", "copy_dscp"}) {
        h[k] = ignored(r, "the data plane decides what to copy from the inner header");
    }
}

/// strongSwan's defaults: life = rekey + 10 %, rand = life - rekey.
ike::Lifetimes apply_lifetime_defaults(const Limits& limits) {
    ike::Lifetimes l;
    l.rekey_time = limits.time.rekey.value_or(std::chrono::hours(1));
    l.life_time = limits.time.life.value_or(ike::Duration(l.rekey_time.count() * 11 / 10));
    l.rand_time = limits.time.rand.value_or(l.life_time - l.rekey_time);
    l.rekey_bytes = limits.bytes.rekey.value_or(0);
    l.life_bytes = limits.bytes.life.value_or(l.rekey_bytes * 11 / 10);
    l.rand_bytes = limits.bytes.rand.value_or(
            l.life_bytes > l.rekey_bytes ? l.life_bytes - l.rekey_bytes : 0);
    l.rekey_packets = limits.packets.rekey.value_or(0);
    l.life_packets = limits.packets.life.value_or(l.rekey_packets * 11 / 10);
    l.rand_packets = limits.packets.rand.value_or(
            l.life_packets > l.rekey_packets ? l.life_packets - l.rekey_packets : 0);
    return l;
}

void map_child(const Section& sec, ike::PeerConfig& peer, Reporter& parent) {
    ike::ChildConfig c;
    c.name = sec.name;
    c.esp_proposals = *ike::parse_proposals(default_esp_proposals(), wire::ProtocolId::kEsp);
    Reporter r(parent.findings(), key_path(parent.prefix(), "children." + sec.name));
    const std::size_t errors_before = r.errors();
    Limits limits;
    Handlers h;
    add_selector_handlers(h, r, c);
    add_mode_handlers(h, r, c);
    add_lifetime_handlers(h, r, limits);
    add_data_plane_handlers(h, r, c);
    add_updown_handlers(h, r, c);
    add_unsupported_handlers(h, r);
    apply_settings(sec, h, r);
    for (const Section& sub : sec.sections) {
        r.error(sub.pos, sub.name, "unknown section");
    }
    c.lifetimes = apply_lifetime_defaults(limits);
    const ike::Lifetimes& l = c.lifetimes;
    if (l.life_time.count() != 0 && l.rekey_time > l.life_time) {
        r.error(sec.pos, "rekey_time", "rekey_time is longer than life_time");
    }
    if (c.per_cpu_sas && c.mode != ike::Mode::kTunnel && c.mode != ike::Mode::kTransport) {
        r.error(sec.pos, "per_cpu_sas", "needs tunnel or transport mode");
    }
    if (r.errors() == errors_before) {
        peer.children.push_back(std::move(c));
    }
}

}  // namespace

void map_children(const Section& children, ike::PeerConfig& peer, Reporter& r) {
    for (const Setting& s : children.settings) {
        r.error(s.pos, "children." + s.name, "unknown key (children holds sections)");
    }
    for (const Section& child : children.sections) {
        map_child(child, peer, r);
    }
}

}  // namespace ikeplex::config
