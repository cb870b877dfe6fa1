// ikeplexd.conf: the daemon's settings, their defaults, and errors naming file and line.
#include "config/daemon_settings.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "settings_test_util.h"

namespace ikeplex::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::string> errors_of(std::string_view text) {
    Findings f;
    (void)map_daemon_settings(test::parse_ok(text, test::no_files(), "ikeplexd.conf"), f);
    std::vector<std::string> out;
    for (const Diagnostic& d : f.errors) {
        out.push_back(d.to_string());
    }
    return out;
}

TEST(DaemonSettings, Defaults) {
    Findings f;
    const DaemonSettings d = map_daemon_settings(Section{}, f);
    EXPECT_TRUE(f.ok());
    ASSERT_EQ(d.listen.size(), 2U);
    EXPECT_EQ(d.port, 500);
    EXPECT_EQ(d.port_nat_t, 4500);
    EXPECT_EQ(d.backend, "userspace");
    EXPECT_EQ(d.workers, 0U);
    EXPECT_EQ(d.tun_name, "ikeplex0");
    EXPECT_EQ(d.mtu, 1400U);
    EXPECT_TRUE(d.offloads);
    EXPECT_FALSE(d.raw_esp);
    EXPECT_TRUE(d.ipsec_mb);
    EXPECT_EQ(d.vici, "unix:///run/ikeplexd/ikeplexd.vici");
    EXPECT_EQ(d.vici_max_clients, 256U);
    EXPECT_FALSE(d.vici_swanctl_socket);
    EXPECT_EQ(d.engine.retransmit_tries, 5U);
    EXPECT_EQ(d.engine.max_child_sas, 1024U);
    EXPECT_EQ(d.window_size, 1U);
    EXPECT_EQ(d.updown_timeout, std::chrono::seconds(30));
}

TEST(DaemonSettings, EveryKey) {
    Findings f;
    const DaemonSettings d = map_daemon_settings(test::parse_ok(R"(
ikeplexd {
    listen = 10.99.0.1, fd00::1
    port = 5000
    port_nat_t = 5001
    vici = unix:///tmp/x.vici
    vici_max_clients = 16
    vici_swanctl_socket = yes
    backend = userspace
    workers = 4
    tun = ipsec7
    mtu = 1500
    offloads = no
    raw_esp = yes
    ipsec_mb = no
    swanctl_conf = /etc/swanctl/swanctl.conf
    retransmit_timeout = 0.5
    retransmit_base = 1.5
    retransmit_tries = 3
    half_open_timeout = 10
    revocation_timeout = 5.5
    max_revocation_holds = 8
    restart_delay = 0.5
    restart_delay_max = 30
    make_before_break = no
    cookie_threshold = 7
    block_threshold = 100
    max_child_sas = 64
    fragment_size = 1400
    window_size = 16
    delete_rekeyed_delay = 2
    updown_timeout = 2.5
    log {
        default = 2
        ike = 4
        knl = -1
        target = /var/log/ikeplexd.log
        time_format = "%b %e %T"
        time_add_ms = no
    }
}
)"),
                                                 f);
    ASSERT_TRUE(f.ok()) << f.errors.at(0).to_string();
    ASSERT_EQ(d.listen.size(), 2U);
    EXPECT_EQ(d.listen[1].to_string(), "fd00::1");
    EXPECT_EQ(d.port, 5000);
    EXPECT_EQ(d.port_nat_t, 5001);
    EXPECT_EQ(d.vici, "unix:///tmp/x.vici");
    EXPECT_EQ(d.vici_max_clients, 16U);
    EXPECT_TRUE(d.vici_swanctl_socket);
    EXPECT_EQ(d.backend, "userspace");
    EXPECT_EQ(d.workers, 4U);
    EXPECT_EQ(d.tun_name, "ipsec7");
    EXPECT_EQ(d.mtu, 1500U);
    EXPECT_FALSE(d.offloads);
    EXPECT_TRUE(d.raw_esp);
    EXPECT_FALSE(d.ipsec_mb);
    EXPECT_EQ(d.swanctl_conf, "/etc/swanctl/swanctl.conf");
    EXPECT_EQ(d.engine.retransmit_timeout, std::chrono::milliseconds(500));
    EXPECT_DOUBLE_EQ(d.engine.retransmit_base, 1.5);
    EXPECT_EQ(d.engine.retransmit_tries, 3U);
    EXPECT_EQ(d.engine.half_open_timeout, std::chrono::seconds(10));
    EXPECT_EQ(d.engine.revocation_timeout, std::chrono::milliseconds(5500));
    EXPECT_EQ(d.engine.max_revocation_holds, 8U);
    EXPECT_EQ(d.engine.restart_delay, std::chrono::milliseconds(500));
    EXPECT_EQ(d.engine.restart_delay_max, std::chrono::seconds(30));
    EXPECT_FALSE(d.engine.make_before_break);
    EXPECT_EQ(d.engine.cookie_threshold, 7U);
    EXPECT_EQ(d.engine.block_threshold, 100U);
    EXPECT_EQ(d.engine.max_child_sas, 64U);
    EXPECT_EQ(d.engine.fragment_size, 1400U);
    EXPECT_EQ(d.window_size, 16U);
    EXPECT_EQ(d.engine.delete_rekeyed_delay, std::chrono::seconds(2));
    EXPECT_EQ(d.updown_timeout, std::chrono::milliseconds(2500));
    EXPECT_EQ(d.log_default, 2);
    EXPECT_EQ(d.log_levels.at("ike"), 4);
    EXPECT_EQ(d.log_levels.at("knl"), -1);
    EXPECT_EQ(d.log_target, "/var/log/ikeplexd.log");
    EXPECT_EQ(d.log_time_format, "%b %e %T");
    EXPECT_FALSE(d.log_time_add_ms);
}

DaemonSettings dos(std::string_view body, Findings& f) {
    return map_daemon_settings(test::parse_ok("ikeplexd {\n" + std::string(body) + "}\n",
                                              test::no_files(), "ikeplexd.conf"),
                               f);
}

// charon's meaning of its DoS keys (issue 18): per-address thresholds, 0 = off,
// dos_protection = no, and block_threshold kept above cookie_threshold_ip.
TEST(DaemonSettings, DosProtectionKeys) {
    constexpr auto kOff = ike::Settings::kNoLimit;
    Findings f;
    DaemonSettings d = dos("half_open_timeout = 30\n", f);
    EXPECT_EQ(d.engine.cookie_threshold, 30U);
    EXPECT_EQ(d.engine.cookie_threshold_ip, 3U);
    EXPECT_EQ(d.engine.block_threshold, 5U);
    EXPECT_EQ(d.engine.init_limit_half_open, 10000U);

    d = dos("cookie_threshold = 0\ncookie_threshold_ip = 2\nblock_threshold = 0\n"
            "init_limit_half_open = 0\n",
            f);
    EXPECT_EQ(d.engine.cookie_threshold, kOff);
    EXPECT_EQ(d.engine.cookie_threshold_ip, 2U);
    EXPECT_EQ(d.engine.block_threshold, kOff);
    EXPECT_EQ(d.engine.init_limit_half_open, kOff);

    d = dos("dos_protection = no\ninit_limit_half_open = 500\n", f);
    EXPECT_EQ(d.engine.cookie_threshold, kOff);
    EXPECT_EQ(d.engine.cookie_threshold_ip, kOff);
    EXPECT_EQ(d.engine.block_threshold, kOff);
    EXPECT_EQ(d.engine.init_limit_half_open, 500U);
    EXPECT_TRUE(f.ok());
    EXPECT_THAT(f.warnings, IsEmpty());

    d = dos("cookie_threshold_ip = 8\nblock_threshold = 5\n", f);
    EXPECT_EQ(d.engine.block_threshold, 9U);
    ASSERT_EQ(f.warnings.size(), 1U);
    EXPECT_THAT(f.warnings[0].to_string(), ::testing::HasSubstr("ikeplexd.conf:1"));
    EXPECT_THAT(f.warnings[0].to_string(),
                ::testing::HasSubstr("block_threshold: raised to 9: it must be above "
                                     "cookie_threshold_ip (8)"));
}

TEST(DaemonSettings, Errors) {
    EXPECT_THAT(errors_of("ikeplexd {\n  backend = kernel\n}\n"),
                ElementsAre("ikeplexd.conf:2: ikeplexd.backend: expected none, userspace or xfrm"));
    EXPECT_THAT(errors_of("ikeplexd {\n  mtu = 100\n}\n"),
                ElementsAre("ikeplexd.conf:2: ikeplexd.mtu: expected an MTU from 1280 to 9000"));
    EXPECT_THAT(errors_of("ikeplexd {\n  tun = a/b\n}\n"),
                ElementsAre("ikeplexd.conf:2: ikeplexd.tun: expected an interface name of at most "
                            "15 characters"));
    EXPECT_THAT(errors_of("ikeplexd {\n  lisen = 1.2.3.4\n}\n"),
                ElementsAre("ikeplexd.conf:2: ikeplexd.lisen: unknown key"));
    EXPECT_THAT(
            errors_of("ikeplexd {\n  listen = host.example\n}\n"),
            ElementsAre("ikeplexd.conf:2: ikeplexd.listen: 'host.example' is not an IP address"));
    EXPECT_THAT(errors_of("ikeplexd {\n  max_child_sas = 0\n}\n"),
                ElementsAre("ikeplexd.conf:2: ikeplexd.max_child_sas: expected a number from 1 to "
                            "1000000"));
    EXPECT_THAT(errors_of("ikeplexd {\n  port = 70000\n}\n"),
                ElementsAre("ikeplexd.conf:2: ikeplexd.port: expected a number up to 65535"));
    EXPECT_THAT(errors_of("ikeplexd {\n  retransmit_timeout = -1\n}\n"),
                ElementsAre("ikeplexd.conf:2: ikeplexd.retransmit_timeout: expected seconds (e.g. "
                            "4 or 0.5)"));
    EXPECT_THAT(errors_of("ikeplexd {\n  retransmit_base = 10.5\n}\n"),
                ElementsAre("ikeplexd.conf:2: ikeplexd.retransmit_base: expected a factor from 1 "
                            "to 10"));
    EXPECT_THAT(errors_of("ikeplexd {\n  vici = tcp://127.0.0.1:4502\n}\n"),
                ElementsAre("ikeplexd.conf:2: ikeplexd.vici: only unix:// sockets are supported"));
    EXPECT_THAT(errors_of("ikeplexd {\n  vici_max_clients = 0\n}\n"),
                ElementsAre("ikeplexd.conf:2: ikeplexd.vici_max_clients: expected a number of "
                            "clients from 1 to 65536"));
    EXPECT_THAT(errors_of("ikeplexd {\n  log {\n    ike = 9\n    foo = 1\n  }\n}\n"),
                ElementsAre("ikeplexd.conf:3: ikeplexd.log.ike: expected a level from -1 to 4",
                            "ikeplexd.conf:4: ikeplexd.log.foo: unknown log group (dmn ike chd "
                            "cfg knl net enc esp lib vci)"));
    EXPECT_THAT(errors_of("ikeplexd {\n  log {\n    time_add_ms = sometimes\n  }\n}\n"),
                ElementsAre("ikeplexd.conf:3: ikeplexd.log.time_add_ms: expected yes or no"));
    EXPECT_THAT(errors_of("ikeplexd {\n  port = 4500\n}\n"),
                ElementsAre("ikeplexd.conf:1: ikeplexd.port_nat_t: must differ from port"));
    EXPECT_THAT(errors_of("charon {\n}\nworkers = 2\n"),
                ElementsAre("ikeplexd.conf:1: charon: unknown section (ikeplexd.conf has one "
                            "section, ikeplexd)",
                            "ikeplexd.conf:3: workers: unknown key (settings go in the ikeplexd "
                            "section)"));
    EXPECT_THAT(errors_of("ikeplexd {\n  workers = 2\n}\n"), IsEmpty());
}

TEST(DaemonSettings, LoadFileFailsOnErrors) {
    MemoryFileSystem fs;
    fs.add("/etc/ikeplexd.conf", "ikeplexd {\n  workers = many\n}\n");
    Findings f;
    EXPECT_FALSE(load_daemon_settings("/etc/ikeplexd.conf", f, fs));
    ASSERT_EQ(f.errors.size(), 1U);
    EXPECT_EQ(f.errors[0].to_string(),
              "/etc/ikeplexd.conf:2: ikeplexd.workers: expected a number up to 256");
}

// save_keys (Wireshark key logs): off by default, absolute paths, unknown keys are errors.
TEST(DaemonSettings, SaveKeys) {
    Findings f;
    DaemonSettings d = map_daemon_settings(Section{}, f);
    EXPECT_TRUE(d.save_keys.ike.empty());
    EXPECT_TRUE(d.save_keys.esp.empty());
    d = map_daemon_settings(
            test::parse_ok("ikeplexd {\n  save_keys {\n    ike = /var/k/ikev2_decryption_table\n"
                           "    esp = /var/k/esp_sa\n  }\n}\n",
                           test::no_files(), "ikeplexd.conf"),
            f);
    EXPECT_TRUE(f.ok());
    EXPECT_EQ(d.save_keys.ike, "/var/k/ikev2_decryption_table");
    EXPECT_EQ(d.save_keys.esp, "/var/k/esp_sa");
    EXPECT_THAT(errors_of("ikeplexd {\n  save_keys {\n    esp = /k/esp_sa\n    ah = /k/ah\n"
                          "    ike = keys/ike\n    x { }\n  }\n}\n"),
                ElementsAre("ikeplexd.conf:6: ikeplexd.save_keys.x: unknown section (save_keys "
                            "holds ike and esp)",
                            "ikeplexd.conf:4: ikeplexd.save_keys.ah: unknown key (save_keys holds "
                            "ike and esp)",
                            "ikeplexd.conf:5: ikeplexd.save_keys.ike: expected an absolute file "
                            "path"));
}

// resolve { file }: where DNS servers assigned with a virtual IP go; /etc/resolv.conf by default.
TEST(DaemonSettings, Resolve) {
    Findings f;
    DaemonSettings d = map_daemon_settings(Section{}, f);
    EXPECT_EQ(d.resolve_file, "/etc/resolv.conf");
    d = map_daemon_settings(
            test::parse_ok("ikeplexd {\n  resolve {\n    file = /tmp/r.conf\n  }\n}\n",
                           test::no_files(), "ikeplexd.conf"),
            f);
    EXPECT_TRUE(f.ok());
    EXPECT_EQ(d.resolve_file, "/tmp/r.conf");
    EXPECT_THAT(
            errors_of("ikeplexd {\n  resolve {\n    file = r.conf\n    dir = /x\n  }\n}\n"),
            ElementsAre("ikeplexd.conf:3: ikeplexd.resolve.file: expected an absolute file path",
                        "ikeplexd.conf:4: ikeplexd.resolve.dir: unknown key (resolve holds "
                        "file)"));
}

// install_virtual_ip, install_virtual_ip_on (charon's keys): yes and unset by default.
TEST(DaemonSettings, InstallVirtualIp) {
    Findings f;
    DaemonSettings d = map_daemon_settings(Section{}, f);
    EXPECT_TRUE(d.install_virtual_ip);
    EXPECT_EQ(d.install_virtual_ip_on, "");
    d = map_daemon_settings(test::parse_ok("ikeplexd {\n  install_virtual_ip = no\n"
                                           "  install_virtual_ip_on = vip0\n}\n",
                                           test::no_files(), "ikeplexd.conf"),
                            f);
    EXPECT_TRUE(f.ok());
    EXPECT_FALSE(d.install_virtual_ip);
    EXPECT_EQ(d.install_virtual_ip_on, "vip0");
    EXPECT_THAT(errors_of("ikeplexd {\n  install_virtual_ip_on = a/b\n}\n"),
                ElementsAre("ikeplexd.conf:2: ikeplexd.install_virtual_ip_on: expected an "
                            "interface name of at most 15 characters"));
}

// tls { version_min, version_max }: EAP-TLS versions (strongSwan 5.9.8's charon.tls.*, 1.2 to
// 1.2 by default); 1.3 is RFC 9190.
TEST(DaemonSettings, TlsVersions) {
    Findings f;
    DaemonSettings d = map_daemon_settings(Section{}, f);
    EXPECT_EQ(d.tls_version_min, 0x0303);
    EXPECT_EQ(d.tls_version_max, 0x0303);
    d = map_daemon_settings(test::parse_ok("ikeplexd {\n  tls {\n    version_max = 1.3\n  }\n}\n",
                                           test::no_files(), "ikeplexd.conf"),
                            f);
    EXPECT_TRUE(f.ok());
    EXPECT_EQ(d.tls_version_min, 0x0303);
    EXPECT_EQ(d.tls_version_max, 0x0304);
    EXPECT_THAT(errors_of("ikeplexd {\n  tls {\n    version_min = 1.1\n    suites = x\n  }\n}\n"),
                ElementsAre("ikeplexd.conf:3: ikeplexd.tls.version_min: expected 1.2 or 1.3 (TLS "
                            "1.0 and 1.1 are not supported)",
                            "ikeplexd.conf:4: ikeplexd.tls.suites: unknown key (tls holds "
                            "version_min, version_max)"));
    EXPECT_THAT(errors_of("ikeplexd {\n  tls {\n    version_min = 1.3\n  }\n}\n"),
                ElementsAre("ikeplexd.conf:2: ikeplexd.tls.version_min: is above "
                            "tls.version_max"));
}

// What backend xfrm makes of per_cpu_sas (check_backend): file:line of the child's section.
TEST(CheckBackend, PerCpuSasWithXfrm) {
    MemoryFileSystem fs;
    fs.add("/sw/swanctl.conf",
           "connections {\n"
           "  t {\n"
           "    remote_addrs = 10.99.0.2\n"
           "    local { auth = psk }\n"
           "    remote { auth = psk }\n"
           "    children {\n"
           "      plain { }\n"
           "      group {\n"
           "        per_cpu_sas = yes\n"
           "      }\n"
           "      trapped {\n"
           "        per_cpu_sas = yes\n"
           "        start_action = trap\n"
           "      }\n"
           "      all { per_cpu_sas = yes\n per_cpu_sas_start = all }\n"
           "    }\n"
           "  }\n"
           "}\n");
    Findings load;
    auto r = load_swanctl_file("/sw/swanctl.conf", load, fs);
    ASSERT_TRUE(r) << r.error().detail;
    ASSERT_EQ(r->connections.size(), 1U);
    const ike::PeerConfig& c = r->connections[0];

    // Without start_action = trap: loaded, with a warning saying how the group starts.
    Findings f;
    check_backend(c, "xfrm", true, r->positions, f);
    EXPECT_THAT(f.errors, IsEmpty());
    ASSERT_EQ(f.warnings.size(), 1U);
    EXPECT_THAT(f.warnings[0].to_string(),
                ::testing::StartsWith("/sw/swanctl.conf:8: connections.t.children.group: "
                                      "per_cpu_sas with backend xfrm without start_action = "
                                      "trap: the group starts when the peer or `ikeplex "
                                      "initiate` brings up the fallback"));
    // A kernel without per-CPU SAs: an error for every per_cpu_sas child.
    Findings g;
    check_backend(c, "xfrm", false, r->positions, g);
    ASSERT_EQ(g.errors.size(), 3U);
    EXPECT_THAT(g.errors[0].to_string(),
                ::testing::StartsWith("/sw/swanctl.conf:8: connections.t.children.group: "
                                      "per_cpu_sas needs per-CPU SAs in the kernel"));
    EXPECT_EQ(g.errors[1].pos.line, 11);
    // The userspace backend has no such rules; VICI loads have no positions.
    Findings u;
    check_backend(c, "userspace", false, r->positions, u);
    EXPECT_TRUE(u.errors.empty() && u.warnings.empty());
    Findings v;
    check_backend(c, "xfrm", true, {}, v);
    ASSERT_EQ(v.warnings.size(), 1U);
    EXPECT_EQ(v.warnings[0].pos.line, 0);
}

}  // namespace
}  // namespace ikeplex::config
