// Where a backend puts the virtual IPs a peer assigned us (RFC 7296 §2.19): a host address
// (/32, /128) on the interface ikeplexd.conf's install_virtual_ip_on names (strongSwan's
// charon.install_virtual_ip_on), else on the backend's own choice (userspace: the TUN
// device; xfrm: the interface of the route to the peer). Each address is removed from the
// interface it went on, and whatever is still placed goes when the backend does.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "util/ip_address.h"
#include "util/result.h"

namespace ikeplex::kernel {

class VipPlacement {
public:
    VipPlacement() = default;
    VipPlacement(const VipPlacement&) = delete;
    VipPlacement& operator=(const VipPlacement&) = delete;
    VipPlacement(VipPlacement&&) = delete;
    VipPlacement& operator=(VipPlacement&&) = delete;
    ~VipPlacement() { clear(); }

    /// Adds `address` on interface `on` (by name), or when `on` is empty on the interface
    /// `fallback` gives (an index).
    Status add(const IpAddress& address, std::string_view on,
               const std::function<Result<unsigned>()>& fallback);
    /// Removes an address add() put somewhere.
    Status remove(const IpAddress& address);
    /// Removes every address (the backend stops).
    void clear();

private:
    std::map<IpAddress, unsigned> placed_;  ///< address -> interface index
};

}  // namespace ikeplex::kernel
