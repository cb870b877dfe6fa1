// Legacy algorithms chosen at run time (issue 24): a peer that offers only aes128-sha1-modp1024
// (IKE) and 3des-sha1 / aes128-sha1 (ESP) gets them from a responder whose connection lists
// them (what `legacy_algorithms = warn` loads), each side warning once per SA with the peer named
// and counting it; under `refuse` such proposals never load (config/legacy_policy.cc), so the
// responder's connection has modern proposals only and the peer gets NO_PROPOSAL_CHOSEN.
#include <fmt/format.h>

#include "crypto/algorithm_ids.h"
#include "flow_fixture.h"
#include "ike/proposal.h"
#include "log_capture.h"

namespace ikeplex::test {
namespace {

using ike::EventKind;
using wire::ProtocolId;

void expect_line(const std::string& node, std::string_view needle) {
    EXPECT_TRUE(LogCapture::contains(node, needle))
            << "no line of " << node << " contains \"" << needle << "\"";
}

class Legacy : public FlowTest {
protected:
    std::string ini_addr() { return GetParam() ? "10.99.0.1" : "10.99.0.2"; }
    std::string res_addr() { return GetParam() ? "10.99.0.2" : "10.99.0.1"; }
    void legacy_initiator(const char* esp) {
        ini_cfg().ike_proposals = *ike::parse_proposals("aes128-sha1-modp1024", ProtocolId::kIke);
        ini_cfg().children[0].esp_proposals = *ike::parse_proposals(esp, ProtocolId::kEsp);
    }
};

TEST_P(Legacy, WarnChoosesTheLegacyOfferWithAWarningAndACount) {
    legacy_initiator("aes128-sha1");
    res_cfg().ike_proposals = *ike::parse_proposals(
            "aes256gcm16-prfsha256-x25519, aes128-sha1-modp1024", ProtocolId::kIke);
    res_cfg().children[0].esp_proposals =
            *ike::parse_proposals("aes256gcm16, aes128-sha1, 3des-sha1", ProtocolId::kEsp);
    load_psk();
    initiate();
    ASSERT_TRUE(up());
    for (Node* n : {&ini(), &res()}) {
        // One IKE SA and one Child SA, both with legacy algorithms.
        EXPECT_EQ(n->manager.counters().legacy_chosen, 2U) << n->name;
    }
    const auto& child = *only_sa(res()).children().front();
    EXPECT_EQ(child.algorithms.integ->icv_size, 12U);
    expect_line(res_name(), fmt::format("conn[{}] IKE_SA with {}: chosen proposal "
                                        "IKE:AES_CBC_128/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024 "
                                        "has legacy algorithm(s) PRF_HMAC_SHA1, HMAC_SHA1_96, "
                                        "MODP_1024 (RFC 8247",
                                        only_sa(res()).id(), ini_addr()));
    expect_line(ini_name(),
                fmt::format("CHILD_SA net with {}: chosen proposal ESP:AES_CBC_128/HMAC_SHA1_96",
                            res_addr()));
}

TEST_P(Legacy, WarnChoosesThreeDes) {
    legacy_initiator("3des-sha1");
    res_cfg().ike_proposals = *ike::parse_proposals("aes128-sha1-modp1024", ProtocolId::kIke);
    res_cfg().children[0].esp_proposals =
            *ike::parse_proposals("aes128-sha256, 3des-sha1", ProtocolId::kEsp);
    load_psk();
    initiate();
    ASSERT_TRUE(up());
    const auto& child = *only_sa(ini()).children().front();
    EXPECT_EQ(child.algorithms.encr->id, crypto::encr::k3des);
    expect_line(ini_name(), "has legacy algorithm(s) 3DES_CBC, HMAC_SHA1_96");
    expect_line(res_name(), "has legacy algorithm(s) 3DES_CBC, HMAC_SHA1_96");
    EXPECT_EQ(res().manager.counters().legacy_chosen, 2U);
}

TEST_P(Legacy, ModernProposalsAreNotCounted) {
    load_psk();
    initiate();
    ASSERT_TRUE(up());
    EXPECT_EQ(ini().manager.counters().legacy_chosen, 0U);
    EXPECT_EQ(res().manager.counters().legacy_chosen, 0U);
    EXPECT_FALSE(LogCapture::contains(res_name(), "legacy algorithm"));
}

TEST_P(Legacy, RefuseLeavesOnlyModernProposalsSoTheOfferFails) {
    legacy_initiator("3des-sha1");
    // What `legacy_algorithms = refuse` lets load: no proposal with a legacy algorithm.
    res_cfg().ike_proposals = *ike::parse_proposals(
            "aes256gcm16-prfsha256-x25519, "
            "aes128-sha256-modp2048",
            ProtocolId::kIke);
    load_psk();
    initiate();
    settle();
    ASSERT_EQ(ini().count(EventKind::kIkeFailed), 1U);
    EXPECT_EQ(res().manager.counters().init_refused, 1U);
    EXPECT_EQ(res().manager.counters().legacy_chosen, 0U);
    expect_line(ini_name(), "NO_PROPOSAL_CHOSEN");
}

INSTANTIATE_TEST_SUITE_P(Roles, Legacy, ::testing::Bool(), role_name);

}  // namespace
}  // namespace ikeplex::test
