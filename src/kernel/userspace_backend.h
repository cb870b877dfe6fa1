// Backend "userspace" (design.md §5): the engine's SA and policy commands drive ikeplex's own
// ESP data plane (src/esp): SAs go to the workers that use them, policies become the workers'
// lookup table and routes via the TUN device, and the workers' acquires and lifetime events
// come back as engine events. It is also the engine's SPI allocator, so every inbound SPI
// names the worker that owns it (the reuseport steering rule).
#pragma once

#include <map>
#include <memory>
#include <tuple>
#include <vector>

#include "esp/dataplane.h"
#include "ike/services.h"
#include "kernel/backend.h"
#include "kernel/ranges.h"
#include "kernel/vip_placement.h"

namespace ikeplex::kernel {

class UserspaceBackend final : public Backend, public ike::SpiAllocator {
    /// The passkey of the constructor: only create() makes one (util/result.h).
    struct Token {
        explicit Token() = default;
    };

public:
    static Result<std::unique_ptr<UserspaceBackend>> create(const crypto::Registry& registry,
                                                            esp::DataplaneOptions options);
    UserspaceBackend(Token /*create()*/, std::unique_ptr<esp::Dataplane> dp) noexcept
        : dataplane_(std::move(dp)) {}

    [[nodiscard]] const char* name() const noexcept override { return "userspace"; }
    void apply(std::vector<ike::BackendCommand>& commands) override;
    /// On the TUN device (a host address, /32 or /128), or the vip_interface().
    Status virtual_ip(const IpAddress& address, bool add, const IpAddress& peer) override;
    [[nodiscard]] std::optional<SaStats> stats(Spi spi, bool inbound) const override;
    [[nodiscard]] std::vector<WorkerStats> worker_stats() const override;
    [[nodiscard]] std::size_t installed_sas() const noexcept override {
        return dataplane_->sa_count();
    }
    [[nodiscard]] std::size_t installed_policies() const noexcept override {
        return policies_.size();
    }

    // ike::SpiAllocator
    Spi allocate(const ike::SpiRequest& r) override { return dataplane_->allocate_spi(r.resource); }
    void release(Spi spi) override { dataplane_->release_spi(spi); }

    /// Readable when workers have events: the control loop then calls poll_events().
    [[nodiscard]] int event_fd() noexcept override { return dataplane_->events().fd(); }
    void poll_events() override;

    esp::Dataplane& dataplane() noexcept { return *dataplane_; }

private:
    using PolicyKey =
            std::tuple<ReqId, std::vector<ike::TrafficSelector>, std::vector<ike::TrafficSelector>>;
    struct RouteKey {
        IpAddress prefix;
        unsigned len{0};
        auto operator<=>(const RouteKey&) const = default;  // NOLINT(modernize-use-nullptr)
    };

    void install_sa(ike::InstallSa& c);
    /// MOBIKE: the SA keeps keys and counters, its workers take the new outer path.
    void move_sa(const ike::UpdateSaAddresses& c);
    void publish_policies();
    void add_routes(const ike::InstallPolicy& p);
    void remove_routes(const std::vector<ike::TrafficSelector>& remote);

    std::unique_ptr<esp::Dataplane> dataplane_;
    std::map<PolicyKey, ike::InstallPolicy> policies_;
    std::map<RouteKey, unsigned> routes_;  // prefix -> policies using it
    VipPlacement vips_;                    // virtual IPs and the interfaces they went on
};

/// The selectors of the engine as the data plane's.
esp::Selector to_selector(const ike::TrafficSelector& ts) noexcept;

}  // namespace ikeplex::kernel
