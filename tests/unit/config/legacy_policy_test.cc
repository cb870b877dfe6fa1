// `legacy_algorithms = warn | refuse` (issue 24): a connection whose proposals name SHA1,
// MODP 1024/1536 or 3DES loads with one warning per such proposal (citing RFC 8247), or is
// refused under `refuse`; ikeplexd.conf takes only warn or refuse.
#include "config/legacy_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/daemon_settings.h"
#include "config/swanctl.h"
#include "settings_test_util.h"

namespace ikeplex::config {
namespace {

using ::testing::HasSubstr;

constexpr const char* kConf = R"(connections {
  old {
    proposals = aes128-sha1-modp1024, aes256gcm16-prfsha256-x25519
    local { auth = psk }
    remote { auth = psk }
    children {
      net { esp_proposals = aes128-sha1, 3des-sha1, aes256gcm16 }
    }
  }
})";

TEST(LegacyPolicy, WarnsOncePerProposalOrRefuses) {
    Findings f;
    const Section root = test::parse_ok(kConf, test::no_files(), "swanctl.conf");
    const SwanctlConfig cfg = load_swanctl(root, CredentialDirs{}, f, test::no_files());
    ASSERT_EQ(cfg.connections.size(), 1U);
    Findings warn;
    check_legacy(cfg.connections[0], false, cfg.positions, warn);
    EXPECT_TRUE(warn.errors.empty());
    ASSERT_EQ(warn.warnings.size(), 3U);
    EXPECT_THAT(warn.warnings[0].to_string(),
                HasSubstr("connections.old: proposal IKE:AES_CBC_128/HMAC_SHA1_96/PRF_HMAC_SHA1/"
                          "MODP_1024 has legacy algorithm(s) PRF_HMAC_SHA1, HMAC_SHA1_96, "
                          "MODP_1024 (RFC 8247"));
    EXPECT_THAT(warn.warnings[2].to_string(),
                HasSubstr("connections.old.children.net: proposal ESP:3DES_CBC/HMAC_SHA1_96"));
    Findings refuse;
    check_legacy(cfg.connections[0], true, cfg.positions, refuse);
    EXPECT_TRUE(refuse.warnings.empty());
    ASSERT_EQ(refuse.errors.size(), 3U);
    EXPECT_THAT(refuse.errors[0].to_string(), HasSubstr("refused (legacy_algorithms = refuse"));
}

TEST(LegacyPolicy, IkeplexdConfKey) {
    for (const auto& [text, refuse] : {std::pair{"warn", false}, std::pair{"refuse", true}}) {
        Findings f;
        const Section root =
                test::parse_ok(std::string("ikeplexd { legacy_algorithms = ") + text + " }",
                               test::no_files(), "ikeplexd.conf");
        EXPECT_EQ(map_daemon_settings(root, f).refuse_legacy, refuse);
        EXPECT_TRUE(f.ok());
    }
    Findings bad;
    const Section root = test::parse_ok("ikeplexd { legacy_algorithms = yes }", test::no_files(),
                                        "ikeplexd.conf");
    (void)map_daemon_settings(root, bad);
    EXPECT_FALSE(bad.ok());
}

}  // namespace
}  // namespace ikeplex::config
