// FlatMap against std::unordered_map: random inserts, assigns and erases on a small key range
// (long probe runs, many backward shifts, growth and shrinking), every key checked after each
// step.
#include "util/flat_map.h"

#include <random>
#include <unordered_map>

#include <gtest/gtest.h>

namespace ikeplex {
namespace {

TEST(FlatMap, MatchesAReferenceMapThroughRandomChanges) {
    FlatMap<std::uint32_t, std::uint32_t> flat;
    std::unordered_map<std::uint32_t, std::uint32_t> ref;
    std::mt19937 rng(17);
    for (std::uint32_t step = 0; step < 20000; ++step) {
        // keys 0..511: dense enough to collide; phases that grow, then drain the table
        const std::uint32_t key = rng() % 512;
        const bool draining = (step / 2500) % 2 == 1;
        switch (rng() % 4) {
            case 0:
            case 1:
                if (!draining) {
                    EXPECT_EQ(flat.insert(key, step), ref.emplace(key, step).second);
                    break;
                }
                [[fallthrough]];
            case 2:
                EXPECT_EQ(flat.erase(key), ref.erase(key) == 1) << key;
                break;
            default:
                flat.assign(key, step);
                ref[key] = step;
        }
        ASSERT_EQ(flat.size(), ref.size());
        if (step % 97 == 0) {
            for (std::uint32_t k = 0; k < 512; ++k) {
                const auto* v = flat.find(k);
                const auto it = ref.find(k);
                ASSERT_EQ(v != nullptr, it != ref.end()) << k << " at step " << step;
                if (v != nullptr) {
                    EXPECT_EQ(*v, it->second);
                }
            }
        }
    }
}

TEST(FlatMap, GivesMemoryBackAfterMassDeletes) {
    FlatMap<std::uint64_t, bool> flat;
    for (std::uint64_t k = 1; k <= 20000; ++k) {
        ASSERT_TRUE(flat.insert(k << 20U, true));
    }
    EXPECT_GE(flat.capacity(), 20000U * 8 / 7);
    for (std::uint64_t k = 1; k <= 20000; ++k) {
        ASSERT_TRUE(flat.erase(k << 20U));
        ASSERT_FALSE(flat.contains(k << 20U));
    }
    EXPECT_TRUE(flat.empty());
    EXPECT_LE(flat.capacity(), 64U);
    EXPECT_FALSE(flat.erase(1));
    EXPECT_EQ(flat.find(1), nullptr);
}

}  // namespace
}  // namespace ikeplex
