#include "daemon/vici_format.h"

#include <algorithm>
#include <ctime>
#include <set>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "ike/config_payload.h"
#include "util/escape.h"
#include "wire/names.h"

namespace ikeplex::daemon {

namespace {

std::string secs(std::int64_t ms) {
    return std::to_string(ms < 0 ? 0 : ms / 1000);
}

const char* ike_state(ike::IkeState s) {
    switch (s) {
        case ike::IkeState::kCreated:
            return "CREATED";
        case ike::IkeState::kConnecting:
            return "CONNECTING";
        case ike::IkeState::kEstablished:
            return "ESTABLISHED";
        case ike::IkeState::kRekeying:
            return "REKEYING";
        case ike::IkeState::kRekeyed:
            return "REKEYED";
        case ike::IkeState::kDeleting:
            return "DELETING";
        case ike::IkeState::kDestroyed:
            return "DESTROYING";
    }
    return "UNKNOWN";
}

std::string encr_name(std::uint16_t id) {
    return wire::transform_name(wire::TransformType::kEncr, id);
}

/// Bytes `m` takes encoded; more than any frame holds if it cannot be encoded.
std::size_t encoded_size(const vici::Message& m) {
    const auto bytes = vici::encode(m);
    return bytes ? bytes->size() : vici::kMaxFrameLength + 1;
}

/// Bytes of one entry: a key and a value of `value_length` bytes, or (`value_length` 0) an
/// empty section, named `name`.
std::size_t entry_size(std::string_view name, std::size_t value_length) {
    vici::Message one;
    if (value_length == 0) {
        one.add_section(name);
    } else {
        one.add(name, std::string(value_length, '0'));
    }
    return encoded_size(one);
}

void add_ts(vici::Message& m, const char* name, const std::vector<ike::TrafficSelector>& ts) {
    vici::List& l = m.add_list(name);
    for (const ike::TrafficSelector& t : ts) {
        l.add(t.to_string());
    }
}

}  // namespace

void fill_ike(vici::Message& m, const ike::IkeSaManager& mgr, const ike::IkeSa& sa,
              std::int64_t now_ms) {
    m.add("uniqueid", std::to_string(sa.id()));
    m.add("version", "2");
    m.add("state", ike_state(sa.state()));
    m.add("local-host", sa.local().address.to_string());
    m.add("local-port", std::to_string(sa.local().port));
    // Identities a peer chose may hold control characters: escaped for swanctl's and ikeplex's
    // list-sas (strongSwan prints such characters of an identity as '?' [R]).
    m.add("local-id", escape_nonprintable(sa.local_id().to_string()));
    m.add("remote-host", sa.remote().address.to_string());
    m.add("remote-port", std::to_string(sa.remote().port));
    m.add("remote-id", escape_nonprintable(sa.remote_id().to_string()));
    // strongSwan: the EAP identity, when it differs from the IKE identity.
    if (!sa.remote_eap_id().empty() && sa.remote_eap_id() != sa.remote_id().to_string()) {
        m.add("remote-eap-id", escape_nonprintable(sa.remote_eap_id()));
    }
    m.add("initiator", sa.is_original_initiator() ? "yes" : "no");
    m.add("initiator-spi", fmt::format("{}", sa.spi_i()));
    m.add("responder-spi", fmt::format("{}", sa.spi_r()));
    if (sa.nat_here()) {
        m.add("nat-local", "yes");
    }
    if (sa.nat_there()) {
        m.add("nat-remote", "yes");
    }
    if (sa.udp_encap() && !sa.nat_here() && !sa.nat_there()) {
        m.add("nat-fake", "yes");
    }
    if (sa.udp_encap()) {
        m.add("nat-any", "yes");
    }
    if (sa.mobike().on) {
        m.add("mobike", "yes");  // RFC 4555 negotiated (ikeplex's key; strongSwan lists none)
    }
    if (const ike::VirtualIps* v = ike::virtual_ips(sa); v != nullptr) {
        // strongSwan's lists of the virtual IPs assigned to us and to the peer.
        for (const auto& [name, list] :
             {std::pair{"local-vips", &v->local}, std::pair{"remote-vips", &v->remote}}) {
            if (!list->empty()) {
                vici::List& l = m.add_list(name);
                for (const IpAddress& a : *list) {
                    l.add(a.to_string());
                }
            }
        }
    }
    if (sa.crypto()) {
        const auto& a = sa.crypto()->algorithms;
        m.add("encr-alg", encr_name(a.suite.encr->id));
        if (a.suite.encr->key_bits != 0) {
            m.add("encr-keysize", std::to_string(a.suite.encr->key_bits));
        }
        if (a.suite.integ != nullptr) {
            m.add("integ-alg", a.suite.integ->name);
        }
        m.add("prf-alg", a.suite.prf->name);
        if (a.ke != 0) {
            m.add("dh-group", wire::transform_name(wire::TransformType::kKe, a.ke));
        }
    }
    if (sa.state() != ike::IkeState::kConnecting && sa.state() != ike::IkeState::kCreated) {
        m.add("established", secs(now_ms - sa.established_at().ms));
    }
    if (auto at = mgr.deadline(sa.id(), ike::TimerKind::kIkeRekey, 0)) {
        m.add("rekey-time", secs(at->ms - now_ms));
    }
}

void fill_child(vici::Message& m, const ike::IkeSaManager& mgr, const kernel::Backend& backend,
                const ike::IkeSa& sa, const ike::ChildSa& c, std::int64_t now_ms) {
    m.add("name", c.name());
    m.add("uniqueid", std::to_string(c.id));
    m.add("reqid", std::to_string(c.reqid.value()));
    m.add("state", ike::to_string(c.state));
    m.add("mode", c.mode == ike::Mode::kTunnel ? "TUNNEL" : "TRANSPORT");
    m.add("protocol", "ESP");
    if (c.udp_encap) {
        m.add("encap", "yes");
    }
    m.add("spi-in", fmt::format("{}", c.spi_in));
    m.add("spi-out", fmt::format("{}", c.spi_out));
    if (c.algorithms.encr != nullptr) {
        m.add("encr-alg", encr_name(c.algorithms.encr->id));
        if (c.algorithms.encr->key_bits != 0) {
            m.add("encr-keysize", std::to_string(c.algorithms.encr->key_bits));
        }
    }
    if (c.algorithms.integ != nullptr) {
        m.add("integ-alg", c.algorithms.integ->name);
    }
    if (c.algorithms.ke != 0) {
        m.add("dh-group", wire::transform_name(wire::TransformType::kKe, c.algorithms.ke));
    }
    if (c.algorithms.esn) {
        m.add("esn", "1");
    }
    if (c.group_member) {
        // strongSwan 6: RFC 9611 members carry their CPU; the fallback has none.
        m.add("per-cpu-sas", "yes");
        if (!c.resource.is_none()) {
            m.add("cpu", std::to_string(c.resource.index()));
        }
    }
    const auto in = backend.stats(c.spi_in, true).value_or(kernel::SaStats{});
    const auto out = backend.stats(c.spi_out, false).value_or(kernel::SaStats{});
    m.add("bytes-in", std::to_string(in.bytes));
    m.add("packets-in", std::to_string(in.packets));
    m.add("bytes-out", std::to_string(out.bytes));
    m.add("packets-out", std::to_string(out.packets));
    // As charon: seconds since the SA last carried a packet (only once it has).
    const std::int64_t unix_now = std::time(nullptr);
    if (in.last_use_unix != 0) {
        m.add("use-in", std::to_string(std::max<std::int64_t>(0, unix_now - in.last_use_unix)));
    }
    if (out.last_use_unix != 0) {
        m.add("use-out", std::to_string(std::max<std::int64_t>(0, unix_now - out.last_use_unix)));
    }
    // ikeplex (userspace backend): which data-plane worker handles each direction ("all": the
    // fallback's outbound, shared by every worker).
    if (!backend.worker_stats().empty()) {
        m.add("worker-in", in.worker >= 0 ? std::to_string(in.worker) : "all");
        m.add("worker-out", out.worker >= 0 ? std::to_string(out.worker) : "all");
    }
    // ikeplex: inbound packets the data plane refused on this SA.
    if (in.dropped_replay != 0) {
        m.add("dropped-replay-in", std::to_string(in.dropped_replay));
    }
    if (in.dropped_integrity != 0) {
        m.add("dropped-integrity-in", std::to_string(in.dropped_integrity));
    }
    if (auto at = mgr.deadline(sa.id(), ike::TimerKind::kChildRekey, c.id)) {
        m.add("rekey-time", secs(at->ms - now_ms));
    }
    if (auto at = mgr.deadline(sa.id(), ike::TimerKind::kChildExpire, c.id)) {
        m.add("life-time", secs(at->ms - now_ms));
    }
    m.add("install-time", secs(now_ms - c.established.ms));
    add_ts(m, "local-ts", c.local_ts);
    add_ts(m, "remote-ts", c.remote_ts);
}

void add_ike_section(vici::Message& m, const ike::IkeSaManager& mgr, const kernel::Backend& backend,
                     const ike::IkeSa& sa, std::int64_t now_ms, std::uint32_t only_child,
                     std::size_t max_bytes) {
    vici::Message& body = m.add_section(sa.config() != nullptr ? sa.config()->name : "unknown");
    fill_ike(body, mgr, sa, now_ms);
    // What is left for the Child SAs: the child-sas section's own bytes and the two marker
    // keys (with a count of up to 10 digits) are set aside.
    const std::size_t taken = encoded_size(m) + entry_size("child-sas", 0) +
                              entry_size("child-sas-truncated", 3) +
                              entry_size("child-sas-total", 10);
    std::size_t room = max_bytes > taken ? max_bytes - taken : 0;
    vici::Message children;
    std::size_t total = 0;
    bool truncated = false;
    for (const auto& c : sa.children()) {
        if (c->state == ike::ChildState::kCreating || (only_child != 0 && c->id != only_child)) {
            continue;
        }
        ++total;
        if (truncated) {
            continue;  // counted, not listed
        }
        vici::Message one;
        fill_child(one.add_section(fmt::format("{}-{}", c->name(), c->id)), mgr, backend, sa, *c,
                   now_ms);
        const std::size_t size = encoded_size(one);
        if (size > room) {
            truncated = true;
            continue;
        }
        room -= size;
        children.entries.push_back(std::move(one.entries.front()));
    }
    if (truncated) {
        body.add("child-sas-truncated", "yes");
        body.add("child-sas-total", std::to_string(total));
    }
    body.add_section("child-sas") = std::move(children);
}

void add_conn_section(vici::Message& m, const ike::PeerConfig& c) {
    vici::Message& body = m.add_section(c.name);
    vici::List& la = body.add_list("local_addrs");
    if (c.local_addrs.empty()) {
        la.add("%any");
    }
    for (const IpAddress& a : c.local_addrs) {
        la.add(a.to_string());
    }
    vici::List& ra = body.add_list("remote_addrs");
    if (c.remote_addrs.empty()) {
        ra.add("%any");
    }
    for (const IpAddress& a : c.remote_addrs) {
        ra.add(a.to_string());
    }
    // The configured IKE ports (strongSwan 6: swanctl --list-conns prints them as addr[port]).
    body.add("local_port", std::to_string(c.local_port));
    body.add("remote_port", std::to_string(c.remote_port));
    body.add("version", "IKEv2");
    body.add("reauth_time", "0");
    body.add("rekey_time", std::to_string(c.rekey_time.count() / 1000));
    // strongSwan's unique_policy_names.
    static constexpr const char* kUnique[] = {"UNIQUE_NO", "UNIQUE_NEVER", "UNIQUE_KEEP",
                                              "UNIQUE_REPLACE"};
    body.add("unique", kUnique[static_cast<std::size_t>(c.unique)]);
    if (c.dpd_delay.count() != 0) {
        body.add("dpd_delay", std::to_string(c.dpd_delay.count() / 1000));
    }
    const auto auth = [&](const char* name, const ike::AuthConfig& a) {
        vici::Message& s = body.add_section(name);
        if (!a.id.any && !a.id.data.empty()) {
            s.add("id", a.id.to_string());
        }
        s.add("class", a.kind == ike::AuthKind::kPsk      ? "pre-shared key"
                       : a.kind == ike::AuthKind::kPubkey ? "public key"
                                                          : "EAP");
        if (a.kind == ike::AuthKind::kEap && a.eap_type != 0) {
            s.add("eap-type", ike::eap_method_name(a.eap_type));
        }
        if (a.eap_id) {
            s.add("eap_id", a.eap_id->to_string());
        }
        if (a.aaa_id) {
            s.add("aaa_id", a.aaa_id->to_string());
        }
        s.add_list("groups");
        s.add_list("cert_policy");
        s.add_list("certs");
        s.add_list("cacerts");
    };
    auth("local-1", c.local);
    auth("remote-1", c.remote);
    vici::Message& children = body.add_section("children");
    for (const ike::ChildConfig& ch : c.children) {
        vici::Message& cs = children.add_section(ch.name);
        cs.add("mode", ch.mode == ike::Mode::kTunnel ? "TUNNEL" : "TRANSPORT");
        cs.add("rekey_time", std::to_string(ch.lifetimes.rekey_time.count() / 1000));
        cs.add("rekey_bytes", std::to_string(ch.lifetimes.rekey_bytes));
        cs.add("rekey_packets", std::to_string(ch.lifetimes.rekey_packets));
        cs.add("dpd_action", "clear");
        cs.add("close_action", "none");
        if (ch.per_cpu_sas) {
            cs.add("per_cpu_sas", "yes");
            cs.add("per_cpu_sas_max", std::to_string(ch.per_cpu_sas_max));
            cs.add("per_cpu_sas_start",
                   ch.per_cpu_sas_start == ike::PerCpuStart::kAll ? "all" : "acquire");
        }
        // (each list is filled before the next entry: references die when one is added)
        for (const auto& [name, list] :
             {std::pair{"local-ts", &ch.local_ts}, std::pair{"remote-ts", &ch.remote_ts}}) {
            vici::List& l = cs.add_list(name);
            if (list->empty()) {
                l.add("dynamic");
            }
            for (const auto& t : *list) {
                l.add(t.to_string());
            }
        }
    }
}

std::vector<vici::Message> policy_events(const ike::IkeSaManager& mgr,
                                         std::optional<std::string_view> child) {
    std::vector<vici::Message> out;
    std::set<std::string> seen;  // name, mode and selectors: what makes a policy
    for (const ike::IkeSa* sa : mgr.sas()) {
        for (const auto& c : sa->children()) {
            if (c->state == ike::ChildState::kCreating || (child && c->name() != *child)) {
                continue;
            }
            const std::string name = fmt::format("{}/{}", sa->config()->name, c->name());
            const char* mode = c->mode == ike::Mode::kTunnel ? "TUNNEL" : "TRANSPORT";
            std::string key = name + "|" + mode;
            for (const auto* list : {&c->local_ts, &c->remote_ts}) {
                key += "|";
                for (const auto& t : *list) {
                    key += t.to_string() + ",";
                }
            }
            if (!seen.insert(key).second) {
                continue;
            }
            vici::Message ev;
            vici::Message& p = ev.add_section(name);
            p.add("child", c->name());
            p.add("ike", sa->config()->name);
            p.add("mode", mode);
            for (const auto& [list_name, list] :
                 {std::pair{"local-ts", &c->local_ts}, std::pair{"remote-ts", &c->remote_ts}}) {
                vici::List& l = p.add_list(list_name);
                for (const auto& t : *list) {
                    l.add(t.to_string());
                }
            }
            out.push_back(std::move(ev));
        }
    }
    return out;
}

}  // namespace ikeplex::daemon
