// VICI pool commands (ConfigCommands, vici_config.h) as strongSwan's vici plugin answers them:
// load-pool (sections `<name> { addrs, dns = [...], ... }`; a pool with the same addresses
// keeps its leases), unload-pool (name; refused while a lease is online), get-pools (one
// section per pool: base, size, online, offline, and with `leases = yes` a `leases` section
// of `<n> { address, identity, status = online|offline }`). swanctl.conf's pools load at start
// and on every reload; one the file no longer has goes once none of its leases is online.
#include <algorithm>

#include "config/swanctl.h"
#include "daemon/vici_command.h"
#include "daemon/vici_config.h"
#include "util/log.h"

namespace ikeplex::daemon {

using log::Subsystem;

namespace {

/// A load-pool section as a settings section (lists as comma-separated values).
config::Section pool_section(const std::string& name, const vici::Message& m) {
    config::Section s;
    s.name = name;
    s.pos = config::SourcePos{"vici", 0};
    for (const vici::Entry& e : m) {
        if (const auto* kv = std::get_if<vici::KeyValue>(&e)) {
            s.set(config::Setting{kv->name, std::string(kv->text()), s.pos});
        } else if (const auto* l = std::get_if<vici::List>(&e)) {
            std::string joined;
            for (const Bytes& item : l->items) {
                joined += (joined.empty() ? "" : ",") + std::string(vici::as_text(item));
            }
            s.set(config::Setting{l->name, joined, s.pos});
        }
    }
    return s;
}

}  // namespace

void ConfigCommands::load_pool(const vici::Message& req, const vici::Reply& reply) {
    for (const vici::Entry& e : req) {
        const auto* sec = std::get_if<vici::Section>(&e);
        if (sec == nullptr) {
            continue;
        }
        config::Findings f;
        auto pool = config::map_pool(pool_section(sec->name, sec->body), f);
        if (!pool) {
            const std::string why = f.errors.empty() ? "invalid pool" : f.errors.front().message;
            log::info(Subsystem::kCfg, "load-pool {} refused: {}", sec->name, why);
            reply.respond(result(false, why));
            return;
        }
        if (auto st = host_.manager().pools().load(std::move(*pool)); !st) {
            reply.respond(result(
                    false, "vici pool " + sec->name + " has online leases, unable to replace"));
            return;
        }
    }
    reply.respond(result(true));
}

void ConfigCommands::unload_pool(const vici::Message& req, const vici::Reply& reply) {
    const auto name = req.get("name");
    if (!name) {
        reply.respond(result(false, "missing pool name to unload"));
        return;
    }
    ike::AddressPools& pools = host_.manager().pools();
    if (pools.find(*name) == nullptr) {
        reply.respond(result(false, std::string(*name) + " not found"));
        return;
    }
    if (!pools.unload(*name)) {
        reply.respond(result(false, std::string(*name) + " has online leases, unable to unload"));
        return;
    }
    reply.respond(result(true));
}

void ConfigCommands::get_pools(const vici::Message& req, const vici::Reply& reply) {
    const bool leases = req.get("leases").value_or("no") == "yes";
    const auto filter = req.get("name");
    vici::Message out;
    for (const auto& [name, pool] : host_.manager().pools().all()) {
        if (filter && *filter != name) {
            continue;
        }
        vici::Message& p = out.add_section(name);
        p.add("base", pool.config().base.to_string());
        p.add("size", std::to_string(pool.config().size));
        p.add("online", std::to_string(pool.online()));
        p.add("offline", std::to_string(pool.offline()));
        if (leases) {
            vici::Message& ls = p.add_section("leases");
            int i = 0;
            for (const ike::Lease& l : pool.leases()) {
                vici::Message& one = ls.add_section(std::to_string(i++));
                one.add("address", l.address.to_string());
                one.add("identity", l.identity.to_string());
                one.add("status", l.online ? "online" : "offline");
            }
        }
    }
    reply.respond(out);
}

void ConfigCommands::sync_file_pools(std::vector<ike::PoolConfig> pools) {
    ike::AddressPools& all = host_.manager().pools();
    const std::vector<std::string> previous = std::move(file_pools_);
    file_pools_.clear();
    for (ike::PoolConfig& p : pools) {
        std::string name = p.name;
        if (auto st = all.load(std::move(p)); !st) {
            log::error(Subsystem::kCfg, "pool '{}' has online leases: its previous version stays",
                       name);
        }
        file_pools_.push_back(std::move(name));
    }
    for (const std::string& old : previous) {
        if (std::find(file_pools_.begin(), file_pools_.end(), old) != file_pools_.end()) {
            continue;
        }
        if (all.find(old) != nullptr && !all.unload(old)) {
            file_pools_.push_back(old);  // goes on a later reload, once no lease is online
        }
    }
}

}  // namespace ikeplex::daemon
