// OsRandom's pool: small requests come from one getrandom of 256 bytes, larger ones straight
// from the kernel; no byte is ever handed out twice.
#include "util/random.h"

#include <set>

#include <gtest/gtest.h>

namespace ikeplex {
namespace {

TEST(OsRandom, NoDrawRepeatsAcrossPoolRefills) {
    OsRandom r;
    std::set<std::uint64_t> seen;
    for (int i = 0; i < 4096; ++i) {  // 32 KiB: 128 refills of the pool
        seen.insert(r.u64());
    }
    EXPECT_EQ(seen.size(), 4096U);
}

TEST(OsRandom, EverySizeIsFilledAndMixedSizesDiffer) {
    OsRandom r;
    for (std::size_t n : {1U, 3U, 32U, 64U, 65U, 255U, 256U, 257U, 1000U}) {
        const Bytes a = r.bytes(n);
        const Bytes b = r.bytes(n);
        ASSERT_EQ(a.size(), n);
        if (n >= 8) {  // 2^-64: never equal unless bytes repeat
            EXPECT_NE(a, b) << n;
            // not left zero (a pool handed out after wiping would give zeros)
            EXPECT_NE(a, Bytes(n, 0)) << n;
        }
    }
}

}  // namespace
}  // namespace ikeplex
