// Revocation in IKE_AUTH (docs/revocation.md): the responder checks the initiator's certificate
// against the CRLs it holds under `remote.revocation`. A revoked certificate is refused with
// AUTHENTICATION_FAILED under every mode; a good one passes under strict; without a CRL, strict
// fails, ifuri fails only when the certificate names a CRL URI, relaxed passes. Both roles.
#include "cert_factory.h"
#include "flow_fixture.h"

namespace ikeplex::test {
namespace {

using ike::EventKind;

struct Case {
    crypto::RevocationMode mode;
    bool revoked{false};  ///< the CRL lists the initiator's certificate
    bool with_crl{true};
    bool uri{false};  ///< the initiator's certificate has a CRL distribution point
};

class Revocation : public FlowTest {
protected:
    /// Loads a CA-issued certificate on each side, the CA and (maybe) the CA's CRL on both, and
    /// the responder's `remote.revocation`; then runs IKE_SA_INIT and IKE_AUTH.
    void run(const Case& c) {
        const auto ca_key = make_key(crypto::KeyType::kEcP256);
        const auto ca = issue(CertSpec{.cn = "CRL test CA", .ca = true}, ca_key, nullptr, ca_key);
        const bool a_ini = GetParam();
        // The initiator's certificate first: the responder's CRL (the same on both sides) lists it.
        const char* ini_dns = a_ini ? "a.test" : "b.test";
        const char* res_dns = a_ini ? "b.test" : "a.test";
        auto ini_key = make_key(crypto::KeyType::kEcP256);
        auto ini_cert = issue(CertSpec{.cn = ini_dns,
                                       .dns = {ini_dns},
                                       .crl_uri = c.uri ? "http://10.99.0.9/ca.crl" : ""},
                              ini_key, &ca, ca_key);
        const auto crl = [&] {
            std::vector<const crypto::Certificate*> listed;
            if (c.revoked) {
                listed.push_back(&ini_cert);
            }
            return issue_crl(ca, ca_key, listed);
        };
        const auto creds = [&](crypto::Certificate cert, crypto::PrivateKey key) {
            ike::Credentials cr;
            if (c.with_crl) {
                cr.crls.push_back(crl());
            }
            cr.certs.push_back(ike::Credentials::Own{std::move(cert), std::move(key)});
            EXPECT_TRUE(cr.add_ca(ca.clone()));
            return cr;
        };
        auto res_key = make_key(crypto::KeyType::kEcP256);
        auto res_cert = issue(CertSpec{.cn = res_dns, .dns = {res_dns}}, res_key, &ca, ca_key);
        auto ini_creds = creds(ini_cert.clone(), std::move(ini_key));
        auto res_creds = creds(std::move(res_cert), std::move(res_key));
        use_pubkey(cfg);
        res_cfg().remote.revocation = c.mode;
        load(h, cfg, a_ini ? std::move(ini_creds) : std::move(res_creds),
             a_ini ? std::move(res_creds) : std::move(ini_creds));
        initiate();
        settle();
    }

    void expect_refused() {
        EXPECT_EQ(res().count({.sent = true,
                               .exchange = wire::ExchangeType::kIkeAuth,
                               .response = true,
                               .payloads = "N(AUTH_FAILED)"}),
                  1U);
        EXPECT_EQ(ini().count(EventKind::kIkeFailed), 1U);
        EXPECT_EQ(res().count(EventKind::kIkeUp), 0U);
    }

    void expect_accepted() {
        EXPECT_EQ(ini().count(EventKind::kIkeUp), 1U);
        EXPECT_EQ(res().count(EventKind::kIkeUp), 1U);
    }
};

using Mode = crypto::RevocationMode;

TEST_P(Revocation, RevokedIsRefusedEvenWhenRelaxed) {
    run({.mode = Mode::kRelaxed, .revoked = true});
    expect_refused();
}

TEST_P(Revocation, GoodIsAcceptedUnderStrict) {
    run({.mode = Mode::kStrict});
    expect_accepted();
}

TEST_P(Revocation, NoCrlUnderStrictIsRefused) {
    run({.mode = Mode::kStrict, .with_crl = false});
    expect_refused();
}

TEST_P(Revocation, NoCrlUnderIfUriWithoutUriIsAccepted) {
    run({.mode = Mode::kIfUri, .with_crl = false});
    expect_accepted();
}

TEST_P(Revocation, NoCrlUnderIfUriWithUriIsRefused) {
    run({.mode = Mode::kIfUri, .with_crl = false, .uri = true});
    expect_refused();
}

TEST_P(Revocation, NoCrlUnderRelaxedWithUriIsAccepted) {
    run({.mode = Mode::kRelaxed, .with_crl = false, .uri = true});
    expect_accepted();
}

INSTANTIATE_TEST_SUITE_P(Roles, Revocation, ::testing::Bool(), role_name);

}  // namespace
}  // namespace ikeplex::test
