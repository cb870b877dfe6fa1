// The host's side of virtual IPs a peer assigned to us (RFC 7296 §2.19; the engine reports
// them in Output::vips): the address goes onto the backend's device (userspace: the TUN
// device, before the Child SA's routes are added through it) and the DNS servers into the
// resolve file ("nameserver" lines at its top, as strongSwan's resolve plugin writes
// /etc/resolv.conf); both go again when the IKE SA goes.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "ike/output.h"
#include "kernel/backend.h"

namespace ikeplex::daemon {

/// The "nameserver" line ikeplexd writes for `dns` (with a marker naming ikeplexd).
std::string resolve_line(const IpAddress& dns);
/// `text` (a resolv.conf) with a line for each of `dns` added at the top (`add`), or those
/// lines removed (once each).
std::string edit_resolv_conf(std::string text, const std::vector<IpAddress>& dns, bool add);

class VirtualIpHost {
public:
    /// `resolve_file`: the current resolve { file } setting (it changes on reload);
    /// `install`: the current install_virtual_ip setting (no: addresses are left to the
    /// operator, DNS servers are still written).
    VirtualIpHost(kernel::Backend& backend, std::function<std::string()> resolve_file,
                  std::function<bool()> install)
        : backend_(backend), resolve_file_(std::move(resolve_file)), install_(std::move(install)) {}

    void apply(const ike::VirtualIpChange& change);
    /// True while `address` is a virtual IP of ours (not a host address for MOBIKE).
    [[nodiscard]] bool holds(const IpAddress& address) const { return users_.count(address) != 0; }

private:
    void write_dns(const std::vector<IpAddress>& dns, bool add);

    kernel::Backend& backend_;
    std::function<std::string()> resolve_file_;
    std::function<bool()> install_;
    struct Users {
        unsigned count{0};
        bool installed{false};  ///< put on an interface (install_virtual_ip was yes then)
    };
    /// IKE SAs using each address: a reauthentication's new IKE SA gets the address of the
    /// old one before the old one goes; the address stays until the last goes.
    std::map<IpAddress, Users> users_;
};

}  // namespace ikeplex::daemon
