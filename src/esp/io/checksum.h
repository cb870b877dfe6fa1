// The Internet checksum (RFC 1071) for the TUN offloads (offload.h): summed in host order, so a
// folded value is stored with memcpy. The hot loops (1400-byte segments, once per packet in each
// direction of a batched tunnel) are vectorised: AVX2 where the CPU has it (chosen at run time),
// else SSE2, the 32-bit words widened into 64-bit lanes (no carries to propagate until the fold).
// They are needed: what leaves in ESP must be a whole packet (a segment of a TSO super-packet
// gets its checksum here), and segments coalesced into one super-packet for the TUN are checked
// first, as the kernel's own GRO does, because the kernel does not check a NEEDS_CSUM packet.
#pragma once

#include <cstddef>
#include <cstdint>

#include "util/bytes.h"

namespace ikeplex::esp::io {

/// Adds `b` to a running one's-complement sum (an odd length is padded with a zero byte, so only
/// the last piece of a checksummed range may have an odd length).
std::uint64_t csum_add(ByteView b, std::uint64_t sum = 0) noexcept;
/// Copies `n` bytes from `src` to `dst` (not overlapping) and adds them to `sum` as csum_add
/// does, in one pass over the bytes.
std::uint64_t csum_copy(std::uint8_t* dst, const std::uint8_t* src, std::size_t n,
                        std::uint64_t sum = 0) noexcept;
/// Folds a running sum to 16 bits (host order, not inverted).
std::uint16_t csum_fold(std::uint64_t sum) noexcept;
/// The pseudo-header sum of IPv4 (4-byte addresses) or IPv6 (16-byte addresses).
std::uint64_t pseudo_header_sum(ByteView src, ByteView dst, std::uint8_t proto,
                                std::uint32_t l4_len) noexcept;

}  // namespace ikeplex::esp::io
