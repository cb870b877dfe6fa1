#include "ike/peer_log.h"

#include <fmt/format.h>

namespace ikeplex::ike {

bool PeerLog::allow(const void* site, TimePoint now, std::uint64_t& suppressed) {
    auto it = sites_.try_emplace(site, burst_, interval_ms_).first;
    if (it->second.allow(static_cast<std::uint64_t>(now.ms))) {
        suppressed = it->second.suppressed();
        return true;
    }
    ++total_;
    return false;
}

std::string suppressed_suffix(std::uint64_t n) {
    return n == 0 ? std::string() : fmt::format(" ({} similar suppressed)", n);
}

}  // namespace ikeplex::ike
