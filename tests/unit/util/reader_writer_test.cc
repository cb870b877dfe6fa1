#include <gtest/gtest.h>

#include "util/hex.h"
#include "util/reader.h"
#include "util/writer.h"

namespace ikeplex {
namespace {

TEST(Reader, ReadsNetworkOrder) {
    const Bytes data = *from_hex("01 0203 04050607 08090a0b0c0d0e0f ff");
    Reader r(data);
    EXPECT_EQ(*r.read_u8("a"), 0x01);
    EXPECT_EQ(*r.read_u16("b"), 0x0203);
    EXPECT_EQ(*r.read_u32("c"), 0x04050607U);
    EXPECT_EQ(*r.read_u64("d"), 0x08090a0b0c0d0e0fULL);
    EXPECT_EQ(r.remaining(), 1U);
    EXPECT_EQ(r.read_rest().size(), 1U);
    EXPECT_TRUE(r.empty());
}

TEST(Reader, FailureNamesTheFieldAndDoesNotMove) {
    const Bytes data{0x01, 0x02, 0x03};
    Reader r(data);
    auto v = r.read_u32("header: length");
    ASSERT_FALSE(v);
    EXPECT_EQ(v.error().code, Errc::kTruncated);
    EXPECT_STREQ(v.error().detail, "header: length");
    EXPECT_EQ(r.position(), 0U);
    EXPECT_EQ(*r.read_u16("x"), 0x0102);
    EXPECT_FALSE(r.read_u16("y"));
    EXPECT_FALSE(r.read_bytes(2, "z"));
    EXPECT_EQ(r.remaining(), 1U);
    EXPECT_FALSE(r.read_u64("w"));
}

TEST(Reader, BytesAreViewsIntoTheInput) {
    const Bytes data{1, 2, 3, 4, 5};
    Reader r(data);
    ByteView v = *r.read_bytes(3, "x");
    EXPECT_EQ(v.data(), data.data());
    Reader sub = *r.sub_reader(2, "y");
    EXPECT_EQ(*sub.read_u16("z"), 0x0405);
    EXPECT_FALSE(r.sub_reader(1, "past end"));
}

TEST(Writer, WritesNetworkOrderAndPatchesLengths) {
    Writer w;
    w.write_u8(0xaa);
    const auto mark16 = w.reserve_u16_length(0);
    w.write_u32(0x01020304);
    w.write_u64(0x0506070809101112ULL);
    ASSERT_TRUE(w.patch_length(mark16, "len"));
    EXPECT_EQ(to_hex(w.view()),
              "aa000f01020304"
              "0506070809101112");
    const auto mark32 = w.reserve_u32_length(w.size());
    w.write_zeros(2);
    ASSERT_TRUE(w.patch_length(mark32, "len32"));
    EXPECT_EQ(to_hex(w.view().last(6)), "000000060000");
}

TEST(Writer, LengthOverflowIsAnError) {
    Writer w;
    const auto mark = w.reserve_u16_length(0);
    w.write_zeros(70000);
    auto s = w.patch_length(mark, "payload length");
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, Errc::kTooLarge);
    EXPECT_STREQ(s.error().detail, "payload length");
}

TEST(Hex, RoundTripAndErrors) {
    EXPECT_EQ(to_hex(*from_hex("0xDEADbeef")), "deadbeef");
    EXPECT_EQ(to_hex(*from_hex("de:ad be\nef")), "deadbeef");
    EXPECT_EQ(from_hex("abc").error().code, Errc::kInvalidSyntax);
    EXPECT_EQ(from_hex("zz").error().code, Errc::kInvalidSyntax);
    EXPECT_TRUE(from_hex("")->empty());
}

}  // namespace
}  // namespace ikeplex
