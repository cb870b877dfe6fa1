// RFC 7296 §2.9 narrowing (ike::narrow, ike::intersect): what a responder keeps of the
// initiator's selectors, by address range, protocol and port range, for IPv4 and IPv6.
#include "ike/traffic_selector.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace ikeplex::ike {
namespace {

std::vector<TrafficSelector> list(std::initializer_list<const char*> texts) {
    std::vector<TrafficSelector> out;
    for (const char* t : texts) {
        auto ts = TrafficSelector::parse(t);
        EXPECT_TRUE(ts) << t;
        if (ts) {
            out.push_back(*ts);
        }
    }
    return out;
}

std::string narrowed(std::initializer_list<const char*> proposed,
                     std::initializer_list<const char*> configured) {
    const auto p = list(proposed);
    const auto c = list(configured);
    return to_string(narrow(p, c));
}

TEST(Narrow, IntersectionsInProposedOrder) {
    EXPECT_EQ(narrowed({"10.99.0.0/16"}, {"10.99.1.0/24"}), "10.99.1.0/24");
    EXPECT_EQ(narrowed({"10.99.3.0/24", "10.99.1.0/24"}, {"10.99.1.0/24", "10.99.3.0/24"}),
              "10.99.3.0/24 10.99.1.0/24");
    EXPECT_EQ(narrowed({"10.98.0.0/24"}, {"10.99.1.0/24"}), "");
}

TEST(Narrow, ThePacketSelectorDoesNotStayBesideItsNetwork) {
    // A peer that sends the triggering packet's selectors first (RFC 7296 §2.9): the packet's
    // selector lies inside the network that follows; only the network stays, as for a request
    // without the packet (the members of an RFC 9611 group must have identical selectors).
    EXPECT_EQ(narrowed({"10.99.1.1/32[icmp/2048]", "10.99.1.0/24"}, {"10.99.1.0/24"}),
              "10.99.1.0/24");
    EXPECT_EQ(narrowed({"10.99.1.0/24"}, {"10.99.1.0/24"}), "10.99.1.0/24");
    // Covered by a later one, equal ones, and ones that only overlap.
    EXPECT_EQ(narrowed({"10.99.1.5/32", "10.99.1.0/24", "10.99.1.0/24"}, {"10.99.0.0/16"}),
              "10.99.1.0/24");
    EXPECT_EQ(narrowed({"10.99.1.0-10.99.1.9", "10.99.1.5-10.99.1.20"}, {"10.99.0.0/16"}),
              "10.99.1.0..10.99.1.9 10.99.1.5..10.99.1.20");
    // The packet's selector alone (the configuration is narrower than the network): kept.
    EXPECT_EQ(narrowed({"10.99.1.1/32[icmp/2048]", "10.99.0.0/16"}, {"10.99.1.1/32"}),
              "10.99.1.1/32");
}

TEST(Narrow, ExactSubsetAndSuperset) {
    // RFC 7296 §2.9: the responder may narrow the proposal to a subset of it, never widen it.
    EXPECT_EQ(narrowed({"10.99.1.0/24"}, {"10.99.1.0/24"}), "10.99.1.0/24");  // exact
    EXPECT_EQ(narrowed({"10.99.1.0/25"}, {"10.99.1.0/24"}), "10.99.1.0/25");  // a subset stays
    EXPECT_EQ(narrowed({"10.99.1.7"}, {"10.99.0.0/16"}), "10.99.1.7/32");     // one address
    EXPECT_EQ(narrowed({"0.0.0.0/0"}, {"10.99.1.0/24"}), "10.99.1.0/24");     // to the config
    // Overlapping ranges: only the common part, which need not be a prefix.
    EXPECT_EQ(narrowed({"10.99.1.0-10.99.1.100"}, {"10.99.1.50-10.99.1.200"}),
              "10.99.1.50..10.99.1.100");
}

TEST(Narrow, NothingInCommonIsNothing) {
    // No part acceptable: the responder answers TS_UNACCEPTABLE (RFC 7296 §2.9).
    EXPECT_EQ(narrowed({"10.98.0.0/16"}, {"10.99.0.0/16"}), "");
    EXPECT_EQ(narrowed({"10.99.1.0/24[udp]"}, {"10.99.1.0/24[tcp]"}), "");         // protocols
    EXPECT_EQ(narrowed({"10.99.1.0/24[tcp/80]"}, {"10.99.1.0/24[tcp/443]"}), "");  // ports
    EXPECT_EQ(narrowed({"2001:db8::/32"}, {"10.99.1.0/24"}), "");                  // families
    EXPECT_EQ(narrowed({}, {"10.99.1.0/24"}), "");
    EXPECT_EQ(narrowed({"10.99.1.0/24"}, {}), "");
}

TEST(Narrow, ProtocolAndPortRanges) {
    // Any protocol (0) narrowed to the configured one, and the other way round; the port range
    // is the overlap of both (RFC 7296 §3.13.1).
    EXPECT_EQ(narrowed({"10.99.1.0/24"}, {"10.99.1.0/24[udp]"}), "10.99.1.0/24[udp]");
    EXPECT_EQ(narrowed({"10.99.1.0/24[tcp/443]"}, {"10.99.1.0/24"}), "10.99.1.0/24[tcp/443]");
    EXPECT_EQ(narrowed({"10.99.1.0/24[tcp]"}, {"10.99.0.0/16[tcp/1000-2000]"}),
              "10.99.1.0/24[tcp/1000-2000]");
    EXPECT_EQ(narrowed({"10.99.1.0/24[tcp/1500-3000]"}, {"10.99.1.0/24[tcp/1000-2000]"}),
              "10.99.1.0/24[tcp/1500-2000]");
    EXPECT_EQ(narrowed({"10.99.1.0/24[6/2000-2000]"}, {"10.99.1.0/24[tcp/1000-2000]"}),
              "10.99.1.0/24[tcp/2000]");  // touching at one port
    EXPECT_EQ(narrowed({"10.99.1.0/24[/53]"}, {"10.99.1.0/24[udp]"}), "10.99.1.0/24[udp/53]");
}

TEST(Narrow, Ipv6) {
    EXPECT_EQ(narrowed({"2001:db8::/32"}, {"2001:db8:1::/48"}), "2001:db8:1::/48");
    EXPECT_EQ(narrowed({"2001:db8:1::5"}, {"2001:db8:1::/48"}), "2001:db8:1::5/128");
    EXPECT_EQ(narrowed({"2001:db8:2::/48"}, {"2001:db8:1::/48"}), "");
    EXPECT_EQ(narrowed({"::/0[ipv6-icmp]"}, {"2001:db8:1::/64"}), "2001:db8:1::/64[58]");
    // One list may hold both families (RFC 7296 §2.9): each narrowed within its own.
    EXPECT_EQ(narrowed({"10.0.0.0/8", "2001:db8::/32"}, {"2001:db8:1::/48", "10.99.1.0/24"}),
              "10.99.1.0/24 2001:db8:1::/48");
}

TEST(Narrow, SeveralSelectorsOnBothSides) {
    // Every proposed selector against every configured one, in the order proposed.
    EXPECT_EQ(narrowed({"10.99.0.0/16", "10.100.0.0/16"},
                       {"10.100.5.0/24", "10.99.1.0/24", "10.99.2.0/24", "10.101.0.0/16"}),
              "10.99.1.0/24 10.99.2.0/24 10.100.5.0/24");
    EXPECT_EQ(narrowed({"10.99.1.0/24[tcp]", "10.99.1.0/24[udp]"}, {"10.99.0.0/16[udp]"}),
              "10.99.1.0/24[udp]");
    EXPECT_EQ(narrowed({"10.99.1.0/24"}, {"10.99.1.0/24[tcp]", "10.99.2.0/24"}),
              "10.99.1.0/24[tcp]");
}

TEST(Intersect, IsTheCommonPartOrNothing) {
    const auto ts = [](const char* t) { return *TrafficSelector::parse(t); };
    EXPECT_EQ(intersect(ts("10.99.0.0/16"), ts("10.99.1.0/24")), ts("10.99.1.0/24"));
    EXPECT_EQ(intersect(ts("10.99.1.0/24"), ts("10.99.0.0/16")), ts("10.99.1.0/24"));
    EXPECT_EQ(intersect(ts("10.99.1.0/24[tcp/1-100]"), ts("10.99.1.128/25[/50-200]")),
              ts("10.99.1.128/25[tcp/50-100]"));
    EXPECT_EQ(intersect(ts("10.99.1.0/24"), ts("10.99.2.0/24")), std::nullopt);
    EXPECT_EQ(intersect(ts("10.99.1.0/24[tcp/1-100]"), ts("10.99.1.0/24[tcp/101-200]")),
              std::nullopt);
    EXPECT_EQ(intersect(ts("10.0.0.0/8"), TrafficSelector::any(6)), std::nullopt);
    // Ranges that touch at one address intersect in it.
    EXPECT_EQ(intersect(ts("10.0.0.0-10.0.0.5"), ts("10.0.0.5-10.0.0.9")), ts("10.0.0.5"));
}

TEST(Contains, CoversAllOfTheOther) {
    const auto ts = [](const char* t) { return *TrafficSelector::parse(t); };
    EXPECT_TRUE(ts("10.99.0.0/16").contains(ts("10.99.1.0/24")));
    EXPECT_FALSE(ts("10.99.1.0/24").contains(ts("10.99.0.0/16")));
    EXPECT_TRUE(ts("10.99.1.0/24").contains(ts("10.99.1.0/24[tcp/443]")));
    EXPECT_FALSE(ts("10.99.1.0/24[tcp]").contains(ts("10.99.1.0/24")));  // any protocol
    EXPECT_FALSE(ts("10.99.1.0/24[tcp/443]").contains(ts("10.99.1.0/24[tcp/400-500]")));
    EXPECT_FALSE(TrafficSelector::any(4).contains(ts("2001:db8::1")));
}

}  // namespace
}  // namespace ikeplex::ike

namespace ikeplex::ike {
namespace {

std::string parsed(const char* text) {
    std::string why;
    auto ts = TrafficSelector::parse(text, &why);
    return ts ? ts->to_string() : "error: " + why;
}

TEST(ParseSelector, ServiceNamesWithoutTheServicesFile) {
    // strongSwan looks port names up like getservbyname(); the common ones are built in, so
    // they load where /etc/services is missing (containers).
    EXPECT_EQ(parsed("10.99.1.0/24[udp/l2tp]"), "10.99.1.0/24[udp/1701]");
    EXPECT_EQ(parsed("10.99.1.0/24[tcp/https]"), "10.99.1.0/24[tcp/443]");
    EXPECT_EQ(parsed("10.99.1.0/24[tcp/ssh-https]"), "10.99.1.0/24[tcp/22-443]");
    EXPECT_EQ(parsed("10.99.1.0/24[tcp/ftp-data]"), "10.99.1.0/24[tcp/20]");
    EXPECT_EQ(parsed("10.99.1.0/24[sctp/1000-2000]"), "10.99.1.0/24[132/1000-2000]");
    EXPECT_EQ(parsed("10.99.1.0/24[gre]"), "10.99.1.0/24[47]");
    EXPECT_EQ(parsed("10.99.1.0/24[tcp/no-such-service]"),
              "error: unknown port or service 'no-such-service'");
    EXPECT_EQ(parsed("10.99.1.0/24[tcp/443-80]"), "error: port range 443-80 is reversed");
}

TEST(ParseSelector, AnyAndDynamicKeepTheirProtocolAndPort) {
    EXPECT_EQ(parsed("%any[udp/53]"), "0.0.0.0/0[udp/53]");
    EXPECT_EQ(parsed("dynamic[udp/%any]"), "dynamic[udp]");
    EXPECT_EQ(parsed("dynamic[/1701]"), "dynamic[/1701]");
    const auto dyn = *TrafficSelector::parse("dynamic[udp/1701]");
    const auto net = *TrafficSelector::parse("10.99.1.0/24");
    const std::vector<TrafficSelector> configured{dyn, net};
    EXPECT_EQ(to_string(resolve_dynamic(configured, *IpAddress::parse("10.99.0.1"))),
              "10.99.0.1/32[udp/1701] 10.99.1.0/24");
    // No address known (a trap policy without local_addrs): the dynamic selector is left out.
    EXPECT_EQ(to_string(resolve_dynamic(configured, IpAddress())), "10.99.1.0/24");
}

}  // namespace
}  // namespace ikeplex::ike
