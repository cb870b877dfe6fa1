// RFC 8784 post-quantum preshared keys between two engines, each test twice (a or b
// initiates): the matrix of PPK required/optional/absent on each side (§3, Table 1), what
// goes over the wire (USE_PPK, PPK_IDENTITY, NO_PPK_AUTH), and that SK_d with the PPK mixed in
// keys the Child SAs and the IKE rekey (the same seeds without a PPK give other keys).
#include <set>

#include <gtest/gtest.h>

#include "eap/eap.h"
#include "flow_fixture.h"
#include "log_capture.h"

namespace ikeplex::test {
namespace {

using wire::ExchangeType;
using wire::NotifyType;

constexpr const char* kPpk = "a post-quantum preshared key of 32+ bytes";
constexpr const char* kOtherPpk = "another post-quantum preshared key, 32+";

/// A side's PPK setup: its connection keys and the PPKs it holds (id -> secret).
struct Side {
    const char* ppk_id{nullptr};
    bool required{false};
    std::vector<std::pair<const char*, const char*>> ppks;
};

/// Either side logged a line containing `text`.
bool logged(const char* text) {
    return LogCapture::contains("a", text) || LogCapture::contains("b", text);
}

ike::Credentials creds_with(const Side& s) {
    ike::Credentials c = psk_credentials();
    for (const auto& [id, secret] : s.ppks) {
        c.ppks.push_back(ike::Credentials::Psk{{*ike::Identity::parse(id)},
                                               SecretBytes::copy_of(as_bytes(secret))});
    }
    return c;
}

class Ppk : public FlowTest {
protected:
    void SetUp() override {
        LogCapture::install();
        LogCapture::clear();
    }

    void setup(const Side& ini_side, const Side& res_side) {
        for (auto [c, s] : {std::pair{&ini_cfg(), &ini_side}, std::pair{&res_cfg(), &res_side}}) {
            if (s->ppk_id != nullptr) {
                c->ppk_id = *ike::Identity::parse(s->ppk_id);
            }
            c->ppk_required = s->required;
        }
        const bool a_ini = GetParam();
        load(h, cfg, creds_with(a_ini ? ini_side : res_side),
             creds_with(a_ini ? res_side : ini_side));
        initiate();
    }

    /// The first IKE_AUTH request (as the initiator sent it) carries notify `t`.
    bool auth_request_has(NotifyType t) {
        return ini().count({.sent = true,
                            .exchange = ExchangeType::kIkeAuth,
                            .response = false,
                            .notify = t}) > 0;
    }
    bool auth_response_has(NotifyType t) {
        return res().count({.sent = true,
                            .exchange = ExchangeType::kIkeAuth,
                            .response = true,
                            .notify = t}) > 0;
    }
    bool init_has(bool response, NotifyType t) {
        return ini().count(
                       {.exchange = ExchangeType::kIkeSaInit, .response = response, .notify = t}) >
               0;
    }

    void expect_down() {
        settle();
        EXPECT_TRUE(ini().established().empty());
        EXPECT_TRUE(res().established().empty());
        EXPECT_TRUE(ini().backend.sas.empty());
        EXPECT_TRUE(res().backend.sas.empty());
    }

    /// The encryption keys of the installed Child SAs of a node.
    static std::set<Bytes> child_keys(Node& n) {
        std::set<Bytes> keys;
        for (const auto& [k, sa] : n.backend.sas) {
            keys.insert(Bytes(sa.encr_key.view().begin(), sa.encr_key.view().end()));
        }
        return keys;
    }
};

const Side kRequired{"ppk-1", true, {{"ppk-1", kPpk}}};
const Side kOptional{"ppk-1", false, {{"ppk-1", kPpk}}};

TEST_P(Ppk, BothRequiredSamePpkUsesIt) {
    setup(kRequired, kRequired);
    ASSERT_TRUE(up());
    EXPECT_TRUE(init_has(false, NotifyType::kUsePpk));
    EXPECT_TRUE(init_has(true, NotifyType::kUsePpk));
    EXPECT_TRUE(auth_request_has(NotifyType::kPpkIdentity));
    EXPECT_FALSE(auth_request_has(NotifyType::kNoPpkAuth));  // required: no fallback offered
    EXPECT_TRUE(auth_response_has(NotifyType::kPpkIdentity));
    EXPECT_TRUE(only_sa(ini()).uses_ppk());
    EXPECT_TRUE(only_sa(res()).uses_ppk());
    EXPECT_TRUE(logged("using PPK for PPK_ID 'ppk-1'"));
    expect_consistent();
}

TEST_P(Ppk, OptionalBothSidesUsesItAndOffersNoPpkAuth) {
    setup(kOptional, kOptional);
    ASSERT_TRUE(up());
    EXPECT_TRUE(auth_request_has(NotifyType::kPpkIdentity));
    EXPECT_TRUE(auth_request_has(NotifyType::kNoPpkAuth));
    EXPECT_TRUE(only_sa(ini()).uses_ppk());
    EXPECT_TRUE(only_sa(res()).uses_ppk());
    expect_consistent();
}

// The PPK keys SK_d: the Child SA keys differ from those the same seeds give without a PPK,
// and so do those of the IKE SA a rekey makes (SKEYSEED from the old SK_d, RFC 7296 §2.18),
// where the PPK itself is not used again (RFC 8784 §3).
TEST_P(Ppk, SkDWithPpkKeysChildSasAndIkeRekey) {
    setup(kRequired, kRequired);
    ASSERT_TRUE(up());
    Harness plain(7);
    PairConfig plain_cfg = psk_pair();
    load(plain, plain_cfg, psk_credentials(), psk_credentials());
    Node& plain_ini = GetParam() ? plain.a() : plain.b();
    plain.act(plain_ini,
              [&](ike::Step& s) { ASSERT_TRUE(plain_ini.manager.initiate("conn", "net", s)); });
    ASSERT_TRUE(both_up(plain, 1));
    EXPECT_FALSE(only_sa(plain_ini).uses_ppk());
    const auto with = child_keys(ini());
    const auto without = child_keys(plain_ini);
    ASSERT_EQ(with.size(), 2U);
    ASSERT_EQ(without.size(), 2U);
    for (const Bytes& k : with) {
        EXPECT_EQ(without.count(k), 0U);
    }
    // The same IKE SA keys otherwise: the nonces and key exchanges are the same.
    EXPECT_FALSE(only_sa(ini()).crypto()->sk_d.view().size() == 0);
    EXPECT_FALSE(std::equal(only_sa(ini()).crypto()->sk_d.view().begin(),
                            only_sa(ini()).crypto()->sk_d.view().end(),
                            only_sa(plain_ini).crypto()->sk_d.view().begin()));

    // An IKE rekey: SKEYSEED from the PPK's SK_d; both sides agree, Child SAs move over.
    const std::uint32_t old_ike = only_sa(ini()).id();
    h.act(ini(), [&](ike::Step& s) { ASSERT_TRUE(ini().manager.rekey_ike(old_ike, s)); });
    ASSERT_TRUE(h.run_until(
            [&] {
                const auto est = ini().established();
                return est.size() == 1 && est.front()->id() != old_ike &&
                       res().established().size() == 1;
            },
            std::chrono::seconds(30)));
    const std::uint32_t plain_old = only_sa(plain_ini).id();
    plain.act(plain_ini,
              [&](ike::Step& s) { ASSERT_TRUE(plain_ini.manager.rekey_ike(plain_old, s)); });
    ASSERT_TRUE(plain.run_until(
            [&] {
                const auto est = plain_ini.established();
                return est.size() == 1 && est.front()->id() != plain_old;
            },
            std::chrono::seconds(30)));
    const SecretBytes& rekeyed = only_sa(ini()).crypto()->sk_d;
    const SecretBytes& rekeyed_plain = only_sa(plain_ini).crypto()->sk_d;
    EXPECT_FALSE(rekeyed.equals(rekeyed_plain.view()));
    h.run_for(std::chrono::seconds(10));
    expect_consistent();
}

TEST_P(Ppk, OptionalInitiatorResponderWithoutPpksGoesWithout) {
    setup(kOptional, Side{});
    ASSERT_TRUE(up());
    EXPECT_FALSE(init_has(true, NotifyType::kUsePpk));  // the responder has no PPKs
    EXPECT_FALSE(auth_request_has(NotifyType::kPpkIdentity));
    EXPECT_FALSE(only_sa(ini()).uses_ppk());
    EXPECT_FALSE(only_sa(res()).uses_ppk());
    expect_consistent();
}

TEST_P(Ppk, OptionalInitiatorUnknownPpkIdFallsBackToNoPpkAuth) {
    setup(kOptional, Side{nullptr, false, {{"ppk-2", kOtherPpk}}});
    ASSERT_TRUE(up());
    EXPECT_TRUE(init_has(true, NotifyType::kUsePpk));
    EXPECT_TRUE(auth_request_has(NotifyType::kPpkIdentity));
    EXPECT_TRUE(auth_request_has(NotifyType::kNoPpkAuth));
    EXPECT_FALSE(auth_response_has(NotifyType::kPpkIdentity));
    EXPECT_FALSE(only_sa(ini()).uses_ppk());
    EXPECT_FALSE(only_sa(res()).uses_ppk());
    EXPECT_TRUE(logged("using NO_PPK_AUTH because PPK is not required"));
    EXPECT_TRUE(logged("continuing without PPK"));
    expect_consistent();
}

TEST_P(Ppk, RequiredInitiatorResponderWithoutPpksFails) {
    setup(kRequired, Side{});
    expect_down();
    EXPECT_TRUE(logged("PPK required but peer does not support PPK"));
    EXPECT_EQ(ini().count({.exchange = ExchangeType::kIkeAuth}), 0U);
}

TEST_P(Ppk, RequiredInitiatorUnknownPpkIdFails) {
    setup(kRequired, Side{nullptr, false, {{"ppk-2", kOtherPpk}}});
    expect_down();
    EXPECT_TRUE(logged("no PPK for PPK_ID 'ppk-1' and no NO_PPK_AUTH"));
    EXPECT_TRUE(auth_response_has(NotifyType::kAuthenticationFailed));
}

TEST_P(Ppk, MismatchedPpkFails) {
    setup(kOptional, Side{"ppk-1", false, {{"ppk-1", kOtherPpk}}});
    expect_down();
    EXPECT_TRUE(auth_response_has(NotifyType::kAuthenticationFailed));
}

TEST_P(Ppk, RequiredResponderInitiatorWithoutPpkFails) {
    setup(Side{}, kRequired);
    expect_down();
    EXPECT_FALSE(init_has(false, NotifyType::kUsePpk));
    EXPECT_TRUE(logged("PPK required but peer does not support PPK"));
    EXPECT_TRUE(auth_response_has(NotifyType::kAuthenticationFailed));
}

TEST_P(Ppk, RequiredResponderOptionalInitiatorUnknownIdFails) {
    setup(Side{"ppk-9", false, {{"ppk-9", kPpk}}}, kRequired);
    expect_down();
    EXPECT_TRUE(logged("PPK required but no PPK found for PPK_ID 'ppk-9'"));
}

TEST_P(Ppk, ResponderPpkIdRestrictsWhichPpk) {
    // The responder's connection names ppk-1; the initiator's ppk-2 is known but not for it.
    setup(Side{"ppk-2", false, {{"ppk-2", kOtherPpk}}},
          Side{"ppk-1", false, {{"ppk-1", kPpk}, {"ppk-2", kOtherPpk}}});
    ASSERT_TRUE(up());
    EXPECT_FALSE(only_sa(res()).uses_ppk());  // NO_PPK_AUTH instead
    expect_consistent();
}

// A PPK with EAP is not done (docs/rfc-compliance.md): a responder connection that requires
// one refuses an EAP client rather than let it in without a PPK.
TEST_P(Ppk, RequiredResponderRefusesAnEapClient) {
    ini_cfg().local.kind = ike::AuthKind::kEap;
    ini_cfg().local.eap_type = static_cast<std::uint8_t>(eap::Type::kMd5);
    res_cfg().remote.kind = ike::AuthKind::kEap;
    res_cfg().remote.eap_type = static_cast<std::uint8_t>(eap::Type::kMd5);
    ike::Credentials ic = creds_with(Side{});
    ike::Credentials rc = creds_with(kRequired);
    for (ike::Credentials* c : {&ic, &rc}) {
        c->eap_secrets.push_back(ike::Credentials::Psk{
                {ini_cfg().local.id}, SecretBytes::copy_of(as_bytes("md5-secret"))});
    }
    res_cfg().ppk_required = true;
    load(h, cfg, GetParam() ? std::move(ic) : std::move(rc),
         GetParam() ? std::move(rc) : std::move(ic));
    initiate();
    expect_down();
    EXPECT_TRUE(logged("the connection requires a PPK (RFC 8784), not supported with EAP"));
}

INSTANTIATE_TEST_SUITE_P(Roles, Ppk, ::testing::Bool(), role_name);

}  // namespace
}  // namespace ikeplex::test
