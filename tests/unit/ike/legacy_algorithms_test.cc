// Legacy algorithms in proposals (issue 24): strongSwan's keywords parse, the legacy transforms
// are named for the warning, and a peer's aes128-sha1-modp1024 is chosen when configured.
#include "ike/legacy_algorithms.h"

#include <gtest/gtest.h>

#include "crypto/algorithm_ids.h"
#include "ike/proposal.h"

namespace ikeplex::ike {
namespace {

using wire::ProtocolId;

TEST(LegacyAlgorithms, KeywordsParseAndAreNamed) {
    auto ike = parse_proposals("aes128-sha1-modp1024", ProtocolId::kIke);
    ASSERT_TRUE(ike);
    EXPECT_EQ(describe((*ike)[0]), "IKE:AES_CBC_128/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024");
    EXPECT_EQ(legacy_transforms((*ike)[0]),
              (std::vector<std::string>{"PRF_HMAC_SHA1", "HMAC_SHA1_96", "MODP_1024"}));
    EXPECT_NE(legacy_warning((*ike)[0]).find("RFC 8247"), std::string::npos);

    auto esp = parse_proposals("3des-sha1, aes256-sha256-modp1536", ProtocolId::kEsp);
    ASSERT_TRUE(esp);
    EXPECT_EQ(legacy_transforms((*esp)[0]), (std::vector<std::string>{"3DES_CBC", "HMAC_SHA1_96"}));
    EXPECT_EQ(legacy_transforms((*esp)[1]), (std::vector<std::string>{"MODP_1536"}));

    auto modern = parse_proposals("aes256gcm16-prfsha384-x25519", ProtocolId::kIke);
    ASSERT_TRUE(modern);
    EXPECT_TRUE(legacy_transforms((*modern)[0]).empty());
}

TEST(LegacyAlgorithms, PeerOfferIsSelectedAndResolved) {
    const auto registry = crypto::Registry::create().value();
    const auto ours =
            parse_proposals("aes256gcm16-prfsha256-x25519, aes128-sha1-modp1024", ProtocolId::kIke)
                    .value();
    const auto theirs = parse_proposals("aes128-sha1-modp1024", ProtocolId::kIke).value();
    const auto chosen = select_proposal(theirs, ours, false);
    ASSERT_TRUE(chosen);
    const auto algs = ike_algorithms(*registry, *chosen);
    ASSERT_TRUE(algs) << algs.error().to_string();
    EXPECT_EQ(algs->ke, crypto::ke::kModp1024);

    const auto esp_ours = parse_proposals("aes128-sha1, 3des-sha1", ProtocolId::kEsp).value();
    const auto esp_theirs = parse_proposals("3des-sha1", ProtocolId::kEsp).value();
    const auto esp = select_proposal(esp_theirs, esp_ours, false);
    ASSERT_TRUE(esp);
    const auto child = child_algorithms(*registry, *esp);
    ASSERT_TRUE(child) << child.error().to_string();
    EXPECT_EQ(child->encr->id, crypto::encr::k3des);
    EXPECT_EQ(child->integ->icv_size, 12U);
}

}  // namespace
}  // namespace ikeplex::ike
