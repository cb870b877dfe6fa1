// The counters of one data-plane worker as the control thread copies them (`stats`,
// `ikeplex counters`, ikeplex-relay's summary). The kernel layer's Backend interface hands
// these out as they are (kernel::WorkerStats is this type).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "esp/esp_types.h"

namespace ikeplex::esp {

struct WorkerStats {
    unsigned worker{0};  ///< the worker's index (its CPU / RFC 9611 resource)
    std::uint64_t tx_packets{0}, tx_bytes{0}, rx_packets{0}, rx_bytes{0};
    std::uint64_t fallback_tx{0};  ///< of tx_packets, sent on a group's fallback SA
    std::uint64_t handed_off{0};   ///< received, passed to the SPI's worker (handoff.h)
    std::array<std::uint64_t, kDropCount> drops{};  ///< by Drop

    /// The non-zero drop counters by reason ("replay", ...), in Drop order.
    [[nodiscard]] std::vector<std::pair<std::string, std::uint64_t>> named_drops() const {
        std::vector<std::pair<std::string, std::uint64_t>> out;
        for (std::size_t i = 1; i < drops.size(); ++i) {
            if (drops[i] != 0) {
                out.emplace_back(to_string(static_cast<Drop>(i)), drops[i]);
            }
        }
        return out;
    }
};

}  // namespace ikeplex::esp
