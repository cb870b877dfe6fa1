// The engine's timers (ike::TimerQueue): one deadline per key, set/re-arm/cancel, the earliest
// first when due, ties, and the next wakeup the host is told (Output::wakeup). Virtual time only.
#include "ike/timer_queue.h"

#include <map>
#include <vector>

#include <gtest/gtest.h>

namespace ikeplex::ike {
namespace {

constexpr TimePoint at(std::int64_t ms) {
    return TimePoint{ms};
}

/// Everything due at `now`, in the order popped.
std::vector<TimerKey> pop_all(TimerQueue& q, TimePoint now) {
    std::vector<TimerKey> out;
    while (auto k = q.pop_due(now)) {
        out.push_back(*k);
    }
    return out;
}

const TimerKey kRetransmit1{1, TimerKind::kRetransmit, 5};
const TimerKey kDpd1{1, TimerKind::kDpd, 0};
const TimerKey kChildRekey1{1, TimerKind::kChildRekey, 7};
const TimerKey kChildRekey1b{1, TimerKind::kChildRekey, 8};
const TimerKey kDpd2{2, TimerKind::kDpd, 0};

TEST(TimerQueue, EmptyHasNoWakeup) {
    TimerQueue q;
    EXPECT_EQ(q.next(), kNever);
    EXPECT_EQ(q.size(), 0U);
    EXPECT_FALSE(q.pop_due(at(1'000'000)));
    EXPECT_FALSE(q.deadline(kDpd1));
}

TEST(TimerQueue, PopsTheEarliestOnceItIsDue) {
    TimerQueue q;
    q.set(kDpd1, at(300));
    q.set(kRetransmit1, at(100));
    q.set(kDpd2, at(200));
    EXPECT_EQ(q.size(), 3U);
    EXPECT_EQ(q.next(), at(100));
    EXPECT_FALSE(q.pop_due(at(99)));              // not yet
    EXPECT_EQ(q.pop_due(at(100)), kRetransmit1);  // due at its deadline
    EXPECT_EQ(q.next(), at(200));
    // Late: everything due comes out, earliest first, and nothing that is not.
    EXPECT_EQ(pop_all(q, at(250)), std::vector<TimerKey>{kDpd2});
    EXPECT_EQ(q.next(), at(300));
    EXPECT_EQ(pop_all(q, at(10'000)), std::vector<TimerKey>{kDpd1});
    EXPECT_EQ(q.next(), kNever);
    EXPECT_EQ(q.size(), 0U);
}

TEST(TimerQueue, SettingAKeyAgainReplacesItsDeadline) {
    TimerQueue q;
    q.set(kDpd1, at(100));
    q.set(kDpd2, at(150));
    q.set(kDpd1, at(500));  // later
    EXPECT_EQ(q.size(), 2U);
    EXPECT_EQ(q.deadline(kDpd1), at(500));
    EXPECT_EQ(q.next(), at(150));
    EXPECT_EQ(pop_all(q, at(200)), std::vector<TimerKey>{kDpd2});  // not at the old deadline
    q.set(kDpd1, at(50));                                          // earlier
    EXPECT_EQ(q.next(), at(50));
    EXPECT_EQ(pop_all(q, at(60)), std::vector<TimerKey>{kDpd1});
    EXPECT_FALSE(q.pop_due(at(1000)));  // and only once
}

TEST(TimerQueue, CancelRemovesOneKey) {
    TimerQueue q;
    q.set(kChildRekey1, at(100));
    q.set(kChildRekey1b, at(100));  // same IKE SA and kind, another argument: another timer
    q.cancel(kChildRekey1);
    EXPECT_FALSE(q.deadline(kChildRekey1));
    EXPECT_EQ(q.deadline(kChildRekey1b), at(100));
    q.cancel(kChildRekey1);  // absent: nothing happens
    q.cancel(kDpd2);
    EXPECT_EQ(q.size(), 1U);
    EXPECT_EQ(pop_all(q, at(100)), std::vector<TimerKey>{kChildRekey1b});
}

TEST(TimerQueue, TiesComeOutOnceEachInTheOrderSet) {
    // Several timers due at the same time all fire, each once, in a fixed order (the order
    // they were set), so that a run is reproducible; re-arming one moves it behind the others.
    TimerQueue q;
    q.set(kDpd2, at(100));
    q.set(kRetransmit1, at(100));
    q.set(kChildRekey1, at(100));
    EXPECT_EQ(pop_all(q, at(100)), (std::vector<TimerKey>{kDpd2, kRetransmit1, kChildRekey1}));
    q.set(kDpd2, at(100));
    q.set(kRetransmit1, at(100));
    q.set(kChildRekey1, at(100));
    q.set(kDpd2, at(100));  // re-armed at the same time
    EXPECT_EQ(q.size(), 3U);
    EXPECT_EQ(pop_all(q, at(100)), (std::vector<TimerKey>{kRetransmit1, kChildRekey1, kDpd2}));
}

TEST(TimerQueue, CancelAllOfOneIkeSa) {
    TimerQueue q;
    const TimerKey other_before{0, TimerKind::kDeleteLater, 9};
    const TimerKey other_after{2, TimerKind::kRetransmit, 0};
    q.set(other_before, at(400));
    q.set(kRetransmit1, at(100));
    q.set(kDpd1, at(200));
    q.set(kChildRekey1, at(300));
    q.set({1, TimerKind::kDeleteLater, 0xffffffff}, at(50));
    q.set(other_after, at(500));
    q.cancel_all(1);
    EXPECT_EQ(q.size(), 2U);
    EXPECT_EQ(q.next(), at(400));
    EXPECT_EQ(pop_all(q, at(1000)), (std::vector<TimerKey>{other_before, other_after}));
    q.cancel_all(3);  // none: nothing happens
    EXPECT_EQ(q.size(), 0U);
}

// Re-arms and cancels leave stale heap entries behind: against a model (the order of a
// multimap by deadline, ties in the order set), many of them change nothing.
TEST(TimerQueue, ManyReArmsAndCancelsKeepTheOrder) {
    TimerQueue q;
    std::multimap<TimePoint, TimerKey> model;
    const auto model_set = [&](TimerKey k, TimePoint t) {
        std::erase_if(model, [&](const auto& e) { return e.second == k; });
        model.emplace(t, k);
    };
    std::uint32_t x = 7;
    const auto next_rand = [&] {
        x = x * 1103515245U + 12345U;
        return (x >> 8) % 1000;
    };
    for (int i = 0; i < 5000; ++i) {
        const TimerKey k{1 + next_rand() % 50, TimerKind::kChildRekey, next_rand() % 3};
        const auto op = next_rand() % 10;
        if (op < 6) {
            const TimePoint t = at(static_cast<std::int64_t>(next_rand() % 100));
            q.set(k, t);
            model_set(k, t);
        } else if (op < 9) {
            q.cancel(k);
            std::erase_if(model, [&](const auto& e) { return e.second == k; });
        } else {
            q.cancel_all(k.ike);
            std::erase_if(model, [&](const auto& e) { return e.second.ike == k.ike; });
        }
        ASSERT_EQ(q.size(), model.size());
        ASSERT_EQ(q.next(), model.empty() ? kNever : model.begin()->first);
    }
    std::vector<TimerKey> want;
    for (const auto& [t, k] : model) {
        EXPECT_EQ(q.deadline(k), t);
        want.push_back(k);
    }
    EXPECT_EQ(pop_all(q, at(1000)), want);
    EXPECT_EQ(q.size(), 0U);
    EXPECT_EQ(q.next(), kNever);
}

}  // namespace
}  // namespace ikeplex::ike
