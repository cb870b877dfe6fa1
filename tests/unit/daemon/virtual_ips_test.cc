// The resolve file ikeplexd edits for DNS servers a peer assigned (daemon/virtual_ips.h):
// lines added at the top, and only those removed again.
#include "daemon/virtual_ips.h"

#include <gtest/gtest.h>

namespace ikeplex::daemon {
namespace {

TEST(ResolvConf, LinesAddedOnTopAndRemovedAgain) {
    const std::vector<IpAddress> dns{*IpAddress::parse("10.99.126.53"),
                                     *IpAddress::parse("fd99:126::53")};
    const std::string before = "# mine\nnameserver 192.0.2.53\n";
    const std::string added = edit_resolv_conf(before, dns, true);
    EXPECT_EQ(added,
              "nameserver 10.99.126.53   # by ikeplexd\nnameserver fd99:126::53   # by ikeplexd\n"
              "# mine\nnameserver 192.0.2.53\n");
    EXPECT_EQ(edit_resolv_conf(added, dns, false), before);
    // Two IKE SAs with the same server: one line goes per IKE SA.
    const std::string twice = edit_resolv_conf(added, {dns[0]}, true);
    EXPECT_EQ(edit_resolv_conf(twice, {dns[0]}, false), added);
    // Nothing of ours: nothing changes.
    EXPECT_EQ(edit_resolv_conf(before, dns, false), before);
}

}  // namespace
}  // namespace ikeplex::daemon
