// swanctl.conf's `pools` section (and VICI load-pool bodies): `<name> { addrs = ...; dns = ...;
// nbns = ...; <number> = ... }` -> the engine's pools (ike/pools.h). Attribute keys take
// comma-separated lists, one attribute per item, as strongSwan's vici plugin does.
#include <algorithm>

#include "config/swanctl.h"
#include "config/swanctl_values.h"

namespace ikeplex::config {

Result<ike::PoolConfig> map_pool(const Section& sec, Findings& findings) {
    Reporter r(findings, "pools." + sec.name);
    const std::size_t before = r.errors();
    const Setting* addrs = sec.find_setting("addrs");
    if (addrs == nullptr || !addrs->value || addrs->value->empty()) {
        r.error(sec.pos, "addrs", "missing: a subnet (10.3.0.0/24) or a range (10.3.0.1-10.3.0.9)");
        return make_error(Errc::kConfig, "pool without addrs");
    }
    auto pool = ike::PoolConfig::parse(sec.name, *addrs->value);
    if (!pool) {
        r.error(addrs->pos, "addrs",
                "'" + *addrs->value + "': " + std::string(pool.error().detail) +
                        " (expected a subnet such as 10.3.0.0/24 or a range such as "
                        "10.3.0.1-10.3.0.9)");
        return make_error(Errc::kConfig, "pool with bad addrs");
    }
    for (const Setting& s : sec.settings) {
        if (s.name == "addrs" || !s.value) {
            continue;
        }
        for (const std::string& item : split_list(*s.value)) {
            if (auto st = pool->add_attribute(s.name, item); !st) {
                r.error(s.pos, s.name,
                        std::string(st.error().detail) + " '" + item +
                                "' (keys: dns, nbns, dhcp, netmask, server, subnet, "
                                "split_include, split_exclude, or an attribute number)");
            }
        }
    }
    for (const Section& sub : sec.sections) {
        r.error(sub.pos, sub.name, "unknown section");
    }
    if (r.errors() != before) {
        return make_error(Errc::kConfig, "pool has errors");
    }
    return pool;
}

void map_pools(const Section& sec, std::vector<ike::PoolConfig>& out, Findings& findings) {
    Reporter r(findings, "pools");
    for (const Setting& s : sec.settings) {
        r.error(s.pos, s.name, "unknown key (pools holds sections)");
    }
    for (const Section& p : sec.sections) {
        if (auto pool = map_pool(p, findings)) {
            out.push_back(std::move(*pool));
        }
    }
}

void check_pools(const SwanctlConfig& config, Findings& findings) {
    for (const ike::PeerConfig& c : config.connections) {
        for (const std::string& name : c.pools) {
            const bool known =
                    std::any_of(config.pools.begin(), config.pools.end(),
                                [&](const ike::PoolConfig& p) { return p.name == name; });
            if (known) {
                continue;
            }
            const auto pos = config.positions.find("connections." + c.name);
            findings.warnings.push_back(Diagnostic{
                    pos != config.positions.end() ? pos->second : SourcePos{},
                    "connection '" + c.name + "' names pool '" + name +
                            "', which the file does not define (unless loaded over VICI, its "
                            "clients get INTERNAL_ADDRESS_FAILURE)"});
        }
    }
}

}  // namespace ikeplex::config
