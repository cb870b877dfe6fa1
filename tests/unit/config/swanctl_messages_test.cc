// What swanctl.conf's mistakes are called (issue 20): an unknown proposal keyword is named
// with its proposal, a bad selector says what is wrong, strongSwan's `dynamic[proto/port]` and
// port service names load, and `ikeplexd --check` warns about a PSK connection without a
// matching secret (config::check_secrets).
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/swanctl.h"
#include "settings_test_util.h"

namespace ikeplex::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

struct Loaded {
    SwanctlConfig config;
    std::vector<std::string> errors;
    std::vector<std::string> warnings;
};

/// Maps `text` as "swanctl.conf" and runs check_secrets on it.
Loaded load(std::string_view text) {
    Findings f;
    Loaded out;
    const Section root = test::parse_ok(text, test::no_files(), "swanctl.conf");
    out.config = load_swanctl(root, CredentialDirs{}, f, test::no_files());
    check_secrets(out.config, f);
    for (const Diagnostic& d : f.errors) {
        out.errors.push_back(d.to_string());
    }
    for (const Diagnostic& d : f.warnings) {
        out.warnings.push_back(d.to_string());
    }
    return out;
}

/// Connection "c" (line 2) with `conn_key` on line 3, psk both ways, ids a.test and b.test,
/// one child "net" with `child_key` on line 14; then `secrets`.
std::string conn(std::string_view conn_key, std::string_view child_key = "",
                 std::string_view secrets = "") {
    return "connections {\n"
           "  c {\n"
           "    " +
           std::string(conn_key) +
           "\n"
           "    local {\n"
           "      auth = psk\n"
           "      id = a.test\n"
           "    }\n"
           "    remote {\n"
           "      auth = psk\n"
           "      id = b.test\n"
           "    }\n"
           "    children {\n"
           "      net {\n"
           "        " +
           std::string(child_key) +
           "\n"
           "      }\n"
           "    }\n"
           "  }\n"
           "}\n" +
           std::string(secrets);
}

constexpr std::string_view kSecret =
        "secrets {\n  ike-1 {\n    id-1 = a.test\n    secret = s3cret\n  }\n}\n";

TEST(SwanctlMessages, AnUnknownProposalKeywordIsNamedWithItsProposal) {
    EXPECT_THAT(load(conn("proposals = aes256-foo", "", kSecret)).errors,
                ElementsAre("swanctl.conf:3: connections.c.proposals: 'aes256-foo' has an "
                            "unknown algorithm 'foo'"));
    EXPECT_THAT(load(conn("", "esp_proposals = aes128gcm16, blowfish", kSecret)).errors,
                ElementsAre("swanctl.conf:14: connections.c.children.net.esp_proposals: "
                            "'blowfish' has an unknown algorithm 'blowfish'"));
    EXPECT_THAT(load(conn("proposals = aes128--sha256-x25519", "", kSecret)).errors,
                ElementsAre("swanctl.conf:3: connections.c.proposals: 'aes128--sha256-x25519' "
                            "has an empty algorithm"));
    EXPECT_THAT(load(conn("proposals = aes128-sha256", "", kSecret)).errors,
                ElementsAre("swanctl.conf:3: connections.c.proposals: 'aes128-sha256' has no "
                            "key exchange method (an IKE proposal needs one)"));
}

TEST(SwanctlMessages, Rfc9370ProposalsLoadWithoutWarnings) {
    // strongSwan 6's syntax (issue 23): additional key exchanges ke1_..ke7_, keN_none, ML-KEM
    // alone; `ikeplexd --check` takes them as they are.
    const Loaded ok =
            load(conn("proposals = aes256gcm16-prfsha384-x25519-ke1_mlkem768-"
                      "ke2_ecp384-ke2_none, aes256gcm16-prfsha384-mlkem1024",
                      "esp_proposals = aes128gcm16-x25519-ke1_mlkem768", kSecret));
    EXPECT_THAT(ok.errors, IsEmpty());
    EXPECT_THAT(ok.warnings, IsEmpty());
    EXPECT_THAT(
            load(conn("proposals = aes256gcm16-prfsha384-x25519-ke8_mlkem768", "", kSecret)).errors,
            ElementsAre("swanctl.conf:3: connections.c.proposals: "
                        "'aes256gcm16-prfsha384-x25519-ke8_mlkem768' has an unknown "
                        "algorithm 'ke8_mlkem768'"));
}

TEST(SwanctlMessages, UniqueTakesStrongSwansFourPolicies) {
    const std::pair<const char*, ike::UniquePolicy> cases[] = {
            {"no", ike::UniquePolicy::kNo},
            {"never", ike::UniquePolicy::kIgnoreInitialContact},
            {"keep", ike::UniquePolicy::kKeep},
            {"replace", ike::UniquePolicy::kReplace}};
    for (const auto& [text, policy] : cases) {
        const Loaded l = load(conn(std::string("unique = ") + text, "", kSecret));
        ASSERT_THAT(l.errors, IsEmpty()) << text;
        EXPECT_THAT(l.warnings, IsEmpty()) << text;
        EXPECT_EQ(l.config.connections.at(0).unique, policy) << text;
    }
    EXPECT_EQ(load(conn("", "", kSecret)).config.connections.at(0).unique, ike::UniquePolicy::kNo);
    EXPECT_THAT(load(conn("unique = yes", "", kSecret)).errors,
                ElementsAre("swanctl.conf:3: connections.c.unique: expected no, never, keep or "
                            "replace"));
}

TEST(SwanctlMessages, DynamicSelectorsTakeAProtocolAndPort) {
    // strongSwan's L2TP/IPsec transport selectors.
    const Loaded l = load(conn(
            "", "local_ts = dynamic[udp/l2tp]\n        remote_ts = dynamic[udp/%any]", kSecret));
    ASSERT_THAT(l.errors, IsEmpty());
    ASSERT_EQ(l.config.connections.size(), 1U);
    const ike::ChildConfig& c = l.config.connections[0].children[0];
    ASSERT_EQ(c.local_ts.size(), 1U);
    ASSERT_EQ(c.remote_ts.size(), 1U);
    EXPECT_EQ(c.local_ts[0].to_string(), "dynamic[udp/1701]");
    EXPECT_EQ(c.remote_ts[0].to_string(), "dynamic[udp]");
    // Plain "dynamic" stays the default (an empty list).
    const Loaded plain = load(conn("", "local_ts = dynamic", kSecret));
    ASSERT_THAT(plain.errors, IsEmpty());
    EXPECT_THAT(plain.config.connections[0].children[0].local_ts, IsEmpty());
}

TEST(SwanctlMessages, ABadSelectorSaysWhatIsWrong) {
    const auto error = [](std::string_view ts) {
        const Loaded l = load(conn("", "local_ts = " + std::string(ts), kSecret));
        return l.errors.size() == 1 ? l.errors[0] : "(" + std::to_string(l.errors.size()) + ")";
    };
    const std::string at = "swanctl.conf:14: connections.c.children.net.local_ts: ";
    EXPECT_EQ(error("dynamc[udp]"),
              at + "'dynamc[udp]': 'dynamc' is not an IPv4 or IPv6 address, nor 'dynamic'");
    EXPECT_EQ(error("10.0.0.0/24[udpp/53]"),
              at + "'10.0.0.0/24[udpp/53]': unknown protocol 'udpp'");
    EXPECT_EQ(error("10.0.0.0/24[udp/no-such-service]"),
              at + "'10.0.0.0/24[udp/no-such-service]': unknown port or service "
                   "'no-such-service'");
    EXPECT_EQ(error("10.0.0.0/24[tcp/70000]"),
              at + "'10.0.0.0/24[tcp/70000]': port 70000 is out of range (0-65535)");
    EXPECT_EQ(error("10.0.0.0/33"), at + "'10.0.0.0/33': prefix length '33' is not 0 to 32");
    EXPECT_EQ(error("10.0.0.0/24[tcp"),
              at + "'10.0.0.0/24[tcp': '[' without a closing ']' at the end");
}

TEST(SwanctlMessages, CheckWarnsAboutAPskConnectionWithoutAMatchingSecret) {
    // strongSwan fails at run time with "no shared key found for 'a.test' - 'b.test'".
    EXPECT_THAT(load(conn("")).warnings,
                ElementsAre("swanctl.conf:2: connection 'c' uses auth = psk but no secret "
                            "matches ids 'a.test' - 'b.test'"));
    EXPECT_THAT(
            load(conn("", "", "secrets {\n  ike-1 {\n    id-1 = x.test\n    secret = s\n  }\n}\n"))
                    .warnings,
            ElementsAre("swanctl.conf:2: connection 'c' uses auth = psk but no secret "
                        "matches ids 'a.test' - 'b.test'"));
    // A secret for either identity, or for none, matches (as at run time).
    EXPECT_THAT(load(conn("", "", kSecret)).warnings, IsEmpty());
    EXPECT_THAT(load(conn("", "", "secrets {\n  ike-1 {\n    secret = s\n  }\n}\n")).warnings,
                IsEmpty());
}

}  // namespace
}  // namespace ikeplex::config
