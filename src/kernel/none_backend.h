// Backend "none": installs nothing, keeps the books (what would be installed), logs each
// command. For IKE-only interop, load tests and the daemon before a data plane is chosen.
#pragma once

#include <map>
#include <tuple>

#include "kernel/backend.h"

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
    std::map<std::pair<Spi, bool>, ResourceId> sas_;
    std::map<
            std::tuple<ReqId, std::vector<ike::TrafficSelector>, std::vector<ike::TrafficSelector>>,
            bool>
            policies_;
};

}  // namespace ikeplex::kernel
