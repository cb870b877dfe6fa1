// Every element of strongSwan's settings syntax (strongswan.conf(5), settings_lexer.l).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/settings.h"
#include "settings_test_util.h"

namespace ikeplex::config {
namespace {

using test::named;
using test::parse_ok;
using test::section_names;
using test::setting_names;
using ::testing::ElementsAre;

TEST(SettingsSyntax, EmptyAndCommentsOnly) {
    Section empty;
    empty.pos = {"test.conf", 0};
    EXPECT_EQ(parse_ok(""), empty);
    const Section s = parse_ok("# only a comment\n\n   \t\n# another\n");
    EXPECT_TRUE(s.settings.empty());
    EXPECT_TRUE(s.sections.empty());
}

TEST(SettingsSyntax, KeyValue) {
    const Section s = parse_ok("a = b\nc=d\n  e   =   f g  \t\nlast = x");
    EXPECT_THAT(setting_names(s), ElementsAre("a", "c", "e", "last"));
    EXPECT_EQ(s.get("a"), "b");
    EXPECT_EQ(s.get("c"), "d");
    EXPECT_EQ(s.get("e"), "f g");   // leading and trailing blanks trimmed
    EXPECT_EQ(s.get("last"), "x");  // no newline at the end of the file
    EXPECT_EQ(s.settings[2].pos, (SourcePos{"test.conf", 3}));
}

TEST(SettingsSyntax, ValueWordsAreJoinedWithOneSpace) {
    const Section s = parse_ok("a = x   y\t\tz\nb = one\rtwo\n");
    EXPECT_EQ(s.get("a"), "x y z");
    EXPECT_EQ(s.get("b"), "one two");  // a CR inside a value separates words, as in strongSwan
}

TEST(SettingsSyntax, ValueCharacters) {
    // '=', '{', ':', ',', '.', '/', '\' are ordinary in values; '}' and '#' end them.
    const Section s =
            parse_ok("a = b=c:d,e.f{g\nb = 10.0.0.0/8, ::/0\nc = C:\\dir\\file\nd = %any@x\n");
    EXPECT_EQ(s.get("a"), "b=c:d,e.f{g");
    EXPECT_EQ(s.get("b"), "10.0.0.0/8, ::/0");
    EXPECT_EQ(s.get("c"), "C:\\dir\\file");  // no escapes outside quotes
    EXPECT_EQ(s.get("d"), "%any@x");
}

TEST(SettingsSyntax, EmptyValue) {
    const Section s = parse_ok("a =\nb =   \nc = # comment\nd = \"\"\ne=");
    ASSERT_EQ(s.settings.size(), 5U);
    EXPECT_EQ(s.settings[0].value, std::nullopt);
    EXPECT_EQ(s.settings[1].value, std::nullopt);
    EXPECT_EQ(s.settings[2].value, std::nullopt);
    EXPECT_EQ(s.settings[3].value, std::optional<std::string>(""));
    EXPECT_EQ(s.settings[4].value, std::nullopt);
    EXPECT_EQ(s.get("a"), std::nullopt);  // a key without value reads as absent
    EXPECT_EQ(s.get("d"), "");
    ASSERT_NE(s.find_setting("a"), nullptr);
}

TEST(SettingsSyntax, Comments) {
    const Section s = parse_ok(
            "# leading\n"
            "a = b # trailing\n"
            "sec { # after the brace\n"
            "  c = d#tight\n"
            "  # indented\n"
            "} # after the closing brace\n"
            "e = \"# not a comment\" # but this is\n");
    EXPECT_EQ(s.get("a"), "b");
    EXPECT_EQ(s.get("sec.c"), "d");
    EXPECT_EQ(s.get("e"), "# not a comment");
}

TEST(SettingsSyntax, QuotedStrings) {
    const Section s = parse_ok(
            "a = \"  spaced  out  \"\n"
            "b = \"tab\\tnl\\ncr\\rquote\\\"backslash\\\\other\\q\"\n"
            "c = \"}{#=\"\n"
            "d = x \"y  z\" w\n"
            "e = \"one\"\"two\"\n"
            "f = pre\"quoted\"\n");
    EXPECT_EQ(s.get("a"), "  spaced  out  ");
    EXPECT_EQ(s.get("b"), "tab\tnl\ncr\rquote\"backslash\\otherq");
    EXPECT_EQ(s.get("c"), "}{#=");
    EXPECT_EQ(s.get("d"), "x y  z w");  // parts joined by one space
    EXPECT_EQ(s.get("e"), "one two");
    EXPECT_EQ(s.get("f"), "pre quoted");
}

TEST(SettingsSyntax, QuotedStringsSpanLines) {
    const Section s = parse_ok(
            "a = \"first\n"
            "second\"\n"
            "b = \"joined \\\n"
            "line\"\n"
            "c = \"crlf \\\r\n"
            "joined\"\n"
            "d = \"raw\rcr\"\n"
            "e = x\n");
    EXPECT_EQ(s.get("a"), "first\nsecond");
    EXPECT_EQ(s.get("b"), "joined line");  // backslash-newline joins lines
    EXPECT_EQ(s.get("c"), "crlf joined");
    EXPECT_EQ(s.get("d"), "rawcr");  // raw CRs in strings are dropped
    EXPECT_EQ(s.find_setting("b")->pos.line, 3);
    EXPECT_EQ(s.find_setting("e")->pos.line, 8);  // line numbers count the newlines in strings
}

TEST(SettingsSyntax, Sections) {
    const Section s = parse_ok(
            "one {\n  a = 1\n}\n"
            "two\n{\n  b = 2\n}\n"
            "three # comment\n\n  {\n}\n"
            "four{five{six{c=3}}}\n"
            "seven { d = 4 }\n");
    EXPECT_THAT(section_names(s), ElementsAre("one", "two", "three", "four", "seven"));
    EXPECT_EQ(s.get("one.a"), "1");
    EXPECT_EQ(s.get("two.b"), "2");
    EXPECT_EQ(s.get("four.five.six.c"), "3");
    EXPECT_EQ(s.get("seven.d"), "4");  // '}' ends the value
    EXPECT_EQ(s.find_section("two")->pos, (SourcePos{"test.conf", 4}));
    EXPECT_EQ(s.find_section("three")->pos.line, 8);
    EXPECT_EQ(s.find_section_path("four.five.six")->pos.line, 12);
}

TEST(SettingsSyntax, SettingsAndSectionsInterleaved) {
    const Section s = parse_ok("a = 1\nx { }\nb = 2\ny { }\nc = 3\n");
    EXPECT_THAT(setting_names(s), ElementsAre("a", "b", "c"));
    EXPECT_THAT(section_names(s), ElementsAre("x", "y"));
}

TEST(SettingsSyntax, NameCharacters) {
    // Anything but . , : { } = " # and whitespace (strongswan.conf(5), NAME in the lexer).
    const Section s = parse_ok(
            "ike-1_x = a\n"
            "0 = digits\n"
            "/var/log/charon-log = path\n"
            "x@y!$%^&*()[]<>?|;'~`+- = punctuation\n"
            "caf\xc3\xa9 = utf8\n"
            "include = a setting called include\n"
            "include=tight\n"
            "include{\n  x = 1\n}\n");
    EXPECT_EQ(s.get("ike-1_x"), "a");
    EXPECT_EQ(s.get("0"), "digits");
    EXPECT_EQ(s.get("/var/log/charon-log"), "path");
    EXPECT_EQ(s.get("x@y!$%^&*()[]<>?|;'~`+-"), "punctuation");
    EXPECT_EQ(s.get("caf\xc3\xa9"), "utf8");
    EXPECT_EQ(s.get("include"), "tight");
    EXPECT_EQ(s.get("include.x"), "1");
}

TEST(SettingsSyntax, DottedNameIsAnError) {
    // Listed here because it surprises: names cannot hold '.', which separates path parts.
    EXPECT_THAT(test::errors_of("gw.example.com { }\n"),
                ElementsAre("test.conf:1: invalid character '.' in name 'gw.example.com'"));
}

TEST(SettingsSyntax, CrLfLineEnds) {
    const Section s = parse_ok("a = b\r\nsec {\r\n  c = \"d\"\r\n}\r\n# c\r\ne = f\r\n");
    EXPECT_EQ(s.get("a"), "b");
    EXPECT_EQ(s.get("sec.c"), "d");
    EXPECT_EQ(s.get("e"), "f");
    EXPECT_EQ(s.find_setting("e")->pos.line, 6);
}

TEST(SettingsSyntax, NameAndEqualsOnDifferentLines) {
    // Newlines between tokens outside values are whitespace; a value ends at its line.
    const Section s = parse_ok("a\n= b\nc =\nd = e\n");
    EXPECT_EQ(s.get("a"), "b");
    EXPECT_EQ(s.find_setting("a")->pos.line, 1);
    EXPECT_EQ(s.find_setting("c")->value, std::nullopt);
    EXPECT_EQ(s.get("d"), "e");
}

TEST(SettingsSyntax, LaterKeyOverridesAndKeepsItsPlace) {
    const Section s = parse_ok("a = 1\nb = 2\na = 3\nb =\n");
    EXPECT_THAT(setting_names(s), ElementsAre("a", "b"));
    EXPECT_EQ(s.get("a"), "3");
    EXPECT_EQ(s.find_setting("a")->pos.line, 3);          // where the value in effect was written
    EXPECT_EQ(s.find_setting("b")->value, std::nullopt);  // `b =` clears it
}

TEST(SettingsSyntax, SameSectionTwiceMerges) {
    const Section s = parse_ok(
            "s {\n  a = 1\n  sub { x = 1 }\n}\n"
            "t { }\n"
            "s {\n  b = 2\n  a = 3\n  sub { y = 2 }\n  other { }\n}\n");
    EXPECT_THAT(section_names(s), ElementsAre("s", "t"));
    const Section* sec = s.find_section("s");
    ASSERT_NE(sec, nullptr);
    EXPECT_EQ(sec->pos.line, 1);
    EXPECT_THAT(setting_names(*sec), ElementsAre("a", "b"));
    EXPECT_EQ(sec->get("a"), "3");
    EXPECT_THAT(section_names(*sec), ElementsAre("sub", "other"));
    EXPECT_THAT(setting_names(*sec->find_section("sub")), ElementsAre("x", "y"));
}

TEST(SettingsSyntax, SectionReferences) {
    const Section s = parse_ok(
            "a : b {\n}\n"
            "c:d.e,f{}\n"
            "g : h,\n  # comment between references\n  i.j\n{\n}\n"
            "k : l, l {}\n"
            "a : m { }\n");
    EXPECT_THAT(s.find_section("a")->references, ElementsAre("b", "m"));
    EXPECT_THAT(s.find_section("c")->references, ElementsAre("d.e", "f"));
    EXPECT_THAT(s.find_section("g")->references, ElementsAre("h", "i.j"));
    EXPECT_EQ(s.find_section("g")->pos.line, 4);
    EXPECT_THAT(s.find_section("k")->references, ElementsAre("l"));  // no duplicates
}

TEST(SettingsSyntax, Lookups) {
    const Section s = parse_ok(
            "connections {\n"
            "  t {\n"
            "    children {\n"
            "      net { esp_proposals = aes128gcm16-ecp256 }\n"
            "    }\n"
            "    unset =\n"
            "  }\n"
            "}\n");
    EXPECT_EQ(s.get("connections.t.children.net.esp_proposals"), "aes128gcm16-ecp256");
    EXPECT_EQ(s.get("connections.t.children.net.nothing"), std::nullopt);
    EXPECT_EQ(s.get("connections.x.children"), std::nullopt);
    EXPECT_EQ(s.get("connections.t.unset"), std::nullopt);
    EXPECT_NE(s.find_setting_path("connections.t.unset"), nullptr);
    EXPECT_EQ(s.find_setting_path("connections.t.children.net.esp_proposals")->pos.line, 4);
    EXPECT_EQ(s.find_section_path(""), &s);
    const Section* children = s.find_section_path("connections.t.children");
    ASSERT_NE(children, nullptr);
    EXPECT_EQ(children->name, "children");
    EXPECT_EQ(s.find_section_path("connections.t.nope"), nullptr);
    EXPECT_EQ(s.find_section("connections")->find_section("t")->find_setting("unset")->name,
              "unset");
    // Iteration is over the public vectors, in file order.
    std::vector<std::string> seen;
    for (const Section& conn : s.find_section("connections")->sections) {
        for (const Section& sub : conn.sections) {
            seen.push_back(conn.name + "." + sub.name);
        }
    }
    EXPECT_THAT(seen, ElementsAre("t.children"));
}

TEST(SettingsSyntax, SetAndAddSection) {
    Section root;
    root.set(Setting{"a", "1", {"x", 1}});
    root.set(Setting{"a", std::nullopt, {"x", 2}});
    ASSERT_EQ(root.settings.size(), 1U);
    EXPECT_EQ(root.settings[0].value, std::nullopt);
    EXPECT_EQ(root.settings[0].pos.line, 2);

    Section s1 = named("s", {"r1"});
    s1.pos = {"x", 3};
    s1.set(Setting{"k", "v", {"x", 4}});
    Section s2 = named("s", {"r2", "r1"});
    s2.pos = {"x", 5};
    s2.set(Setting{"k", "w", {"x", 6}});
    s2.add_section(named("child"));
    root.add_section(s1);
    root.add_section(s2);
    ASSERT_EQ(root.sections.size(), 1U);
    EXPECT_EQ(root.sections[0].pos.line, 3);
    EXPECT_THAT(root.sections[0].references, ElementsAre("r1", "r2"));
    EXPECT_EQ(root.get("s.k"), "w");
    EXPECT_NE(root.find_section_path("s.child"), nullptr);
}

TEST(SettingsSyntax, DiagnosticToString) {
    const Diagnostic d{{"/etc/swanctl/swanctl.conf", 12}, "unexpected '}'"};
    EXPECT_EQ(d.to_string(), "/etc/swanctl/swanctl.conf:12: unexpected '}'");
}

TEST(SettingsPrint, Format) {
    Section root;
    root.set(Setting{"plain", "a b,c=d{e", {}});
    root.set(Setting{"empty", "", {}});
    root.set(Setting{"unset", std::nullopt, {}});
    root.set(Setting{"spaces", " lead  double trail ", {}});
    root.set(Setting{"special", "a#b}c\"d\\e\nf\rg\th", {}});
    root.set(Setting{"backslash", "C:\\x", {}});
    Section conn = named("conn", {"defaults", "x.y"});
    conn.set(Setting{"k", "v", {}});
    conn.add_section(named("inner"));
    root.add_section(conn);
    root.add_section(named("include"));
    root.add_section(named("include", {"r"}));
    EXPECT_EQ(print_settings(root),
              "plain = a b,c=d{e\n"
              "empty = \"\"\n"
              "unset =\n"
              "spaces = \" lead  double trail \"\n"
              "special = \"a#b}c\\\"d\\\\e\\nf\\rg\\th\"\n"
              "backslash = C:\\x\n"
              "conn : defaults, x.y {\n"
              "    k = v\n"
              "    inner {\n"
              "    }\n"
              "}\n"
              "include: r {\n"
              "}\n");
    const Section back = parse_ok(print_settings(root));
    EXPECT_EQ(test::strip_positions(back), test::strip_positions(root));
}

}  // namespace
}  // namespace ikeplex::config
