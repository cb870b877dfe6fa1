// The IPsec-MB baseline shared by the benchmarks: a multi-buffer manager and one expanded
// AES-GCM key, used with the library's own IMB_AES*_GCM_* calls (the "raw" side of C1/C2/G1).
#pragma once

#include <cstdint>

#include <intel-ipsec-mb.h>

namespace ikeplex::bench {

struct RawMb {
    IMB_MGR* mgr = alloc_mb_mgr(0);
    alignas(64) gcm_key_data key{};
    RawMb(const RawMb&) = delete;
    RawMb& operator=(const RawMb&) = delete;
    RawMb(RawMb&&) = delete;
    RawMb& operator=(RawMb&&) = delete;
    /// `bits`: 128 or 256; `key_bytes` points at that many bits of key.
    RawMb(int bits, const std::uint8_t* key_bytes) {
        IMB_ARCH arch{};
        init_mb_mgr_auto(mgr, &arch);
        if (bits == 128) {
            IMB_AES128_GCM_PRE(mgr, key_bytes, &key);
        } else {
            IMB_AES256_GCM_PRE(mgr, key_bytes, &key);
        }
    }
    ~RawMb() { free_mb_mgr(mgr); }
};

}  // namespace ikeplex::bench
