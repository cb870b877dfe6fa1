// Rate limits of log lines that outside input triggers (issue 18): per call site, and the
// count of what was suppressed reported once, with the next line written.
#include "ike/peer_log.h"

#include <algorithm>
#include <vector>

#include <gtest/gtest.h>

#include "ike/half_open.h"

namespace ikeplex::ike {
namespace {

TEST(RateLimiter, ReportsWhatWasSuppressedSinceTheLastLineOnce) {
    log::RateLimiter l(2, 1000);
    EXPECT_TRUE(l.allow(0));
    EXPECT_TRUE(l.allow(1));
    EXPECT_FALSE(l.allow(2));
    EXPECT_FALSE(l.allow(3));
    EXPECT_FALSE(l.allow(999));
    EXPECT_TRUE(l.allow(1000));  // a new interval
    EXPECT_EQ(l.suppressed(), 3U);
    EXPECT_TRUE(l.allow(1001));
    EXPECT_EQ(l.suppressed(), 0U);
}

TEST(PeerLog, EachSiteHasItsOwnBudgetAndSaysWhenItStartsSuppressing) {
    using V = PeerLog::Verdict;
    PeerLog p(3, 1000);
    const char a = 0;
    const char b = 0;
    std::uint64_t n = 99;
    std::vector<V> seen;
    for (int i = 0; i < 100; ++i) {
        seen.push_back(p.allow(&a, TimePoint{i}, n));
    }
    EXPECT_EQ(std::count(seen.begin(), seen.end(), V::kWrite), 3);
    EXPECT_EQ(seen[3], V::kWriteLast);  // the burst is over: said once
    EXPECT_EQ(std::count(seen.begin(), seen.end(), V::kSuppress), 96);
    EXPECT_EQ(p.allow(&b, TimePoint{100}, n), V::kWrite);  // a's flood does not silence b
    EXPECT_EQ(n, 0U);
    EXPECT_EQ(p.allow(&a, TimePoint{1000}, n), V::kWrite);
    EXPECT_EQ(n, 96U);
    EXPECT_EQ(p.suppressed_total(), 96U);
    EXPECT_EQ(suppressed_suffix(V::kWrite, 96, 1000), " (96 similar suppressed)");
    EXPECT_EQ(suppressed_suffix(V::kWrite, 0, 1000), "");
    EXPECT_EQ(suppressed_suffix(V::kWriteLast, 0, 1000),
              " (further similar lines suppressed for up to 1000 ms)");
}

TEST(HalfOpenTable, CountsPerAddressAndForgetsEmptyAddresses) {
    HalfOpenTable t;
    const IpAddress x = *IpAddress::parse("10.99.0.1");
    const IpAddress y = *IpAddress::parse("fd00::1");
    t.add(1, x);
    t.add(2, x);
    t.add(2, x);  // already there: not counted twice
    t.add(3, y);
    EXPECT_EQ(t.size(), 3U);
    EXPECT_EQ(t.from(x), 2U);
    EXPECT_EQ(t.from(y), 1U);
    EXPECT_EQ(t.addresses(), 2U);
    t.remove(1);
    t.remove(1);  // gone already: nothing
    t.remove(3);
    EXPECT_EQ(t.from(x), 1U);
    EXPECT_EQ(t.from(y), 0U);
    EXPECT_EQ(t.addresses(), 1U);
    EXPECT_EQ(t.size(), 1U);
}

TEST(InitGate, CookiesBeforeBlockBeforeTheGlobalLimit) {
    HalfOpenTable t;
    const IpAddress x = *IpAddress::parse("10.99.0.1");
    const InitLimits l{4, 2, 3, 5};
    EXPECT_EQ(init_gate(t, l, x, false), InitGate::kAdmit);
    t.add(1, x);
    t.add(2, x);
    EXPECT_EQ(init_gate(t, l, x, false), InitGate::kNeedCookie);  // 2 from x
    EXPECT_EQ(init_gate(t, l, x, true), InitGate::kAdmit);
    t.add(3, x);
    EXPECT_EQ(init_gate(t, l, x, true), InitGate::kBlocked);  // 3 from x
    const IpAddress y = *IpAddress::parse("10.99.0.2");
    EXPECT_EQ(init_gate(t, l, y, false), InitGate::kAdmit);
    t.add(4, y);
    EXPECT_EQ(init_gate(t, l, y, false), InitGate::kNeedCookie);  // 4 in all
    t.add(5, y);
    EXPECT_EQ(init_gate(t, l, y, true), InitGate::kGlobalLimit);  // 5 in all
}

}  // namespace
}  // namespace ikeplex::ike
