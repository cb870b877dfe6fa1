// The default waits of VICI initiate, terminate and rekey (vici_control.h): what the
// retransmissions, keyingtries and their back-off may take.
#include "daemon/vici_control.h"

#include <gtest/gtest.h>

namespace ikeplex::daemon {
namespace {

using std::chrono::milliseconds;

TEST(ViciControlWait, ExchangeTimeWithTheDefaults) {
    // charon's defaults: 4 s × (1 + 1.8 + 1.8² + ... + 1.8⁵) = 165.06 s.
    const ike::Settings s;
    EXPECT_NEAR(static_cast<double>(exchange_time(s).count()), 165'061, 2);
}

TEST(ViciControlWait, ExchangeTimeShort) {
    ike::Settings s;
    s.retransmit_timeout = milliseconds(500);
    s.retransmit_base = 2;
    s.retransmit_tries = 2;
    EXPECT_EQ(exchange_time(s), milliseconds(3500));  // 0.5 + 1 + 2
}

TEST(ViciControlWait, InitiateCoversEveryAttemptAndTheLongestBackOff) {
    ike::Settings s;
    s.retransmit_timeout = milliseconds(500);
    s.retransmit_base = 2;
    s.retransmit_tries = 2;
    s.restart_delay = milliseconds(1000);
    s.restart_delay_max = milliseconds(2000);
    EXPECT_EQ(initiate_time(s, 1), milliseconds(2 * 3500 + 5000));
    EXPECT_EQ(initiate_time(s, 0), initiate_time(s, 1));  // forever: one attempt's worth
    // 3 attempts; waits of 1 s and 2 s, each up to half more.
    EXPECT_EQ(initiate_time(s, 3), milliseconds(3 * 7000 + 1500 + 3000 + 5000));
    // The delay stops doubling at restart_delay_max.
    EXPECT_EQ(initiate_time(s, 4), milliseconds(4 * 7000 + 1500 + 3000 + 3000 + 5000));
}

}  // namespace
}  // namespace ikeplex::daemon
