// Text from outside in logs and list-sas (util/escape.h): control characters and malformed
// UTF-8 escaped as \xNN, everything else kept; and every log line goes through it.
#include "util/escape.h"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include "util/hex.h"
#include "util/log.h"

namespace ikeplex {
namespace {

TEST(Escape, PrintableAsciiAndUtf8StayAsTheyAre) {
    for (const std::string s :
         {"", "carol", "C=CH, O=strongSwan, CN=carol@strongswan.org", "DOMAIN\\user",
          "m\xc3\xbcller", "\xe2\x82\xac 10", "\xf0\x9f\x94\x91 key", "\xef\xbf\xbd"}) {
        EXPECT_FALSE(needs_escaping(s)) << s;
        EXPECT_EQ(escape_nonprintable(s), s);
    }
}

TEST(Escape, ControlCharactersAreEscaped) {
    EXPECT_EQ(escape_nonprintable("carol\nforged"), "carol\\x0aforged");
    EXPECT_EQ(escape_nonprintable("a\rb\tc"), "a\\x0db\\x09c");
    EXPECT_EQ(escape_nonprintable(std::string("nul\0byte", 8)), "nul\\x00byte");
    EXPECT_EQ(escape_nonprintable("\x1b[2Jclear"), "\\x1b[2Jclear");  // a terminal escape
    EXPECT_EQ(escape_nonprintable("del\x7f"), "del\\x7f");
    // C1 controls (U+0085 NEL, U+009B CSI) are well-formed UTF-8 but control characters.
    EXPECT_EQ(escape_nonprintable("a\xc2\x85z"), "a\\xc2\\x85z");
    EXPECT_EQ(escape_nonprintable("\xc2\x9b"
                                  "31m"),
              "\\xc2\\x9b31m");
    EXPECT_TRUE(needs_escaping("carol\n"));
    // With keep_newlines (hex dumps) only the newline stays.
    EXPECT_EQ(escape_nonprintable("a\nb\rc", true), "a\nb\\x0dc");
    EXPECT_FALSE(needs_escaping("a\nb", true));
}

TEST(Escape, MalformedUtf8IsEscapedBytewise) {
    EXPECT_EQ(escape_nonprintable("\x80"), "\\x80");                    // lone continuation
    EXPECT_EQ(escape_nonprintable("\xc3"), "\\xc3");                    // truncated
    EXPECT_EQ(escape_nonprintable("\xc3z"), "\\xc3z");                  // broken sequence
    EXPECT_EQ(escape_nonprintable("\xc0\xaf"), "\\xc0\\xaf");           // overlong '/'
    EXPECT_EQ(escape_nonprintable("\xe0\x80\xaf"), "\\xe0\\x80\\xaf");  // overlong
    EXPECT_EQ(escape_nonprintable("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate
    EXPECT_EQ(escape_nonprintable("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // > U+10FFFF
    EXPECT_EQ(escape_nonprintable("\xff"), "\\xff");
    // The longest keepable sequences right up to the end of the text.
    EXPECT_EQ(escape_nonprintable("\xf4\x8f\xbf\xbf"), "\xf4\x8f\xbf\xbf");
    EXPECT_EQ(escape_nonprintable("\xe2\x82"), "\\xe2\\x82");
}

/// Collects the payload of each line the default logger writes.
class Lines final : public spdlog::sinks::base_sink<std::mutex> {
public:
    std::vector<std::string> lines;

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        lines.emplace_back(msg.payload.begin(), msg.payload.end());
    }
    void flush_() override {}
};

TEST(Escape, EveryLogLineIsEscaped) {
    auto sink = std::make_shared<Lines>();
    auto previous = spdlog::default_logger();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("escape-test", sink));
    spdlog::set_level(spdlog::level::trace);
    const std::string id = "carol\n00[IKE] forged line\x1b[0m";
    log::info(log::Subsystem::kIke, "authentication of '{}' with EAP successful", id);
    log::more(log::Subsystem::kIke, "id '{}'", id);
    log::raw(log::Subsystem::kNet, "{}\n{}", id, hex_dump(as_bytes(id)));
    spdlog::set_default_logger(previous);
    ASSERT_EQ(sink->lines.size(), 3U);
    EXPECT_EQ(sink->lines[0],
              "[IKE] authentication of 'carol\\x0a00[IKE] forged line\\x1b[0m' with EAP "
              "successful");
    EXPECT_EQ(sink->lines[1], "[IKE] id 'carol\\x0a00[IKE] forged line\\x1b[0m'");
    // raw() keeps the newlines of its hex dump, and escapes the rest.
    EXPECT_EQ(sink->lines[2].find('\x1b'), std::string::npos);
    EXPECT_NE(sink->lines[2].find("carol\n00[IKE]"), std::string::npos);
    EXPECT_NE(sink->lines[2].find("\n   0: 63 61 72 6f 6c 0a"), std::string::npos);
}

}  // namespace
}  // namespace ikeplex
