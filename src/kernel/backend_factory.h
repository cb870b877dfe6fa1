// Picks and builds the backend ikeplexd.conf names (`backend = userspace | xfrm | none`), so the
// daemon holds only the Backend interface: the data plane's options are made here, and what
// the daemon needs of a concrete backend beyond the interface comes back beside it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ike/services.h"
#include "kernel/backend.h"
#include "util/ip_address.h"
#include "util/result.h"

namespace ikeplex::crypto {
class Registry;
}

namespace ikeplex::kernel {

/// ikeplexd.conf's backend settings (the kernel layer does not read config::DaemonSettings).
struct BackendSettings {
    std::string kind{"userspace"};  ///< "userspace", "xfrm" or "none"
    unsigned workers{1};            ///< userspace: data-plane workers (the engine's resources)
    std::string tun_name{"ikeplex0"};
    unsigned mtu{1400};
    bool offloads{true};
    bool raw_esp{false};
    bool ipsec_mb{true};
    std::vector<Endpoint> udp_binds;  ///< userspace: where the IKE NAT-T sockets are bound
    std::string vip_interface;        ///< install_virtual_ip_on (empty: the backend's choice)
};

/// A backend and what the daemon needs to know of it besides the Backend interface.
struct BuiltBackend {
    std::unique_ptr<Backend> backend;
    /// The backend as the engine's inbound SPI allocator (userspace: the SPI names the worker
    /// that owns it; xfrm: the kernel allocates it), or nullptr (the engine draws them).
    ike::SpiAllocator* spis{nullptr};
    /// Whether per-CPU SAs can be installed (xfrm: the start-up probe's answer), for
    /// config::check_backend.
    bool per_cpu_sas{true};
};

/// Builds the backend `s.kind` names (anything but userspace and xfrm: none). A failure is
/// logged and returned.
Result<BuiltBackend> make_backend(const BackendSettings& s, const crypto::Registry& registry);

}  // namespace ikeplex::kernel
