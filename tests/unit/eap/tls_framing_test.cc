// EAP-TLS framing (RFC 5216 §3.1, §3.2): flags, TLS Message Length, fragment sizes as
// strongSwan cuts them (fragment_size counts the whole EAP packet), reassembly and its limits.
#include "eap/tls_framing.h"

#include <gtest/gtest.h>

namespace ikeplex::eap::tls {
namespace {

Bytes pattern(std::size_t n) {
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i) {
        b[i] = static_cast<std::uint8_t>(i * 7 + 3);
    }
    return b;
}

TEST(EapTlsFraming, ParsesFlagsAndLength) {
    const Bytes td{0xc0, 0, 0, 0x01, 0x00, 0xaa, 0xbb};
    auto f = parse(td);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->flags, 0xc0);
    ASSERT_TRUE(f->message_length);
    EXPECT_EQ(*f->message_length, 256U);
    EXPECT_EQ(Bytes(f->data.begin(), f->data.end()), (Bytes{0xaa, 0xbb}));
    EXPECT_FALSE(is_ack(*f));

    auto ack = parse(ack_type_data());
    ASSERT_TRUE(ack);
    EXPECT_TRUE(is_ack(*ack));
    auto start = parse(start_type_data());
    ASSERT_TRUE(start);
    EXPECT_EQ(start->flags, kFlagStart);
    EXPECT_FALSE(is_ack(*start));
    // Reserved bits are ignored on receipt.
    auto reserved = parse(Bytes{0x07});
    ASSERT_TRUE(reserved);
    EXPECT_TRUE(is_ack(*reserved));
}

TEST(EapTlsFraming, TruncatedHeadersAreErrors) {
    EXPECT_FALSE(parse(Bytes{}));
    EXPECT_FALSE(parse(Bytes{0x80}));
    EXPECT_FALSE(parse(Bytes{0x80, 0, 0, 1}));
    EXPECT_TRUE(parse(Bytes{0x80, 0, 0, 0, 1}));
}

TEST(EapTlsFraming, FragmentsAsStrongSwanCutsThem) {
    // 1024-byte EAP packets: 6 header bytes, 4 length bytes in the first, 1014 then 1018 data.
    Fragmenter fr(1024);
    const Bytes msg = pattern(3000);
    fr.load(msg);
    Bytes joined;
    std::vector<Bytes> frags;
    while (fr.pending()) {
        frags.push_back(fr.next());
    }
    ASSERT_EQ(frags.size(), 3U);
    EXPECT_EQ(frags[0][0], kFlagLength | kFlagMore);
    EXPECT_EQ(frags[0].size() + 5, 1024U);  // + Code, Identifier, Length, Type
    EXPECT_EQ(frags[1][0], kFlagMore);
    EXPECT_EQ(frags[1].size() + 5, 1024U);
    EXPECT_EQ(frags[2][0], 0);
    EXPECT_EQ(frags[2].size() - 1, 3000U - 1014 - 1018);
    Reassembler re(64 * 1024);
    for (std::size_t i = 0; i < frags.size(); ++i) {
        auto f = parse(frags[i]);
        ASSERT_TRUE(f);
        auto r = re.add(*f);
        ASSERT_TRUE(r);
        EXPECT_EQ(r->has_value(), i + 1 == frags.size());
        if (r->has_value()) {
            joined = **r;
        }
    }
    EXPECT_EQ(joined, msg);
}

TEST(EapTlsFraming, AnUnfragmentedMessageStillCarriesItsLength) {
    Fragmenter fr(1024);
    fr.load(pattern(100));
    const Bytes td = fr.next();
    EXPECT_FALSE(fr.pending());
    EXPECT_EQ(td[0], kFlagLength);
    EXPECT_EQ(td.size(), 105U);
    EXPECT_EQ(td[4], 100);
}

TEST(EapTlsFraming, ReassemblyRules) {
    const Bytes ten = pattern(10);
    auto frag = [&](std::uint8_t flags, std::optional<std::uint32_t> len, std::size_t n) {
        return Fragment{flags, len, ByteView(ten.data(), n)};
    };
    {  // the first fragment of a fragmented message must carry L
        Reassembler re(1000);
        EXPECT_FALSE(re.add(frag(kFlagMore, std::nullopt, 10)));
    }
    {  // L over the cap
        Reassembler re(1000);
        EXPECT_FALSE(re.add(frag(kFlagLength | kFlagMore, 1001, 10)));
    }
    {  // a later L that differs
        Reassembler re(1000);
        ASSERT_TRUE(re.add(frag(kFlagLength | kFlagMore, 30, 10)));
        EXPECT_FALSE(re.add(frag(kFlagLength | kFlagMore, 31, 10)));
    }
    {  // fragments beyond the announced length
        Reassembler re(1000);
        ASSERT_TRUE(re.add(frag(kFlagLength | kFlagMore, 15, 10)));
        EXPECT_FALSE(re.add(frag(0, std::nullopt, 10)));
    }
    {  // a stream that ends short of it
        Reassembler re(1000);
        ASSERT_TRUE(re.add(frag(kFlagLength | kFlagMore, 25, 10)));
        EXPECT_FALSE(re.add(frag(0, std::nullopt, 10)));
    }
    {  // a fragment with M and no data
        Reassembler re(1000);
        EXPECT_FALSE(re.add(frag(kFlagLength | kFlagMore, 25, 0)));
    }
    {  // the cap holds for a single message without L too
        Reassembler re(15);
        ASSERT_TRUE(re.add(frag(kFlagLength | kFlagMore, 15, 10)));
        EXPECT_FALSE(re.add(frag(kFlagMore, std::nullopt, 10)));
        Reassembler alone(9);
        EXPECT_FALSE(alone.add(frag(0, std::nullopt, 10)));
    }
    {  // a repeated equal L is fine
        Reassembler re(1000);
        ASSERT_TRUE(re.add(frag(kFlagLength | kFlagMore, 20, 10)));
        auto r = re.add(frag(kFlagLength, 20, 10));
        ASSERT_TRUE(r);
        ASSERT_TRUE(r->has_value());
        EXPECT_EQ((*r)->size(), 20U);
    }
}

}  // namespace
}  // namespace ikeplex::eap::tls
