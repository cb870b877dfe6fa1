// The daemon's heap trim after mass deletion of IKE SAs (issue 17) and after VICI clients
// leave (issue 18).
#include "daemon/memory_trim.h"

#include <gtest/gtest.h>

namespace ikeplex::daemon {
namespace {

using Action = TrimPolicy::Action;

TEST(TrimPolicy, TrimsOnceTheCountFallsBelowAQuarterOfALargePeak) {
    TrimPolicy p;
    EXPECT_EQ(p.update(10000, 0), Action::kNone);
    EXPECT_EQ(p.update(2500, 10), Action::kNone);  // a quarter: not below it
    EXPECT_EQ(p.update(2499, 20), Action::kTrimNow);
    p.trimmed(2499, 20);
    EXPECT_EQ(p.peak(), 2499U);
    // The next trim waits for the interval.
    EXPECT_EQ(p.update(600, 500), Action::kTrimLater);
    EXPECT_EQ(p.next_allowed_ms(), 1020);
    EXPECT_EQ(p.update(600, 1020), Action::kTrimNow);
    p.trimmed(600, 1020);
    // A peak below 1000 is not worth a trim.
    EXPECT_EQ(p.update(0, 5000), Action::kNone);
}

TEST(TrimPolicy, SmallPeaksNeverTrim) {
    TrimPolicy p;
    EXPECT_EQ(p.update(999, 0), Action::kNone);
    EXPECT_EQ(p.update(0, 10000), Action::kNone);
}

TEST(TrimPolicy, TheFirstTrimIsNotDelayed) {
    TrimPolicy p(TrimPolicy::Limits{.min_peak = 10, .divisor = 2, .interval_ms = 1000});
    EXPECT_EQ(p.update(10, 0), Action::kNone);
    EXPECT_EQ(p.update(4, 1), Action::kTrimNow);
    trim_heap();  // safe to call any time
}

// VICI clients that leave: a trim once their buffers add up to the threshold, then again
// after as much more.
TEST(ReleaseTally, SaysWhenEnoughHasGone) {
    ReleaseTally t(1000);
    EXPECT_FALSE(t.add(400));
    EXPECT_FALSE(t.add(599));
    EXPECT_TRUE(t.add(1));
    EXPECT_FALSE(t.add(999));
    EXPECT_TRUE(t.add(5000));
    EXPECT_FALSE(t.add(0));
}

}  // namespace
}  // namespace ikeplex::daemon
