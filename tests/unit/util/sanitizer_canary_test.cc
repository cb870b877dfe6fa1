// Canary for the `ci` build (design.md §8): undefined behaviour and memory errors must end the
// process, not print a report and carry on. If UBSan were built without
// -fno-sanitize-recover=all, the signed-overflow death test below would fail, and so would CI.
#include <climits>
#include <memory>

#include <gtest/gtest.h>

namespace {

// Values laundered through volatile objects, so the optimiser cannot fold the UB away.
int add(int a, int b) {
    volatile int x = a;
    volatile int y = b;
    return x + y;
}

int read_past_end(std::size_t n) {
    auto data = std::make_unique<int[]>(n);  // heap, so ASan has a redzone to hit
    volatile std::size_t i = n;
    return data[i];  // one past the end
}

TEST(SanitizerCanaryDeathTest, SignedOverflowAborts) {
    EXPECT_DEATH((void)add(INT_MAX, 1), "signed integer overflow");
}

TEST(SanitizerCanaryDeathTest, HeapOverflowAborts) {
    EXPECT_DEATH((void)read_past_end(4), "heap-buffer-overflow");
}

}  // namespace
