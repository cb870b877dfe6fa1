#include "daemon/journald_sink.h"

#include <cctype>
#include <charconv>

#include <sys/uio.h>

#include <systemd/sd-journal.h>

#include "daemon/log_sink.h"

namespace ikeplex::daemon {

namespace {

/// The number at the start of `text`, if it is all digits up to `end` (or its end).
std::optional<std::uint32_t> number_at(std::string_view text, char end) {
    std::uint32_t v = 0;
    const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || p == text.data()) {
        return std::nullopt;
    }
    const auto used = static_cast<std::size_t>(p - text.data());
    if (end != '\0' && (used >= text.size() || text[used] != end)) {
        return std::nullopt;
    }
    if (end == '\0' && used < text.size() &&
        std::isalnum(static_cast<unsigned char>(text[used])) != 0) {
        return std::nullopt;
    }
    return v;
}

int priority(spdlog::level::level_enum level, int strongswan_level) {
    switch (level) {
        case spdlog::level::critical:
        case spdlog::level::err:
            return 3;  // LOG_ERR
        case spdlog::level::warn:
            return 4;  // LOG_WARNING
        default:
            return strongswan_level <= 1 ? 6 : 7;  // LOG_INFO, LOG_DEBUG
    }
}

}  // namespace

std::optional<std::uint32_t> child_sa_id_in(std::string_view text) {
    constexpr std::string_view kTag = "CHILD_SA ";
    const auto at = text.find(kTag);
    if (at == std::string_view::npos) {
        return std::nullopt;
    }
    text.remove_prefix(at + kTag.size());
    const auto space = text.find(' ');
    const auto open = text.find('{');
    if (open == std::string_view::npos || (space != std::string_view::npos && space < open)) {
        return std::nullopt;
    }
    return number_at(text.substr(open + 1), '}');
}

std::optional<std::uint32_t> cpu_in(std::string_view text) {
    for (std::size_t i = 0; i + 4 < text.size(); ++i) {
        const bool word_start =
                i == 0 || std::isalnum(static_cast<unsigned char>(text[i - 1])) == 0;
        if (!word_start || (text[i] != 'c' && text[i] != 'C') ||
            std::toupper(static_cast<unsigned char>(text[i + 1])) != 'P' ||
            std::toupper(static_cast<unsigned char>(text[i + 2])) != 'U' || text[i + 3] != ' ') {
            continue;
        }
        if (auto n = number_at(text.substr(i + 4), '\0')) {
            return n;
        }
    }
    return std::nullopt;
}

std::vector<std::string> journal_fields(std::string_view text, spdlog::level::level_enum level) {
    const LogLine l = parse_log_line(text, level);
    std::vector<std::string> f;
    f.reserve(9);
    f.push_back("MESSAGE=" + std::string(text));
    f.push_back("PRIORITY=" + std::to_string(priority(level, l.level)));
    f.emplace_back("SYSLOG_IDENTIFIER=ikeplexd");
    f.push_back("IKEPLEX_SUBSYS=" + l.group);
    f.push_back("IKEPLEX_LEVEL=" + std::to_string(l.level));
    if (!l.ike_name.empty()) {
        f.push_back("IKEPLEX_IKE_SA_NAME=" + l.ike_name);
        f.push_back("IKEPLEX_IKE_SA_ID=" + std::to_string(l.ike_id));
    }
    if (auto c = child_sa_id_in(l.msg)) {
        f.push_back("IKEPLEX_CHILD_SA_ID=" + std::to_string(*c));
    }
    if (auto c = cpu_in(l.msg)) {
        f.push_back("IKEPLEX_CPU=" + std::to_string(*c));
    }
    return f;
}

void JournaldSink::sink_it_(const spdlog::details::log_msg& msg) {
    const auto fields =
            journal_fields(std::string_view(msg.payload.data(), msg.payload.size()), msg.level);
    std::vector<iovec> iov;
    iov.reserve(fields.size());
    for (const std::string& f : fields) {
        // sd_journal_sendv only reads the buffers (its iovec is not const).
        iov.push_back(iovec{const_cast<char*>(f.data()), f.size()});  // NOLINT
    }
    // A journal that is not there loses the line (as syslog(3) would): nothing to report it to.
    (void)sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
}

}  // namespace ikeplex::daemon
