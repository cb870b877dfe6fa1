#include <gtest/gtest.h>

#include "eap/eap.h"

namespace ikeplex::eap {
namespace {

TEST(EapPacket, RequestIdentityRoundTrips) {
    const Packet p{Code::kRequest, 7, Type::kIdentity, {}};
    const Bytes b = encode(p);
    EXPECT_EQ(b, (Bytes{1, 7, 0, 5, 1}));
    auto back = decode(b);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, p);
}

TEST(EapPacket, SuccessHasNoType) {
    const Bytes b = encode(Packet{Code::kSuccess, 9, Type::kIdentity, {}});
    EXPECT_EQ(b, (Bytes{3, 9, 0, 4}));
    auto back = decode(b);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->code, Code::kSuccess);
}

TEST(EapPacket, RejectsBadLengthsAndCodes) {
    EXPECT_FALSE(decode(Bytes{1, 1, 0, 9, 1}));       // longer than the bytes
    EXPECT_FALSE(decode(Bytes{1, 1, 0, 3}));          // shorter than a header
    EXPECT_FALSE(decode(Bytes{3, 1, 0, 5, 1}));       // Success with data
    EXPECT_FALSE(decode(Bytes{5, 1, 0, 4}));          // no such code
    EXPECT_FALSE(decode(Bytes{1, 1, 0, 4}));          // Request without a type
    EXPECT_TRUE(decode(Bytes{2, 1, 0, 5, 1, 0xff}));  // padding after Length is ignored
}

TEST(EapPacket, Names) {
    EXPECT_EQ(to_string(Type::kMschapv2), "mschapv2");
    EXPECT_EQ(type_from_name("tls"), Type::kTls);
    EXPECT_FALSE(type_from_name("sim"));
    EXPECT_EQ(to_string(static_cast<Type>(99)), "type 99");
}

}  // namespace
}  // namespace ikeplex::eap
