// Every diagnostic of the settings parser, with its exact "file:line: message" text, and the
// recovery that lets one pass report several problems.
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/settings.h"
#include "settings_test_util.h"

namespace ikeplex::config {
namespace {

using test::errors_of;
using ::testing::ElementsAre;

TEST(SettingsErrors, UnexpectedClosingBrace) {
    EXPECT_THAT(errors_of("a = 1\ns { }\n}\nb = 2\n"), ElementsAre("test.conf:3: unexpected '}'"));
    EXPECT_THAT(errors_of("}}"),
                ElementsAre("test.conf:1: unexpected '}'", "test.conf:1: unexpected '}'"));
}

TEST(SettingsErrors, UnterminatedSection) {
    EXPECT_THAT(errors_of("a {\n  b = 1\n"),
                ElementsAre("test.conf:1: unterminated section 'a': missing '}'"));
    // The inner section takes the only '}', so the outer one is left open.
    EXPECT_THAT(errors_of("a {\n  b {\n    x = 1\n\n}\n"),
                ElementsAre("test.conf:1: unterminated section 'a': missing '}'"));
    EXPECT_THAT(errors_of("a {\n  b {\n"),
                ElementsAre("test.conf:2: unterminated section 'b': missing '}'",
                            "test.conf:1: unterminated section 'a': missing '}'"));
}

TEST(SettingsErrors, UnterminatedString) {
    EXPECT_THAT(errors_of("x = 1\na = \"abc\nmore\n"),
                ElementsAre("test.conf:2: unterminated quoted string"));
    EXPECT_THAT(errors_of("a = \"ends in a backslash\\"),
                ElementsAre("test.conf:1: unterminated quoted string"));
    // The string swallows the closing brace.
    EXPECT_THAT(errors_of("s {\n  a = \"x\n}\n"),
                ElementsAre("test.conf:2: unterminated quoted string",
                            "test.conf:1: unterminated section 's': missing '}'"));
}

TEST(SettingsErrors, MissingEquals) {
    EXPECT_THAT(errors_of("a\n"), ElementsAre("test.conf:1: expected '=' or '{' after 'a'"));
    EXPECT_THAT(errors_of("key value\n"),
                ElementsAre("test.conf:1: expected '=' or '{' after 'key'"));
    // The next line is parsed on its own (here: fine), the stray '}' is reported.
    EXPECT_THAT(errors_of("a\nb = c\nd\n}\n"),
                ElementsAre("test.conf:1: expected '=' or '{' after 'a'",
                            "test.conf:3: expected '=' or '{' after 'd'",
                            "test.conf:4: unexpected '}'"));
    EXPECT_THAT(errors_of("s {\n  a\n}\n"),
                ElementsAre("test.conf:2: expected '=' or '{' after 'a'"));
}

TEST(SettingsErrors, MissingName) {
    EXPECT_THAT(errors_of("= x\n"), ElementsAre("test.conf:1: missing name before '='"));
    EXPECT_THAT(errors_of("{ a = 1 }\n"),
                ElementsAre("test.conf:1: missing section name before '{'"));
    EXPECT_THAT(errors_of(": x { }\n"),
                ElementsAre("test.conf:1: missing section name before ':'",
                            "test.conf:1: missing section name before '{'"));
    EXPECT_THAT(errors_of("\"quoted\" = b\n"),
                ElementsAre("test.conf:1: unexpected quoted string (names cannot be quoted)"));
}

TEST(SettingsErrors, InvalidName) {
    EXPECT_THAT(errors_of("a.b = c\n"),
                ElementsAre("test.conf:1: invalid character '.' in name 'a.b'"));
    EXPECT_THAT(errors_of("x = 1\nconn,2 {\n}\n"),
                ElementsAre("test.conf:2: invalid character ',' in name 'conn,2'"));
    EXPECT_THAT(errors_of(". = x\n"),
                ElementsAre("test.conf:1: invalid character '.' in name '.'"));
}

TEST(SettingsErrors, References) {
    EXPECT_THAT(errors_of("a : { }\n"),
                ElementsAre("test.conf:1: missing section reference in the definition of 'a'"));
    EXPECT_THAT(errors_of("a : b, { }\n"),
                ElementsAre("test.conf:1: missing section reference in the definition of 'a'"));
    EXPECT_THAT(errors_of("a : b. { }\n"),
                ElementsAre("test.conf:1: invalid section reference 'b.'"));
    EXPECT_THAT(errors_of("a : .b, c..d { }\n"),
                ElementsAre("test.conf:1: invalid section reference '.b'",
                            "test.conf:1: invalid section reference 'c..d'"));
    EXPECT_THAT(errors_of("a : b c { }\n"),
                ElementsAre("test.conf:1: expected '{' after the references of section 'a'"));
    EXPECT_THAT(errors_of("a : b = c\n"),
                ElementsAre("test.conf:1: expected '{' after the references of section 'a'"));
    EXPECT_THAT(errors_of("a : b"),
                ElementsAre("test.conf:1: expected '{' after the references of section 'a'"));
}

TEST(SettingsErrors, NestingLimit) {
    std::string deep;
    for (int i = 0; i < kMaxSectionDepth + 1; ++i) {
        deep += "s {\n";
    }
    deep += "x = 1\n";
    for (int i = 0; i < kMaxSectionDepth + 1; ++i) {
        deep += "}\n";
    }
    deep += "after = ok\n";
    EXPECT_THAT(errors_of(deep),
                ElementsAre("test.conf:65: sections nested deeper than 64 levels"));
    // Exactly at the limit is fine.
    std::string limit;
    for (int i = 0; i < kMaxSectionDepth; ++i) {
        limit += "s{";
    }
    limit += std::string(static_cast<std::size_t>(kMaxSectionDepth), '}');
    EXPECT_THAT(errors_of(limit), ElementsAre());
}

TEST(SettingsErrors, ManyErrorsInOnePass) {
    const char* text =
            "charon {\n"        // 1
            "  a.b = 1\n"       // 2
            "  = 2\n"           // 3
            "  good = yes\n"    // 4
            "  \"q\" = 3\n"     // 5
            "  plugins {\n"     // 6
            "    x\n"           // 7
            "  }\n"             // 8
            "}\n"               // 9
            "}\n"               // 10
            "conn : { }\n"      // 11
            "last = \"open\n";  // 12
    EXPECT_THAT(errors_of(text, test::no_files(), "/etc/strongswan.conf"),
                ElementsAre("/etc/strongswan.conf:2: invalid character '.' in name 'a.b'",
                            "/etc/strongswan.conf:3: missing name before '='",
                            "/etc/strongswan.conf:5: unexpected quoted string (names cannot be "
                            "quoted)",
                            "/etc/strongswan.conf:7: expected '=' or '{' after 'x'",
                            "/etc/strongswan.conf:10: unexpected '}'",
                            "/etc/strongswan.conf:11: missing section reference in the "
                            "definition of 'conn'",
                            "/etc/strongswan.conf:12: unterminated quoted string"));
}

TEST(SettingsErrors, StopsAfterTwentyErrors) {
    // A wrong file given as configuration (here 30 lines of stray braces, then a section left
    // open) reports the first 20 problems and one line saying it stopped, not one per line.
    const auto braces = [](int n) {
        std::string text;
        for (int i = 0; i < n; ++i) {
            text += "}\n";
        }
        return text;
    };
    const auto errors = errors_of(braces(30) + "open {\n");
    ASSERT_EQ(errors.size(), kMaxDiagnostics + 1);
    EXPECT_EQ(errors[0], "test.conf:1: unexpected '}'");
    EXPECT_EQ(errors[19], "test.conf:20: unexpected '}'");
    EXPECT_EQ(errors[20], "test.conf:21: more than 20 errors, stopping here");
    // Twenty problems are all reported, without that line.
    EXPECT_EQ(errors_of(braces(20)).size(), 20U);
    EXPECT_EQ(errors_of(braces(20)).back(), "test.conf:20: unexpected '}'");
}

TEST(SettingsErrors, DiagnosticsAreAppended) {
    std::vector<Diagnostic> diags{Diagnostic{{"earlier", 1}, "kept"}};
    auto bad = parse_settings("}", "f", diags, test::no_files());
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error().code, Errc::kConfig);
    ASSERT_EQ(diags.size(), 2U);
    EXPECT_EQ(diags[1], (Diagnostic{{"f", 1}, "unexpected '}'"}));
    // Earlier diagnostics do not make a later good parse fail.
    auto good = parse_settings("a = b", "f", diags, test::no_files());
    EXPECT_TRUE(good.has_value());
    EXPECT_EQ(diags.size(), 2U);
}

TEST(SettingsErrors, UnreadableMainFile) {
    std::vector<Diagnostic> diags;
    auto r = parse_settings_file("missing.conf", diags, test::no_files());
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, Errc::kConfig);
    ASSERT_EQ(diags.size(), 1U);
    EXPECT_EQ(diags[0].to_string(),
              "missing.conf:0: unable to read 'missing.conf': No such file or directory");
}

}  // namespace
}  // namespace ikeplex::config
