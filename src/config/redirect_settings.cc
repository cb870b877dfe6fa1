#include "config/redirect_settings.h"

#include <string>

namespace ikeplex::config {

namespace {

void map_rule(const Section& sec, ike::RedirectRule& rule, Reporter& r) {
    const std::string at = "redirect." + sec.name + ".";
    for (const Section& sub : sec.sections) {
        r.error(sub.pos, at + sub.name,
                "unknown section (a redirect rule holds gateway, remote_addrs, "
                "established_above, remote_id)");
    }
    bool have_gateway = false;
    for (const Setting& s : sec.settings) {
        const std::string key = at + s.name;
        if (!s.value) {
            continue;
        }
        if (s.name == "gateway") {
            have_gateway = true;  // a bad one is reported as such, not as missing
            if (auto gw = ike::Gateway::parse(*s.value)) {
                rule.gateway = *gw;
            } else {
                r.error(s.pos, key, "'" + *s.value + "' is neither an IP address nor a host name");
            }
        } else if (s.name == "remote_addrs") {
            for (const std::string& item : split_list(*s.value)) {
                if (auto p = ike::AddressPrefix::parse(item)) {
                    rule.remote_addrs.push_back(*p);
                } else {
                    r.error(s.pos, key, "'" + item + "' is not an address or subnet (a.b.c.d/len)");
                }
            }
        } else if (s.name == "established_above") {
            const auto n = parse_u64(*s.value);
            if (!n || *n > 100000000) {
                r.error(s.pos, key, "expected a number of IKE SAs up to 100000000");
            } else {
                rule.established_above = static_cast<std::uint32_t>(*n);
            }
        } else if (s.name == "remote_id") {
            rule.remote_id = split_list(*s.value);
            if (rule.remote_id.empty()) {
                r.error(s.pos, key, "expected an identity or pattern (e.g. *@example.com)");
            }
        } else {
            r.error(s.pos, key,
                    "unknown key (a redirect rule holds gateway, remote_addrs, "
                    "established_above, remote_id)");
        }
    }
    if (!have_gateway) {
        r.error(sec.pos, at + "gateway", "missing: where the rule sends clients");
    }
}

}  // namespace

void map_redirect_settings(const Section& sec, std::vector<ike::RedirectRule>& out, Reporter& r) {
    for (const Setting& s : sec.settings) {
        r.error(s.pos, "redirect." + s.name, "unknown key (redirect holds one section per rule)");
    }
    for (const Section& sub : sec.sections) {
        ike::RedirectRule rule;
        rule.name = sub.name;
        map_rule(sub, rule, r);
        out.push_back(std::move(rule));
    }
}

}  // namespace ikeplex::config
