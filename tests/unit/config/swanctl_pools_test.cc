// swanctl.conf's `pools` section and a connection's `vips` and `pools` (RFC 7296 §2.19): what
// lands in the engine's configuration, and bad input reported with file, line and path.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/swanctl.h"
#include "settings_test_util.h"

namespace ikeplex::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

struct Loaded {
    SwanctlConfig config;
    std::vector<std::string> errors;
    std::vector<std::string> warnings;
};

Loaded load(std::string_view text) {
    Findings f;
    Loaded out;
    const Section root = test::parse_ok(text, test::no_files(), "swanctl.conf");
    out.config = load_swanctl(root, CredentialDirs{}, f, test::no_files());
    check_pools(out.config, f);
    for (const Diagnostic& d : f.errors) {
        out.errors.push_back(d.to_string());
    }
    for (const Diagnostic& d : f.warnings) {
        out.warnings.push_back(d.to_string());
    }
    return out;
}

IpAddress ip(const char* s) {
    return *IpAddress::parse(s);
}

TEST(SwanctlPools, PoolsAndConnectionKeys) {
    const Loaded l = load(R"(connections {
  rw {
    remote_addrs = %any
    pools = v4, v6
    local { auth = psk }
    remote { auth = psk }
    children { net { local_ts = 10.1.0.0/16 } }
  }
  home {
    remote_addrs = 192.0.2.1
    vips = 0.0.0.0, ::, 10.3.0.7, %any6
    local { auth = psk }
    remote { auth = psk }
  }
}
pools {
  v4 {
    addrs = 10.3.0.0/24
    dns = 10.1.0.53, 10.1.0.54
    nbns = 10.1.0.55
    25 = example.org
  }
  v6 {
    addrs = fd00:3::10-fd00:3::1f
    dns = fd00:1::53
  }
}
)");
    EXPECT_THAT(l.errors, IsEmpty());
    EXPECT_THAT(l.warnings, IsEmpty());
    ASSERT_EQ(l.config.connections.size(), 2U);
    EXPECT_THAT(l.config.connections[0].pools, ElementsAre("v4", "v6"));
    EXPECT_THAT(l.config.connections[1].vips,
                ElementsAre(ip("0.0.0.0"), ip("::"), ip("10.3.0.7"), ip("::")));
    ASSERT_EQ(l.config.pools.size(), 2U);
    const ike::PoolConfig& v4 = l.config.pools[0];
    EXPECT_EQ(v4.name, "v4");
    EXPECT_EQ(v4.size, 254U);
    ASSERT_EQ(v4.attributes.size(), 4U);
    EXPECT_EQ(v4.attributes[0].type, ike::cfg_attr::kIp4Dns);
    EXPECT_EQ(v4.attributes[1].value, (Bytes{10, 1, 0, 54}));
    EXPECT_EQ(v4.attributes[2].type, ike::cfg_attr::kIp4Nbns);
    EXPECT_EQ(v4.attributes[3].type, 25);
    EXPECT_EQ(l.config.pools[1].size, 16U);
    EXPECT_EQ(l.config.pools[1].attributes[0].type, ike::cfg_attr::kIp6Dns);
}

TEST(SwanctlPools, BadPoolsAreErrorsAtTheirLine) {
    const Loaded l = load(R"(pools {
  a {
    addrs = 10.3.0.9-10.3.0.1
  }
  b {
    dns = 10.1.0.53
  }
  c {
    addrs = 10.3.0.0/24
    dns = nowhere
    color = blue
  }
  d {
    addrs = 10.4.0.0/24
  }
}
)");
    ASSERT_EQ(l.errors.size(), 4U);
    EXPECT_THAT(l.errors[0], HasSubstr("swanctl.conf:3: pools.a.addrs: '10.3.0.9-10.3.0.1': "
                                       "invalid IP address range"));
    EXPECT_THAT(l.errors[1], HasSubstr("swanctl.conf:5: pools.b.addrs: missing"));
    EXPECT_THAT(l.errors[2], HasSubstr("swanctl.conf:10: pools.c.dns: invalid attribute value"));
    EXPECT_THAT(l.errors[3], HasSubstr("swanctl.conf:11: pools.c.color: invalid attribute"));
    ASSERT_EQ(l.config.pools.size(), 1U);  // the good one loads
    EXPECT_EQ(l.config.pools[0].name, "d");
}

TEST(SwanctlPools, AConnectionNamingAnUndefinedPoolIsWarnedAbout) {
    const Loaded l = load(R"(connections {
  rw {
    pools = nope
    local { auth = psk }
    remote { auth = psk }
  }
}
secrets { ike { secret = x } }
)");
    EXPECT_THAT(l.errors, IsEmpty());
    ASSERT_EQ(l.warnings.size(), 1U);
    EXPECT_THAT(l.warnings[0], HasSubstr("swanctl.conf:2: connection 'rw' names pool 'nope'"));
}

}  // namespace
}  // namespace ikeplex::config
