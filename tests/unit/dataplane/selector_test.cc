#include "esp/selector.h"

#include <gtest/gtest.h>

#include "kernel/userspace_backend.h"

namespace ikeplex::esp {
namespace {

Bytes udp4(const char* src, const char* dst, std::uint16_t sport, std::uint16_t dport) {
    Bytes p(28, 0);
    p[0] = 0x45;
    p[3] = 28;
    p[8] = 64;
    p[9] = 17;
    const auto s = IpAddress::parse(src).value();
    const auto d = IpAddress::parse(dst).value();
    std::copy(s.bytes().begin(), s.bytes().end(), p.begin() + 12);
    std::copy(d.bytes().begin(), d.bytes().end(), p.begin() + 16);
    p[20] = static_cast<std::uint8_t>(sport >> 8);
    p[21] = static_cast<std::uint8_t>(sport);
    p[22] = static_cast<std::uint8_t>(dport >> 8);
    p[23] = static_cast<std::uint8_t>(dport);
    return p;
}

Selector sel(const char* text) {
    return kernel::to_selector(ike::TrafficSelector::parse(text).value());
}

TEST(Selector, ParsesFlowsOfBothFamilies) {
    const Bytes p = udp4("10.99.1.1", "10.99.2.1", 1234, 53);
    auto f = parse_flow(p);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->family, 4);
    EXPECT_EQ(f->protocol, 17);
    EXPECT_EQ(f->src_port, 1234);
    EXPECT_EQ(f->dst_port, 53);
    Bytes v6(48, 0);
    v6[0] = 0x60;
    v6[6] = 58;  // ICMPv6: no ports
    v6[23] = 1;
    v6[39] = 2;
    f = parse_flow(v6);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->family, 6);
    EXPECT_EQ(f->src[15], 1);
    EXPECT_EQ(f->src_port, 0);
    EXPECT_FALSE(parse_flow(Bytes{0x45, 0}));
    EXPECT_FALSE(parse_flow(Bytes(20, 0x50)));  // version 5
    Bytes bad_ihl = p;
    bad_ihl[0] = 0x4f;  // 60-byte header in a 28-byte packet
    EXPECT_FALSE(parse_flow(bad_ihl));
}

TEST(Selector, MatchesRangesProtocolsAndPorts) {
    const auto f = parse_flow(udp4("10.99.1.7", "10.99.2.1", 1234, 53)).value();
    EXPECT_TRUE(sel("10.99.1.0/24").matches_src(f));
    EXPECT_FALSE(sel("10.99.3.0/24").matches_src(f));
    EXPECT_TRUE(sel("10.99.2.1[udp/53]").matches_dst(f));
    EXPECT_FALSE(sel("10.99.2.1[tcp/53]").matches_dst(f));
    EXPECT_FALSE(sel("10.99.2.1[udp/54]").matches_dst(f));
    EXPECT_FALSE(sel("fd00:99::/64").matches_src(f));
}

TEST(Selector, PolicyTablePrefersTheMostSpecific) {
    Policy wide{ReqId(1), {sel("10.99.0.0/16")}, {sel("10.99.0.0/16")}};
    Policy narrow{ReqId(2), {sel("10.99.1.0/24")}, {sel("10.99.2.1[udp/53]")}};
    const PolicyTable t({wide, narrow});
    const auto dns = parse_flow(udp4("10.99.1.7", "10.99.2.1", 1234, 53)).value();
    const auto other = parse_flow(udp4("10.99.1.7", "10.99.2.1", 1234, 80)).value();
    const auto outside = parse_flow(udp4("10.98.1.7", "10.99.2.1", 1234, 80)).value();
    ASSERT_NE(t.lookup_out(dns), nullptr);
    EXPECT_EQ(t.lookup_out(dns)->reqid, ReqId(2));
    EXPECT_EQ(t.lookup_out(other)->reqid, ReqId(1));
    EXPECT_EQ(t.lookup_out(outside), nullptr);
    EXPECT_TRUE(narrow.matches_in(parse_flow(udp4("10.99.2.1", "10.99.1.7", 53, 1234)).value()));
}

TEST(Selector, RangesBecomePrefixes) {
    const auto p = [](const char* a, const char* b) {
        std::vector<std::string> out;
        for (const auto& [pfx, len] :
             kernel::range_to_prefixes(IpAddress::parse(a).value(), IpAddress::parse(b).value())) {
            out.push_back(pfx.to_string() + "/" + std::to_string(len));
        }
        return out;
    };
    EXPECT_EQ(p("10.99.1.0", "10.99.1.255"), std::vector<std::string>{"10.99.1.0/24"});
    EXPECT_EQ(p("10.0.0.1", "10.0.0.6"), (std::vector<std::string>{"10.0.0.1/32", "10.0.0.2/31",
                                                                   "10.0.0.4/31", "10.0.0.6/32"}));
    EXPECT_EQ(p("0.0.0.0", "255.255.255.255"), std::vector<std::string>{"0.0.0.0/0"});
    EXPECT_EQ(p("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), std::vector<std::string>{"::/0"});
    EXPECT_EQ(p("fd00:99::", "fd00:99::ffff"), std::vector<std::string>{"fd00:99::/112"});
}

}  // namespace
}  // namespace ikeplex::esp
