// The loaded address pools by name (pools.h): loading, reloading without losing leases,
// acquiring across a connection's pools and the attributes that go with an address.
#include <algorithm>
#include <set>

#include "ike/pools.h"
#include "util/log.h"

namespace ikeplex::ike {

Status AddressPools::load(PoolConfig config) {
    const auto it = pools_.find(config.name);
    if (it == pools_.end()) {
        log::info(log::Subsystem::kCfg, "added vici pool {}: {}, {} entries", config.name,
                  config.base, config.size);
        std::string name = config.name;
        pools_.emplace(std::move(name), AddressPool(std::move(config)));
        return ok();
    }
    AddressPool& old = it->second;
    if (old.config().base == config.base && old.config().size == config.size &&
        old.config().skip_base == config.skip_base) {
        log::info(log::Subsystem::kCfg, "updated vici pool {}: {}, {} entries", config.name,
                  config.base, config.size);
        old.set_attributes(std::move(config.attributes));
        return ok();
    }
    if (old.online() == 0) {
        log::info(log::Subsystem::kCfg, "replaced vici pool {}: {}, {} entries", config.name,
                  config.base, config.size);
        it->second = AddressPool(std::move(config));
        return ok();
    }
    log::info(log::Subsystem::kCfg, "vici pool {} has {} online leases, unable to replace",
              config.name, old.online());
    return make_error(Errc::kState, "pool has online leases, unable to replace");
}

Status AddressPools::unload(std::string_view name) {
    const auto it = pools_.find(name);
    if (it == pools_.end()) {
        return make_error(Errc::kNotFound, "pool not found");
    }
    if (const std::uint32_t online = it->second.online(); online > 0) {
        log::info(log::Subsystem::kCfg, "vici pool {} has {} online leases, unable to unload", name,
                  online);
        return make_error(Errc::kState, "pool has online leases, unable to unload");
    }
    log::info(log::Subsystem::kCfg, "unloaded vici pool {}", name);
    pools_.erase(it);
    return ok();
}

std::vector<std::string> AddressPools::sync(std::vector<PoolConfig> configs) {
    std::vector<std::string> refused;
    std::set<std::string, std::less<>> wanted;
    for (PoolConfig& c : configs) {
        wanted.insert(c.name);
        std::string name = c.name;
        if (!load(std::move(c))) {
            refused.push_back(std::move(name));
        }
    }
    std::vector<std::string> gone;
    for (const auto& [name, pool] : pools_) {
        if (!wanted.contains(name)) {
            gone.push_back(name);
        }
    }
    for (const std::string& name : gone) {
        (void)unload(name);  // one with online leases stays until a later reload
    }
    return refused;
}

const AddressPool* AddressPools::find(std::string_view name) const {
    const auto it = pools_.find(name);
    return it != pools_.end() ? &it->second : nullptr;
}

std::optional<IpAddress> AddressPools::acquire(std::span<const std::string> pools,
                                               const Identity& id, const IpAddress& requested,
                                               const Endpoint& peer) {
    for (const AddressPool::Op op :
         {AddressPool::Op::kExisting, AddressPool::Op::kNew, AddressPool::Op::kReassign}) {
        for (const std::string& name : pools) {
            const auto it = pools_.find(name);
            if (it == pools_.end()) {
                continue;
            }
            if (auto a = it->second.acquire(id, requested, op, peer)) {
                return a;
            }
        }
    }
    return std::nullopt;
}

bool AddressPools::release(std::span<const std::string> pools, const IpAddress& a,
                           const Identity& id) {
    for (const std::string& name : pools) {
        const auto it = pools_.find(name);
        if (it != pools_.end() && it->second.release(a, id)) {
            return true;
        }
    }
    return false;
}

std::vector<wire::ConfigAttribute> AddressPools::attributes(std::span<const std::string> pools,
                                                            std::span<const IpAddress> vips) const {
    std::vector<wire::ConfigAttribute> out;
    for (const std::string& name : pools) {
        const AddressPool* p = find(name);
        if (p != nullptr && std::any_of(vips.begin(), vips.end(),
                                        [&](const IpAddress& v) { return p->contains(v); })) {
            const auto& attrs = p->config().attributes;
            out.insert(out.end(), attrs.begin(), attrs.end());
        }
    }
    return out;
}

}  // namespace ikeplex::ike
