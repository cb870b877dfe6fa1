// SK payload protection: RFC 7634 Appendix B (a complete encrypted IKEv2 message, decrypted and
// re-encrypted byte for byte), NIST AES-CBC through the CBC path, round trips of every suite,
// padding rules and malformed encrypted payloads.
#include "ike/sk_cipher.h"

#include <gtest/gtest.h>

#include "crypto/algorithm_ids.h"
#include "crypto/cbc.h"
#include "crypto/prf.h"
#include "crypto_fixture.h"
#include "sample_messages.h"
#include "util/hex.h"
#include "util/random.h"
#include "vector_file.h"
#include "wire/constants.h"

namespace ikeplex::ike {
namespace {

using namespace ikeplex::wire;
using namespace ikeplex::crypto;
using crypto::test::registry;

TEST(SkCipher, Rfc7634IkeMessage) {
    const auto vectors = ikeplex::test::load_vectors("rfc/rfc7634-chacha20-poly1305-ikev2-esp.txt");
    const auto& v = vectors.at(1);
    ASSERT_EQ(v.name, "RFC 7634 Appendix B IKEv2 Example");
    const EncrInfo& encr = *registry().encr(encr::kChacha20Poly1305, 0);
    Bytes keymat = v.bytes("key");
    const Bytes salt = v.bytes("salt");
    keymat.insert(keymat.end(), salt.begin(), salt.end());
    const SkCipher c = SkCipher::create(registry(), encr, nullptr, keymat, {}).value();
    const Bytes message = v.bytes("message");
    const Message parsed = parse_message(message).value();
    ASSERT_NE(parsed.sk(), nullptr);
    const auto opened = c.open(message, parsed);
    ASSERT_TRUE(opened) << opened.error().to_string();
    EXPECT_EQ(to_hex(opened->plaintext), to_hex(v.bytes("notify_payload")));
    EXPECT_TRUE(opened->padding.empty());
    const auto inner = parse_payload_chain(parsed.sk()->first_inner, opened->plaintext).value();
    ASSERT_EQ(inner.size(), 1U);
    EXPECT_EQ(inner[0].as<NotifyPayload>()->type, NotifyType::kSetWindowSize);
    const auto again = c.seal(parsed.header, parsed.sk()->first_inner, opened->plaintext,
                              v.bytes("iv"), opened->padding);
    ASSERT_TRUE(again);
    EXPECT_EQ(to_hex(*again), to_hex(message));
}

TEST(SkCipher, NistAesCbc) {
    const auto vectors = ikeplex::test::load_vectors("nist/aes-cbc.txt");
    ASSERT_EQ(vectors.size(), 60U);
    for (const auto& v : vectors) {
        SCOPED_TRACE(v.name);
        const Bytes key = v.bytes("key");
        const EncrInfo& encr =
                *registry().encr(encr::kAesCbc, static_cast<std::uint16_t>(key.size() * 8));
        const bool enc = v.text("direction") == "encrypt";
        Bytes data = v.bytes(enc ? "plaintext" : "ciphertext");
        ASSERT_TRUE(aes_cbc(encr, key, v.bytes("iv"), data, enc));
        EXPECT_EQ(to_hex(data), to_hex(v.bytes(enc ? "ciphertext" : "plaintext")));
    }
}

struct Suite {
    std::uint16_t encr;
    std::uint16_t bits;
    std::uint16_t integ;
};

class SkSuites : public ::testing::TestWithParam<Suite> {};

TEST_P(SkSuites, RoundTripsAndRejectsTampering) {
    const EncrInfo& encr = *registry().encr(GetParam().encr, GetParam().bits);
    const IntegInfo* integ = GetParam().integ != 0 ? registry().integ(GetParam().integ) : nullptr;
    DeterministicRandom random(11);
    const Bytes ek = random.bytes(encr.key_size);
    const Bytes ik = random.bytes(integ != nullptr ? integ->key_size : 0);
    const SkCipher c = SkCipher::create(registry(), encr, integ, ek, ik).value();
    const Header h = ikeplex::test::sample_header(ExchangeType::kIkeAuth, false, 1);
    const auto inner = ikeplex::test::sample_ike_auth_request_inner();
    const Bytes plain = write_payload_chain(inner).value();
    const Bytes padding = c.default_padding(plain.size());
    EXPECT_EQ((plain.size() + padding.size() + 1) % encr.block_size, 0U);
    const Bytes iv = random.bytes(c.iv_size());
    const Bytes msg = c.seal(h, inner.front().type, plain, iv, padding).value();
    EXPECT_EQ(msg.size(), kIkeHeaderSize + plain.size() + c.overhead(padding.size()));
    const Message parsed = parse_message(msg).value();
    const auto opened = c.open(msg, parsed).value();
    EXPECT_EQ(opened.plaintext, plain);
    EXPECT_EQ(opened.padding, padding);
    EXPECT_EQ(opened.iv, iv);
    for (std::size_t i = 0; i < msg.size(); i += 13) {
        Bytes bad = msg;
        bad[i] ^= 0x80U;
        auto m = parse_message(bad);
        if (m && m->sk() != nullptr) {
            EXPECT_EQ(c.open(bad, *m).error().code, Errc::kIntegrity) << "offset " << i;
        }
    }
    // Explicit padding of any length up to 255 that keeps the alignment is accepted.
    const Bytes long_pad(padding.size() + 2 * encr.block_size * (encr.block_size == 1 ? 50 : 1),
                         0xaa);
    const Bytes msg2 = c.seal(h, inner.front().type, plain, iv, long_pad).value();
    EXPECT_EQ(c.open(msg2, parse_message(msg2).value())->padding, long_pad);
    if (encr.block_size > 1) {
        EXPECT_FALSE(c.seal(h, inner.front().type, plain, iv, Bytes(padding.size() + 1, 0)));
    }
    EXPECT_FALSE(c.seal(h, inner.front().type, plain, Bytes(c.iv_size() + 1), padding));
    // Fragments: each one protected on its own.
    const Bytes frag = c.seal_fragment(h, inner.front().type, 1, 2, plain, iv, padding).value();
    EXPECT_EQ(c.open(frag, parse_message(frag).value())->plaintext, plain);
}

INSTANTIATE_TEST_SUITE_P(All, SkSuites,
                         ::testing::Values(Suite{encr::kAesGcm16, 128, 0},
                                           Suite{encr::kAesGcm16, 192, 0},
                                           Suite{encr::kAesGcm16, 256, 0},
                                           Suite{encr::kChacha20Poly1305, 256, 0},
                                           Suite{encr::kAesCbc, 128, integ::kHmacSha2_256_128},
                                           Suite{encr::kAesCbc, 192, integ::kHmacSha2_384_192},
                                           Suite{encr::kAesCbc, 256, integ::kHmacSha2_512_256}),
                         [](const auto& info) {
                             return "encr" + std::to_string(info.param.encr) + "_" +
                                    std::to_string(info.param.bits) + "_integ" +
                                    std::to_string(info.param.integ);
                         });

TEST(SkCipher, MalformedEncryptedPayloads) {
    const EncrInfo& cbc = *registry().encr(encr::kAesCbc, 128);
    const IntegInfo& sha = *registry().integ(integ::kHmacSha2_256_128);
    const SkCipher c = SkCipher::create(registry(), cbc, &sha, Bytes(16, 1), Bytes(32, 2)).value();
    const Header h = ikeplex::test::sample_header(ExchangeType::kInformational, false, 2);
    for (const std::size_t n :
         {std::size_t{0}, std::size_t{16}, std::size_t{31}, std::size_t{47}}) {
        Message m{h, {make_payload(SkPayload{PayloadType::kNone, Bytes(n, 0)})}};
        const Bytes bytes = write_message(m).value();
        auto r = c.open(bytes, parse_message(bytes).value());
        ASSERT_FALSE(r) << n;
        EXPECT_EQ(r.error().code, Errc::kInvalidSyntax) << n;  // too short, or not whole blocks
    }
    // Wrong key sizes are refused at creation.
    EXPECT_FALSE(SkCipher::create(registry(), cbc, &sha, Bytes(15, 1), Bytes(32, 2)));
    EXPECT_FALSE(SkCipher::create(registry(), cbc, &sha, Bytes(16, 1), Bytes(31, 2)));
    EXPECT_FALSE(SkCipher::create(registry(), cbc, nullptr, Bytes(16, 1), {}));
    // A Pad Length larger than the decrypted data: built by hand with a valid ICV.
    const Bytes plain(15, 0);  // 15 zero bytes + pad length 0x20 = one block
    Bytes block = plain;
    block.push_back(0x20);
    const Bytes iv(16, 3);
    ASSERT_TRUE(aes_cbc(cbc, Bytes(16, 1), iv, block, true));
    Bytes data = iv;
    data.insert(data.end(), block.begin(), block.end());
    data.resize(data.size() + 16);
    Message m{h, {make_payload(SkPayload{PayloadType::kNone, data})}};
    Bytes bytes = write_message(m).value();
    const Bytes mac =
            integrity_mac(registry(), sha, Bytes(32, 2), {ByteView(bytes).first(bytes.size() - 16)})
                    .value();
    std::copy(mac.begin(), mac.end(), bytes.end() - 16);
    auto r = c.open(bytes, parse_message(bytes).value());
    ASSERT_FALSE(r);
    EXPECT_STREQ(r.error().detail, "SK: Pad Length exceeds the decrypted data");
}

}  // namespace
}  // namespace ikeplex::ike
