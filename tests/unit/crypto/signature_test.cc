// RFC 7427 signature authentication: the Appendix A AlgorithmIdentifiers, the Appendix B
// payload layout, signing and verifying with every scheme, hash negotiation, and refusals.
#include "crypto/signature.h"

#include <map>
#include <optional>

#include <openssl/pem.h>

#include <gtest/gtest.h>

#include "cert_factory.h"
#include "crypto/algorithm_ids.h"
#include "util/hex.h"
#include "vector_file.h"

namespace ikeplex::crypto {
namespace {

using crypto::HashAlgorithm;

TEST(Signature, Rfc7427AppendixAAlgorithmIdentifiers) {
    // Every object of Appendix A parses to the scheme it names, or is refused (SHA-1, DSA,
    // RSASSA-PSS with SHA-1 defaults); the ones ikeplex sends are byte for byte the RFC's.
    const std::map<std::string, std::optional<SignatureScheme>> expected = {
            {"sha1WithRSAEncryption", std::nullopt},
            {"sha256WithRSAEncryption", SignatureScheme::kRsaPkcs1Sha256},
            {"sha384WithRSAEncryption", SignatureScheme::kRsaPkcs1Sha384},
            {"sha512WithRSAEncryption", SignatureScheme::kRsaPkcs1Sha512},
            {"dsa-with-sha1", std::nullopt},
            {"dsa-with-sha256", std::nullopt},
            {"ecdsa-with-sha1", std::nullopt},
            {"ecdsa-with-sha256", SignatureScheme::kEcdsaSha256},
            {"ecdsa-with-sha384", SignatureScheme::kEcdsaSha384},
            {"ecdsa-with-sha512", SignatureScheme::kEcdsaSha512},
            {"RSASSA-PSS with Empty Parameters", std::nullopt},
            {"RSASSA-PSS with Default Parameters", std::nullopt},
            {"RSASSA-PSS with SHA-256", SignatureScheme::kRsaPssSha256},
    };
    std::size_t seen = 0;
    for (const auto& v : ikeplex::test::load_vectors("rfc/rfc7427-signature-auth.txt")) {
        if (!v.has("der")) {
            continue;
        }
        SCOPED_TRACE(v.name);
        const auto it = expected.find(v.text("algorithm"));
        ASSERT_NE(it, expected.end());
        ++seen;
        const Bytes der = v.bytes("der");
        Bytes auth{static_cast<std::uint8_t>(der.size())};
        auth.insert(auth.end(), der.begin(), der.end());
        auth.insert(auth.end(), {1, 2, 3});
        const auto parsed = parse_signature_auth(auth);
        if (!it->second) {
            ASSERT_FALSE(parsed);
            EXPECT_EQ(parsed.error().code, Errc::kAuthFailed);
            continue;
        }
        ASSERT_TRUE(parsed) << parsed.error().to_string();
        EXPECT_EQ(parsed->scheme, *it->second);
        EXPECT_EQ(parsed->signature, (Bytes{1, 2, 3}));
        EXPECT_EQ(to_hex(algorithm_identifier(*it->second)), to_hex(der));
    }
    EXPECT_EQ(seen, expected.size());
}

TEST(Signature, Rfc7427AppendixBLayout) {
    // B.1: AUTH method 14, then the ASN.1 length octet and the AlgorithmIdentifier.
    const auto v = ikeplex::test::load_vectors("rfc/rfc7427-signature-auth.txt").back();
    ASSERT_TRUE(v.has("auth_payload_prefix"));
    const Bytes prefix = v.bytes("auth_payload_prefix");
    EXPECT_EQ(prefix[0], 14);  // Digital Signature
    const Bytes alg = v.bytes("algorithm_identifier");
    EXPECT_EQ(prefix[4], alg.size());
    // The same layout from our encoder (with a scheme we accept).
    const Bytes ours = encode_signature_auth(SignatureScheme::kEcdsaSha256, Bytes{9, 9});
    EXPECT_EQ(ours[0], 12);
    EXPECT_EQ(to_hex(ByteView(ours).subspan(1, 12)), "300a06082a8648ce3d040302");
    EXPECT_EQ(ours.back(), 9);
    // SHA-1 signatures are refused (RFC 8247).
    Bytes sha1{static_cast<std::uint8_t>(alg.size())};
    sha1.insert(sha1.end(), alg.begin(), alg.end());
    EXPECT_FALSE(parse_signature_auth(sha1));
}

TEST(Signature, MalformedAuthData) {
    EXPECT_FALSE(parse_signature_auth({}));
    EXPECT_FALSE(parse_signature_auth(Bytes{0}));
    EXPECT_FALSE(parse_signature_auth(Bytes{20, 0x30, 0x0a}));
    EXPECT_FALSE(parse_signature_auth(from_hex("0c300b06082a8648ce3d040302").value()));  // bad DER
    const auto e = parse_signature_auth(Bytes{3, 1, 2, 3}).error();
    EXPECT_EQ(e.code, Errc::kAuthFailed);  // the engine answers AUTHENTICATION_FAILED
}

struct KeyCase {
    KeyType type;
    std::vector<SignatureScheme> schemes;
};

TEST(Signature, SignAndVerifyEveryScheme) {
    const Bytes octets = to_bytes("IKE_SA_INIT message | nonce | prf(SK_p, ID)");
    const std::vector<KeyCase> cases = {
            {KeyType::kEcP256, {SignatureScheme::kEcdsaSha256, SignatureScheme::kEcdsaSha384}},
            {KeyType::kEcP384, {SignatureScheme::kEcdsaSha384}},
            {KeyType::kEcP521, {SignatureScheme::kEcdsaSha512}},
            {KeyType::kEd25519, {SignatureScheme::kEd25519}},
            {KeyType::kRsa,
             {SignatureScheme::kRsaPssSha256, SignatureScheme::kRsaPssSha384,
              SignatureScheme::kRsaPssSha512, SignatureScheme::kRsaPkcs1Sha256,
              SignatureScheme::kRsaPkcs1Sha512}},
    };
    for (const auto& c : cases) {
        const PrivateKey key = ikeplex::test::make_key(c.type);
        const auto cert = ikeplex::test::issue({.cn = "signer"}, key, nullptr, key);
        const PublicKey pub = cert.public_key().value();
        EXPECT_EQ(pub.type(), c.type);
        for (SignatureScheme s : c.schemes) {
            SCOPED_TRACE(to_string(s));
            const Bytes sig = key.sign(s, octets).value();
            // Through the AUTH encoding and back, as a peer would see it.
            const auto parsed = parse_signature_auth(encode_signature_auth(s, sig)).value();
            EXPECT_EQ(parsed.scheme, s);
            EXPECT_TRUE(pub.verify(parsed.scheme, octets, parsed.signature));
            Bytes other = octets;
            other.back() ^= 1U;
            EXPECT_FALSE(pub.verify(s, other, sig));
            Bytes bad = sig;
            bad[bad.size() / 2] ^= 1U;
            EXPECT_FALSE(pub.verify(s, octets, bad));
        }
        // A scheme for another key type neither signs nor verifies.
        const SignatureScheme foreign = c.type == KeyType::kEd25519 ? SignatureScheme::kEcdsaSha256
                                                                    : SignatureScheme::kEd25519;
        EXPECT_FALSE(key.sign(foreign, octets));
        EXPECT_FALSE(pub.verify(foreign, octets, Bytes(64, 1)));
    }
}

TEST(Signature, HashNegotiation) {
    // RFC 7427 §4: sign with a hash the peer announced.
    const PrivateKey p256 = ikeplex::test::make_key(KeyType::kEcP256);
    const PrivateKey p384 = ikeplex::test::make_key(KeyType::kEcP384);
    const PrivateKey ed = ikeplex::test::make_key(KeyType::kEd25519);
    const PrivateKey rsa = ikeplex::test::make_key(KeyType::kRsa);
    const std::vector<HashAlgorithm> all(supported_hashes().begin(), supported_hashes().end());
    EXPECT_EQ(p256.choose_scheme(all).value(), SignatureScheme::kEcdsaSha256);
    EXPECT_EQ(p384.choose_scheme(all).value(), SignatureScheme::kEcdsaSha384);
    EXPECT_EQ(ed.choose_scheme(all).value(), SignatureScheme::kEd25519);
    EXPECT_EQ(rsa.choose_scheme(all).value(), SignatureScheme::kRsaPssSha256);
    const std::vector<HashAlgorithm> only512{HashAlgorithm::kSha2_512};
    EXPECT_EQ(p256.choose_scheme(only512).value(), SignatureScheme::kEcdsaSha512);
    EXPECT_EQ(rsa.choose_scheme(only512).value(), SignatureScheme::kRsaPssSha512);
    EXPECT_EQ(ed.choose_scheme(only512).error().code, Errc::kNoProposal);
    EXPECT_EQ(p256.choose_scheme({}).error().code, Errc::kNoProposal);
    EXPECT_EQ(hash_of(SignatureScheme::kEd25519), HashAlgorithm::kIdentity);
}

TEST(Signature, PrivateKeyFromPem) {
    EXPECT_FALSE(PrivateKey::from_pem("not a key"));
    const PrivateKey k = ikeplex::test::make_key(KeyType::kEcP256);
    const BioPtr bio(BIO_new(BIO_s_mem()));
    ASSERT_EQ(PEM_write_bio_PrivateKey(bio.get(), k.raw(), nullptr, nullptr, 0, nullptr, nullptr),
              1);
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    const auto back = PrivateKey::from_pem({data, static_cast<std::size_t>(len)});
    ASSERT_TRUE(back);
    EXPECT_EQ(back->type(), KeyType::kEcP256);
}

}  // namespace
}  // namespace ikeplex::crypto
