// swanctl.conf mapped onto the engine's configuration: every supported key lands in the right
// field with strongSwan's defaults, the RFC 9611 options (per_cpu_sas and ikeplex's
// per_cpu_sas_max / per_cpu_sas_start), and keys ikeplex does not implement reported with their
// file, line and path — errors when they would change behaviour, warnings when not.
#include "config/swanctl.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ike/proposal.h"
#include "settings_test_util.h"
#include "swanctl_load.h"

namespace ikeplex::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

using test::Loaded;

/// Maps `text` as the file "swanctl.conf" (no credential folders).
Loaded load(std::string_view text, const FileSystem& fs = test::no_files()) {
    return test::load_swanctl_text(text, fs);
}

/// A connection with one child; `conn_extra` and `child_extra` are spliced in (one key per line:
/// the first extra key of the connection is on line 3, of the child on line 7 when `conn_extra`
/// is empty).
std::string conn(std::string_view conn_extra = "", std::string_view child_extra = "") {
    return "connections {\n"
           "  c {\n" +
           std::string(conn_extra) +
           "    local { auth = psk }\n"
           "    remote { auth = psk }\n"
           "    children {\n"
           "      net {\n" +
           std::string(child_extra) +
           "      }\n"
           "    }\n"
           "  }\n"
           "}\n";
}

const ike::ChildConfig& only_child(const Loaded& l) {
    static const ike::ChildConfig none;
    if (l.config.connections.size() != 1 || l.config.connections[0].children.size() != 1) {
        ADD_FAILURE() << "expected one connection with one child";
        return none;
    }
    return l.config.connections[0].children[0];
}

TEST(Swanctl, SiteToSiteWithEveryCommonKey) {
    const Loaded l = load(R"(
connections {
    site {
        version = 2
        local_addrs = 10.99.0.1
        remote_addrs = 10.99.0.2, 10.99.0.3
        proposals = aes256gcm16-prfsha384-x25519, aes128-sha256-modp3072
        encap = yes
        dpd_delay = 30s
        rekey_time = 2h
        local {
            auth = psk
            id = gw-a.example.org
        }
        remote {
            auth = psk
            id = 10.99.0.2
        }
        children {
            net {
                local_ts = 10.1.0.0/16
                remote_ts = 10.2.0.0/16, 10.3.0.0/24
                esp_proposals = aes128gcm16, chacha20poly1305
                mode = tunnel
                start_action = start
                rekey_time = 20m
                life_time = 30m
                per_cpu_sas = yes
                per_cpu_sas_max = 8
                per_cpu_sas_start = all
            }
        }
    }
}
secrets {
    ike-1 {
        id-a = gw-a.example.org
        id-b = 10.99.0.2
        secret = "a shared secret"
    }
}
)");
    EXPECT_THAT(l.errors, IsEmpty());
    EXPECT_THAT(l.warnings, IsEmpty());
    ASSERT_EQ(l.config.connections.size(), 1U);
    const ike::PeerConfig& p = l.config.connections[0];
    EXPECT_EQ(p.name, "site");
    ASSERT_EQ(p.local_addrs.size(), 1U);
    EXPECT_EQ(p.local_addrs[0].to_string(), "10.99.0.1");
    ASSERT_EQ(p.remote_addrs.size(), 2U);
    EXPECT_EQ(p.remote_addrs[1].to_string(), "10.99.0.3");
    ASSERT_EQ(p.ike_proposals.size(), 2U);
    EXPECT_EQ(ike::describe(p.ike_proposals[0]),
              "IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/CURVE_25519");
    EXPECT_TRUE(p.force_encap);
    EXPECT_EQ(p.dpd_delay, std::chrono::seconds(30));
    EXPECT_EQ(p.rekey_time, std::chrono::hours(2));
    // strongSwan: over_time = 10 % of rekey_time, rand_time = over_time.
    EXPECT_EQ(p.over_time, std::chrono::minutes(12));
    EXPECT_EQ(p.rand_time, std::chrono::minutes(12));
    EXPECT_EQ(p.local.kind, ike::AuthKind::kPsk);
    EXPECT_EQ(p.local.id.to_string(), "gw-a.example.org");
    EXPECT_EQ(p.remote.id.to_string(), "10.99.0.2");

    const ike::ChildConfig& c = only_child(l);
    EXPECT_EQ(c.name, "net");
    EXPECT_EQ(ike::to_string(c.local_ts), "10.1.0.0/16");
    EXPECT_EQ(ike::to_string(c.remote_ts), "10.2.0.0/16 10.3.0.0/24");
    ASSERT_EQ(c.esp_proposals.size(), 2U);
    EXPECT_EQ(ike::describe(c.esp_proposals[1]), "ESP:CHACHA20_POLY1305/NO_EXT_SEQ");
    EXPECT_EQ(c.mode, ike::Mode::kTunnel);
    EXPECT_EQ(c.start_action, ike::StartAction::kStart);
    EXPECT_EQ(c.lifetimes.rekey_time, std::chrono::minutes(20));
    EXPECT_EQ(c.lifetimes.life_time, std::chrono::minutes(30));
    EXPECT_EQ(c.lifetimes.rand_time, std::chrono::minutes(10));  // life - rekey
    EXPECT_TRUE(c.per_cpu_sas);
    EXPECT_EQ(c.per_cpu_sas_max, 8U);
    EXPECT_EQ(c.per_cpu_sas_start, ike::PerCpuStart::kAll);

    ASSERT_EQ(l.config.credentials.psks.size(), 1U);
    const auto& psk = l.config.credentials.psks[0];
    EXPECT_EQ(psk.secret.view().size(), std::string("a shared secret").size());
    ASSERT_EQ(psk.ids.size(), 2U);
    EXPECT_EQ(psk.ids[1].to_string(), "10.99.0.2");
}

TEST(Swanctl, ActionsAndKeyingtriesAsStrongSwanReadsThem) {
    // One vocabulary for the three actions (start/restart, trap/route, none/clear), and
    // strongSwan 6's combined start_action.
    struct Case {
        std::string child_keys;
        ike::StartAction start;
        ike::DpdAction dpd;
        ike::CloseAction close;
    };
    const std::vector<Case> cases = {
            {"        start_action = trap|start\n        dpd_action = restart\n"
             "        close_action = start\n",
             ike::StartAction::kTrapStart, ike::DpdAction::kRestart, ike::CloseAction::kStart},
            {"        start_action = route\n        dpd_action = trap\n"
             "        close_action = trap\n",
             ike::StartAction::kTrap, ike::DpdAction::kTrap, ike::CloseAction::kTrap},
            {"        start_action = restart\n        dpd_action = start\n"
             "        close_action = restart\n",
             ike::StartAction::kStart, ike::DpdAction::kRestart, ike::CloseAction::kStart},
            {"        start_action = none\n        dpd_action = none\n"
             "        close_action = clear\n",
             ike::StartAction::kNone, ike::DpdAction::kClear, ike::CloseAction::kNone},
    };
    for (const Case& k : cases) {
        const Loaded l = load(conn("    keyingtries = 0\n", k.child_keys));
        ASSERT_THAT(l.errors, IsEmpty()) << k.child_keys;
        EXPECT_THAT(l.warnings, IsEmpty()) << k.child_keys;
        EXPECT_EQ(l.config.connections.at(0).keyingtries, 0U);
        const ike::ChildConfig& c = only_child(l);
        EXPECT_EQ(c.start_action, k.start) << k.child_keys;
        EXPECT_EQ(c.dpd_action, k.dpd) << k.child_keys;
        EXPECT_EQ(c.close_action, k.close) << k.child_keys;
    }
    const Loaded bad = load(conn("    keyingtries = many\n", "        close_action = hold\n"));
    EXPECT_THAT(bad.errors,
                ElementsAre(HasSubstr("swanctl.conf:3: connections.c.keyingtries: expected a "
                                      "number of attempts (0: until one succeeds)"),
                            HasSubstr("connections.c.children.net.close_action: expected none, "
                                      "trap or start")));
}

TEST(Swanctl, VolumeJitterAsStrongSwanDefaultsIt) {
    // rand_bytes / rand_packets default to life - rekey, as rand_time does.
    Loaded l = load(conn("", "        rekey_bytes = 1000000\n        rekey_packets = 5000\n"));
    ASSERT_THAT(l.errors, IsEmpty());
    EXPECT_THAT(l.warnings, IsEmpty());
    EXPECT_EQ(only_child(l).lifetimes.life_bytes, 1100000U);
    EXPECT_EQ(only_child(l).lifetimes.rand_bytes, 100000U);
    EXPECT_EQ(only_child(l).lifetimes.rand_packets, 500U);
    l = load(conn("",
                  "        rekey_bytes = 1000000\n        rand_bytes = 5\n"
                  "        rekey_packets = 5000\n        rand_packets = 0\n"));
    ASSERT_THAT(l.errors, IsEmpty());
    EXPECT_THAT(l.warnings, IsEmpty());
    EXPECT_EQ(only_child(l).lifetimes.rand_bytes, 5U);
    EXPECT_EQ(only_child(l).lifetimes.rand_packets, 0U);
}

TEST(Swanctl, StrongSwanDefaults) {
    const Loaded l = load(conn());
    ASSERT_THAT(l.errors, IsEmpty());
    const ike::PeerConfig& p = l.config.connections.at(0);
    EXPECT_TRUE(p.local_addrs.empty());
    EXPECT_TRUE(p.remote_addrs.empty());
    EXPECT_TRUE(p.remote.id.any);  // remote id defaults to %any
    EXPECT_EQ(p.rekey_time, std::chrono::hours(4));
    EXPECT_EQ(p.over_time, std::chrono::minutes(24));
    EXPECT_FALSE(p.force_encap);
    EXPECT_TRUE(p.fragmentation);
    EXPECT_EQ(p.ike_proposals,
              *ike::parse_proposals(default_ike_proposals(), wire::ProtocolId::kIke));
    const ike::ChildConfig& c = only_child(l);
    EXPECT_TRUE(c.local_ts.empty());  // dynamic
    EXPECT_EQ(c.esp_proposals,
              *ike::parse_proposals(default_esp_proposals(), wire::ProtocolId::kEsp));
    EXPECT_EQ(c.mode, ike::Mode::kTunnel);
    EXPECT_EQ(c.start_action, ike::StartAction::kNone);
    EXPECT_EQ(c.dpd_action, ike::DpdAction::kClear);
    EXPECT_EQ(c.close_action, ike::CloseAction::kNone);
    EXPECT_EQ(p.keyingtries, 1U);
    EXPECT_EQ(c.lifetimes.rekey_time, std::chrono::hours(1));
    EXPECT_EQ(c.lifetimes.life_time, std::chrono::minutes(66));  // rekey + 10 %
    EXPECT_EQ(c.lifetimes.rand_time, std::chrono::minutes(6));
    EXPECT_EQ(c.lifetimes.rand_bytes, 0U);
    EXPECT_EQ(c.lifetimes.rand_packets, 0U);
    EXPECT_FALSE(c.per_cpu_sas);
    EXPECT_EQ(c.per_cpu_sas_max, 64U);
    EXPECT_EQ(c.per_cpu_sas_start, ike::PerCpuStart::kAcquire);
}

TEST(Swanctl, AnyIdentities) {
    for (const char* any : {"%any", "%any4", "%any6"}) {
        const Loaded l = load("connections {\n  c {\n    remote {\n      auth = psk\n      id = " +
                              std::string(any) + "\n    }\n  }\n}\n");
        ASSERT_THAT(l.errors, IsEmpty()) << any;
        EXPECT_TRUE(l.config.connections.at(0).remote.id.any) << any;
    }
}

TEST(Swanctl, DefaultExpandsInsideAProposalList) {
    const Loaded l = load(conn("    proposals = aes128-sha256-modp2048, default\n",
                               "        esp_proposals = aes256-sha512, default\n"));
    ASSERT_THAT(l.errors, IsEmpty());
    const auto def_ike = *ike::parse_proposals(default_ike_proposals(), wire::ProtocolId::kIke);
    EXPECT_EQ(l.config.connections.at(0).ike_proposals.size(), def_ike.size() + 1);
    const auto def_esp = *ike::parse_proposals(default_esp_proposals(), wire::ProtocolId::kEsp);
    EXPECT_EQ(only_child(l).esp_proposals.size(), def_esp.size() + 1);
}

TEST(Swanctl, PerCpuSasValues) {
    EXPECT_TRUE(only_child(load(conn("", "        per_cpu_sas = yes\n"))).per_cpu_sas);
    EXPECT_FALSE(only_child(load(conn("", "        per_cpu_sas = no\n"))).per_cpu_sas);
    // strongSwan's encap (per-CPU UDP source ports) works as yes, with a warning.
    const Loaded encap = load(conn("", "        per_cpu_sas = encap\n"));
    EXPECT_TRUE(only_child(encap).per_cpu_sas);
    EXPECT_THAT(encap.warnings,
                ElementsAre("swanctl.conf:7: connections.c.children.net.per_cpu_sas: per-CPU UDP "
                            "source ports are not used; treated as yes"));
    EXPECT_THAT(load(conn("", "        per_cpu_sas = maybe\n")).errors,
                ElementsAre("swanctl.conf:7: connections.c.children.net.per_cpu_sas: expected "
                            "yes, no or encap"));
}

TEST(Swanctl, PerCpuSasMaxAndStart) {
    EXPECT_EQ(only_child(load(conn("", "        per_cpu_sas_max = 1\n"))).per_cpu_sas_max, 1U);
    EXPECT_EQ(only_child(load(conn("", "        per_cpu_sas_max = 4096\n"))).per_cpu_sas_max,
              4096U);
    for (const char* bad : {"0", "4097", "-1", "many", "8x"}) {
        const Loaded l = load(conn("", std::string("        per_cpu_sas_max = ") + bad + "\n"));
        EXPECT_THAT(l.errors, ElementsAre("swanctl.conf:7: connections.c.children.net."
                                          "per_cpu_sas_max: expected 1..4096"))
                << bad;
        EXPECT_TRUE(l.config.connections.empty()) << "a connection with errors is left out";
    }
    EXPECT_EQ(only_child(load(conn("", "        per_cpu_sas_start = all\n"))).per_cpu_sas_start,
              ike::PerCpuStart::kAll);
    EXPECT_EQ(only_child(load(conn("", "        per_cpu_sas_start = acquire\n"))).per_cpu_sas_start,
              ike::PerCpuStart::kAcquire);
    EXPECT_THAT(load(conn("", "        per_cpu_sas_start = now\n")).errors,
                ElementsAre("swanctl.conf:7: connections.c.children.net.per_cpu_sas_start: "
                            "expected acquire or all"));
}

// strongSwan's updown plugin keys: the command as written (arguments and all) and hostaccess.
TEST(Swanctl, UpdownAndHostaccess) {
    const Loaded l = load(conn("",
                               "        updown = /usr/lib/ipsec/_updown iptables\n"
                               "        hostaccess = yes\n"));
    EXPECT_THAT(l.errors, IsEmpty());
    EXPECT_THAT(l.warnings, IsEmpty());
    const ike::ChildConfig& c = only_child(l);
    EXPECT_EQ(c.updown, "/usr/lib/ipsec/_updown iptables");
    EXPECT_TRUE(c.hostaccess);
    const Loaded plain = load(conn("", ""));
    EXPECT_EQ(only_child(plain).updown, "");
    EXPECT_FALSE(only_child(plain).hostaccess);
    EXPECT_THAT(load(conn("", "        hostaccess = maybe\n")).errors, ::testing::SizeIs(1));
}

TEST(Swanctl, UnknownKeysAreErrorsWithFileLineAndPath) {
    EXPECT_THAT(load(conn("    remote_adrs = 10.0.0.1\n")).errors,
                ElementsAre("swanctl.conf:3: connections.c.remote_adrs: unknown key"));
    EXPECT_THAT(load(conn("", "        locl_ts = 10.0.0.0/8\n")).errors,
                ElementsAre("swanctl.conf:7: connections.c.children.net.locl_ts: unknown key"));
    EXPECT_THAT(load("connection { }\n").errors,
                ElementsAre("swanctl.conf:1: connection: unknown section"));
    EXPECT_THAT(load("connections {\n  c {\n    locl { auth = psk }\n  }\n}\n").errors,
                ElementsAre("swanctl.conf:3: connections.c.locl: unknown section"));
}

TEST(Swanctl, UnsupportedFeaturesAreErrorsNotSilence) {
    struct Case {
        std::string conn_key;
        std::string child_key;
        std::string message;
    };
    const std::vector<Case> cases = {
            {"    version = 1\n", "", "connections.c.version: only IKEv2 is supported"},
            {"    vips = somewhere\n", "",
             "connections.c.vips: 'somewhere': expected an IP address, 0.0.0.0 or ::"},
            {"    remote_addrs = vpn.example.org\n", "",
             "connections.c.remote_addrs: 'vpn.example.org': only IP addresses and %any are "
             "supported (no names, ranges or subnets)"},
            {"", "        mode = beet\n",
             "connections.c.children.net.mode: 'beet': only tunnel and transport are supported"},
            {"", "        ah_proposals = sha256\n",
             "connections.c.children.net.ah_proposals: AH is not supported; use ESP"},
            {"", "        mark_out = 42\n",
             "connections.c.children.net.mark_out: marks and interface ids are not supported"},
            {"", "        dpd_action = reboot\n",
             "connections.c.children.net.dpd_action: expected clear, trap or restart"},
            {"", "        esp_proposals = aes128-md5\n",
             "connections.c.children.net.esp_proposals"},
            {"", "        rekey_time = soon\n",
             "connections.c.children.net.rekey_time: not a duration (e.g. 90, 30m, 4h, 1d)"},
    };
    for (const Case& c : cases) {
        const Loaded l = load(conn(c.conn_key, c.child_key));
        ASSERT_EQ(l.errors.size(), 1U) << c.message;
        EXPECT_THAT(l.errors[0], HasSubstr(c.message));
        EXPECT_THAT(l.errors[0],
                    HasSubstr(c.conn_key.empty() ? "swanctl.conf:7: " : "swanctl.conf:3: "));
        EXPECT_TRUE(l.config.connections.empty()) << c.message;
    }
    // The right message for the auth method (EAP is supported: swanctl_eap_test.cc).
    EXPECT_THAT(
            load("connections {\n  c {\n    remote {\n      auth = xauth\n    }\n  }\n}\n").errors,
            ElementsAre("swanctl.conf:4: connections.c.remote.auth: 'xauth': only psk, pubkey "
                        "and eap authentication are supported (no XAuth)"));
}

TEST(Swanctl, HarmlessUnsupportedKeysAreWarnings) {
    const Loaded l = load(conn("    mobike = yes\n", "        copy_df = no\n"));
    EXPECT_THAT(l.errors, IsEmpty());
    EXPECT_THAT(l.warnings,
                ElementsAre("swanctl.conf:8: connections.c.children.net.copy_df: the data plane "
                            "decides what to copy from the inner header"));
    EXPECT_EQ(l.config.connections.size(), 1U);
}

TEST(Swanctl, MobikeIsOnByDefaultAndCanBeTurnedOff) {
    // RFC 4555, strongSwan's key and default: yes.
    const Loaded on = load(conn("    mobike = yes\n"));
    EXPECT_THAT(on.warnings, IsEmpty());
    ASSERT_EQ(on.config.connections.size(), 1U);
    EXPECT_TRUE(on.config.connections.front().mobike);
    const Loaded unset = load(conn(""));
    ASSERT_EQ(unset.config.connections.size(), 1U);
    EXPECT_TRUE(unset.config.connections.front().mobike);
    const Loaded off = load(conn("    mobike = no\n"));
    ASSERT_EQ(off.config.connections.size(), 1U);
    EXPECT_FALSE(off.config.connections.front().mobike);
    EXPECT_THAT(load(conn("    mobike = perhaps\n")).errors, testing::SizeIs(1));
}

TEST(Swanctl, ReauthTimeAsStrongSwanReadsIt) {
    // Reauthentication beside the default rekeying; over_time (and rand_time) default to 10 %
    // of the longer of the two.
    Loaded l = load(conn("    reauth_time = 10h\n"));
    EXPECT_THAT(l.errors, IsEmpty());
    EXPECT_THAT(l.warnings, IsEmpty());
    const ike::PeerConfig& p = l.config.connections.at(0);
    EXPECT_EQ(p.reauth_time, std::chrono::hours(10));
    EXPECT_EQ(p.rekey_time, std::chrono::hours(4));
    EXPECT_EQ(p.over_time, std::chrono::hours(1));
    EXPECT_EQ(p.rand_time, std::chrono::hours(1));
    l = load(conn("    reauth_time = 3h\n    rekey_time = 0\n"));
    EXPECT_EQ(l.config.connections.at(0).rekey_time, ike::Duration(0));
    EXPECT_EQ(l.config.connections.at(0).over_time, std::chrono::minutes(18));
}

TEST(Swanctl, ChildRekeyLongerThanLifeIsAnError) {
    const Loaded l = load(conn("", "        rekey_time = 2h\n        life_time = 1h\n"));
    EXPECT_THAT(l.errors, ElementsAre("swanctl.conf:6: connections.c.children.net.rekey_time: "
                                      "rekey_time is longer than life_time"));
}

TEST(Swanctl, OneBadConnectionDoesNotStopTheOthers) {
    const Loaded l = load(R"(connections {
  good { local { auth = psk } }
  bad { version = 1 }
  also_good { remote_addrs = 10.99.0.9 }
}
)");
    EXPECT_THAT(l.errors, ElementsAre("swanctl.conf:3: connections.bad.version: only IKEv2 is "
                                      "supported"));
    ASSERT_EQ(l.config.connections.size(), 2U);
    EXPECT_EQ(l.config.connections[0].name, "good");
    EXPECT_EQ(l.config.connections[1].name, "also_good");
}

TEST(Swanctl, Durations) {
    using std::chrono::seconds;
    EXPECT_EQ(parse_duration("90"), seconds(90));
    EXPECT_EQ(parse_duration("90s"), seconds(90));
    EXPECT_EQ(parse_duration("15m"), seconds(900));
    EXPECT_EQ(parse_duration("4h"), seconds(14400));
    EXPECT_EQ(parse_duration("2d"), seconds(172800));
    EXPECT_EQ(parse_duration(" 0 "), seconds(0));
    for (const char* bad : {"", "m", "1.5h", "-1", "10w", "1 h x", "99999999999999999999"}) {
        EXPECT_FALSE(parse_duration(bad).has_value()) << bad;
    }
}

TEST(Swanctl, SecretEncodings) {
    const auto hex = parse_secret("0x00ff10");
    ASSERT_TRUE(hex);
    EXPECT_EQ(Bytes(hex->view().begin(), hex->view().end()), (Bytes{0x00, 0xff, 0x10}));
    const auto b64 = parse_secret("0sAP8Q");  // the same three bytes
    ASSERT_TRUE(b64);
    EXPECT_EQ(Bytes(b64->view().begin(), b64->view().end()), (Bytes{0x00, 0xff, 0x10}));
    const auto padded = parse_secret("0sAP8=");
    ASSERT_TRUE(padded);
    EXPECT_EQ(Bytes(padded->view().begin(), padded->view().end()), (Bytes{0x00, 0xff}));
    const auto text = parse_secret("plain text");
    ASSERT_TRUE(text);
    EXPECT_EQ(text->view().size(), 10U);
    EXPECT_FALSE(parse_secret("0xabc").has_value());  // odd length
    EXPECT_FALSE(parse_secret("0xzz").has_value());
    EXPECT_FALSE(parse_secret("0sAP8").has_value());  // not a multiple of 4
}

TEST(Swanctl, SecretErrors) {
    EXPECT_THAT(load("secrets {\n  ike-x {\n    id = a\n  }\n}\n").errors,
                ElementsAre("swanctl.conf:2: secrets.ike-x.secret: missing"));
    EXPECT_THAT(load("secrets {\n  ike-x {\n    secret = 0xq1\n  }\n}\n").errors,
                ElementsAre("swanctl.conf:3: secrets.ike-x.secret: not a usable secret (empty, "
                            "or bad 0x/0s encoding)"));
    EXPECT_THAT(
            load("secrets {\n  xauth-x {\n    secret = x\n  }\n}\n").errors,
            ElementsAre("swanctl.conf:2: secrets.xauth-x: only ike, eap, ppk, private, rsa, ecdsa, "
                        "pkcs8 and pkcs12 secrets are supported (no XAuth or tokens)"));
    const Loaded l =
            load("secrets {\n  ike-x {\n    secret = s\n    idx = a\n    ids = b\n  }\n}\n");
    EXPECT_THAT(l.errors, IsEmpty());
    EXPECT_EQ(l.config.credentials.psks.at(0).ids.size(), 2U);
}

TEST(Swanctl, FileWithIncludesAndReferences) {
    MemoryFileSystem fs;
    fs.add("/etc/swanctl/swanctl.conf",
           "connections {\n  include conf.d/*.conf\n}\nsecrets { include secrets.conf }\n");
    fs.add("/etc/swanctl/conf.d/a.conf",
           "base { remote_addrs = 10.99.0.2\n  local { auth = psk }\n  remote { auth = psk } }\n"
           "site : connections.base {\n  children { net { per_cpu_sas = yes } }\n}\n");
    fs.add("/etc/swanctl/secrets.conf", "ike { secret = 0x0102 }\n");
    Findings f;
    auto r = load_swanctl_file("/etc/swanctl/swanctl.conf", f, fs);
    ASSERT_TRUE(r) << r.error().detail;
    EXPECT_THAT(f.errors, IsEmpty());
    ASSERT_EQ(r->connections.size(), 2U);
    const ike::PeerConfig& site = r->connections[1];
    EXPECT_EQ(site.name, "site");
    ASSERT_EQ(site.remote_addrs.size(), 1U);  // inherited from base
    EXPECT_EQ(site.remote_addrs[0].to_string(), "10.99.0.2");
    ASSERT_EQ(site.children.size(), 1U);
    EXPECT_TRUE(site.children[0].per_cpu_sas);
    EXPECT_EQ(r->credentials.psks.size(), 1U);

    // A syntax error in an included file names that file.
    fs.add("/etc/swanctl/conf.d/b.conf", "broken {\n");
    Findings g;
    EXPECT_FALSE(load_swanctl_file("/etc/swanctl/swanctl.conf", g, fs));
    ASSERT_FALSE(g.errors.empty());
    EXPECT_EQ(g.errors[0].to_string(),
              "/etc/swanctl/conf.d/b.conf:1: unterminated section 'broken': missing '}'");
}

}  // namespace
}  // namespace ikeplex::config
