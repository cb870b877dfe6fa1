// RFC 9370 in proposals: strongSwan's "keN_<method>" and "keN_none" keywords (transform types
// 6..12, ADDITIONAL_KEY_EXCHANGE_1..7), ML-KEM as a key exchange method (IDs 35..37), the log
// notation, selection of each additional round independently (§2.2.1, §2.2.2) and its check
// by the initiator, and the algorithms a chosen proposal means.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/algorithm_ids.h"
#include "exchange_harness.h"
#include "ike/proposal.h"
#include "wire/notify_codes.h"

namespace ikeplex::ike {
namespace {

using wire::Proposal;
using wire::ProtocolId;
using wire::Transform;
using wire::TransformType;
namespace ke = crypto::ke;

std::vector<Proposal> ike(const char* text) {
    auto r = parse_proposals(text, ProtocolId::kIke);
    EXPECT_TRUE(r) << text;
    return r ? *r : std::vector<Proposal>{};
}

TransformType round_type(int n) {
    return static_cast<TransformType>(static_cast<int>(TransformType::kAddKe1) + n - 1);
}

std::string chosen(const std::vector<Proposal>& offered, const std::vector<Proposal>& configured,
                   bool ignore_ke = false) {
    auto r = select_proposal(offered, configured, ignore_ke);
    if (!r) {
        return wire::notify_of(r.error()) == wire::NotifyType::kNoProposalChosen
                       ? "NO_PROPOSAL_CHOSEN"
                       : "?";
    }
    return describe(*r);
}

TEST(AdditionalKeProposals, KeywordsBecomeTransformTypes6To12) {
    const auto p = ike("aes256gcm16-prfsha384-x25519-ke1_mlkem768-ke2_ecp384-ke7_none")[0];
    std::vector<std::pair<TransformType, std::uint16_t>> got;
    for (const Transform& t : p.transforms) {
        got.emplace_back(t.type, t.id);
    }
    EXPECT_EQ(got, (std::vector<std::pair<TransformType, std::uint16_t>>{
                           {TransformType::kEncr, crypto::encr::kAesGcm16},
                           {TransformType::kPrf, crypto::prf::kHmacSha2_384},
                           {TransformType::kKe, ke::kCurve25519},
                           {round_type(1), ke::kMlKem768},
                           {round_type(2), ke::kEcp384},
                           {round_type(7), ke::kNone}}));
    // strongSwan's log notation ("CURVE_25519/KE1_ML_KEM_768").
    EXPECT_EQ(describe(p),
              "IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/CURVE_25519/KE1_ML_KEM_768/KE2_ECP_384/"
              "KE7_NONE");
    // ML-KEM alone as the key exchange (transform type 4), IDs 35..37.
    const auto kem =
            ike("aes256gcm16-prfsha384-mlkem512,aes256gcm16-prfsha384-mlkem768,"
                "aes256gcm16-prfsha384-mlkem1024");
    EXPECT_EQ(ke_method(kem[0]), ke::kMlKem512);
    EXPECT_EQ(ke_method(kem[1]), ke::kMlKem768);
    EXPECT_EQ(ke_method(kem[2]), ke::kMlKem1024);
    EXPECT_EQ(describe(kem[2]), "IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/ML_KEM_1024");
    // Several methods for one round, in the order given; ESP proposals carry them too.
    const auto two = ike("aes128gcm16-prfsha256-x25519-ke1_mlkem768-ke1_mlkem1024-ke1_none")[0];
    EXPECT_EQ(describe(two),
              "IKE:AES_GCM_16_128/PRF_HMAC_SHA2_256/CURVE_25519/KE1_ML_KEM_768/KE1_ML_KEM_1024/"
              "KE1_NONE");
    auto esp = parse_proposals("aes128gcm16-x25519-ke1_mlkem768", ProtocolId::kEsp);
    ASSERT_TRUE(esp);
    EXPECT_EQ(describe((*esp)[0]), "ESP:AES_GCM_16_128/CURVE_25519/KE1_ML_KEM_768/NO_EXT_SEQ");
    EXPECT_TRUE(offers_additional_ke(*esp));
    EXPECT_FALSE(offers_additional_ke(ike("aes128gcm16-prfsha256-x25519-ke1_none")));
}

TEST(AdditionalKeProposals, BadKeywordsAreRefusedWithTheirName) {
    for (const char* bad :
         {"aes128gcm16-prfsha256-x25519-ke0_ecp256", "aes128gcm16-prfsha256-x25519-ke8_ecp256",
          "aes128gcm16-prfsha256-x25519-ke1_", "aes128gcm16-prfsha256-x25519-ke1",
          "aes128gcm16-prfsha256-x25519-ke1_aes128", "aes128gcm16-prfsha256-x25519-ke1_foo",
          "aes128gcm16-prfsha256-x25519-ke1_ke1_ecp256"}) {
        std::string why;
        EXPECT_FALSE(parse_proposals(bad, ProtocolId::kIke, &why)) << bad;
        EXPECT_NE(why.find("unknown algorithm"), std::string::npos) << why;
    }
}

TEST(AdditionalKeProposals, EachRoundIsChosenIndependently) {
    // RFC 9370 §2.2.2: one transform of each additional type, in our preference order.
    EXPECT_EQ(
            chosen(ike("aes128gcm16-prfsha256-x25519-ke1_ecp256-ke1_x448-ke2_modp2048-ke2_ecp384"),
                   ike("aes128gcm16-prfsha256-x25519-ke1_x448-ke1_ecp256-ke2_ecp384")),
            "IKE:AES_GCM_16_128/PRF_HMAC_SHA2_256/CURVE_25519/KE1_CURVE_448/KE2_ECP_384");
    // A round we require but the offer lacks: that proposal does not match (the next may).
    EXPECT_EQ(chosen(ike("aes128gcm16-prfsha256-x25519"),
                     ike("aes128gcm16-prfsha256-x25519-ke1_ecp256")),
              "NO_PROPOSAL_CHOSEN");
    EXPECT_EQ(chosen(ike("aes128gcm16-prfsha256-x25519-ke1_ecp256,aes128gcm16-prfsha256-x25519"),
                     ike("aes128gcm16-prfsha256-x25519-ke1_x448,aes128gcm16-prfsha256-x25519")),
              "IKE:AES_GCM_16_128/PRF_HMAC_SHA2_256/CURVE_25519");
    // A round the offer makes optional (NONE) and we do not configure: NONE goes back.
    EXPECT_EQ(chosen(ike("aes128gcm16-prfsha256-x25519-ke1_mlkem768-ke1_none"),
                     ike("aes128gcm16-prfsha256-x25519")),
              "IKE:AES_GCM_16_128/PRF_HMAC_SHA2_256/CURVE_25519/KE1_NONE");
    // A round the offer requires and we do not configure: no match.
    EXPECT_EQ(chosen(ike("aes128gcm16-prfsha256-x25519-ke1_mlkem768"),
                     ike("aes128gcm16-prfsha256-x25519")),
              "NO_PROPOSAL_CHOSEN");
    // Both allow NONE and a method: our order decides.
    EXPECT_EQ(chosen(ike("aes128gcm16-prfsha256-x25519-ke1_none-ke1_ecp256"),
                     ike("aes128gcm16-prfsha256-x25519-ke1_ecp256-ke1_none")),
              "IKE:AES_GCM_16_128/PRF_HMAC_SHA2_256/CURVE_25519/KE1_ECP_256");
    // Rounds may be skipped: ke1 NONE, ke2 chosen.
    EXPECT_EQ(chosen(ike("aes128gcm16-prfsha256-x25519-ke1_none-ke2_x448"),
                     ike("aes128gcm16-prfsha256-x25519-ke2_x448")),
              "IKE:AES_GCM_16_128/PRF_HMAC_SHA2_256/CURVE_25519/KE1_NONE/KE2_CURVE_448");
    // IKE_AUTH (ignore_ke): types 4 and 6..12 take no part (RFC 9370 §2.2.3).
    auto esp_offer = parse_proposals("aes128gcm16-ke1_mlkem768", ProtocolId::kEsp);
    auto esp_ours = parse_proposals("aes128gcm16-x25519-ke2_ecp256", ProtocolId::kEsp);
    ASSERT_TRUE(esp_offer && esp_ours);
    EXPECT_EQ(chosen(*esp_offer, *esp_ours), "NO_PROPOSAL_CHOSEN");
    EXPECT_EQ(chosen(*esp_offer, *esp_ours, true), "ESP:AES_GCM_16_128/NO_EXT_SEQ");
    EXPECT_EQ(describe(without_ke((*esp_ours)[0])), "ESP:AES_GCM_16_128/NO_EXT_SEQ");
}

TEST(AdditionalKeProposals, VerifyChosenPerRound) {
    const auto offered = ike("aes128gcm16-prfsha256-x25519-ke1_ecp256-ke1_none-ke2_x448");
    const auto refused = [&](const Proposal& p) {
        const auto s = verify_chosen(p, offered);
        return !s && wire::notify_of(s.error()) == wire::NotifyType::kNoProposalChosen;
    };
    EXPECT_TRUE(verify_chosen(ike("aes128gcm16-prfsha256-x25519-ke1_ecp256-ke2_x448")[0], offered));
    EXPECT_TRUE(verify_chosen(ike("aes128gcm16-prfsha256-x25519-ke1_none-ke2_x448")[0], offered));
    // Round 1 left out means NONE, which we offered; round 2 left out: we did not.
    EXPECT_TRUE(verify_chosen(ike("aes128gcm16-prfsha256-x25519-ke2_x448")[0], offered));
    EXPECT_TRUE(refused(ike("aes128gcm16-prfsha256-x25519-ke1_ecp256")[0]));
    // A method we did not offer for a round, a round we did not offer, two in one round.
    EXPECT_TRUE(refused(ike("aes128gcm16-prfsha256-x25519-ke1_x448-ke2_x448")[0]));
    EXPECT_TRUE(refused(ike("aes128gcm16-prfsha256-x25519-ke2_x448-ke3_ecp256")[0]));
    EXPECT_TRUE(refused(ike("aes128gcm16-prfsha256-x25519-ke1_ecp256-ke1_none-ke2_x448")[0]));
    // With KE left out (IKE_AUTH), the rounds do not count.
    EXPECT_TRUE(verify_chosen(ike("aes128gcm16-prfsha256-x25519-ke3_ecp256")[0], offered, true));
}

TEST(AdditionalKeProposals, AlgorithmsOfAChosenProposal) {
    const crypto::Registry& registry = test::test_registry();
    auto a = ike_algorithms(registry,
                            ike("aes128gcm16-prfsha256-x25519-ke1_ecp256-ke2_none-ke3_x448")[0]);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->ke, ke::kCurve25519);
    EXPECT_EQ(a->additional_ke,
              (std::array<std::uint16_t, 7>{ke::kEcp256, 0, ke::kCurve448, 0, 0, 0, 0}));
    auto esp = parse_proposals("aes128gcm16-modp2048-ke1_ecp384", ProtocolId::kEsp);
    ASSERT_TRUE(esp);
    auto c = child_algorithms(registry, (*esp)[0]);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->ke, ke::kModp2048);
    EXPECT_EQ(c->additional_ke[0], ke::kEcp384);
    // A method the crypto layer does not know in a round: NO_PROPOSAL_CHOSEN.
    Proposal unknown = ike("aes128gcm16-prfsha256-x25519-ke1_ecp256")[0];
    unknown.transforms.back().id = 1234;
    const auto r = ike_algorithms(registry, unknown);
    ASSERT_FALSE(r);
    EXPECT_EQ(wire::notify_of(r.error()), wire::NotifyType::kNoProposalChosen);
}

}  // namespace
}  // namespace ikeplex::ike
