// ikeplex-load's pure helpers: source addresses from a prefix, identities, percentiles, the
// token bucket, and reading /proc figures.
#include "load_math.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "measure.h"

namespace ikeplex::load {
namespace {

std::vector<std::string> texts(const std::vector<IpAddress>& v) {
    std::vector<std::string> out;
    for (const auto& a : v) {
        out.push_back(a.to_string());
    }
    return out;
}

TEST(LoadPrefix, FirstHostsOfAnIpv4Prefix) {
    auto p = parse_prefix("10.99.16.0/20");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->length, 20U);
    EXPECT_EQ(host_capacity(*p), 4094U);
    auto h = hosts(*p, 3);
    ASSERT_TRUE(h);
    EXPECT_EQ(texts(*h), (std::vector<std::string>{"10.99.16.1", "10.99.16.2", "10.99.16.3"}));
    auto all = hosts(*p, 4094);
    ASSERT_TRUE(all);
    EXPECT_EQ(all->at(255).to_string(), "10.99.17.0");  // carries into the next octet
    EXPECT_EQ(all->back().to_string(), "10.99.31.254");
    EXPECT_FALSE(hosts(*p, 4095));
}

TEST(LoadPrefix, HostBitsClearedAndSmallPrefixes) {
    auto p = parse_prefix("10.99.16.77/24");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->network.to_string(), "10.99.16.0");
    auto one = parse_prefix("10.99.16.5/32");
    ASSERT_TRUE(one);
    EXPECT_EQ(host_capacity(*one), 1U);
    EXPECT_EQ(texts(*hosts(*one, 1)), (std::vector<std::string>{"10.99.16.5"}));
    auto two = parse_prefix("10.99.16.4/31");
    ASSERT_TRUE(two);
    EXPECT_EQ(texts(*hosts(*two, 2)), (std::vector<std::string>{"10.99.16.4", "10.99.16.5"}));
}

TEST(LoadPrefix, Ipv6) {
    auto p = parse_prefix("fd00:99:16::/64");
    ASSERT_TRUE(p);
    EXPECT_EQ(host_capacity(*p), std::uint64_t{1} << 32);  // saturated
    EXPECT_EQ(texts(*hosts(*p, 2)), (std::vector<std::string>{"fd00:99:16::1", "fd00:99:16::2"}));
}

TEST(LoadPrefix, BadInput) {
    for (const char* bad : {"10.99.16.0", "10.99.16.0/", "10.99.16.0/33", "10.99.16.0/2x",
                            "bogus/20", "fd00::/129", "10.99.16.0/999999999999"}) {
        EXPECT_FALSE(parse_prefix(bad)) << bad;
    }
}

TEST(LoadIds, EveryPlaceholderReplaced) {
    EXPECT_EQ(expand_id("load-{}@ikeplex", 42), "load-42@ikeplex");
    EXPECT_EQ(expand_id("{}-{}", 7), "7-7");
    EXPECT_EQ(expand_id("fixed", 7), "fixed");
}

TEST(LoadPercentiles, NearestRank) {
    std::vector<double> v;
    for (int i = 100; i >= 1; --i) {
        v.push_back(i);
    }
    const Percentiles p = percentiles(v);
    EXPECT_EQ(p.p50, 50);
    EXPECT_EQ(p.p90, 90);
    EXPECT_EQ(p.p99, 99);
    EXPECT_EQ(p.max, 100);
    std::vector<double> one{3.5};
    EXPECT_EQ(percentiles(one).p50, 3.5);
    std::vector<double> none;
    EXPECT_EQ(percentiles(none).max, 0);
}

TEST(LoadTokenBucket, PacesAtItsRate) {
    TokenBucket b(10, 1);  // 10 per second, no burst beyond one
    EXPECT_TRUE(b.take(0.0));
    EXPECT_FALSE(b.take(0.0));
    EXPECT_NEAR(b.wait(0.0), 0.1, 1e-9);
    EXPECT_FALSE(b.take(0.05));
    EXPECT_TRUE(b.take(0.1));
    int taken = 0;
    for (int ms = 101; ms <= 1105; ++ms) {  // 1.0 s more (and rounding room)
        taken += b.take(ms / 1000.0) ? 1 : 0;
    }
    EXPECT_EQ(taken, 10);
}

TEST(LoadTokenBucket, BurstAndUnlimited) {
    TokenBucket b(100, 5);
    int taken = 0;
    while (b.take(1.0)) {
        ++taken;
    }
    EXPECT_EQ(taken, 5);
    taken = 0;
    while (b.take(10.0)) {
        ++taken;
    }
    EXPECT_EQ(taken, 5);  // refilled to the burst, not more
    TokenBucket unlimited(0, 1);
    for (int i = 0; i < 1000; ++i) {
        ASSERT_TRUE(unlimited.take(0.0));
    }
    EXPECT_EQ(unlimited.wait(0.0), 0);
}

TEST(LoadProc, StatAndStatus) {
    // A command with spaces and a parenthesis; utime 150, stime 50 ticks at 100 Hz.
    const std::string stat =
            "1234 (ike plex) d) S 1 1234 1234 0 -1 4194560 100 0 0 0 150 50 0 0 20 0 1 0";
    EXPECT_EQ(parse_stat_cpu_us(stat, 100), 2000000U);
    EXPECT_FALSE(parse_stat_cpu_us("garbage", 100));
    EXPECT_EQ(parse_schedstat_us("247259766 106939446 60\n"), 247259U);
    EXPECT_FALSE(parse_schedstat_us("x"));
    EXPECT_FALSE(parse_stat_cpu_us("1 (x) S 1 2", 100));
    EXPECT_EQ(parse_status_rss_kib("Name:\tikeplexd\nVmPeak:\t 9 kB\nVmRSS:\t   10240 kB\n"),
              10240U);
    EXPECT_FALSE(parse_status_rss_kib("Name:\tx\n"));
    EXPECT_TRUE(sample_process(::getpid()));
}

TEST(LoadReport, StableKeys) {
    Report r;
    r.sas = 10;
    r.established = 10;
    r.deleted = 10;
    r.delete_targets = 10;
    r.setup_s = 2;
    r.r_start = ProcSample{1000, 100};
    r.r_established = ProcSample{3000, 1100};
    r.r_deleted = ProcSample{4000, 200};
    const auto lines = report_lines(r);
    ASSERT_EQ(lines.size(), 5U);
    EXPECT_EQ(lines[0],
              "load sas=10 established=10 failed=0 retransmits=0 setup_s=2.000 "
              "established_per_s=5.0 group=0");
    EXPECT_EQ(lines[3],
              "load responder_cpu_us_per_sa=200.0 responder_kib_per_sa=100.00 "
              "responder_rss_start_kib=100 responder_rss_established_kib=1100");
    EXPECT_EQ(lines[4],
              "load delete_s=0.000 deleted=10 remaining=0 delete_retransmits=0 "
              "delete_responder_cpu_us_per_sa=100.0 responder_rss_after_delete_kib=200");
}

TEST(LoadReport, VipsLineOnlyWithVips) {
    Report r;
    r.sas = 3;
    r.established = 3;
    EXPECT_EQ(report_lines(r).size(), 4U);
    r.vips = true;
    r.vips_assigned = 2;
    r.vips_missing = 1;
    const auto lines = report_lines(r);
    ASSERT_EQ(lines.size(), 5U);
    EXPECT_EQ(lines[3], "load vips=2 vips_missing=1 vips_duplicate=0");
}

}  // namespace
}  // namespace ikeplex::load
