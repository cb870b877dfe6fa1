// swanctl.conf's EAP keys (issue 21): `auth = eap[-method]`, `eap_id`, `aaa_id` and
// `secrets { eap-<name> { id, secret } }` as strongSwan reads them; eap-radius needs RADIUS servers
// (check_radius).
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/daemon_settings.h"
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

Loaded load(std::string_view text) {
    Findings f;
    Loaded out;
    const Section root = test::parse_ok(text, test::no_files(), "swanctl.conf");
    out.config = load_swanctl(root, CredentialDirs{}, f, test::no_files());
    for (const Diagnostic& d : f.errors) {
        out.errors.push_back(d.to_string());
    }
    for (const Diagnostic& d : f.warnings) {
        out.warnings.push_back(d.to_string());
    }
    return out;
}

TEST(SwanctlEap, RoadWarriorGatewayAndClient) {
    const Loaded l = load(R"(connections {
  rw {
    local { auth = pubkey }
    remote {
      auth = eap-md5
      eap_id = %any
    }
  }
  client {
    local {
      auth = eap-mschapv2
      id = carol@example.org
      eap_id = carol
      aaa_id = radius.example.org
    }
    remote { auth = eap }
  }
}
secrets {
  eap-carol {
    id = carol
    secret = "Ar3etTnp"
  }
}
)");
    ASSERT_THAT(l.errors, IsEmpty());
    ASSERT_EQ(l.config.connections.size(), 2U);
    const ike::PeerConfig& rw = l.config.connections[0];
    EXPECT_EQ(rw.remote.kind, ike::AuthKind::kEap);
    EXPECT_EQ(rw.remote.eap_type, 4);  // MD5
    ASSERT_TRUE(rw.remote.eap_id);
    EXPECT_TRUE(rw.remote.eap_id->any);
    const ike::PeerConfig& client = l.config.connections[1];
    EXPECT_EQ(client.local.kind, ike::AuthKind::kEap);
    EXPECT_EQ(client.local.eap_type, 26);  // MSCHAPv2
    EXPECT_EQ(client.local.eap_id->to_string(), "carol");
    EXPECT_EQ(client.local.aaa_id->to_string(), "radius.example.org");
    EXPECT_EQ(client.remote.kind, ike::AuthKind::kEap);
    EXPECT_EQ(client.remote.eap_type, 0);  // any method
    ASSERT_EQ(l.config.credentials.eap_secrets.size(), 1U);
    EXPECT_TRUE(l.config.credentials.psks.empty());
    const auto* s = l.config.credentials.find_eap(*ike::Identity::parse("gw"),
                                                  *ike::Identity::parse("carol"));
    ASSERT_NE(s, nullptr);
    EXPECT_TRUE(s->equals(as_bytes("Ar3etTnp")));
}

TEST(SwanctlEap, UnknownMethodIsAnErrorRadiusNeedsServers) {
    EXPECT_THAT(load("connections {\n  c {\n    remote {\n      auth = eap-sim\n    }\n  }\n}\n")
                        .errors,
                ElementsAre("swanctl.conf:4: connections.c.remote.auth: 'eap-sim': unknown EAP "
                            "method (eap-md5, eap-mschapv2, eap-tls)"));
    const auto r =
            load("connections {\n  c {\n    remote {\n      auth = eap-radius\n    }\n  }\n}\n");
    ASSERT_THAT(r.errors, IsEmpty());
    ASSERT_EQ(r.config.connections.size(), 1U);
    const ike::PeerConfig& c = r.config.connections[0];
    EXPECT_TRUE(c.remote.eap_radius);
    Findings without;
    check_radius(c, false, r.config.positions, without);
    ASSERT_EQ(without.errors.size(), 1U);
    EXPECT_THAT(without.errors[0].to_string(),
                ::testing::StartsWith("swanctl.conf:2: connections.c.remote.auth = eap-radius "
                                      "needs RADIUS servers in ikeplexd.conf"));
    Findings with;
    check_radius(c, true, r.config.positions, with);
    EXPECT_TRUE(with.errors.empty());
}

// RFC 4739: `local-1`/`local-2` are ordered by their suffix (not by position); the second round
// (EAP, certificate or PSK after a certificate or PSK) goes to local_more. Other shapes are
// refused: a third round, any round after an EAP round; the same for `remote-N`.
TEST(SwanctlEap, MultipleLocalRoundsOrderedBySuffix) {
    const Loaded l = load(R"(connections {
  client {
    local-2 {
      auth = eap-mschapv2
      eap_id = carol
    }
    local-1 {
      auth = pubkey
      id = dave.test
    }
    remote { auth = pubkey }
  }
}
)");
    ASSERT_THAT(l.errors, IsEmpty());
    ASSERT_EQ(l.config.connections.size(), 1U);
    const auto& c = l.config.connections[0];
    EXPECT_EQ(c.local.kind, ike::AuthKind::kPubkey);
    EXPECT_EQ(c.local.id.to_string(), "dave.test");
    ASSERT_EQ(c.local_more.size(), 1U);
    EXPECT_EQ(c.local_more[0].kind, ike::AuthKind::kEap);
    EXPECT_EQ(c.local_more[0].eap_id->to_string(), "carol");
}

TEST(SwanctlEap, RemoteRoundsOrderedBySuffix) {
    const Loaded l = load(R"(connections {
  gw {
    local { auth = pubkey }
    remote-2 {
      auth = eap-mschapv2
      eap_id = %any
    }
    remote-1 { auth = pubkey }
  }
}
)");
    ASSERT_THAT(l.errors, IsEmpty());
    ASSERT_EQ(l.config.connections.size(), 1U);
    const auto& c = l.config.connections[0];
    EXPECT_EQ(c.remote.kind, ike::AuthKind::kPubkey);
    EXPECT_TRUE(c.remote.id.any);
    ASSERT_EQ(c.remote_more.size(), 1U);
    EXPECT_EQ(c.remote_more[0].kind, ike::AuthKind::kEap);
    EXPECT_EQ(c.remote_more[0].eap_type, 26);
    EXPECT_TRUE(c.remote_more[0].eap_id->any);
}

TEST(SwanctlEap, UnsupportedRoundShapesAreRefused) {
    const Loaded l = load(R"(connections {
  a {
    local-1 { auth = eap-md5 }
    local-2 { auth = psk }
  }
  b {
    local { auth = pubkey }
    remote-1 { auth = eap-md5 }
    remote-2 { auth = eap-md5 }
  }
  c {
    local { auth = pubkey }
    remote-1 { auth = pubkey }
    remote-2 { auth = eap-md5 }
    remote-3 { auth = eap-md5 }
  }
  d {
    local-1 { auth = pubkey }
    local-2 { auth = pubkey }
    local-3 { auth = psk }
  }
}
)");
    ASSERT_EQ(l.errors.size(), 4U);
    EXPECT_THAT(l.errors[0], ::testing::HasSubstr("two local authentication rounds"));
    EXPECT_THAT(l.errors[1], ::testing::HasSubstr("two remote authentication rounds"));
    EXPECT_THAT(l.errors[2], ::testing::HasSubstr("two remote authentication rounds"));
    EXPECT_THAT(l.errors[3],
                ::testing::HasSubstr("local-3: at most two local authentication rounds"));
}

// RFC 4739 §2.4: a certificate after a certificate (a machine, then a user), both sides; a
// gateway's `local-2` (no remote_addrs: it only responds) is never used: a warning says so.
TEST(SwanctlEap, NonEapSecondRoundsAndResponderLocalRounds) {
    const Loaded l = load(R"(connections {
  client {
    remote_addrs = 10.99.145.1
    local-1 { auth = pubkey
      id = machine.test }
    local-2 { auth = pubkey
      id = user.test }
    remote { auth = psk }
  }
  gw {
    local-1 { auth = pubkey }
    local-2 { auth = psk }
    remote-1 { auth = pubkey }
    remote-2 { auth = psk }
  }
}
)");
    ASSERT_THAT(l.errors, IsEmpty());
    ASSERT_EQ(l.config.connections.size(), 2U);
    const auto& c = l.config.connections[0];
    ASSERT_EQ(c.local_more.size(), 1U);
    EXPECT_EQ(c.local_more[0].kind, ike::AuthKind::kPubkey);
    EXPECT_EQ(c.local_more[0].id.to_string(), "user.test");
    const auto& g = l.config.connections[1];
    ASSERT_EQ(g.remote_more.size(), 1U);
    EXPECT_EQ(g.remote_more[0].kind, ike::AuthKind::kPsk);
    std::vector<std::string> rounds;  // the others: no secrets for the PSK rounds
    for (const auto& w : l.warnings) {
        if (w.find("local round") != std::string::npos) {
            rounds.push_back(w);
        }
    }
    ASSERT_EQ(rounds.size(), 1U) << ::testing::PrintToString(l.warnings);
    EXPECT_THAT(rounds[0], ::testing::HasSubstr("swanctl.conf:"));
    EXPECT_THAT(rounds[0], ::testing::HasSubstr("connections.gw.local-2"));
    EXPECT_THAT(rounds[0], ::testing::HasSubstr("used only when initiating"));
}

}  // namespace
}  // namespace ikeplex::config
