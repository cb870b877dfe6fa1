// RFC 7296 §2.9 narrowing (ike::narrow): what a responder keeps of the initiator's selectors.
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

}  // namespace
}  // namespace ikeplex::ike
