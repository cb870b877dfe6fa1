// The whole chain sent (RFC 7296 §3.6): the initiator's certificate is issued by an
// intermediate CA it holds; the responder trusts only the root. The initiator sends its
// certificate and the intermediate (not the root) and is authenticated through it; without the
// intermediate it is refused. Own keys of every kind operators have: EC, RSA-PSS (a key of type
// RSASSA-PSS, signing with RFC 7427 RSASSA-PSS) and Ed25519 (RFC 8420). Both roles.
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "cert_factory.h"
#include "flow_fixture.h"

namespace ikeplex::test {
namespace {

using ike::EventKind;

/// A key of type RSASSA-PSS (as `openssl genpkey -algorithm RSA-PSS` makes).
crypto::PrivateKey rsa_pss_key() {
    const crypto::EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA-PSS", nullptr));
    EVP_PKEY* key = nullptr;
    EXPECT_TRUE(ctx && EVP_PKEY_keygen_init(ctx.get()) == 1 &&
                EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), 2048) == 1 &&
                EVP_PKEY_generate(ctx.get(), &key) == 1);
    EXPECT_NE(EVP_PKEY_is_a(key, "RSA-PSS"), 0);
    return crypto::PrivateKey(crypto::EvpPkeyPtr(key));
}

class Chain : public FlowTest {
protected:
    /// Runs IKE_SA_INIT and IKE_AUTH with the initiator's certificate for `ini_key` issued by
    /// an intermediate that the initiator holds when `hold_intermediate`.
    void run(crypto::PrivateKey ini_key, bool hold_intermediate) {
        const auto root_key = make_key(crypto::KeyType::kEcP256);
        const auto root = issue(CertSpec{.cn = "Root CA", .ca = true}, root_key, nullptr, root_key);
        const auto im_key = make_key(crypto::KeyType::kEcP256);
        const auto im =
                issue(CertSpec{.cn = "Intermediate CA", .ca = true}, im_key, &root, root_key);
        const bool a_ini = GetParam();
        const char* ini_dns = a_ini ? "a.test" : "b.test";
        const char* res_dns = a_ini ? "b.test" : "a.test";
        auto ini_cert = issue(CertSpec{.cn = ini_dns, .dns = {ini_dns}}, ini_key, &im, im_key);
        auto res_key = make_key(crypto::KeyType::kEcP256);
        auto res_cert = issue(CertSpec{.cn = res_dns, .dns = {res_dns}}, res_key, &root, root_key);
        ike::Credentials ini_creds;
        ini_creds.certs.push_back(ike::Credentials::Own{std::move(ini_cert), std::move(ini_key)});
        EXPECT_TRUE(ini_creds.add_ca(root.clone()));
        if (hold_intermediate) {
            EXPECT_TRUE(ini_creds.add_ca(im.clone()));
        }
        ike::Credentials res_creds;  // the root only
        res_creds.certs.push_back(ike::Credentials::Own{std::move(res_cert), std::move(res_key)});
        EXPECT_TRUE(res_creds.add_ca(root.clone()));
        use_pubkey(cfg);
        load(h, cfg, a_ini ? std::move(ini_creds) : std::move(res_creds),
             a_ini ? std::move(res_creds) : std::move(ini_creds));
        initiate();
        settle();
    }

    /// The CERT payloads of the initiator's IKE_AUTH request.
    std::size_t certs_sent() {
        const auto sent = ini().find(
                {.sent = true, .exchange = wire::ExchangeType::kIkeAuth, .response = false});
        EXPECT_FALSE(sent.empty());
        if (sent.empty()) {
            return 0;
        }
        const std::string summary = " " + payload_summary(*sent.front()) + " ";
        std::size_t n = 0;
        for (auto at = summary.find(" CERT "); at != std::string::npos;
             at = summary.find(" CERT ", at + 1)) {
            ++n;
        }
        return n;
    }

    void expect_accepted() {
        EXPECT_EQ(ini().count(EventKind::kIkeUp), 1U);
        EXPECT_EQ(res().count(EventKind::kIkeUp), 1U);
    }
};

TEST_P(Chain, IntermediateSentAndRootNot) {
    run(make_key(crypto::KeyType::kEcP256), true);
    expect_accepted();
    EXPECT_EQ(certs_sent(), 2U);  // ours and the intermediate; the peer holds the root
}

TEST_P(Chain, WithoutTheIntermediateThePeerRefuses) {
    run(make_key(crypto::KeyType::kEcP256), false);
    EXPECT_EQ(certs_sent(), 1U);
    EXPECT_EQ(res().count({.sent = true,
                           .exchange = wire::ExchangeType::kIkeAuth,
                           .response = true,
                           .payloads = "N(AUTH_FAILED)"}),
              1U);
    EXPECT_EQ(res().count(EventKind::kIkeUp), 0U);
}

TEST_P(Chain, RsaPssKeyThroughTheIntermediate) {
    run(rsa_pss_key(), true);
    expect_accepted();
    EXPECT_EQ(certs_sent(), 2U);
}

TEST_P(Chain, Ed25519KeyThroughTheIntermediate) {
    run(make_key(crypto::KeyType::kEd25519), true);
    expect_accepted();
    EXPECT_EQ(certs_sent(), 2U);
}

INSTANTIATE_TEST_SUITE_P(Roles, Chain, ::testing::Bool(), role_name);

}  // namespace
}  // namespace ikeplex::test
