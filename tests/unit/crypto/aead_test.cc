// Data-plane AEAD known answers for both backends: NIST CAVP AES-GCM (encrypt and decrypt,
// failing tags included), RFC 8439 §2.8.2 / A.5 and RFC 7634 Appendix A (ESP) for
// ChaCha20-Poly1305. The same vectors run on OpenSSL and on IPsec-MB.
#include "crypto/aead.h"

#include <cstdio>

#include <gtest/gtest.h>

#include "crypto/algorithm_ids.h"
#include "crypto_fixture.h"
#include "util/hex.h"
#include "vector_file.h"

namespace ikeplex::crypto {
namespace {

using test::registry;

/// An AEAD for `encr` from the given backend; the IPsec-MB manager lives for the whole binary.
AeadPtr make(AeadBackend backend, const EncrInfo& encr, ByteView key_material) {
    if (backend == AeadBackend::kOpenSsl) {
        return make_openssl_aead(encr, key_material).value();
    }
    static const auto mb = IpsecMb::create().value();
    return mb->make_aead(encr, key_material).value();
}

class AeadBackends : public ::testing::TestWithParam<AeadBackend> {};

/// NIST vectors give a 96-bit IV; ours is salt (first 4 bytes, part of the key material) and
/// the 8-byte explicit IV.
struct Split {
    Bytes key_material;
    Bytes iv;
};
Split split(const Bytes& key, const Bytes& nonce12) {
    Split s{key, Bytes(nonce12.begin() + 4, nonce12.end())};
    s.key_material.insert(s.key_material.end(), nonce12.begin(), nonce12.begin() + 4);
    return s;
}

TEST_P(AeadBackends, NistAesGcm) {
    const auto vectors = ikeplex::test::load_vectors("nist/aes-gcm.txt");
    ASSERT_EQ(vectors.size(), 375U);
    std::size_t failures_seen = 0;
    for (const auto& v : vectors) {
        SCOPED_TRACE(v.name);
        const Bytes key = v.bytes("key");
        const EncrInfo* encr = registry().encr(crypto::encr::kAesGcm16,
                                               static_cast<std::uint16_t>(key.size() * 8));
        ASSERT_NE(encr, nullptr);
        const Split s = split(key, v.bytes("iv"));
        AeadPtr aead = make(GetParam(), *encr, s.key_material);
        ASSERT_EQ(aead->backend(), GetParam());
        const Bytes aad = v.bytes("aad");
        const Bytes ct = v.bytes("ciphertext");
        const Bytes tag = v.bytes("tag");
        if (v.has("fail")) {
            Bytes data = ct;
            EXPECT_FALSE(aead->open(s.iv, aad, data, tag));
            ++failures_seen;
            continue;
        }
        const Bytes pt = v.bytes("plaintext");
        Bytes data = pt;
        Bytes out_tag(kAeadTagSize);
        ASSERT_TRUE(aead->seal(s.iv, aad, data, out_tag));
        EXPECT_EQ(to_hex(data), to_hex(ct));
        EXPECT_EQ(to_hex(out_tag), to_hex(tag));
        ASSERT_TRUE(aead->open(s.iv, aad, data, tag));
        EXPECT_EQ(to_hex(data), to_hex(pt));
    }
    EXPECT_EQ(failures_seen, 105U);
}

TEST_P(AeadBackends, Rfc8439ChaCha20Poly1305) {
    const EncrInfo* encr = registry().encr(crypto::encr::kChacha20Poly1305, 0);
    ASSERT_NE(encr, nullptr);
    for (const auto& v : ikeplex::test::load_vectors("rfc/rfc8439-chacha20-poly1305.txt")) {
        SCOPED_TRACE(v.name);
        const Split s = split(v.bytes("key"), v.bytes("nonce"));
        AeadPtr aead = make(GetParam(), *encr, s.key_material);
        Bytes data = v.bytes("plaintext");
        Bytes tag(kAeadTagSize);
        ASSERT_TRUE(aead->seal(s.iv, v.bytes("aad"), data, tag));
        EXPECT_EQ(to_hex(data), to_hex(v.bytes("ciphertext")));
        EXPECT_EQ(to_hex(tag), to_hex(v.bytes("tag")));
        ASSERT_TRUE(aead->open(s.iv, v.bytes("aad"), data, tag));
        EXPECT_EQ(to_hex(data), to_hex(v.bytes("plaintext")));
        tag[0] ^= 1U;
        EXPECT_FALSE(aead->open(s.iv, v.bytes("aad"), data, tag));
    }
}

TEST_P(AeadBackends, Rfc7634EspPacket) {
    // RFC 7634 Appendix A: KEYMAT = key | salt, AAD = SPI | sequence number (no ESN),
    // the 8-byte IV in the packet; the ESP packet is outer IP | SPI | seq | IV | ct | tag.
    const auto v = ikeplex::test::load_vectors("rfc/rfc7634-chacha20-poly1305-ikev2-esp.txt")[0];
    ASSERT_EQ(v.name, "RFC 7634 Appendix A ESP Example");
    const EncrInfo* encr = registry().encr(crypto::encr::kChacha20Poly1305, 0);
    AeadPtr aead = make(GetParam(), *encr, v.bytes("keymat"));
    Bytes data = v.bytes("plaintext");
    Bytes tag(kAeadTagSize);
    ASSERT_TRUE(aead->seal(v.bytes("iv"), v.bytes("aad"), data, tag));
    EXPECT_EQ(to_hex(data), to_hex(v.bytes("ciphertext")));
    EXPECT_EQ(to_hex(tag), to_hex(v.bytes("tag")));
    // The same bytes sit in the ESP packet after the 20-byte outer IPv4 header.
    const Bytes esp = v.bytes("esp_packet");
    Bytes expected = v.bytes("spi");
    const Bytes seq = v.bytes("seq");
    expected.insert(expected.end(), seq.begin(), seq.end());
    const Bytes iv = v.bytes("iv");
    expected.insert(expected.end(), iv.begin(), iv.end());
    expected.insert(expected.end(), data.begin(), data.end());
    expected.insert(expected.end(), tag.begin(), tag.end());
    EXPECT_EQ(to_hex(ByteView(esp).subspan(20)), to_hex(expected));
    // And it opens again.
    Bytes ct(esp.begin() + 20 + 16, esp.end() - 16);
    ASSERT_TRUE(aead->open(iv, v.bytes("aad"), ct, ByteView(esp).last(16)));
    EXPECT_EQ(to_hex(ct), to_hex(v.bytes("plaintext")));
}

TEST_P(AeadBackends, WrongSizesAreRefused) {
    const EncrInfo* encr = registry().encr(crypto::encr::kAesGcm16, 128);
    AeadPtr aead = make(GetParam(), *encr, Bytes(20, 7));
    Bytes data(16);
    Bytes tag(kAeadTagSize);
    EXPECT_FALSE(aead->seal(Bytes(7), {}, data, tag));
    Bytes short_tag(12);
    EXPECT_FALSE(aead->seal(Bytes(8), {}, data, short_tag));
    EXPECT_FALSE(aead->open(Bytes(9), {}, data, tag));
    EXPECT_TRUE(aead->seal(Bytes(8), {}, data, tag));
    // Empty plaintext and empty AAD are fine (GMAC-like use).
    Bytes none;
    EXPECT_TRUE(aead->seal(Bytes(8), {}, none, tag));
    EXPECT_TRUE(aead->open(Bytes(8), {}, none, tag));
}

INSTANTIATE_TEST_SUITE_P(Both, AeadBackends,
                         ::testing::Values(AeadBackend::kOpenSsl, AeadBackend::kIpsecMb),
                         [](const auto& info) {
                             return info.param == AeadBackend::kOpenSsl ? "OpenSsl" : "IpsecMb";
                         });

TEST(AeadOnce, MatchesAKeyedAeadBothWays) {
    // The one-shot functions (IKE's SK payload) give the bytes a kept context gives, for
    // AES-GCM and ChaCha20-Poly1305, and refuse a wrong tag, key size or non-AEAD.
    for (const auto& [id, bits] :
         {std::pair{crypto::encr::kAesGcm16, 128}, std::pair{crypto::encr::kAesGcm16, 256},
          std::pair{crypto::encr::kChacha20Poly1305, 0}}) {
        const EncrInfo* encr = registry().encr(id, static_cast<std::uint16_t>(bits));
        ASSERT_NE(encr, nullptr);
        Bytes key(encr->key_size);
        for (std::size_t i = 0; i < key.size(); ++i) {
            key[i] = static_cast<std::uint8_t>(i * 7 + 1);
        }
        const Bytes iv(8, 0x42);
        const Bytes aad{1, 2, 3};
        Bytes kept(100, 0x5a);
        Bytes once = kept;
        Bytes kept_tag(kAeadTagSize);
        Bytes once_tag(kAeadTagSize);
        ASSERT_TRUE(make_openssl_aead(*encr, key).value()->seal(iv, aad, kept, kept_tag));
        ASSERT_TRUE(aead_seal_once(*encr, key, iv, aad, once, once_tag));
        EXPECT_EQ(to_hex(once), to_hex(kept));
        EXPECT_EQ(to_hex(once_tag), to_hex(kept_tag));
        Bytes bad_tag = once_tag;
        bad_tag[0] ^= 1;
        Bytes copy = once;
        EXPECT_FALSE(aead_open_once(*encr, key, iv, aad, copy, bad_tag));
        ASSERT_TRUE(aead_open_once(*encr, key, iv, aad, once, once_tag));
        EXPECT_EQ(once, Bytes(100, 0x5a));
        EXPECT_FALSE(aead_seal_once(*encr, ByteView(key).first(key.size() - 1), iv, aad, once,
                                    once_tag));
    }
    const EncrInfo* cbc = registry().encr(crypto::encr::kAesCbc, 128);
    Bytes data(16);
    Bytes tag(kAeadTagSize);
    EXPECT_FALSE(aead_seal_once(*cbc, Bytes(16), Bytes(8), {}, data, tag));
}

TEST(IpsecMb, RunsIpsecMbAndSaysWhichImplementation) {
    auto mb = IpsecMb::create();
    ASSERT_TRUE(mb);
    const std::string arch = (*mb)->arch_name();
    std::printf("IPsec-MB %s, implementation %s\n", IpsecMb::version(), arch.c_str());
    EXPECT_NE(arch, "NONE");
    EXPECT_STREQ(IpsecMb::version(), "1.3.0");
    // Every AEAD it makes is an IPsec-MB one, for every key size.
    for (const std::uint16_t bits : {std::uint16_t{128}, std::uint16_t{192}, std::uint16_t{256}}) {
        const EncrInfo* encr = registry().encr(crypto::encr::kAesGcm16, bits);
        EXPECT_EQ((*mb)->make_aead(*encr, Bytes(encr->key_size, 1)).value()->backend(),
                  AeadBackend::kIpsecMb);
    }
    const EncrInfo* cbc = registry().encr(crypto::encr::kAesCbc, 128);
    EXPECT_FALSE((*mb)->make_aead(*cbc, Bytes(16, 1)));  // not an AEAD
}

}  // namespace
}  // namespace ikeplex::crypto
