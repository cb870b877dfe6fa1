#include "relay_core.h"

namespace ikeplex::relay {

void RelayCore::outbound(std::span<esp::PacketBuf> pkts, std::vector<esp::Outgoing>& out,
                         std::int64_t /*now_ms*/) {
    for (esp::PacketBuf& p : pkts) {
        if (!esp::parse_flow(p.bytes())) {
            count_drop(esp::Drop::kMalformed);
            continue;
        }
        bump(counters_.tx_packets);
        bump(counters_.tx_bytes, p.size());
        out.push_back(esp::Outgoing{&p, Endpoint{}, peer_, true});
    }
}

void RelayCore::inbound(std::span<esp::PacketBuf> pkts, std::vector<esp::PacketBuf*>& out,
                        std::int64_t /*now_ms*/) {
    for (esp::PacketBuf& p : pkts) {
        one_inbound(p, out);
    }
}

void RelayCore::inbound(std::span<esp::PacketBuf* const> pkts, std::vector<esp::PacketBuf*>& out,
                        std::int64_t /*now_ms*/) {
    for (esp::PacketBuf* p : pkts) {
        one_inbound(*p, out);
    }
}

void RelayCore::one_inbound(esp::PacketBuf& p, std::vector<esp::PacketBuf*>& out) {
    if (!esp::parse_flow(p.bytes())) {
        count_drop(esp::Drop::kMalformed);
        return;
    }
    bump(counters_.rx_packets);
    bump(counters_.rx_bytes, p.size());
    out.push_back(&p);
}

}  // namespace ikeplex::relay
