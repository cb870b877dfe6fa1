// ikeplexd.conf's metrics section: the Prometheus endpoint's address and per_sa, off by
// default, errors naming file and line.
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/daemon_settings.h"
#include "settings_test_util.h"

namespace ikeplex::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

DaemonSettings mapped(std::string_view text, Findings& f) {
    return map_daemon_settings(test::parse_ok(text, test::no_files(), "ikeplexd.conf"), f);
}

std::vector<std::string> errors_of(std::string_view text) {
    Findings f;
    (void)mapped(text, f);
    std::vector<std::string> out;
    for (const Diagnostic& d : f.errors) {
        out.push_back(d.to_string());
    }
    return out;
}

TEST(MetricsSettings, OffByDefault) {
    Findings f;
    const DaemonSettings d = mapped("ikeplexd {\n  workers = 2\n}\n", f);
    EXPECT_TRUE(f.ok());
    EXPECT_FALSE(d.metrics.listen.has_value());
    EXPECT_FALSE(d.metrics.per_sa);
}

TEST(MetricsSettings, ListenAndPerSa) {
    Findings f;
    DaemonSettings d = mapped(
            "ikeplexd {\n  metrics {\n    listen = 127.0.0.1:9903\n    per_sa = yes\n  }\n}\n", f);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(d.metrics.listen.has_value());
    EXPECT_EQ(d.metrics.listen->address.to_string(), "127.0.0.1");
    EXPECT_EQ(d.metrics.listen->port, 9903);
    EXPECT_TRUE(d.metrics.per_sa);
    d = mapped("ikeplexd {\n  metrics {\n    listen = 0.0.0.0:9100\n  }\n}\n", f);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(d.metrics.listen.has_value());
    EXPECT_EQ(d.metrics.listen->address.to_string(), "0.0.0.0");
    EXPECT_EQ(d.metrics.listen->port, 9100);
    EXPECT_FALSE(d.metrics.per_sa);
}

TEST(MetricsSettings, Errors) {
    const std::string hint = "' is not ADDRESS:PORT (e.g. 127.0.0.1:9903)";
    for (const std::string bad : {"127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", "host:9903",
                                  "::1:9903", "[127.0.0.1]:9903", "127.0.0.1:x"}) {
        EXPECT_THAT(errors_of("ikeplexd {\n  metrics {\n    listen = " + bad + "\n  }\n}\n"),
                    ElementsAre("ikeplexd.conf:3: ikeplexd.metrics.listen: '" + bad + hint))
                << bad;
    }
    // Debian's civetweb has no IPv6: an IPv6 address is refused by name, not at start.
    EXPECT_THAT(errors_of("ikeplexd {\n  metrics {\n    listen = [::1]:9903\n  }\n}\n"),
                ElementsAre("ikeplexd.conf:3: ikeplexd.metrics.listen: '[::1]:9903': IPv6 is not "
                            "supported (Debian's civetweb is built without it); use an IPv4 "
                            "address"));
    EXPECT_THAT(errors_of("ikeplexd {\n  metrics {\n    per_sa = maybe\n  }\n}\n"),
                ElementsAre("ikeplexd.conf:3: ikeplexd.metrics.per_sa: expected yes or no"));
    EXPECT_THAT(errors_of("ikeplexd {\n  metrics {\n    port = 9903\n  }\n}\n"),
                ElementsAre("ikeplexd.conf:3: ikeplexd.metrics.port: unknown key (metrics holds "
                            "listen, per_sa)"));
    EXPECT_THAT(errors_of("ikeplexd {\n  metrics {\n    tls {\n    }\n  }\n}\n"),
                ElementsAre("ikeplexd.conf:3: ikeplexd.metrics.tls: unknown section (metrics "
                            "holds listen, per_sa)"));
    EXPECT_THAT(errors_of("ikeplexd {\n  metrics {\n  }\n}\n"), IsEmpty());
}

}  // namespace
}  // namespace ikeplex::config
