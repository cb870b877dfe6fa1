#include "ike/services.h"

namespace ikeplex::ike {

Spi RandomSpiAllocator::allocate(const SpiRequest& /*request*/) {
    for (;;) {
        const std::uint32_t v = random_.u32();
        // RFC 4303 §2.1: 1..255 are reserved, 0 is never a valid SPI.
        if (v > 255 && used_.insert(v, true)) {
            return Spi(v);
        }
    }
}

void RandomSpiAllocator::release(Spi spi) {
    used_.erase(spi.value());
}

void trace_message(const Services& services, Step& step, bool sent, std::uint32_t ike_id,
                   const wire::Header& header, std::span<const wire::Payload> payloads) {
    if (services.trace_messages) {
        step.out.messages.push_back(
                MessageTrace{sent, ike_id, header,
                             std::vector<wire::Payload>(payloads.begin(), payloads.end())});
    }
}

}  // namespace ikeplex::ike
