// Proposal selection (RFC 7296 §2.7, §3.3): the responder's choice (select_proposal), the
// initiator's check of it (verify_chosen), and what a chosen proposal means (KE methods, IKE and
// Child SA algorithms).
#include "ike/proposal.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/algorithm_ids.h"
#include "exchange_harness.h"
#include "wire/notify_codes.h"

namespace ikeplex::ike {
namespace {

using wire::Proposal;
using wire::ProtocolId;
using wire::Transform;
using wire::TransformType;
namespace encr = crypto::encr;
namespace ke = crypto::ke;

std::vector<Proposal> parsed(const char* text, ProtocolId protocol) {
    auto r = parse_proposals(text, protocol);
    EXPECT_TRUE(r) << text;
    return r ? *r : std::vector<Proposal>{};
}
std::vector<Proposal> ike(const char* text) {
    return parsed(text, ProtocolId::kIke);
}
std::vector<Proposal> esp(const char* text) {
    return parsed(text, ProtocolId::kEsp);
}

Transform transform(TransformType type, std::uint16_t id, std::uint16_t key_bits = 0) {
    Transform t{type, id, {}};
    if (key_bits != 0) {
        t.attributes.push_back({wire::kAttrKeyLength, true, key_bits, {}});
    }
    return t;
}

/// What the peer chose, in strongSwan's notation, or the notify of the refusal.
std::string chosen(const std::vector<Proposal>& offered, const std::vector<Proposal>& configured,
                   bool ignore_ke = false) {
    auto r = select_proposal(offered, configured, ignore_ke);
    if (!r) {
        const auto notify = wire::notify_of(r.error());
        return notify == wire::NotifyType::kNoProposalChosen ? "NO_PROPOSAL_CHOSEN" : "?";
    }
    return std::to_string(r->number) + " " + describe(*r);
}

TEST(SelectProposal, OurPreferenceFirstThenTheOffersOrder) {
    // The first configured proposal (ikeplex's preference, as strongSwan's default) that one of
    // the offered proposals allows; among the offered ones, the first that allows it. The
    // result carries the offered proposal's number (RFC 7296 §3.3.1).
    const auto offered = ike("aes128gcm16-prfsha256-x25519,aes256gcm16-prfsha384-ecp256");
    EXPECT_EQ(chosen(offered, ike("aes256gcm16-prfsha384-ecp256,aes128gcm16-prfsha256-x25519")),
              "2 IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/ECP_256");
    EXPECT_EQ(chosen(offered, ike("aes128gcm16-prfsha256-x25519,aes256gcm16-prfsha384-ecp256")),
              "1 IKE:AES_GCM_16_128/PRF_HMAC_SHA2_256/CURVE_25519");
    // One configured proposal that accepts several offered ones: the initiator's first.
    const auto several =
            ike("aes256gcm16-prfsha512-x448,aes128gcm16-prfsha256-ecp256,"
                "aes128gcm16-prfsha256-x25519");
    EXPECT_EQ(chosen(several, ike("aes128gcm16-prfsha256-x25519-ecp256")),
              "2 IKE:AES_GCM_16_128/PRF_HMAC_SHA2_256/ECP_256");
    // Within a type, our order: both offer Curve25519 and ECP-256.
    EXPECT_EQ(chosen(ike("aes128gcm16-prfsha256-ecp256-x25519"),
                     ike("aes128gcm16-prfsha256-x25519-ecp256")),
              "1 IKE:AES_GCM_16_128/PRF_HMAC_SHA2_256/CURVE_25519");
}

TEST(SelectProposal, OneTransformPerTypeWhateverTheOrderOffered) {
    // RFC 7296 §3.3.6: a single transform of each type; the offer's transform order does not
    // matter (the choice lists them by type).
    auto offered = ike("aes256gcm16-aes128gcm16-prfsha384-prfsha256-ecp256-x25519");
    std::reverse(offered[0].transforms.begin(), offered[0].transforms.end());
    auto r = select_proposal(offered, ike("aes128gcm16-prfsha256-x25519"));
    ASSERT_TRUE(r);
    EXPECT_EQ(describe(*r), "IKE:AES_GCM_16_128/PRF_HMAC_SHA2_256/CURVE_25519");
    EXPECT_EQ(r->transforms.size(), 3U);
}

TEST(SelectProposal, CarriesTheOfferedSpi) {
    auto offered = esp("aes256gcm16,aes128gcm16");
    offered[1].number = 7;
    offered[1].spi = {0xc1, 0x00, 0x00, 0x2a};
    auto r = select_proposal(offered, esp("aes128gcm16"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->number, 7);
    EXPECT_EQ(r->protocol, ProtocolId::kEsp);
    EXPECT_EQ(r->spi, (Bytes{0xc1, 0x00, 0x00, 0x2a}));
}

TEST(SelectProposal, NoProposalChosen) {
    // RFC 7296 §2.7: nothing acceptable is NO_PROPOSAL_CHOSEN.
    EXPECT_EQ(chosen({}, ike("aes128gcm16-prfsha256-x25519")), "NO_PROPOSAL_CHOSEN");
    EXPECT_EQ(chosen(ike("aes256gcm16-prfsha256-x25519"), ike("aes128gcm16-prfsha256-x25519")),
              "NO_PROPOSAL_CHOSEN");  // another key length (RFC 7296 §3.3.5)
    EXPECT_EQ(chosen(ike("aes128gcm16-prfsha384-x25519"), ike("aes128gcm16-prfsha256-x25519")),
              "NO_PROPOSAL_CHOSEN");
    EXPECT_EQ(chosen(ike("aes128gcm16-prfsha256-ecp384"), ike("aes128gcm16-prfsha256-x25519")),
              "NO_PROPOSAL_CHOSEN");
    // Another protocol: an ESP offer for an IKE configuration.
    EXPECT_EQ(chosen(esp("aes128gcm16"), ike("aes128gcm16-prfsha256-x25519")),
              "NO_PROPOSAL_CHOSEN");
    const auto r = select_proposal({}, esp("aes128gcm16"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kNoProposal);
}

TEST(SelectProposal, AMissingTransformTypeMakesTheProposalUnacceptable) {
    // RFC 7296 §3.3.6: a proposal missing a mandatory type is unacceptable; others are still
    // considered.
    auto no_integ = esp("aes128-sha256");
    no_integ[0].transforms.erase(no_integ[0].transforms.begin() + 1);  // INTEG
    ASSERT_EQ(describe(no_integ[0]), "ESP:AES_CBC_128/NO_EXT_SEQ");
    EXPECT_EQ(chosen(no_integ, esp("aes128-sha256")), "NO_PROPOSAL_CHOSEN");
    auto no_prf = ike("aes128gcm16-prfsha256-x25519");
    no_prf[0].transforms.erase(no_prf[0].transforms.begin() + 1);  // PRF
    auto offered = no_prf;
    offered.push_back(ike("aes128gcm16-prfsha256-x25519")[0]);
    offered[1].number = 2;
    EXPECT_EQ(chosen(no_prf, ike("aes128gcm16-prfsha256-x25519")), "NO_PROPOSAL_CHOSEN");
    EXPECT_EQ(chosen(offered, ike("aes128gcm16-prfsha256-x25519")),
              "2 IKE:AES_GCM_16_128/PRF_HMAC_SHA2_256/CURVE_25519");
}

TEST(SelectProposal, UnknownTransformTypesAndTransforms) {
    // RFC 7296 §3.3.6: a proposal with a transform type we do not understand is unacceptable,
    // other proposals processed as usual; a transform we do not understand (an unknown ID, an
    // unknown attribute) is unacceptable, other transforms of its type processed as usual.
    auto with_unknown_type = esp("aes128gcm16");
    with_unknown_type[0].transforms.push_back(transform(static_cast<TransformType>(200), 1));
    EXPECT_EQ(chosen(with_unknown_type, esp("aes128gcm16")), "NO_PROPOSAL_CHOSEN");
    auto next = with_unknown_type;
    next.push_back(esp("aes128gcm16")[0]);
    next[1].number = 2;
    EXPECT_EQ(chosen(next, esp("aes128gcm16")), "2 ESP:AES_GCM_16_128/NO_EXT_SEQ");

    auto unknown_id = esp("aes128gcm16");
    unknown_id[0].transforms.insert(unknown_id[0].transforms.begin(),
                                    transform(TransformType::kEncr, 1024, 128));
    EXPECT_EQ(chosen(unknown_id, esp("aes128gcm16")), "1 ESP:AES_GCM_16_128/NO_EXT_SEQ");

    auto odd_attribute = esp("aes128gcm16");
    odd_attribute[0].transforms[0].attributes.push_back({99, true, 1, {}});
    EXPECT_EQ(chosen(odd_attribute, esp("aes128gcm16")), "NO_PROPOSAL_CHOSEN");
    odd_attribute[0].transforms.push_back(transform(TransformType::kEncr, encr::kAesGcm16, 128));
    EXPECT_EQ(chosen(odd_attribute, esp("aes128gcm16")), "1 ESP:AES_GCM_16_128/NO_EXT_SEQ");
}

TEST(SelectProposal, KeyLengthAttributeIsReturnedUnmodified) {
    // RFC 7296 §3.3.5, §3.3.6: the Key Length tells AES-256 from AES-128; the chosen
    // transform's attributes go back as offered.
    auto r = select_proposal(esp("aes128gcm16-aes256gcm16"), esp("aes256gcm16"));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->transforms.front().type, TransformType::kEncr);
    EXPECT_EQ(r->transforms.front().key_length(), 256);
    EXPECT_EQ(r->transforms.front().attributes.size(), 1U);
    // AES-CBC with three key lengths offered, two configured: ours first.
    EXPECT_EQ(chosen(esp("aes128-aes192-aes256-sha256"), esp("aes192-aes256-sha256")),
              "1 ESP:AES_CBC_192/HMAC_SHA2_256_128/NO_EXT_SEQ");
}

TEST(SelectProposal, ExtendedSequenceNumbers) {
    // RFC 7296 §3.3.2 transform type 5: ESN or not, each side's list; no ESN transform at all
    // means "no ESN" and none goes back.
    EXPECT_EQ(chosen(esp("aes128gcm16-esn"), esp("aes128gcm16")), "NO_PROPOSAL_CHOSEN");
    EXPECT_EQ(chosen(esp("aes128gcm16-esn-noesn"), esp("aes128gcm16")),
              "1 ESP:AES_GCM_16_128/NO_EXT_SEQ");
    EXPECT_EQ(chosen(esp("aes128gcm16-noesn-esn"), esp("aes128gcm16-esn-noesn")),
              "1 ESP:AES_GCM_16_128/EXT_SEQ");
    auto without = esp("aes128gcm16");
    without[0].transforms.pop_back();  // the ESN transform
    EXPECT_EQ(chosen(without, esp("aes128gcm16-esn-noesn")), "1 ESP:AES_GCM_16_128");
    EXPECT_EQ(chosen(without, esp("aes128gcm16-esn")), "NO_PROPOSAL_CHOSEN");
}

TEST(SelectProposal, KeyExchangeInChildProposals) {
    // A Child SA proposal with a KE method (PFS) matches only an offer with it, except in
    // IKE_AUTH where KE transforms take no part (RFC 7296 §1.2): `ignore_ke`.
    EXPECT_EQ(chosen(esp("aes128gcm16"), esp("aes128gcm16-x25519")), "NO_PROPOSAL_CHOSEN");
    EXPECT_EQ(chosen(esp("aes128gcm16-x25519"), esp("aes128gcm16")), "NO_PROPOSAL_CHOSEN");
    EXPECT_EQ(chosen(esp("aes128gcm16"), esp("aes128gcm16-x25519"), true),
              "1 ESP:AES_GCM_16_128/NO_EXT_SEQ");
    EXPECT_EQ(chosen(esp("aes128gcm16-x25519"), esp("aes128gcm16"), true),
              "1 ESP:AES_GCM_16_128/NO_EXT_SEQ");
    // An offer that allows NONE (RFC 7296 §3.3.2: KE transform 0) matches a configuration
    // without PFS, and NONE goes back.
    auto optional_pfs = esp("aes128gcm16-x25519");
    optional_pfs[0].transforms.push_back(transform(TransformType::kKe, ke::kNone));
    auto r = select_proposal(optional_pfs, esp("aes128gcm16"));
    ASSERT_TRUE(r);
    EXPECT_EQ(ke_method(*r), ke::kNone);
    EXPECT_EQ(std::count_if(r->transforms.begin(), r->transforms.end(),
                            [](const Transform& t) { return t.type == TransformType::kKe; }),
              1);
}

TEST(VerifyChosen, AcceptsWhatSelectionProduces) {
    const auto offered = ike("aes256gcm16-prfsha384-ecp384,aes128gcm16-prfsha256-x25519-ecp256");
    auto r = select_proposal(offered, ike("aes128gcm16-prfsha256-ecp256"));
    ASSERT_TRUE(r);
    EXPECT_TRUE(verify_chosen(*r, offered));
    // ESN and KE may be left out of a chosen ESP proposal (optional types).
    auto child = esp("aes128gcm16")[0];
    child.transforms.pop_back();
    EXPECT_TRUE(verify_chosen(child, esp("aes128gcm16-esn-noesn")));
}

TEST(VerifyChosen, RefusesWhatWeDidNotOffer) {
    // RFC 7296 §3.3.6: the initiator MUST check that the accepted offer is consistent with one
    // of its proposals; NO_PROPOSAL_CHOSEN otherwise.
    const auto offered = ike("aes128gcm16-aes256gcm16-prfsha256-x25519-ecp256");
    const auto refused = [&](const Proposal& p, bool ignore_ke = false) {
        const auto s = verify_chosen(p, offered, ignore_ke);
        return !s && wire::notify_of(s.error()) == wire::NotifyType::kNoProposalChosen;
    };
    Proposal good = ike("aes256gcm16-prfsha256-ecp256")[0];
    EXPECT_TRUE(verify_chosen(good, offered));
    Proposal two_of_a_type = good;  // more than one transform of a type
    two_of_a_type.transforms.push_back(transform(TransformType::kKe, ke::kCurve25519));
    EXPECT_TRUE(refused(two_of_a_type));
    Proposal other_length = ike("aes192gcm16-prfsha256-ecp256")[0];
    EXPECT_TRUE(refused(other_length));
    Proposal other_prf = ike("aes256gcm16-prfsha384-ecp256")[0];
    EXPECT_TRUE(refused(other_prf));
    Proposal other_number = good;
    other_number.number = 2;
    EXPECT_TRUE(refused(other_number));
    Proposal other_protocol = good;
    other_protocol.protocol = ProtocolId::kEsp;
    EXPECT_TRUE(refused(other_protocol));
    Proposal no_prf = good;  // a mandatory type left out
    no_prf.transforms.erase(no_prf.transforms.begin() + 1);
    EXPECT_TRUE(refused(no_prf));
    // With KE left out of the comparison (IKE_AUTH), only the other types count.
    Proposal other_ke = good;
    other_ke.transforms.back() = transform(TransformType::kKe, ke::kModp2048);
    EXPECT_TRUE(refused(other_ke));
    EXPECT_TRUE(verify_chosen(other_ke, offered, true));
    EXPECT_TRUE(verify_chosen(two_of_a_type, offered, true));
}

// ESN is a mandatory transform type of an ESP proposal (RFC 7296 §3.3.3): a chosen proposal
// that leaves it out means "no ESN", which is consistent with our offer (§3.3.6) only if we
// offered that.
TEST(VerifyChosen, RefusesNoEsnWhenWeRequiredEsn) {
    auto without_esn = esp("aes128gcm16")[0];
    without_esn.transforms.pop_back();  // the ESN transform
    const auto s = verify_chosen(without_esn, esp("aes128gcm16-esn"));
    EXPECT_FALSE(s);
    EXPECT_FALSE(child_algorithms(test::test_registry(), without_esn)->esn);  // what we'd get
    EXPECT_TRUE(verify_chosen(without_esn, esp("aes128gcm16")));              // we offered no ESN
    EXPECT_TRUE(verify_chosen(without_esn, esp("aes128gcm16-esn-noesn")));
}

TEST(KeMethods, FirstOfAProposalAndAllOfAList) {
    const auto ps = ike("aes128gcm16-prfsha256-x25519-ecp256,aes256gcm16-prfsha384-ecp256-x448");
    EXPECT_EQ(ke_method(ps[0]), ke::kCurve25519);
    EXPECT_EQ(ke_method(esp("aes128gcm16")[0]), ke::kNone);
    // For INVALID_KE_PAYLOAD: every method once, in the order offered, NONE left out.
    auto with_none = ps;
    with_none[1].transforms.push_back(transform(TransformType::kKe, ke::kNone));
    EXPECT_EQ(ke_methods(with_none),
              (std::vector<std::uint16_t>{ke::kCurve25519, ke::kEcp256, ke::kCurve448}));
    EXPECT_TRUE(ke_methods(esp("aes128gcm16")).empty());
    const Proposal bare = without_ke(ps[0]);
    EXPECT_EQ(describe(bare), "IKE:AES_GCM_16_128/PRF_HMAC_SHA2_256");
    EXPECT_EQ(ke_method(bare), ke::kNone);
}

TEST(IkeAlgorithms, OfAChosenProposal) {
    const crypto::Registry& registry = test::test_registry();
    auto gcm = ike_algorithms(registry, ike("aes256gcm16-prfsha384-ecp384")[0]);
    ASSERT_TRUE(gcm);
    EXPECT_EQ(gcm->suite.encr->id, encr::kAesGcm16);
    EXPECT_EQ(gcm->suite.encr->key_bits, 256);
    EXPECT_TRUE(gcm->suite.encr->aead);
    EXPECT_EQ(gcm->suite.integ, nullptr);
    EXPECT_EQ(gcm->suite.prf->id, crypto::prf::kHmacSha2_384);
    EXPECT_EQ(gcm->ke, ke::kEcp384);
    auto cbc = ike_algorithms(registry, ike("aes128-sha256-modp2048")[0]);
    ASSERT_TRUE(cbc);
    EXPECT_EQ(cbc->suite.encr->id, encr::kAesCbc);
    EXPECT_EQ(cbc->suite.integ->id, crypto::integ::kHmacSha2_256_128);
    EXPECT_EQ(cbc->suite.prf->id, crypto::prf::kHmacSha2_256);
    EXPECT_EQ(cbc->ke, ke::kModp2048);
    // What the crypto layer cannot do is NO_PROPOSAL_CHOSEN: an AEAD with an integrity
    // transform, a cipher without one, an unknown KE method, no PRF.
    const auto refused = [&](const Proposal& p) {
        const auto a = ike_algorithms(registry, p);
        return !a && wire::notify_of(a.error()) == wire::NotifyType::kNoProposalChosen;
    };
    Proposal aead_integ = ike("aes128gcm16-prfsha256-x25519")[0];
    aead_integ.transforms.push_back(
            transform(TransformType::kInteg, crypto::integ::kHmacSha2_256_128));
    EXPECT_TRUE(refused(aead_integ));
    Proposal cbc_alone = ike("aes128-sha256-modp2048")[0];
    std::erase_if(cbc_alone.transforms,
                  [](const Transform& t) { return t.type == TransformType::kInteg; });
    EXPECT_TRUE(refused(cbc_alone));
    Proposal unknown_ke = ike("aes128gcm16-prfsha256-x25519")[0];
    unknown_ke.transforms.back() = transform(TransformType::kKe, 1234);
    EXPECT_TRUE(refused(unknown_ke));
    EXPECT_TRUE(refused(without_ke(ike("aes128gcm16-prfsha256-x25519")[0])));
    Proposal no_prf = ike("aes128gcm16-prfsha256-x25519")[0];
    std::erase_if(no_prf.transforms,
                  [](const Transform& t) { return t.type == TransformType::kPrf; });
    EXPECT_TRUE(refused(no_prf));
}

TEST(ChildAlgorithms, OfAChosenProposal) {
    const crypto::Registry& registry = test::test_registry();
    auto gcm = child_algorithms(registry, esp("aes128gcm16")[0]);
    ASSERT_TRUE(gcm);
    EXPECT_EQ(gcm->encr->id, encr::kAesGcm16);
    EXPECT_EQ(gcm->encr_key_size(), 16U + 4U);  // key and salt (RFC 4106 §8.1)
    EXPECT_EQ(gcm->integ, nullptr);
    EXPECT_EQ(gcm->integ_key_size(), 0U);
    EXPECT_FALSE(gcm->esn);
    EXPECT_EQ(gcm->ke, ke::kNone);
    auto cbc = child_algorithms(registry, esp("aes256-sha384-esn-ecp256")[0]);
    ASSERT_TRUE(cbc);
    EXPECT_EQ(cbc->encr_key_size(), 32U);
    EXPECT_EQ(cbc->integ->id, crypto::integ::kHmacSha2_384_192);
    EXPECT_EQ(cbc->integ_key_size(), 48U);
    EXPECT_TRUE(cbc->esn);
    EXPECT_EQ(cbc->ke, ke::kEcp256);
    const auto refused = [&](const Proposal& p) {
        const auto a = child_algorithms(registry, p);
        return !a && wire::notify_of(a.error()) == wire::NotifyType::kNoProposalChosen;
    };
    Proposal aead_integ = esp("aes128gcm16")[0];
    aead_integ.transforms.push_back(
            transform(TransformType::kInteg, crypto::integ::kHmacSha2_256_128));
    EXPECT_TRUE(refused(aead_integ));
    Proposal cbc_alone = esp("aes128-sha256")[0];
    std::erase_if(cbc_alone.transforms,
                  [](const Transform& t) { return t.type == TransformType::kInteg; });
    EXPECT_TRUE(refused(cbc_alone));
    Proposal unknown_integ = esp("aes128-sha256")[0];
    unknown_integ.transforms[1] = transform(TransformType::kInteg, 999);
    EXPECT_TRUE(refused(unknown_integ));
    Proposal unknown_encr = esp("aes128gcm16")[0];
    unknown_encr.transforms[0] = transform(TransformType::kEncr, 1024, 128);
    EXPECT_TRUE(refused(unknown_encr));
}

}  // namespace
}  // namespace ikeplex::ike
