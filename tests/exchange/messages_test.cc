// What an operator reads when a set-up fails (issue 20): a wrong pre-shared key, proposals that
// do not match, a wrong IDr, a missing shared key, and NAT faked to force UDP encapsulation;
// and strongSwan's dynamic[proto/port] selectors, which were refused before.
// Here the log line is the behaviour under test, so these tests read the captured log; each
// names both sides' lines in strongSwan's words.
#include <fmt/format.h>

#include "flow_fixture.h"
#include "ike/proposal.h"
#include "log_capture.h"

namespace ikeplex::test {
namespace {

using ike::EventKind;

/// A line of `node` containing `needle`; on failure, the node's whole log.
void expect_line(const std::string& node, std::string_view needle) {
    EXPECT_TRUE(LogCapture::contains(node, needle))
            << "no line of " << node << " contains \"" << needle << "\"; its lines:\n"
            << join(LogCapture::lines(node));
}

void expect_no_line(const std::string& node, std::string_view needle) {
    EXPECT_FALSE(LogCapture::contains(node, needle))
            << "a line of " << node << " contains \"" << needle << "\"; its lines:\n"
            << join(LogCapture::lines(node));
}

class Messages : public FlowTest {
protected:
    /// The identities of the harness's sides (their addresses).
    std::string ini_id() { return GetParam() ? "10.99.0.1" : "10.99.0.2"; }
    std::string res_id() { return GetParam() ? "10.99.0.2" : "10.99.0.1"; }

    /// The reason of the responder's IKE SA's end (kIkeFailed).
    std::string res_failure() {
        for (const ike::Event& e : res().events) {
            if (e.kind == EventKind::kIkeFailed) {
                return e.reason;
            }
        }
        return "(no failure)";
    }
};

TEST_P(Messages, AWrongPskNamesTheIdentitiesTheMethodAndTheMismatch) {
    load(h, cfg, psk_credentials("one key for a..........."),
         psk_credentials("another key for b......."));
    initiate();
    settle();
    ASSERT_EQ(ini().count(EventKind::kIkeFailed), 1U);
    // strongSwan: "tried 1 shared key for 'moon' - 'carol', but MAC mismatched" (own id first).
    expect_line(res_name(), fmt::format("tried 1 shared key for '{}' - '{}', but MAC mismatched",
                                        res_id(), ini_id()));
    expect_line(res_name(),
                fmt::format("authentication of '{}' with pre-shared key failed, sending "
                            "AUTHENTICATION_FAILED",
                            ini_id()));
    EXPECT_EQ(res_failure(), "sent AUTHENTICATION_FAILED");
    expect_line(ini_name(), fmt::format("received AUTHENTICATION_FAILED notify error: the peer "
                                        "refused our authentication as '{}' with pre-shared key "
                                        "(expecting '{}')",
                                        ini_id(), res_id()));
}

TEST_P(Messages, TheInitiatorWithoutASharedKeySaysForWhichIdentities) {
    ike::Credentials unrelated = psk_credentials();
    unrelated.psks.front().ids = {*ike::Identity::parse("x.test"), *ike::Identity::parse("y.test")};
    if (GetParam()) {
        load(h, cfg, std::move(unrelated), psk_credentials());
    } else {
        load(h, cfg, psk_credentials(), std::move(unrelated));
    }
    initiate();
    settle();
    EXPECT_EQ(ini().count(EventKind::kIkeUp), 0U);
    expect_line(ini_name(), "IKE_AUTH not started");
    expect_line(ini_name(), fmt::format("no shared key found for '{}' - '{}'", ini_id(), res_id()));
}

TEST_P(Messages, TheResponderWithoutASharedKeySaysForWhichIdentities) {
    ike::Credentials unrelated = psk_credentials();
    unrelated.psks.front().ids = {*ike::Identity::parse("x.test"), *ike::Identity::parse("y.test")};
    if (GetParam()) {
        load(h, cfg, psk_credentials(), std::move(unrelated));
    } else {
        load(h, cfg, std::move(unrelated), psk_credentials());
    }
    initiate();
    settle();
    EXPECT_EQ(ini().count(EventKind::kIkeUp), 0U);
    expect_line(res_name(), fmt::format("no shared key found for '{}' - '{}'", res_id(), ini_id()));
    expect_line(res_name(), "failed, sending AUTHENTICATION_FAILED");
}

TEST_P(Messages, IkeProposalMismatchListsReceivedAndConfiguredProposals) {
    ini_cfg().ike_proposals =
            *ike::parse_proposals("aes256-sha256-modp2048", wire::ProtocolId::kIke);
    res_cfg().ike_proposals =
            *ike::parse_proposals("aes128gcm16-prfsha256-x25519", wire::ProtocolId::kIke);
    load_psk();
    initiate();
    settle();
    ASSERT_EQ(ini().count(EventKind::kIkeFailed), 1U);
    // strongSwan's spelling and order (encryption, integrity, PRF, key exchange).
    expect_line(
            res_name(),
            "received proposals: IKE:AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048");
    expect_line(res_name(),
                "configured proposals: IKE:AES_GCM_16_128/PRF_HMAC_SHA2_256/CURVE_25519");
    expect_line(res_name(), "no matching proposal found, sending NO_PROPOSAL_CHOSEN");
    expect_line(ini_name(),
                "received NO_PROPOSAL_CHOSEN notify error: the peer accepts none of our "
                "proposals: IKE:AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048");
}

TEST_P(Messages, NoConnectionForTheAddressesIsNamed) {
    res_cfg().remote_addrs = {*IpAddress::parse("10.99.7.7")};
    load_psk();
    initiate();
    settle();
    ASSERT_EQ(ini().count(EventKind::kIkeFailed), 1U);
    expect_line(res_name(), fmt::format("no IKE config found for {}...{}, sending "
                                        "NO_PROPOSAL_CHOSEN",
                                        res_id(), ini_id()));
}

TEST_P(Messages, ChildProposalMismatchListsReceivedAndConfiguredProposals) {
    ini_cfg().children[0].esp_proposals =
            *ike::parse_proposals("aes256gcm16", wire::ProtocolId::kEsp);
    res_cfg().children[0].esp_proposals =
            *ike::parse_proposals("aes128-sha256-ecp256", wire::ProtocolId::kEsp);
    load_psk();
    initiate();
    ASSERT_TRUE(h.run_until([&] { return ini().count(EventKind::kChildFailed) == 1; },
                            std::chrono::seconds(30)));
    expect_line(res_name(), "received proposals: ESP:AES_GCM_16_256/NO_EXT_SEQ");
    // In IKE_AUTH the PFS group takes no part, so it is not listed.
    expect_line(res_name(), "configured proposals: ESP:AES_CBC_128/HMAC_SHA2_256_128/NO_EXT_SEQ");
    expect_line(res_name(),
                "no matching proposal found for CHILD_SA net, sending NO_PROPOSAL_CHOSEN");
    expect_line(ini_name(),
                "failed to establish CHILD_SA net: peer answered NO_PROPOSAL_CHOSEN: it accepts "
                "none of our proposals: ESP:AES_GCM_16_256/NO_EXT_SEQ");
}

TEST_P(Messages, AWrongIdrIsNamedWithTheIdentityExpected) {
    // The initiator asks for an identity the responder does not have: the responder names the
    // IDr it got and its own identity, not the initiator's.
    ini_cfg().remote.id = *ike::Identity::parse("wrong.test");
    load_psk();
    initiate();
    settle();
    ASSERT_EQ(ini().count(EventKind::kIkeFailed), 1U);
    expect_line(res_name(), fmt::format("no connection matches peer '{}' (connection 'conn': IDr "
                                        "'wrong.test' does not match the expected '{}'), sending "
                                        "AUTHENTICATION_FAILED",
                                        ini_id(), res_id()));
    expect_line(ini_name(), "(expecting 'wrong.test')");
}

TEST_P(Messages, AnUnexpectedIdrFromTheResponderIsNamed) {
    // The responder takes any IDr and answers with its own identity, which the initiator does
    // not expect: the initiator names both.
    ini_cfg().remote.id = *ike::Identity::parse("b.test");
    res_cfg().local.id.any = true;
    load_psk();
    initiate();
    settle();
    EXPECT_EQ(ini().count(EventKind::kIkeUp), 0U);
    expect_line(ini_name(), fmt::format("IDr '{}' does not match the expected 'b.test', sending "
                                        "AUTHENTICATION_FAILED",
                                        res_id()));
}

TEST_P(Messages, DynamicSelectorsWithProtocolAndPortNegotiateTheAddresses) {
    // swanctl.conf's "dynamic[udp/l2tp]" on both sides (L2TP/IPsec): each side's own address
    // with the protocol and port.
    for (ike::PeerConfig* c : {&cfg.a, &cfg.b}) {
        c->children[0].local_ts = {*ike::TrafficSelector::parse("dynamic[udp/l2tp]")};
        c->children[0].remote_ts = {*ike::TrafficSelector::parse("dynamic[udp/%any]")};
    }
    load_psk();
    initiate();
    ASSERT_TRUE(up());
    const auto& child = *only_sa(ini()).children().front();
    EXPECT_EQ(ike::to_string(child.local_ts), fmt::format("{}/32[udp/1701]", ini_id()));
    // The responder narrowed the initiator's any port to its own 1701 (RFC 7296 §2.9).
    EXPECT_EQ(ike::to_string(child.remote_ts), fmt::format("{}/32[udp/1701]", res_id()));
    expect_consistent();
}

INSTANTIATE_TEST_SUITE_P(Roles, Messages, ::testing::Bool(), role_name);

ike::Settings faking() {
    ike::Settings s;
    s.force_encap = true;  // ikeplexd's default: userspace data plane, raw_esp = no
    return s;
}

/// Both sides fake a NAT, as two ikeplexd with `raw_esp = no` do, on a link without one.
class FakedNat : public FlowTest {
protected:
    FakedNat() : FlowTest(faking()) {}
};

TEST_P(FakedNat, IsCalledFakingNotANatBehindTheRemoteHost) {
    load_psk();
    initiate();
    ASSERT_TRUE(up());
    for (const std::string& n : {ini_name(), res_name()}) {
        expect_line(n, "faking NAT situation to enforce UDP encapsulation");
        expect_line(n, "remote host fakes a NAT situation or is behind NAT");
        expect_no_line(n, "remote host is behind NAT");
        expect_no_line(n, "local host is behind NAT");
    }
}

INSTANTIATE_TEST_SUITE_P(Roles, FakedNat, ::testing::Bool(), role_name);

/// One side fakes (raw_esp = no), the other does not: the faking side says so; the other
/// cannot tell a faked NAT from a real one and says what strongSwan says.
class OneSidedFakedNat : public FlowTest {
protected:
    OneSidedFakedNat() : FlowTest(faking(), ike::Settings{}) {}
};

TEST_P(OneSidedFakedNat, OnlyTheFakingSideSaysFaking) {
    load_psk();
    initiate();
    ASSERT_TRUE(up());
    expect_line(h.a().name, "faking NAT situation to enforce UDP encapsulation");
    expect_no_line(h.a().name, "behind NAT");
    expect_line(h.b().name, "remote host is behind NAT");
    expect_no_line(h.b().name, "faking");
}

INSTANTIATE_TEST_SUITE_P(Roles, OneSidedFakedNat, ::testing::Bool(), role_name);

TEST(RealNat, IsBehindNatAndNotFaking) {
    Harness h(7);
    PairConfig cfg = psk_pair();
    h.nat_a(*IpAddress::parse("10.99.100.1"));
    cfg.b.remote_addrs.clear();  // the peer arrives from the NAT's address
    load(h, cfg, psk_credentials(), psk_credentials());
    h.act(h.a(), [&](ike::Step& s) { (void)h.a().manager.initiate("conn", "net", s); });
    ASSERT_TRUE(h.run_until([&] { return h.b().count(EventKind::kChildUp) == 1; },
                            std::chrono::seconds(30)));
    expect_line(h.a().name, "local host is behind NAT, sending keep alives");
    expect_line(h.b().name, "remote host is behind NAT");
    expect_no_line(h.a().name, "faking");
    expect_no_line(h.b().name, "faking");
}

}  // namespace
}  // namespace ikeplex::test
