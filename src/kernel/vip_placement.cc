#include "kernel/vip_placement.h"

#include <net/if.h>

#include "esp/io/rtnl.h"
#include "util/log.h"

namespace ikeplex::kernel {
namespace {

unsigned host_prefix(const IpAddress& a) {
    return a.is_v4() ? 32 : 128;
}

}  // namespace

Status VipPlacement::add(const IpAddress& address, std::string_view on,
                         const std::function<Result<unsigned>()>& fallback) {
    unsigned ifindex = 0;
    if (!on.empty()) {
        ifindex = ::if_nametoindex(std::string(on).c_str());
        if (ifindex == 0) {
            return make_error(Errc::kNotFound, "install_virtual_ip_on: no such interface");
        }
    } else {
        ifindex = IKEPLEX_TRY(fallback());
    }
    IKEPLEX_TRY(esp::io::add_address(ifindex, address, host_prefix(address)));
    placed_[address] = ifindex;
    log::info(log::Subsystem::kKnl, "installed virtual IP {} on interface {}", address, ifindex);
    return ok();
}

Status VipPlacement::remove(const IpAddress& address) {
    const auto it = placed_.find(address);
    if (it == placed_.end()) {
        return make_error(Errc::kNotFound, "virtual IP not installed by this backend");
    }
    const unsigned ifindex = it->second;
    placed_.erase(it);
    IKEPLEX_TRY(esp::io::del_address(ifindex, address, host_prefix(address)));
    log::info(log::Subsystem::kKnl, "removed virtual IP {} (interface {})", address, ifindex);
    return ok();
}

void VipPlacement::clear() {
    for (const auto& [address, ifindex] : placed_) {
        (void)esp::io::del_address(ifindex, address, host_prefix(address));
    }
    placed_.clear();
}

}  // namespace ikeplex::kernel
