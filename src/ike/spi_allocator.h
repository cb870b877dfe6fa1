// Inbound ESP SPIs for new Child SAs: the allocator interface (the userspace backend's own
// encodes the worker, the XFRM backend's reserves them in the kernel) and random SPIs.
#pragma once

#include "util/flat_map.h"
#include "util/ip_address.h"
#include "util/random.h"
#include "util/strong_id.h"

namespace ikeplex::ike {

/// Chooses inbound ESP SPIs. The userspace backend encodes its worker in the SPI (design.md
/// §3), so the backend's own allocator is injected here; the default draws random SPIs.
/// What an inbound SPI is for: the SA will run remote -> local (the IKE SA's addresses; the
/// XFRM backend reserves the SPI in the kernel for exactly that pair, XFRM_MSG_ALLOCSPI).
struct SpiRequest {
    ResourceId resource;
    IpAddress local;
    IpAddress remote;
};

class SpiAllocator {
public:
    SpiAllocator() = default;
    SpiAllocator(const SpiAllocator&) = delete;
    SpiAllocator& operator=(const SpiAllocator&) = delete;
    SpiAllocator(SpiAllocator&&) = delete;
    SpiAllocator& operator=(SpiAllocator&&) = delete;
    virtual ~SpiAllocator() = default;
    /// A fresh inbound SPI (never 0..255, RFC 4303 §2.1), for an SA of `resource`.
    virtual Spi allocate(const SpiRequest& request) = 0;
    virtual void release(Spi spi) = 0;
};

/// Random SPIs, unique among those handed out and not released.
class RandomSpiAllocator final : public SpiAllocator {
public:
    explicit RandomSpiAllocator(Random& random) noexcept : random_(random) {}
    Spi allocate(const SpiRequest& request) override;
    void release(Spi spi) override;
    [[nodiscard]] std::size_t in_use() const noexcept { return used_.size(); }

private:
    Random& random_;
    FlatMap<std::uint32_t, bool> used_;  ///< by SPI value
};

}  // namespace ikeplex::ike
