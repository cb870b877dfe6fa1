// Backend "none": installs nothing, keeps the books (what would be installed), logs each
// command. For IKE-only interop, load tests and the daemon before a data plane is chosen.
#pragma once

#include <cstdint>
#include <map>
#include <tuple>
#include <unordered_map>

#include "kernel/backend.h"
#include "util/flat_map.h"

namespace ikeplex::kernel {

class NoneBackend final : public Backend {
public:
    [[nodiscard]] const char* name() const noexcept override { return "none"; }
    void apply(std::vector<ike::BackendCommand>& commands) override;
    [[nodiscard]] std::optional<SaStats> stats(Spi spi, bool inbound) const override;
    [[nodiscard]] std::size_t installed_sas() const noexcept override { return sas_.size(); }
    [[nodiscard]] std::size_t installed_policies() const noexcept override {
        return policies_.size();
    }

private:
    /// (SPI, inbound) as one integer: a flat hash map, O(1) per SA (issue 17).
    [[nodiscard]] static std::uint64_t sa_key(Spi spi, bool inbound) noexcept {
        return (std::uint64_t{spi.value()} << 1) | (inbound ? 1U : 0U);
    }

    FlatMap<std::uint64_t, ResourceId> sas_;
    std::map<
            std::tuple<ReqId, std::vector<ike::TrafficSelector>, std::vector<ike::TrafficSelector>>,
            bool>
            policies_;
};

}  // namespace ikeplex::kernel
