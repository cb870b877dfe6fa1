#include "config/radius_settings.h"

#include <algorithm>
#include <cstdlib>

#include "config/decimal_values.h"
#include "config/swanctl_values.h"

namespace ikeplex::config {

namespace {

constexpr std::string_view kPrefix = "ikeplexd.plugins.eap-radius";

Handler port(Reporter& r, std::uint16_t& out) {
    return [&r, &out](std::string_view v, const Setting& s) {
        const auto n = parse_u64(v);
        if (!n || *n == 0 || *n > 65535) {
            r.error(s.pos, s.name, "expected a port from 1 to 65535");
            return;
        }
        out = static_cast<std::uint16_t>(*n);
    };
}

/// servers { NAME { address, secret, auth_port/port, acct_port, preference, nas_identifier } }
void map_server(const Section& sec, const std::string& default_nas, RadiusSettings& out,
                Findings& findings) {
    Reporter r(findings, std::string(kPrefix) + ".servers." + sec.name);
    RadiusServer srv;
    srv.name = sec.name;
    srv.nas_identifier = default_nas;
    bool have_address = false;
    Handlers h;
    h["address"] = [&](std::string_view v, const Setting& s) {
        auto a = IpAddress::parse(v);
        if (!a) {
            r.error(s.pos, s.name, "'" + std::string(v) + "' is not an IP address");
            return;
        }
        srv.address = *a;
        have_address = true;
    };
    h["secret"] = [&](std::string_view v, const Setting& s) {
        if (v.empty()) {
            r.error(s.pos, s.name, "the shared secret is empty");
            return;
        }
        srv.secret = std::make_shared<const SecretBytes>(SecretBytes::copy_of(as_bytes(v)));
    };
    h["auth_port"] = port(r, srv.auth_port);
    h["port"] = port(r, srv.auth_port);
    h["acct_port"] = port(r, srv.acct_port);
    h["preference"] = [&](std::string_view v, const Setting& s) {
        const std::string text(v);
        char* end = nullptr;
        const long p = std::strtol(text.c_str(), &end, 10);
        if (end == text.c_str() || *end != '\0' || p < -1000000 || p > 1000000) {
            r.error(s.pos, s.name, "expected a number");
            return;
        }
        srv.preference = static_cast<std::int32_t>(p);
    };
    h["nas_identifier"] = [&](std::string_view v, const Setting&) {
        srv.nas_identifier = std::string(v);
    };
    h["sockets"] = ignored(r, "ikeplexd uses one socket per server and port");
    for (const Section& sub : sec.sections) {
        r.error(sub.pos, sub.name, "unknown section");
    }
    const std::size_t before = findings.errors.size();
    apply_settings(sec, h, r);
    if (!have_address) {
        r.error(sec.pos, "address", "missing (the RADIUS server's address)");
    }
    if (!srv.secret) {
        r.error(sec.pos, "secret", "missing (the shared secret)");
    }
    if (findings.errors.size() == before) {
        out.servers.push_back(std::move(srv));
    }
}

}  // namespace

void map_radius_settings(const Section& plugins, RadiusSettings& out, Findings& findings) {
    Reporter top(findings, "ikeplexd.plugins");
    for (const Setting& s : plugins.settings) {
        top.error(s.pos, s.name, "unknown key (plugins holds the eap-radius section)");
    }
    for (const Section& sec : plugins.sections) {
        if (sec.name != "eap-radius") {
            top.error(sec.pos, sec.name, "unknown plugin (ikeplexd configures eap-radius here)");
            continue;
        }
        Reporter r(findings, std::string(kPrefix));
        std::string nas = "ikeplex";
        Handlers h;
        h["accounting"] = flag(r, out.accounting);
        h["accounting_interval"] = duration(r, out.accounting_interval);
        h["nas_identifier"] = [&nas](std::string_view v, const Setting&) { nas = v; };
        h["retransmit_timeout"] = fractional_seconds(r, out.retransmit_timeout);
        h["retransmit_base"] = factor(r, out.retransmit_base, 1.0, 10.0);
        h["retransmit_tries"] = [&r, &out](std::string_view v, const Setting& s) {
            const auto n = parse_u64(v);
            if (!n || *n > 20) {
                r.error(s.pos, s.name, "expected a number up to 20");
                return;
            }
            out.retransmit_tries = static_cast<std::uint32_t>(*n);
        };
        h["server"] = unsupported(r, "name each server in a servers { NAME { address } } section");
        h["secret"] = unsupported(r, "give the secret in servers { NAME { secret } }");
        apply_settings(sec, h, r);
        for (const Section& sub : sec.sections) {
            if (sub.name != "servers") {
                r.error(sub.pos, sub.name, "unknown section (eap-radius holds servers)");
                continue;
            }
            for (const Setting& s : sub.settings) {
                r.error(s.pos, "servers." + s.name, "unknown key (servers holds sections)");
            }
            for (const Section& server : sub.sections) {
                map_server(server, nas, out, findings);
            }
        }
    }
    std::stable_sort(out.servers.begin(), out.servers.end(),
                     [](const RadiusServer& a, const RadiusServer& b) {
                         return a.preference > b.preference;
                     });
}

}  // namespace ikeplex::config
