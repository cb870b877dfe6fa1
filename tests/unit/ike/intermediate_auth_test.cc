// RFC 9242 §3.3.2 pieces of IntAuth: the A chunk of an IKE_INTERMEDIATE message (header to the
// Encrypted payload's generic header, lengths adjusted, a fragment as if reassembled), the
// prf chain step (checked against RFC 4231 test case 1) and IntAuth with IKE_AUTH's message id.
#include "ike/intermediate_auth.h"

#include <gtest/gtest.h>

#include "crypto/algorithm_ids.h"
#include "exchange_harness.h"
#include "util/hex.h"

namespace ikeplex::ike {
namespace {

Bytes hex(const char* text) {
    return from_hex(text).value();
}

/// An IKE header (SPIs 01..08 / 11..18, exchange 43, initiator request, id 1) with
/// `next` and `length`.
Bytes header(std::uint8_t next, std::uint32_t length) {
    Bytes h =
            hex("0102030405060708"
                "1112131415161718");
    h.insert(h.end(), {next, 0x20, 43, 0x08, 0, 0, 0, 1});
    for (int i = 3; i >= 0; --i) {
        h.push_back(static_cast<std::uint8_t>(length >> (8 * i)));
    }
    return h;
}

void append(Bytes& a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
}

TEST(IntAuthA, WholeMessageLengthsAdjusted) {
    // SK (next KE, RESERVED 0x00) with a 16-byte IV, 48 bytes of ciphertext, a 16-byte ICV:
    // the A chunk stops after SK's generic header; the lengths count 30 bytes of plaintext.
    Bytes m = header(46, 28 + 4 + 16 + 48 + 16);
    append(m, hex("22000054"));
    m.resize(m.size() + 16 + 48 + 16, 0xee);
    Bytes expected = header(46, 28 + 4 + 30);
    append(expected, hex("22000022"));
    EXPECT_EQ(int_auth_a(m, 30).value(), expected);
    // No plaintext at all: lengths 32 and 4.
    Bytes empty = header(46, 32);
    append(empty, hex("22000004"));
    EXPECT_EQ(int_auth_a(m, 0).value(), empty);
}

TEST(IntAuthA, FirstFragmentCountsAsTheReassembledMessage) {
    // SKF (next KE, RESERVED with the critical bit as sent) with Fragment Number 1 of 3: SK in
    // the header's Next Payload, the RESERVED octet kept, the fragment fields left out.
    Bytes f = header(53, 28 + 8 + 100);
    append(f, hex("2280006c"
                  "00010003"));
    f.resize(f.size() + 100, 0xee);
    Bytes expected = header(46, 28 + 4 + 1500);
    append(expected, hex("228005e0"));
    EXPECT_EQ(int_auth_a(f, 1500).value(), expected);
}

TEST(IntAuthA, UnencryptedPayloadsBeforeSkAreIncluded) {
    // A Vendor ID (43) before SK: A runs through it; its Next Payload (SKF) becomes SK.
    Bytes m = header(43, 0);
    append(m, hex("35000008"
                  "cafe0001"));
    append(m, hex("00000010"
                  "00010001"));
    m.resize(m.size() + 40, 0xee);
    Bytes expected = header(43, 28 + 8 + 4 + 7);
    append(expected, hex("2e000008"
                         "cafe0001"));
    append(expected, hex("0000000b"));
    EXPECT_EQ(int_auth_a(m, 7).value(), expected);
}

TEST(IntAuthA, MalformedInputIsAnErrorNotACrash) {
    EXPECT_FALSE(int_auth_a({}, 0));
    EXPECT_FALSE(int_auth_a(header(46, 28), 0));  // SK header cut off
    Bytes no_sk = header(0, 32);
    append(no_sk, hex("00000004"));
    EXPECT_FALSE(int_auth_a(no_sk, 0));
    Bytes bad_len = header(43, 0);
    append(bad_len, hex("2e00ffff"
                        "00000000"));
    EXPECT_FALSE(int_auth_a(bad_len, 0));
    Bytes zero_len = header(43, 0);
    append(zero_len, hex("2e000000"
                         "00000000"));
    EXPECT_FALSE(int_auth_a(zero_len, 0));
    Bytes m = header(46, 32);
    append(m, hex("00000004"));
    EXPECT_FALSE(int_auth_a(m, 0x10000));  // more plaintext than a payload length holds
}

TEST(IntAuth, ChainStepIsThePrfOverPreviousAAndP) {
    // RFC 4231 test case 1 (HMAC-SHA-256, key 0x0b x 20, data "Hi There"), the data split
    // into previous | A | P.
    const crypto::Registry& r = test::test_registry();
    const crypto::Prf prf(r, *r.prf(crypto::prf::kHmacSha2_256));
    const Bytes key(20, 0x0b);
    const auto out = int_auth_step(prf, key, as_bytes("Hi"), as_bytes(" Th"), as_bytes("ere"));
    ASSERT_TRUE(out);
    EXPECT_EQ(to_hex(*out), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(IntAuth, IsIntAuthIThenIntAuthRThenTheMessageId) {
    EXPECT_EQ(to_hex(int_auth(hex("aaaa"), hex("bbbbbb"), 3)), "aaaabbbbbb00000003");
}

}  // namespace
}  // namespace ikeplex::ike
