// OCSP (RFC 6960, nonce RFC 8954) against responses that openssl(1)'s responder produces at test
// time (`openssl ocsp -index … -reqin … -respout …`) for requests made by make_ocsp_request:
// good / revoked / unknown, the nonce echoed, missing or wrong, the signer (the issuer by name or
// key hash, a delegated responder with id-kp-OCSPSigning; refused: without it, an unrelated
// key, a look-alike of the issuer), nextUpdate passed, another CertID, malformed bytes and a
// non-successful responseStatus. Plus the AIA / CDP URIs of a certificate.
#include "crypto/ocsp.h"

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <openssl/pem.h>

#include <gtest/gtest.h>
#include <unistd.h>

#include "cert_factory.h"

namespace ikeplex::crypto {
namespace {

namespace fs = std::filesystem;
using ikeplex::test::CertSpec;
using ikeplex::test::issue;
using ikeplex::test::make_key;

const std::int64_t kNow = static_cast<std::int64_t>(std::time(nullptr));
const Bytes kNonce{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                   0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10};

CertSpec spec(std::string cn, bool ca = false, bool ocsp_signing = false) {
    // Real time: openssl(1) stamps thisUpdate with the clock.
    return {.cn = std::move(cn),
            .ca = ca,
            .not_before = kNow - 86400,
            .not_after = kNow + 30 * 86400,
            .ocsp_signing = ocsp_signing};
}

std::string serial_hex(const Certificate& c) {
    const BignumPtr bn(ASN1_INTEGER_to_BN(X509_get_serialNumber(c.raw()), nullptr));
    char* hex = BN_bn2hex(bn.get());
    std::string out(hex);
    OPENSSL_free(hex);
    return out;
}

struct Responder {
    /// Issued by `issuer`/`issuer_key`, or self-signed when `issuer` is null.
    Responder(const CertSpec& s, const Certificate* issuer, const PrivateKey* issuer_key)
        : cert(issue(s, key, issuer, issuer != nullptr ? *issuer_key : key)) {}
    PrivateKey key = make_key(KeyType::kEcP256);
    Certificate cert;
};

class Ocsp : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/ikeplex-ocsp-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        write_pem(ca, "ca.pem");
        write_key(ca_key, "ca.key");
        std::ofstream index(dir_ / "index.txt");
        index << "V\t301231235959Z\t\t" << serial_hex(good) << "\tunknown\t/CN=good.test\n";
        index << "R\t301231235959Z\t261101000000Z,keyCompromise\t" << serial_hex(revoked)
              << "\tunknown\t/CN=revoked.test\n";
    }
    void TearDown() override { fs::remove_all(dir_); }

    void write_pem(const Certificate& c, const std::string& name) {
        const std::unique_ptr<FILE, FnDeleter<&fclose>> f(fopen((dir_ / name).c_str(), "w"));
        ASSERT_TRUE(f);
        ASSERT_EQ(PEM_write_X509(f.get(), c.raw()), 1);
    }
    void write_key(const PrivateKey& k, const std::string& name) {
        const std::unique_ptr<FILE, FnDeleter<&fclose>> f(fopen((dir_ / name).c_str(), "w"));
        ASSERT_TRUE(f);
        ASSERT_EQ(PEM_write_PrivateKey(f.get(), k.raw(), nullptr, nullptr, 0, nullptr, nullptr), 1);
    }

    /// openssl(1)'s answer to a request for `cert` with `nonce`, signed by `signer`/`key`.
    Bytes respond(const Certificate& cert, ByteView nonce, const Certificate& signer,
                  const PrivateKey& key, const std::string& extra = "-ndays 1") {
        auto req = make_ocsp_request(cert, ca, nonce);
        EXPECT_TRUE(req);
        if (!req) {
            return {};
        }
        std::ofstream(dir_ / "req.der", std::ios::binary)
                .write(reinterpret_cast<const char*>(req->der.data()),
                       static_cast<std::streamsize>(req->der.size()));
        write_pem(signer, "rsigner.pem");
        write_key(key, "rsigner.key");
        const std::string d = dir_.string() + "/";
        const std::string cmd = "openssl ocsp -index " + d + "index.txt -CA " + d +
                                "ca.pem -rsigner " + d + "rsigner.pem -rkey " + d +
                                "rsigner.key -reqin " + d + "req.der -respout " + d + "resp.der " +
                                extra + " >/dev/null 2>&1";
        EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
        std::ifstream in(dir_ / "resp.der", std::ios::binary);
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }
    Bytes respond(const Certificate& cert, ByteView nonce = kNonce) {
        return respond(cert, nonce, ca, ca_key);
    }

    fs::path dir_;
    PrivateKey ca_key = make_key(KeyType::kEcP256);
    Certificate ca = issue(spec("OCSP Root CA", true), ca_key, nullptr, ca_key);
    PrivateKey leaf_key = make_key(KeyType::kEcP256);
    Certificate good = issue(spec("good.test"), leaf_key, &ca, ca_key);
    Certificate revoked = issue(spec("revoked.test"), leaf_key, &ca, ca_key);
    Certificate unlisted = issue(spec("unlisted.test"), leaf_key, &ca, ca_key);
};

void expect_refused(const Result<OcspStatus>& r, Errc code) {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, code) << r.error().detail;
}

TEST_F(Ocsp, GoodRevokedUnknownSignedByTheIssuer) {
    auto st = verify_ocsp_response(respond(good), good, ca, kNonce, kNow);
    ASSERT_TRUE(st) << st.error().detail;
    EXPECT_EQ(st->status, CertStatus::kGood);
    EXPECT_LE(st->this_update, kNow + 5);
    EXPECT_GT(st->next_update, kNow + 86000);

    st = verify_ocsp_response(respond(revoked), revoked, ca, kNonce, kNow);
    ASSERT_TRUE(st) << st.error().detail;
    EXPECT_EQ(st->status, CertStatus::kRevoked);
    EXPECT_EQ(st->revoked_at, 1793491200);  // 2026-11-01 00:00:00 UTC

    st = verify_ocsp_response(respond(unlisted), unlisted, ca, kNonce, kNow);
    ASSERT_TRUE(st) << st.error().detail;
    EXPECT_EQ(st->status, CertStatus::kUnknown);
}

TEST_F(Ocsp, IssuerNamedByKeyHash) {
    auto st = verify_ocsp_response(respond(good, kNonce, ca, ca_key, "-ndays 1 -resp_key_id"), good,
                                   ca, kNonce, kNow);
    ASSERT_TRUE(st) << st.error().detail;
    EXPECT_EQ(st->status, CertStatus::kGood);
}

TEST_F(Ocsp, NonceWrongIsRefusedAbsentIsAccepted) {
    const Bytes other(16, 0x42);
    expect_refused(verify_ocsp_response(respond(good, other), good, ca, kNonce, kNow),
                   Errc::kReplay);
    // A request without a nonce gets a response without one: accepted (RFC 5019 responders).
    const Bytes plain = respond(good, {});
    auto st = verify_ocsp_response(plain, good, ca, kNonce, kNow);
    ASSERT_TRUE(st) << st.error().detail;
    EXPECT_EQ(st->status, CertStatus::kGood);
    EXPECT_TRUE(verify_ocsp_response(plain, good, ca, {}, kNow));
    EXPECT_FALSE(make_ocsp_request(good, ca, Bytes(33, 1)));
}

TEST_F(Ocsp, DelegatedResponderNeedsOcspSigningFromTheIssuer) {
    const Responder with_eku(spec("ocsp.test", false, true), &ca, &ca_key);
    auto st = verify_ocsp_response(respond(revoked, kNonce, with_eku.cert, with_eku.key), revoked,
                                   ca, kNonce, kNow);
    ASSERT_TRUE(st) << st.error().detail;
    EXPECT_EQ(st->status, CertStatus::kRevoked);

    // Issued by the CA but without id-kp-OCSPSigning.
    const Responder no_eku(spec("ocsp.test"), &ca, &ca_key);
    expect_refused(verify_ocsp_response(respond(good, kNonce, no_eku.cert, no_eku.key), good, ca,
                                        kNonce, kNow),
                   Errc::kIntegrity);
    // With the EKU but from an unrelated, self-signed certificate.
    const Responder unrelated(spec("evil.test", true, true), nullptr, nullptr);
    expect_refused(verify_ocsp_response(respond(good, kNonce, unrelated.cert, unrelated.key), good,
                                        ca, kNonce, kNow),
                   Errc::kIntegrity);
    // A look-alike of the issuer (same name, another key): the ResponderID names the issuer, the
    // signature does not verify with its key.
    const Responder lookalike(spec("OCSP Root CA", true), nullptr, nullptr);
    expect_refused(verify_ocsp_response(respond(good, kNonce, lookalike.cert, lookalike.key), good,
                                        ca, kNonce, kNow),
                   Errc::kIntegrity);
    // The delegate's certificate left out of the response: nothing to verify it with.
    expect_refused(verify_ocsp_response(respond(good, kNonce, with_eku.cert, with_eku.key,
                                                "-ndays 1 -resp_no_certs"),
                                        good, ca, kNonce, kNow),
                   Errc::kIntegrity);
}

TEST_F(Ocsp, TimeWindowWithFiveMinutesSkew) {
    const Bytes short_lived = respond(good, kNonce, ca, ca_key, "-nmin 1");
    EXPECT_TRUE(verify_ocsp_response(short_lived, good, ca, kNonce, kNow));
    EXPECT_TRUE(verify_ocsp_response(short_lived, good, ca, kNonce, kNow + 60 + 240));
    expect_refused(verify_ocsp_response(short_lived, good, ca, kNonce, kNow + 3600), Errc::kState);
    // thisUpdate ahead of our clock: tolerated within 5 minutes, refused beyond.
    EXPECT_TRUE(verify_ocsp_response(short_lived, good, ca, kNonce, kNow - 240));
    expect_refused(verify_ocsp_response(short_lived, good, ca, kNonce, kNow - 600), Errc::kState);
}

TEST_F(Ocsp, ResponseForAnotherCertificateOrGarbageIsRefused) {
    expect_refused(verify_ocsp_response(respond(good), revoked, ca, kNonce, kNow), Errc::kNotFound);
    Bytes der = respond(good);
    Bytes truncated(der.begin(), der.end() - 1);
    expect_refused(verify_ocsp_response(truncated, good, ca, kNonce, kNow), Errc::kInvalidArgument);
    der.push_back(0);
    expect_refused(verify_ocsp_response(der, good, ca, kNonce, kNow), Errc::kInvalidArgument);
    expect_refused(verify_ocsp_response(Bytes{}, good, ca, kNonce, kNow), Errc::kInvalidArgument);
    expect_refused(verify_ocsp_response(Bytes{0x30, 0x03, 0x0a, 0x01}, good, ca, kNonce, kNow),
                   Errc::kInvalidArgument);
    // A successful status without a responseBytes.
    expect_refused(
            verify_ocsp_response(Bytes{0x30, 0x03, 0x0a, 0x01, 0x00}, good, ca, kNonce, kNow),
            Errc::kInvalidArgument);
}

TEST_F(Ocsp, NonSuccessfulResponseStatusIsRefused) {
    // OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED tryLater(3) } (RFC 6960 §4.2.1).
    expect_refused(
            verify_ocsp_response(Bytes{0x30, 0x03, 0x0a, 0x01, 0x03}, good, ca, kNonce, kNow),
            Errc::kUnsupported);
    expect_refused(
            verify_ocsp_response(Bytes{0x30, 0x03, 0x0a, 0x01, 0x06}, good, ca, kNonce, kNow),
            Errc::kUnsupported);
}

TEST_F(Ocsp, RequestCarriesSha1CertIdAndNonce) {
    auto req = make_ocsp_request(good, ca, kNonce);
    ASSERT_TRUE(req);
    EXPECT_EQ(req->nonce, kNonce);
    const unsigned char* p = req->der.data();
    const OcspRequestPtr parsed(d2i_OCSP_REQUEST(nullptr, &p, static_cast<long>(req->der.size())));
    ASSERT_TRUE(parsed);
    ASSERT_EQ(OCSP_request_onereq_count(parsed.get()), 1);
    OCSP_CERTID* id = OCSP_onereq_get0_id(OCSP_request_onereq_get0(parsed.get(), 0));
    ASN1_OBJECT* md = nullptr;
    ASN1_INTEGER* serial = nullptr;
    ASSERT_EQ(OCSP_id_get0_info(nullptr, &md, nullptr, &serial, id), 1);
    EXPECT_EQ(OBJ_obj2nid(md), NID_sha1);
    EXPECT_EQ(ASN1_INTEGER_cmp(serial, X509_get_serialNumber(good.raw())), 0);
    const int idx = OCSP_REQUEST_get_ext_by_NID(parsed.get(), NID_id_pkix_OCSP_Nonce, -1);
    ASSERT_GE(idx, 0);
    const ASN1_OCTET_STRING* v = X509_EXTENSION_get_data(OCSP_REQUEST_get_ext(parsed.get(), idx));
    Bytes expected{0x04, 0x10};
    expected.insert(expected.end(), kNonce.begin(), kNonce.end());
    EXPECT_EQ(Bytes(ASN1_STRING_get0_data(v), ASN1_STRING_get0_data(v) + ASN1_STRING_length(v)),
              expected);
}

TEST(OcspUris, AiaOcspAndCdpFullNameUris) {
    const PrivateKey key = make_key(KeyType::kEcP256);
    const Certificate ca = issue({.cn = "URI CA", .ca = true}, key, nullptr, key);
    // Raw extension text: two OCSP URIs around a caIssuers one; a CDP with two fullName URIs.
    const Certificate c = issue({.cn = "uris.test",
                                 .crl_uri = "http://10.99.0.1/a.crl,URI:ldap://10.99.0.1/b",
                                 .ocsp_uri = "http://10.99.0.1/ocsp,caIssuers;URI:http://x/ca.crt,"
                                             "OCSP;URI:http://10.99.0.2/"},
                                key, &ca, key);
    EXPECT_EQ(ocsp_uris(c),
              (std::vector<std::string>{"http://10.99.0.1/ocsp", "http://10.99.0.2/"}));
    EXPECT_EQ(crl_uris(c),
              (std::vector<std::string>{"http://10.99.0.1/a.crl", "ldap://10.99.0.1/b"}));
    EXPECT_TRUE(ocsp_uris(ca).empty());
    EXPECT_TRUE(crl_uris(ca).empty());
}

}  // namespace
}  // namespace ikeplex::crypto
