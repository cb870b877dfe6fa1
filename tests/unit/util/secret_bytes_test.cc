#include "util/secret_bytes.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "util/strong_id.h"

namespace ikeplex {
namespace {

TEST(SecretBytes, CopiesMovesAndCompares) {
    const Bytes key{1, 2, 3, 4};
    SecretBytes s = SecretBytes::copy_of(key);
    EXPECT_EQ(s.size(), 4U);
    EXPECT_TRUE(s.equals(key));
    EXPECT_FALSE(s.equals(Bytes{1, 2, 3, 5}));
    EXPECT_FALSE(s.equals(Bytes{1, 2, 3}));

    SecretBytes moved = std::move(s);
    EXPECT_TRUE(moved.equals(key));
    EXPECT_TRUE(s.empty());  // NOLINT(bugprone-use-after-move): moved-from state is defined

    SecretBytes c = moved.clone();
    EXPECT_TRUE(c.equals(key));
    EXPECT_TRUE(c.slice(1, 2).equals(Bytes{2, 3}));
}

TEST(SecretBytes, NeverPrintsItsContents) {
    const SecretBytes s = SecretBytes::copy_of(Bytes{0xde, 0xad, 0xbe, 0xef});
    const std::string text = fmt::format("key={}", s);
    EXPECT_EQ(text, "key=<secret 4 bytes>");
    EXPECT_EQ(text.find("de"), std::string::npos);
}

TEST(SecretBytes, ClearWipes) {
    SecretBytes s(16);
    for (auto& b : s.mut_view()) {
        b = 0x5a;
    }
    s.clear();
    EXPECT_TRUE(s.empty());
    EXPECT_EQ(s.view().size(), 0U);
}

TEST(SecureZero, OverwritesMemory) {
    Bytes b{1, 2, 3};
    secure_zero(b);
    EXPECT_EQ(b, (Bytes{0, 0, 0}));
}

TEST(StrongId, FormatsAndCompares) {
    EXPECT_EQ(fmt::format("{}", Spi(0xc1a2b3c4)), "c1a2b3c4");
    EXPECT_EQ(fmt::format("{}", Spi(0x1)), "00000001");
    EXPECT_EQ(fmt::format("{}", IkeSpi(0x1f)), "000000000000001f");
    EXPECT_EQ(fmt::format("{}", MessageId(7)), "7");
    EXPECT_EQ(fmt::format("{}", ReqId(3)), "3");
    EXPECT_EQ(fmt::format("{}", ResourceId::none()), "cpu -");
    EXPECT_EQ(fmt::format("{}", ResourceId::cpu(3)), "cpu 3");
    EXPECT_TRUE(ResourceId().is_none());
    EXPECT_FALSE(ResourceId::cpu(0).is_none());
    EXPECT_LT(Spi(1), Spi(2));
    EXPECT_NE(ResourceId::cpu(1), ResourceId::cpu(2));
    EXPECT_EQ(std::hash<Spi>{}(Spi(5)), std::hash<std::uint32_t>{}(5));
}

}  // namespace
}  // namespace ikeplex
