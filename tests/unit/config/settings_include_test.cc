// `include`: globs, paths relative to the including file, includes inside sections, missing
// files, unreadable files, the depth and file-count limits. All on an in-memory file system.
#include <cerrno>
#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/settings.h"
#include "settings_test_util.h"

namespace ikeplex::config {
namespace {

using test::errors_of;
using test::parse_ok;
using test::section_names;
using test::setting_names;
using ::testing::ElementsAre;

/// A memory file system where some paths fail to read and some patterns fail to expand.
class FailingFileSystem final : public FileSystem {
public:
    MemoryFileSystem files;
    std::set<std::string> unreadable;
    std::set<std::string> bad_patterns;

    [[nodiscard]] Result<std::vector<std::string>> glob(const std::string& pattern) const override {
        if (bad_patterns.count(pattern) != 0) {
            Error e = make_error(Errc::kSystem, "glob: read error");
            e.sys_errno = EACCES;
            return e;
        }
        auto out = files.glob(pattern);
        if (out) {
            for (const std::string& p : unreadable) {
                if (p.rfind(pattern.substr(0, pattern.find('*')), 0) == 0) {
                    out->push_back(p);
                }
            }
        }
        return out;
    }
    [[nodiscard]] Result<std::string> read_file(const std::string& path) const override {
        if (unreadable.count(path) != 0) {
            Error e = make_error(Errc::kSystem, "open failed");
            e.sys_errno = EACCES;
            return e;
        }
        return files.read_file(path);
    }
};

TEST(SettingsInclude, GlobsRelativeToTheIncludingFile) {
    MemoryFileSystem fs;
    fs.add("/etc/strongswan.d/b.conf", "b = 2\nshared = from-b\n");
    fs.add("/etc/strongswan.d/a.conf", "a = 1\nshared = from-a\ninclude sub/*.conf\n");
    fs.add("/etc/strongswan.d/sub/c.conf", "c = 3\n");
    fs.add("/etc/strongswan.d/charon/x.conf", "x { load = yes }\n");
    fs.add("/etc/strongswan.d/charon/y.conf", "y { load = no }\n");
    fs.add("/etc/strongswan.d/.hidden.conf", "hidden = 1\n");
    fs.add("/etc/other.conf", "other = 1\n");
    const Section s = parse_ok(
            "charon {\n"
            "  plugins {\n"
            "    include strongswan.d/charon/*.conf\n"
            "  }\n"
            "}\n"
            "include strongswan.d/*.conf\n"
            "include /etc/other.conf\n",
            fs, "/etc/strongswan.conf");
    // a.conf before b.conf (sorted); later files override earlier values.
    EXPECT_THAT(setting_names(s), ElementsAre("a", "shared", "c", "b", "other"));
    EXPECT_EQ(s.get("shared"), "from-b");
    EXPECT_EQ(s.get("c"), "3");                // relative to /etc/strongswan.d, where a.conf lives
    EXPECT_EQ(s.get("hidden"), std::nullopt);  // '*' does not match a leading dot
    EXPECT_THAT(section_names(*s.find_section_path("charon.plugins")), ElementsAre("x", "y"));
    EXPECT_EQ(s.get("charon.plugins.y.load"), "no");
    EXPECT_EQ(s.find_setting("c")->pos, (SourcePos{"/etc/strongswan.d/sub/c.conf", 1}));
    EXPECT_EQ(s.find_setting_path("charon.plugins.x.load")->pos,
              (SourcePos{"/etc/strongswan.d/charon/x.conf", 1}));
    EXPECT_EQ(s.find_section_path("charon.plugins.x")->pos.file, "/etc/strongswan.d/charon/x.conf");
}

TEST(SettingsInclude, ManPageExample) {
    // strongswan.conf(5) "INCLUDING FILES": three files that give the same tree as one.
    const char* single =
            "a = b\n"
            "section-one {\n"
            "  somevalue = asdf\n"
            "  subsection {\n"
            "    othervalue = xxx\n"
            "  }\n"
            "  yetanother = zz\n"
            "}\n"
            "section-two {\n"
            "  x = 12\n"
            "}\n";
    MemoryFileSystem fs;
    fs.add("conf/include.conf",
           "# added to section-one\nsomevalue = asdf\nsubsection {\n  othervalue = yyy\n}\n"
           "yetanother = zz\n");
    fs.add("conf/other.conf",
           "section-one {\n  subsection {\n    othervalue = xxx\n  }\n}\n"
           "section-two {\n  x = 12\n}\n");
    const Section split = parse_ok(
            "a = b\nsection-one {\n  somevalue = before include\n  include include.conf\n}\n"
            "include other.conf\n",
            fs, "conf/main.conf");
    EXPECT_EQ(test::strip_positions(split), test::strip_positions(parse_ok(single)));
}

TEST(SettingsInclude, FileNameWithoutDirectory) {
    MemoryFileSystem fs;
    fs.add("x.conf", "x = 1\n");
    fs.add("d/y.conf", "y = 2\n");
    const Section s = parse_ok("include x.conf\ninclude ./d/*.conf\n", fs, "main.conf");
    EXPECT_EQ(s.get("x"), "1");
    EXPECT_EQ(s.get("y"), "2");
    EXPECT_EQ(s.find_setting("x")->pos.file, "x.conf");
}

TEST(SettingsInclude, PatternSyntax) {
    MemoryFileSystem fs;
    fs.add("/c/with space/a.conf", "a = 1\n");
    fs.add("/c/hash#brace}.conf", "b = 2\n");
    fs.add("/c/tab.conf", "t = 3\n");
    fs.add("/c/q\"uote.conf", "q = 4\n");
    const Section s = parse_ok(
            "include \"with space/*.conf\"\n"
            "include hash\\#brace\\}.conf # a comment after the pattern\n"
            "sec { include tab.conf }\n"
            "include\ttab.conf\r\n"
            "include q\\\"uote.conf\n"
            "include with\\ space/a.conf\n",
            fs, "/c/main.conf");
    EXPECT_EQ(s.get("a"), "1");
    EXPECT_EQ(s.get("b"), "2");
    EXPECT_EQ(s.get("sec.t"), "3");  // the '}' after the pattern closes the section
    EXPECT_EQ(s.get("t"), "3");
    EXPECT_EQ(s.get("q"), "4");
}

TEST(SettingsInclude, NoMatchIsNotAnError) {
    const Section s = parse_ok("include /nowhere/*.conf\ninclude missing.conf\na = 1\n");
    EXPECT_THAT(setting_names(s), ElementsAre("a"));
}

TEST(SettingsInclude, ErrorsInIncludedFilesNameThatFile) {
    MemoryFileSystem fs;
    fs.add("/c/bad.conf", "ok = 1\n\nbroken\n}\n");
    EXPECT_THAT(errors_of("s {\n  include bad.conf\n}\n", fs, "/c/main.conf"),
                ElementsAre("/c/bad.conf:3: expected '=' or '{' after 'broken'",
                            "/c/bad.conf:4: unexpected '}'"));
}

TEST(SettingsInclude, EachFileMustBalanceItsBraces) {
    MemoryFileSystem fs;
    fs.add("/c/open.conf", "s {\n");
    EXPECT_THAT(errors_of("include open.conf\n}\n", fs, "/c/main.conf"),
                ElementsAre("/c/open.conf:1: unterminated section 's': missing '}'",
                            "/c/main.conf:2: unexpected '}'"));
}

TEST(SettingsInclude, MissingPattern) {
    EXPECT_THAT(errors_of("include \nx = 1\ninclude \"\"\ninclude # nothing\n"),
                ElementsAre("test.conf:1: missing file pattern after 'include'",
                            "test.conf:3: missing file pattern after 'include'",
                            "test.conf:4: missing file pattern after 'include'"));
    EXPECT_THAT(errors_of("include \"open\n"),
                ElementsAre("test.conf:1: unterminated quoted string"));
}

TEST(SettingsInclude, IncludeIsASettingBeforeEquals) {
    const Section s = parse_ok("include = x\ninclude\t= y\n");
    EXPECT_EQ(s.get("include"), "y");
}

TEST(SettingsInclude, DepthLimit) {
    MemoryFileSystem fs;
    fs.add("/d/self.conf", "include self.conf\n");
    EXPECT_THAT(errors_of("include self.conf\n", fs, "/d/main.conf"),
                ElementsAre("/d/self.conf:1: includes nested deeper than 10 levels at "
                            "'self.conf'"));

    // A chain main -> f1 -> ... -> f10 is within the limit; one more file is not.
    MemoryFileSystem chain;
    for (int i = 1; i <= kMaxIncludeDepth; ++i) {
        chain.add("/d/f" + std::to_string(i) + ".conf",
                  "v" + std::to_string(i) + " = " + std::to_string(i) + "\n" +
                          (i < kMaxIncludeDepth ? "include f" + std::to_string(i + 1) + ".conf\n"
                                                : ""));
    }
    const Section s = parse_ok("include f1.conf\n", chain, "/d/main.conf");
    EXPECT_EQ(s.get("v10"), "10");
    chain.add("/d/f10.conf", "include f11.conf\n");
    chain.add("/d/f11.conf", "v11 = 11\n");
    EXPECT_THAT(errors_of("include f1.conf\n", chain, "/d/main.conf"),
                ElementsAre("/d/f10.conf:1: includes nested deeper than 10 levels at "
                            "'f11.conf'"));
}

TEST(SettingsInclude, UnreadableFilesAndPatterns) {
    FailingFileSystem fs;
    fs.files.add("/c/a.conf", "a = 1\n");
    fs.unreadable.insert("/c/b.conf");
    fs.bad_patterns.insert("/locked/*.conf");
    EXPECT_THAT(errors_of("include *.conf\ninclude /locked/*.conf\n", fs, "/c/main.conf"),
                ElementsAre("/c/main.conf:1: unable to read '/c/b.conf': Permission denied",
                            "/c/main.conf:2: unable to expand include pattern "
                            "'/locked/*.conf': Permission denied"));
}

TEST(SettingsInclude, FileCountLimit) {
    MemoryFileSystem fs;
    for (std::size_t i = 0; i <= kMaxIncludedFiles; ++i) {
        fs.add("/many/" + std::to_string(i) + ".conf", "");
    }
    EXPECT_THAT(errors_of("include /many/*.conf\n", fs),
                ElementsAre("test.conf:1: more than 1000 files included"));
}

TEST(SettingsInclude, LowerLimitsOfOneParse) {
    // What fuzz_settings uses: 3 levels, 16 files. A file that includes itself twice would
    // otherwise be read 2 + 4 + ... + 1024 times, up to the 1000-file limit.
    MemoryFileSystem fs;
    fs.add("/d/self.conf", "include self.conf\ninclude self.conf\n");
    std::vector<Diagnostic> diags;
    EXPECT_FALSE(
            parse_settings("include self.conf\n", "/d/main.conf", diags, fs, ParseLimits{3, 16})
                    .has_value());
    EXPECT_EQ(diags.size(), 8U);  // the 4 files at depth 3 refuse both of their includes
    EXPECT_EQ(diags.front().to_string(),
              "/d/self.conf:1: includes nested deeper than 3 levels at 'self.conf'");
    MemoryFileSystem many;
    for (int i = 0; i < 17; ++i) {
        many.add("/many/" + std::to_string(i) + ".conf", "");
    }
    diags.clear();
    EXPECT_FALSE(
            parse_settings("include /many/*.conf\n", "test.conf", diags, many, ParseLimits{3, 16})
                    .has_value());
    ASSERT_EQ(diags.size(), 1U);
    EXPECT_EQ(diags.front().to_string(), "test.conf:1: more than 16 files included");
}

TEST(MemoryFileSystem, NormalizesAndGlobs) {
    EXPECT_EQ(normalize_path("a//./b/../c"), "a/c");
    EXPECT_EQ(normalize_path("/../x/"), "/x");
    EXPECT_EQ(normalize_path("../x"), "../x");
    EXPECT_EQ(normalize_path("./"), ".");
    MemoryFileSystem fs;
    fs.add("/d/a.conf", "A");
    fs.add("/d/sub/b.conf", "B");
    fs.add("/d/.c.conf", "C");
    EXPECT_THAT(*fs.glob("/d/*.conf"), ElementsAre("/d/a.conf"));
    EXPECT_THAT(*fs.glob("/d/*/*.conf"), ElementsAre("/d/sub/b.conf"));
    EXPECT_THAT(*fs.glob("/d/./sub/../a.conf"), ElementsAre("/d/a.conf"));
    EXPECT_THAT(*fs.glob("/d/x.conf"), ElementsAre());
    EXPECT_EQ(*fs.read_file("/d//a.conf"), "A");
    auto missing = fs.read_file("/d/none");
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().sys_errno, ENOENT);
}

}  // namespace
}  // namespace ikeplex::config
