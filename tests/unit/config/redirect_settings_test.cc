// ikeplexd.conf's RFC 5685 keys: follow_redirects and the `redirect { }` rules, with errors
// naming file and line.
#include "config/redirect_settings.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/daemon_settings.h"
#include "settings_test_util.h"

namespace ikeplex::config {
namespace {

using ::testing::ElementsAre;

DaemonSettings map(std::string_view text, std::vector<std::string>* errors = nullptr) {
    Findings f;
    DaemonSettings d =
            map_daemon_settings(test::parse_ok(text, test::no_files(), "ikeplexd.conf"), f);
    if (errors != nullptr) {
        for (const Diagnostic& e : f.errors) {
            errors->push_back(e.to_string());
        }
    } else {
        EXPECT_TRUE(f.ok());
    }
    return d;
}

TEST(RedirectSettings, DefaultsFollowAndNoRules) {
    const DaemonSettings d = map("ikeplexd {\n}\n");
    EXPECT_TRUE(d.engine.follow_redirects);
    EXPECT_TRUE(d.engine.redirect_rules.empty());
}

TEST(RedirectSettings, RulesInFileOrder) {
    const DaemonSettings d = map(R"(ikeplexd {
    follow_redirects = no
    redirect {
        overflow {
            gateway = 10.99.158.3
            remote_addrs = 10.99.0.0/16, 2001:db8::/32, 192.0.2.7
            established_above = 100
        }
        vip {
            gateway = gw2.example.net
            remote_id = *@example.com, carol
        }
    }
}
)");
    EXPECT_FALSE(d.engine.follow_redirects);
    const auto& rules = d.engine.redirect_rules;
    ASSERT_EQ(rules.size(), 2U);
    EXPECT_EQ(rules[0].name, "overflow");
    EXPECT_EQ(rules[0].gateway.address, IpAddress::parse("10.99.158.3").value());
    ASSERT_EQ(rules[0].remote_addrs.size(), 3U);
    EXPECT_TRUE(rules[0].remote_addrs[0].contains(IpAddress::parse("10.99.200.1").value()));
    EXPECT_FALSE(rules[0].remote_addrs[0].contains(IpAddress::parse("10.98.0.1").value()));
    EXPECT_TRUE(rules[0].remote_addrs[1].contains(IpAddress::parse("2001:db8:1::1").value()));
    EXPECT_FALSE(rules[0].remote_addrs[1].contains(IpAddress::parse("10.99.0.1").value()));
    EXPECT_TRUE(rules[0].remote_addrs[2].contains(IpAddress::parse("192.0.2.7").value()));
    EXPECT_FALSE(rules[0].remote_addrs[2].contains(IpAddress::parse("192.0.2.8").value()));
    EXPECT_EQ(rules[0].established_above, 100U);
    EXPECT_TRUE(rules[0].remote_id.empty());
    EXPECT_EQ(rules[1].gateway.fqdn, "gw2.example.net");
    EXPECT_FALSE(rules[1].gateway.address);
    EXPECT_THAT(rules[1].remote_id, ElementsAre("*@example.com", "carol"));
    EXPECT_FALSE(rules[1].established_above);
}

TEST(RedirectSettings, ErrorsNameFileLineAndKey) {
    std::vector<std::string> errors;
    (void)map(R"(ikeplexd {
    follow_redirects = maybe
    redirect {
        stray = 1
        a {
            gateway = not a host!
            remote_addrs = 10.0.0.0/33, nonsense
            established_above = many
            colour = blue
        }
        b {
            remote_id = x
        }
    }
}
)",
              &errors);
    EXPECT_THAT(errors,
                ElementsAre("ikeplexd.conf:2: ikeplexd.follow_redirects: expected yes or no",
                            "ikeplexd.conf:4: ikeplexd.redirect.stray: unknown key (redirect "
                            "holds one section per rule)",
                            "ikeplexd.conf:6: ikeplexd.redirect.a.gateway: 'not a host!' is "
                            "neither an IP address nor a host name",
                            "ikeplexd.conf:7: ikeplexd.redirect.a.remote_addrs: '10.0.0.0/33' "
                            "is not an address or subnet (a.b.c.d/len)",
                            "ikeplexd.conf:7: ikeplexd.redirect.a.remote_addrs: 'nonsense' is "
                            "not an address or subnet (a.b.c.d/len)",
                            "ikeplexd.conf:8: ikeplexd.redirect.a.established_above: expected a "
                            "number of IKE SAs up to 100000000",
                            "ikeplexd.conf:9: ikeplexd.redirect.a.colour: unknown key (a "
                            "redirect rule holds gateway, remote_addrs, established_above, "
                            "remote_id)",
                            "ikeplexd.conf:11: ikeplexd.redirect.b.gateway: missing: where the "
                            "rule sends clients"));
}

}  // namespace
}  // namespace ikeplex::config
