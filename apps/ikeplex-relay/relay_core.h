// The relay's packet core (the G3 baseline of performance anchors): no ESP at all. Inner
// packets from the TUN queue go to the peer relay as plain UDP payloads; received payloads
// go to the TUN as they are. The data plane's workers drive it exactly as they drive the ESP
// core (DataplaneOptions::make_core), so the two differ only in what the core does.
#pragma once

#include "esp/packet_core.h"
#include "util/ip_address.h"

namespace ikeplex::relay {

class RelayCore final : public esp::PacketCore {
public:
    RelayCore(unsigned index, const Endpoint& peer) noexcept : PacketCore(index), peer_(peer) {}

    void apply(esp::Command& /*c*/) override {}  // no SAs, no policies
    void outbound(std::span<esp::PacketBuf> pkts, std::vector<esp::Outgoing>& out,
                  std::int64_t now_ms) override;
    void inbound(std::span<esp::PacketBuf> pkts, std::vector<esp::PacketBuf*>& out,
                 std::int64_t now_ms) override;
    void inbound(std::span<esp::PacketBuf* const> pkts, std::vector<esp::PacketBuf*>& out,
                 std::int64_t now_ms) override;

private:
    /// An IP packet passes to the TUN; anything else is dropped as malformed.
    void one_inbound(esp::PacketBuf& p, std::vector<esp::PacketBuf*>& out);

    Endpoint peer_;
};

}  // namespace ikeplex::relay
