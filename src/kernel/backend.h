// The IPsec backend interface (design.md §5): the engine's SA and policy commands go in, the
// backend's events (acquires, expires, failures, NAT mappings) come out. Implementations: none
// (bookkeeping only), userspace (src/esp), xfrm (Linux netlink, src/kernel/xfrm).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "esp/worker_stats.h"
#include "ike/backend_commands.h"
#include "util/result.h"

namespace ikeplex::kernel {

/// Traffic counters of one installed SA (for list-sas).
struct SaStats {
    std::uint64_t bytes{0};
    std::uint64_t packets{0};
    std::int64_t last_use_unix{0};       ///< 0: never used
    std::uint64_t dropped_replay{0};     ///< inbound packets refused by the replay window
    std::uint64_t dropped_integrity{0};  ///< inbound packets whose ICV did not verify
    std::uint64_t dropped_other{0};
    /// Userspace backend: the worker that processes this SA; -1 for every worker (a group's
    /// fallback SA outbound) or a backend without workers.
    std::int32_t worker{-1};
};

/// Counters of one data-plane worker (userspace backend), for `stats` and `ikeplex counters`:
/// the data plane's own copy, handed out as it is.
using WorkerStats = esp::WorkerStats;

class Backend {
public:
    Backend() = default;
    Backend(const Backend&) = delete;
    Backend& operator=(const Backend&) = delete;
    Backend(Backend&&) = delete;
    Backend& operator=(Backend&&) = delete;
    virtual ~Backend() = default;

    /// "none", "userspace", "xfrm".
    [[nodiscard]] virtual const char* name() const noexcept = 0;
    /// Carries out the engine's commands, in order. Failures are reported as events.
    virtual void apply(std::vector<ike::BackendCommand>& commands) = 0;
    /// Where acquires, expires and install failures go (called on the control thread).
    void set_event_sink(std::function<void(const ike::BackendEvent&)> sink) {
        sink_ = std::move(sink);
    }
    /// Counters of an installed SA, if the backend keeps them.
    [[nodiscard]] virtual std::optional<SaStats> stats(Spi spi, bool inbound) const = 0;
    /// Per-worker counters (empty for backends without workers).
    [[nodiscard]] virtual std::vector<WorkerStats> worker_stats() const { return {}; }
    /// The backend's own counters by name ("xfrm-acquires", ...), for get-counters.
    [[nodiscard]] virtual std::vector<std::pair<std::string, std::uint64_t>> counters() const {
        return {};
    }
    /// Readable when the backend has events (acquires, expires): the control loop then calls
    /// poll_events(). -1 for a backend without events.
    [[nodiscard]] virtual int event_fd() noexcept { return -1; }
    virtual void poll_events() {}
    /// Adds (or removes) a virtual IP the peer assigned to us (RFC 7296 §2.19) on the
    /// vip_interface() if one is set, else where the backend's traffic leaves: userspace, the
    /// TUN device; xfrm, the interface of the route to `peer` (the peer's IKE address).
    /// Others: not supported (an error).
    virtual Status virtual_ip(const IpAddress& address, bool add, const IpAddress& peer) {
        (void)address;
        (void)add;
        (void)peer;
        return make_error(Errc::kUnsupported, "the backend does not install virtual IPs");
    }
    /// The interface virtual IPs go on (ikeplexd.conf install_virtual_ip_on); empty: the
    /// backend's own choice (virtual_ip()).
    void set_vip_interface(std::string name) { vip_interface_ = std::move(name); }
    /// SAs and policies currently installed.
    [[nodiscard]] virtual std::size_t installed_sas() const noexcept = 0;
    [[nodiscard]] virtual std::size_t installed_policies() const noexcept = 0;

protected:
    [[nodiscard]] const std::string& vip_interface() const noexcept { return vip_interface_; }
    void report(const ike::BackendEvent& e) const {
        if (sink_) {
            sink_(e);
        }
    }

private:
    std::function<void(const ike::BackendEvent&)> sink_;
    std::string vip_interface_;
};

}  // namespace ikeplex::kernel
