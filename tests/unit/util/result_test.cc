#include "util/result.h"

#include <string>

#include <gtest/gtest.h>

namespace ikeplex {
namespace {

Result<int> parse_digit(char c) {
    if (c < '0' || c > '9') {
        return make_error(Errc::kInvalidSyntax, "not a digit", 7, static_cast<std::uint32_t>(c));
    }
    return c - '0';
}

Result<int> sum_two(char a, char b) {
    const int x = IKEPLEX_TRY(parse_digit(a));
    const int y = IKEPLEX_TRY(parse_digit(b));
    return x + y;
}

Status check_digit(char c) {
    IKEPLEX_TRY(parse_digit(c));
    return ok();
}

TEST(Result, ValueAndError) {
    Result<int> good = parse_digit('7');
    ASSERT_TRUE(good.has_value());
    EXPECT_EQ(*good, 7);
    EXPECT_EQ(good.value_or(1), 7);

    Result<int> bad = parse_digit('x');
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error().code, Errc::kInvalidSyntax);
    EXPECT_STREQ(bad.error().detail, "not a digit");
    EXPECT_EQ(bad.error().notify, 7);
    EXPECT_EQ(bad.error().arg, static_cast<std::uint32_t>('x'));
    EXPECT_EQ(bad.value_or(-1), -1);
}

TEST(Result, TryPropagatesTheFirstError) {
    EXPECT_EQ(*sum_two('3', '4'), 7);
    Result<int> r = sum_two('3', 'q');
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().arg, static_cast<std::uint32_t>('q'));
    EXPECT_TRUE(check_digit('1').has_value());
    EXPECT_EQ(check_digit('z').error().code, Errc::kInvalidSyntax);
}

TEST(Result, AndThenAndTransform) {
    auto doubled = parse_digit('4').transform([](int v) { return v * 2; });
    EXPECT_EQ(*doubled, 8);
    auto chained = parse_digit('4').and_then(
            [](int v) { return parse_digit(static_cast<char>('0' + v + 1)); });
    EXPECT_EQ(*chained, 5);
    auto failed = parse_digit('!').transform([](int v) { return std::to_string(v); });
    EXPECT_FALSE(failed.has_value());
    EXPECT_EQ(failed.error().code, Errc::kInvalidSyntax);
}

TEST(Result, MoveOnlyValues) {
    Result<std::unique_ptr<int>> r = std::make_unique<int>(5);
    std::unique_ptr<int> p = std::move(r).value();
    EXPECT_EQ(*p, 5);
}

TEST(Result, ErrorToStringNamesEverything) {
    Error e = make_error(Errc::kTruncated, "SA proposal: length", 0, 12);
    e.sys_errno = 4;
    EXPECT_EQ(e.to_string(), "truncated: SA proposal: length (errno 4) [12]");
}

TEST(Result, EveryErrcHasAName) {
    for (std::uint16_t c = 1; c <= static_cast<std::uint16_t>(Errc::kInternal); ++c) {
        EXPECT_STRNE(to_string(static_cast<Errc>(c)), "unknown error") << c;
    }
}

TEST(ResultDeathTest, ValueOfAnErrorAborts) {
    Result<int> bad = parse_digit('x');
    EXPECT_DEATH((void)bad.value(), "value\\(\\) of a failed Result: invalid syntax: not a digit");
}

}  // namespace
}  // namespace ikeplex
