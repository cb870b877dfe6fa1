#include "ike/services.h"

namespace ikeplex::ike {

Spi RandomSpiAllocator::allocate(const SpiRequest& /*request*/) {
    for (;;) {
        const std::uint32_t v = random_.u32();
        // RFC 4303 §2.1: 1..255 are reserved, 0 is never a valid SPI.
        if (v > 255 && used_.insert(Spi(v)).second) {
            return Spi(v);
        }
    }
}

void RandomSpiAllocator::release(Spi spi) {
    used_.erase(spi);
}

}  // namespace ikeplex::ike
