// ikeplexd's log output (issue 20): the time format of file lines, the journal fields of a
// line, systemd's STATUS= text, and strongSwan's levels -1..4 over one IKE exchange, each level
// writing strictly more than the one below it and lines of its own.
#include <ctime>
#include <map>
#include <mutex>

#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include "daemon/journald_sink.h"
#include "daemon/log_sink.h"
#include "daemon/service_notify.h"
#include "exchange_harness.h"
#include "util/hex.h"
#include "util/log.h"

namespace ikeplex::test {
namespace {

std::string format_line(const std::string& time_format, bool add_ms, std::time_t t, int ms) {
    auto f = daemon::make_line_formatter(time_format, add_ms);
    spdlog::details::log_msg msg("ikeplexd", spdlog::level::info, "[IKE] t[1] hello");
    msg.time = std::chrono::system_clock::from_time_t(t) + std::chrono::milliseconds(ms);
    spdlog::memory_buf_t out;
    f->format(msg, out);
    return {out.data(), out.size()};
}

TEST(LineFormat, FileLinesCarryTheDateAndMilliseconds) {
    std::tm tm{};
    tm.tm_year = 2026 - 1900;
    tm.tm_mon = 11;
    tm.tm_mday = 5;
    tm.tm_hour = 9;
    tm.tm_min = 7;
    tm.tm_sec = 3;
    tm.tm_isdst = -1;
    const std::time_t t = std::mktime(&tm);  // local time, as the formatter writes it
    EXPECT_EQ(format_line("%Y-%m-%d %H:%M:%S", true, t, 42),
              "2026-12-05 09:07:03.042 [IKE] t[1] hello\n");
    EXPECT_EQ(format_line("%b %e %T", false, t, 42), "Dec  5 09:07:03 [IKE] t[1] hello\n");
    EXPECT_EQ(format_line("%H:%M:%S", true, t, 999), "09:07:03.999 [IKE] t[1] hello\n");
    EXPECT_EQ(format_line("", false, t, 1), "[IKE] t[1] hello\n");
}

std::map<std::string, std::string> fields_of(std::string_view text, spdlog::level::level_enum l) {
    std::map<std::string, std::string> out;
    for (const std::string& f : daemon::journal_fields(text, l)) {
        const auto eq = f.find('=');
        EXPECT_NE(eq, std::string::npos) << f;
        EXPECT_TRUE(out.emplace(f.substr(0, eq), f.substr(eq + 1)).second) << "twice: " << f;
    }
    return out;
}

TEST(JournalFields, NameTheGroupLevelAndSas) {
    auto f = fields_of("[IKE] home[7] CHILD_SA net{12} established for the group's cpu 3",
                       spdlog::level::info);
    EXPECT_EQ(f["MESSAGE"], "[IKE] home[7] CHILD_SA net{12} established for the group's cpu 3");
    EXPECT_EQ(f["PRIORITY"], "6");
    EXPECT_EQ(f["SYSLOG_IDENTIFIER"], "ikeplexd");
    EXPECT_EQ(f["IKEPLEX_SUBSYS"], "IKE");
    EXPECT_EQ(f["IKEPLEX_LEVEL"], "1");
    EXPECT_EQ(f["IKEPLEX_IKE_SA_NAME"], "home");
    EXPECT_EQ(f["IKEPLEX_IKE_SA_ID"], "7");
    EXPECT_EQ(f["IKEPLEX_CHILD_SA_ID"], "12");
    EXPECT_EQ(f["IKEPLEX_CPU"], "3");

    f = fields_of("ikeplexd: cannot start: bind failed", spdlog::level::err);
    EXPECT_EQ(f["PRIORITY"], "3");
    EXPECT_EQ(f["IKEPLEX_SUBSYS"], "DMN");
    EXPECT_EQ(f["IKEPLEX_LEVEL"], "0");
    EXPECT_EQ(f.count("IKEPLEX_IKE_SA_NAME"), 0U);
    EXPECT_EQ(f.count("IKEPLEX_CHILD_SA_ID"), 0U);
    EXPECT_EQ(f.count("IKEPLEX_CPU"), 0U);
    EXPECT_EQ(fields_of("[KNL] x", spdlog::level::warn)["PRIORITY"], "4");
    EXPECT_EQ(fields_of("[KNL] x", spdlog::level::debug)["PRIORITY"], "7");
}

TEST(JournalFields, ChildSaAndCpuOnlyInTheirExactForms) {
    EXPECT_EQ(daemon::child_sa_id_in("CHILD_SA net{5} with SPIs"), 5U);
    EXPECT_EQ(daemon::child_sa_id_in("installing CHILD_SA {9} failed"), 9U);
    EXPECT_FALSE(daemon::child_sa_id_in("CHILD_SA net established {5}"));
    EXPECT_FALSE(daemon::child_sa_id_in("CHILD_SA net{x}"));
    EXPECT_FALSE(daemon::child_sa_id_in("no child here"));
    EXPECT_EQ(daemon::cpu_in("member of cpu 11"), 11U);
    EXPECT_EQ(daemon::cpu_in("SA 3 belongs to CPU 2 but"), 2U);
    EXPECT_FALSE(daemon::cpu_in("cpu x"));
    EXPECT_FALSE(daemon::cpu_in("percpu 3"));
    EXPECT_FALSE(daemon::cpu_in("cpu 3x"));
}

TEST(ServiceStatus, CountsInPlainWords) {
    EXPECT_EQ(daemon::status_text({}), "0 IKE SAs, 0 Child SAs");
    EXPECT_EQ(daemon::status_text({1, 1}), "1 IKE SA, 1 Child SA");
    EXPECT_EQ(daemon::status_text({2, 8}), "2 IKE SAs, 8 Child SAs");
}

TEST(HexDump, SixteenBytesALineWithOffsets) {
    Bytes b(20);
    for (std::size_t i = 0; i < b.size(); ++i) {
        b[i] = static_cast<std::uint8_t>(i);
    }
    EXPECT_EQ(hex_dump(b),
              "   0: 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f\n  10: 10 11 12 13");
    EXPECT_EQ(hex_dump({}), "");
}

/// Every line written, with strongSwan's level the sinks see.
struct Captured {
    std::mutex mu;
    std::vector<std::pair<int, std::string>> lines;
};

class LevelSink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    explicit LevelSink(Captured& c) : c_(c) {}

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        const std::lock_guard<std::mutex> lock(c_.mu);
        c_.lines.emplace_back(log::strongswan_level(msg.level),
                              std::string(msg.payload.data(), msg.payload.size()));
    }
    void flush_() override {}

private:
    Captured& c_;
};

void set_all_levels(int level) {
    spdlog::set_level(log::spdlog_level(level));
    for (std::size_t i = 0; i < log::kSubsystems; ++i) {
        log::set_level(static_cast<log::Subsystem>(i), level);
    }
}

/// One IKE SA set-up whose Child SA the responder's backend cannot install (as a kernel
/// without ESP): an exchange with something at every level, from the error (level 0) up.
std::vector<std::pair<int, std::string>> exchange_at(int level) {
    Harness h(7);
    PairConfig cfg = psk_pair();
    load(h, cfg, psk_credentials(), psk_credentials());
    h.b().backend.refuse = [](const ike::InstallSa&) { return true; };
    Captured c;
    const auto previous = spdlog::default_logger();
    spdlog::set_default_logger(
            std::make_shared<spdlog::logger>("levels", std::make_shared<LevelSink>(c)));
    set_all_levels(level);
    h.act(h.a(), [&](ike::Step& s) { EXPECT_TRUE(h.a().manager.initiate("conn", "net", s)); });
    h.run_for(std::chrono::seconds(10));
    set_all_levels(log::kRaw);
    spdlog::set_default_logger(previous);
    spdlog::set_level(spdlog::level::info);
    EXPECT_EQ(h.a().established().size(), 1U) << "level " << level;
    return std::move(c.lines);
}

TEST(LogLevels, EachLevelWritesMoreThanTheOneBelow) {
    std::map<int, std::vector<std::pair<int, std::string>>> out;
    for (int level = -1; level <= log::kRaw; ++level) {
        out[level] = exchange_at(level);
    }
    EXPECT_TRUE(out[-1].empty());
    for (int level = 0; level <= log::kRaw; ++level) {
        std::size_t own = 0;
        for (const auto& [l, text] : out[level]) {
            EXPECT_LE(l, level) << text;
            own += l == level ? 1U : 0U;
        }
        EXPECT_GT(out[level].size(), out[level - 1].size()) << "level " << level;
        EXPECT_GT(own, 0U) << "nothing at level " << level << " itself";
        // The lines below `level` are those the lower level wrote.
        std::size_t below = 0;
        for (const auto& [l, text] : out[level]) {
            below += l < level ? 1U : 0U;
        }
        EXPECT_EQ(below, out[level - 1].size()) << "level " << level;
    }
    bool payload_detail = false;
    bool hex = false;
    for (const auto& [l, text] : out[log::kRaw]) {
        payload_detail |= l == log::kControlMore && text.find("payload 1/") != std::string::npos;
        hex |= l == log::kRaw && text.find("\n   0: ") != std::string::npos;
    }
    EXPECT_TRUE(payload_detail);
    EXPECT_TRUE(hex);
}

}  // namespace
}  // namespace ikeplex::test
