// Real files: Debian's strongSwan 5.9.8 defaults, every configuration under tests/vectors, and an
// example swanctl.conf with references and an include; then reference resolution.
#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/settings.h"
#include "settings_test_util.h"
#include "vectors.h"

namespace ikeplex::config {
namespace {

using test::section_names;
using test::setting_names;
using ::testing::ElementsAre;

const std::string kVectors = (::ikeplex::test::source_dir() / "tests" / "vectors").string();
const std::string kDebian = kVectors + "/config/debian-5.9.8/etc";

Section parse_file_ok(const std::string& path) {
    std::vector<Diagnostic> diags;
    auto r = parse_settings_file(path, diags);
    for (const Diagnostic& d : diags) {
        ADD_FAILURE() << d.to_string();
    }
    return r ? std::move(*r) : Section{};
}

Section resolve_ok(const Section& root) {
    std::vector<Diagnostic> diags;
    auto r = resolve_references(root, diags);
    for (const Diagnostic& d : diags) {
        ADD_FAILURE() << d.to_string();
    }
    return r ? std::move(*r) : Section{};
}

std::vector<std::string> resolve_errors(std::string_view text) {
    std::vector<Diagnostic> diags;
    const Section root = test::parse_ok(text);
    auto r = resolve_references(root, diags);
    EXPECT_EQ(r.has_value(), diags.empty());
    std::vector<std::string> out;
    for (const Diagnostic& d : diags) {
        out.push_back(d.to_string());
    }
    return out;
}

TEST(SettingsFiles, EveryVectorConfigurationParses) {
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(kVectors)) {
        if (entry.is_regular_file() && entry.path().extension() == ".conf") {
            files.push_back(entry.path().string());
        }
    }
    std::sort(files.begin(), files.end());
    // The Debian defaults, our example and the peers' swanctl.conf / strongswan.conf files.
    EXPECT_GE(files.size(), 80U);
    for (const std::string& f : files) {
        SCOPED_TRACE(f);
        (void)parse_file_ok(f);
    }
}

TEST(RealFileSystem, GlobAndRead) {
    const FileSystem& fs = real_file_system();
    EXPECT_THAT(*fs.glob(kDebian + "/strongswan.d/*.conf"),
                ElementsAre(kDebian + "/strongswan.d/charon-logging.conf",
                            kDebian + "/strongswan.d/charon.conf",
                            kDebian + "/strongswan.d/starter.conf",
                            kDebian + "/strongswan.d/swanctl.conf",
                            kDebian + "/strongswan.d/tnc.conf"));
    // A missing directory or file matches nothing (swanctl.conf's `include conf.d/*.conf`).
    EXPECT_THAT(*fs.glob(kVectors + "/config/no-such-dir/*.conf"), ElementsAre());
    EXPECT_THAT(*fs.glob(kVectors + "/config/no-such-file.conf"), ElementsAre());
    auto text = fs.read_file(kDebian + "/strongswan.conf");
    ASSERT_TRUE(text.has_value());
    EXPECT_EQ(text->rfind("# strongswan.conf", 0), 0U);
    auto dir = fs.read_file(kDebian + "/strongswan.d");
    ASSERT_FALSE(dir.has_value());
    EXPECT_EQ(dir.error().sys_errno, EISDIR);
    auto missing = fs.read_file(kVectors + "/no-such-file");
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().sys_errno, ENOENT);
}

TEST(SettingsFiles, DebianStrongswanConfWithIncludes) {
    const Section s = parse_file_ok(kDebian + "/strongswan.conf");
    EXPECT_EQ(s.get("charon.load_modular"), "yes");
    // strongswan.d/charon/*.conf land in charon.plugins, one section per plugin file.
    std::size_t plugin_files = 0;
    for (const auto& e : std::filesystem::directory_iterator(kDebian + "/strongswan.d/charon")) {
        plugin_files += e.path().extension() == ".conf" ? 1U : 0U;
    }
    const Section* plugins = s.find_section_path("charon.plugins");
    ASSERT_NE(plugins, nullptr);
    EXPECT_EQ(plugins->sections.size(), plugin_files);
    EXPECT_EQ(s.get("charon.plugins.openssl.load"), "yes");
    EXPECT_EQ(s.find_setting_path("charon.plugins.openssl.load")->pos.file,
              kDebian + "/strongswan.d/charon/openssl.conf");
    // strongswan.d/*.conf extend the top level (charon.conf, starter.conf, swanctl.conf, ...).
    EXPECT_NE(s.find_section("starter"), nullptr);
    EXPECT_NE(s.find_section("swanctl"), nullptr);
    EXPECT_NE(s.find_section_path("charon.filelog"), nullptr);
    EXPECT_EQ(s.find_section("charon")->pos, (SourcePos{kDebian + "/strongswan.conf", 7}));
}

TEST(SettingsFiles, DebianSwanctlConfIsAllComments) {
    const Section s = parse_file_ok(kDebian + "/swanctl/swanctl.conf");
    EXPECT_TRUE(s.settings.empty());
    EXPECT_TRUE(s.sections.empty());
}

TEST(SettingsFiles, PeerConfigurations) {
    const Section psk = parse_file_ok(kVectors + "/strongswan-5.9.8/psk/initiator.swanctl.conf");
    EXPECT_EQ(psk.get("connections.t.local.id"), "a.test");  // value ended by '}'
    EXPECT_EQ(psk.get("connections.t.children.net.esp_proposals"), "aes128gcm16-ecp256");
    EXPECT_EQ(psk.get("secrets.ike-t.secret"), "interop-test-psk-0123456789");
    const Section conf =
            parse_file_ok(kVectors + "/strongswan-6.0.6-per-cpu/initiator.strongswan.conf");
    EXPECT_EQ(conf.get("charon.filelog.main.time_format"), "%T");
    EXPECT_EQ(conf.get("charon.plugins.vici.socket"), "unix:///tmp/run/a/charon.vici");
    EXPECT_EQ(conf.get("charon.plugins.save-keys.wireshark_keys"), "/tmp/run/a/wskeys");
    EXPECT_EQ(conf.get("charon.syslog.daemon.default"), "-1");
}

TEST(SettingsFiles, ExampleSwanctlConf) {
    const std::string path = kVectors + "/config/example/swanctl.conf";
    const Section s = parse_file_ok(path);
    EXPECT_THAT(section_names(s),
                ElementsAre("templates", "connections", "pools", "secrets", "authorities"));
    EXPECT_THAT(section_names(*s.find_section("connections")), ElementsAre("site", "rw", "extra"));
    EXPECT_THAT(s.find_section_path("connections.site")->references, ElementsAre("templates.ike"));
    EXPECT_EQ(s.get("connections.site.local.id"), "C=CH, O=Example, CN=moon.example.org");
    EXPECT_EQ(s.get("connections.rw.children.rw-net.local_ts"), "10.1.0.0/16, 2001:db8:1::/48");
    EXPECT_EQ(s.get("connections.rw.children.rw-net.updown"),
              "/usr/local/libexec/ipsec/_updown iptables");
    EXPECT_EQ(s.get("connections.rw.remote-2.auth"), "eap-md5");
    EXPECT_EQ(s.get("secrets.eap-carol.secret"), "Ar3etTnp \"quoted\"  and spaced");
    EXPECT_EQ(s.get("pools.rw-v4.dns"), "10.1.0.53");  // changed by conf.d/extra.conf
    EXPECT_EQ(s.find_setting_path("pools.rw-v4.dns")->pos,
              (SourcePos{kVectors + "/config/example/conf.d/extra.conf", 9}));
    EXPECT_EQ(s.find_setting_path("connections.site.children.net-net.start_action")->pos,
              (SourcePos{path, 38}));

    const Section r = resolve_ok(s);
    const Section* site = r.find_section_path("connections.site");
    ASSERT_NE(site, nullptr);
    EXPECT_TRUE(site->references.empty());
    // Own settings first, then the inherited ones.
    EXPECT_THAT(setting_names(*site), ElementsAre("local_addrs", "remote_addrs", "version",
                                                  "proposals", "rekey_time", "dpd_delay"));
    EXPECT_EQ(r.get("connections.site.children.net-net.esp_proposals"), "aes256gcm16-ecp384");
    EXPECT_EQ(r.get("connections.rw.children.rw-net.esp_proposals"), "aes128gcm16");
    EXPECT_EQ(r.get("connections.rw.children.rw-net.dpd_action"), "restart");
    EXPECT_EQ(r.get("connections.rw.rekey_time"), std::nullopt);  // cleared, not inherited
    EXPECT_EQ(r.get("connections.rw.dpd_delay"), "30s");
    // extra : connections.site, which itself refers to templates.ike.
    EXPECT_EQ(r.get("connections.extra.remote_addrs"), "203.0.113.9");
    EXPECT_EQ(r.get("connections.extra.local_addrs"), "192.0.2.1");
    EXPECT_EQ(r.get("connections.extra.version"), "2");
    EXPECT_EQ(r.get("connections.extra.children.net-net.start_action"), "trap");
    EXPECT_EQ(r.get("connections.extra.children.net-net.rekey_time"), "1h");
    EXPECT_EQ(r.get("connections.extra.local.id"), "C=CH, O=Example, CN=moon.example.org");
}

TEST(SettingsReferences, OrderAndOverrides) {
    const Section r =
            resolve_ok(test::parse_ok("a { p = a\n q = a\n sub { k = a }\n only-a { } }\n"
                                      "b { q = b\n r = b\n sub { k = b\n m = b } }\n"
                                      "x : a, b {\n own = 1\n p =\n sub { j = x } }\n"));
    const Section* x = r.find_section("x");
    ASSERT_NE(x, nullptr);
    EXPECT_THAT(setting_names(*x), ElementsAre("own", "p", "q", "r"));
    EXPECT_EQ(x->get("p"), std::nullopt);  // `p =` hides a's value
    EXPECT_EQ(x->get("q"), "a");           // left to right
    EXPECT_THAT(section_names(*x), ElementsAre("sub", "only-a"));
    EXPECT_THAT(setting_names(*x->find_section("sub")), ElementsAre("j", "k", "m"));
    EXPECT_EQ(x->get("sub.k"), "a");
    EXPECT_EQ(x->find_setting("q")->pos.line, 2);  // positions point at the template
    // The referenced sections themselves are unchanged.
    EXPECT_THAT(setting_names(*r.find_section("a")), ElementsAre("p", "q"));
}

TEST(SettingsReferences, TransitiveAndNested) {
    const Section r =
            resolve_ok(test::parse_ok("base { v = 1 }\n"
                                      "mid : base { w = 2 }\n"
                                      "conns {\n"
                                      "  c1 : mid { children { ch : kids.k { } } }\n"
                                      "  c2 : conns.c1 { }\n"
                                      "}\n"
                                      "kids { k { t = 3 } }\n"));
    EXPECT_EQ(r.get("mid.v"), "1");
    EXPECT_EQ(r.get("conns.c1.v"), "1");
    EXPECT_EQ(r.get("conns.c1.children.ch.t"), "3");
    EXPECT_EQ(r.get("conns.c2.w"), "2");
    EXPECT_EQ(r.get("conns.c2.children.ch.t"), "3");
}

TEST(SettingsReferences, Errors) {
    EXPECT_THAT(resolve_errors("a : nope { }\n"),
                ElementsAre("test.conf:1: section 'a' references unknown section 'nope'"));
    EXPECT_THAT(resolve_errors("x {\n  a : x.b { }\n}\n"),
                ElementsAre("test.conf:2: section 'x.a' references unknown section 'x.b'"));
    EXPECT_THAT(resolve_errors("a : b { }\nb : a { }\n"),
                ElementsAre("test.conf:2: reference 'a' of section 'b' creates a cycle"));
    EXPECT_THAT(resolve_errors("conns {\n  c : conns { }\n}\n"),
                ElementsAre("test.conf:2: reference 'conns' of section 'conns.c' creates a "
                            "cycle"));
}

TEST(SettingsReferences, ExpansionLimit) {
    // Each level holds two copies of the previous one: 2^24 leaves if nothing stopped it.
    std::string text = "l0 { k = v }\n";
    for (int i = 1; i <= 24; ++i) {
        const std::string prev = "l" + std::to_string(i - 1);
        text += "l" + std::to_string(i) + " { a : " + prev + " { } b : " + prev + " { } }\n";
    }
    EXPECT_THAT(resolve_errors(text),
                ElementsAre("test.conf:0: section references expand to more than 1000000 "
                            "settings"));
}

}  // namespace
}  // namespace ikeplex::config
