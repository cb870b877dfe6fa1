#include "kernel/none_backend.h"

#include "util/log.h"

namespace ikeplex::kernel {

void NoneBackend::apply(std::vector<ike::BackendCommand>& commands) {
    using log::Subsystem;
    for (const ike::BackendCommand& cmd : commands) {
        if (const auto* in = std::get_if<ike::InstallSa>(&cmd)) {
            sas_.assign(sa_key(in->spi, in->inbound), in->resource);
            log::debug(Subsystem::kKnl, "(none) SA {} {} for {}{{{}}}{}", in->spi,
                       in->inbound ? "in" : "out", in->child_name, in->child_id,
                       in->resource.is_none() ? std::string()
                                              : fmt::format(" on cpu {}", in->resource.index()));
        } else if (const auto* del = std::get_if<ike::DeleteSa>(&cmd)) {
            sas_.erase(sa_key(del->spi, del->inbound));
            log::debug(Subsystem::kKnl, "(none) SA {} {} deleted", del->spi,
                       del->inbound ? "in" : "out");
        } else if (const auto* pol = std::get_if<ike::InstallPolicy>(&cmd)) {
            policies_[{pol->reqid, pol->local_ts, pol->remote_ts}] = pol->trap;
            log::debug(Subsystem::kKnl, "(none) {}policy {} === {} (reqid {})",
                       pol->trap ? "trap " : "", ike::to_string(pol->local_ts),
                       ike::to_string(pol->remote_ts), pol->reqid.value());
        } else if (const auto* dp = std::get_if<ike::DeletePolicy>(&cmd)) {
            policies_.erase({dp->reqid, dp->local_ts, dp->remote_ts});
        } else if (const auto* up = std::get_if<ike::UpdateSaAddresses>(&cmd)) {
            log::debug(Subsystem::kKnl, "(none) SA {} {} moved to {} -> {}", up->spi,
                       up->inbound ? "in" : "out", up->src, up->dst);
        }
    }
    commands.clear();
}

std::optional<SaStats> NoneBackend::stats(Spi spi, bool inbound) const {
    if (!sas_.contains(sa_key(spi, inbound))) {
        return std::nullopt;
    }
    return SaStats{};
}

}  // namespace ikeplex::kernel
