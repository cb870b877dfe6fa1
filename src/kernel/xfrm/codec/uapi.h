// XFRM uapi values newer than Debian 12's <linux/xfrm.h> (Linux 6.1), defined here with their
// source: include/uapi/linux/xfrm.h of Linux 6.13 (per-CPU SAs, commit 1ddf9916ac09 "xfrm: Add
// support for per cpu xfrm state handling") and 6.10 (XFRMA_SA_DIR, "xfrm: Add Direction to the
// SA in or out"); values as counted in ../shared/docs/peers.md §3.2. strongSwan carries the same
// values in its private copy src/include/linux/xfrm.h (commit aa1322aed5).
#pragma once

#include <cstdint>

#include <linux/xfrm.h>

namespace ikeplex::kernel::xfrm {

/// enum xfrm_attr_type_t: XFRMA_SA_DIR (u8, XFRM_SA_DIR_IN 1 / XFRM_SA_DIR_OUT 2), Linux 6.10.
inline constexpr std::uint16_t kXfrmaSaDir = 33;
/// enum xfrm_attr_type_t: XFRMA_NAT_KEEPALIVE_INTERVAL (u32 seconds), Linux 6.10.
inline constexpr std::uint16_t kXfrmaNatKeepaliveInterval = 34;
/// enum xfrm_attr_type_t: XFRMA_SA_PCPU (u32 CPU number; accepted in NEWSA, UPDSA, ALLOCSPI and
/// ACQUIRE; sent by the kernel in SA dumps, EXPIRE and ACQUIRE), Linux 6.13.
inline constexpr std::uint16_t kXfrmaSaPcpu = 35;
/// struct xfrm_userpolicy_info.flags: XFRM_POLICY_CPU_ACQUIRE (acquires name the CPU whose
/// output lookup found no SA bound to it), Linux 6.13. Beside XFRM_POLICY_LOCALOK 1, _ICMP 2.
inline constexpr std::uint8_t kXfrmPolicyCpuAcquire = 4;
/// XFRMA_SA_DIR values.
inline constexpr std::uint8_t kXfrmSaDirIn = 1;
inline constexpr std::uint8_t kXfrmSaDirOut = 2;

}  // namespace ikeplex::kernel::xfrm
