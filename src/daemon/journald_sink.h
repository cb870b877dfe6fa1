// `log { target = journald }`: each log line as a native journal entry (sd_journal_sendv(3))
// with structured fields beside MESSAGE:
//   PRIORITY            syslog's level: 3 error, 4 warning, 6 level 1 (audit), 7 levels 2..4
//   SYSLOG_IDENTIFIER   ikeplexd
//   IKEPLEX_SUBSYS      the group ("IKE", "CHD", ...; "DMN" for lines without one)
//   IKEPLEX_LEVEL       strongSwan's level of the line (0..4)
//   IKEPLEX_IKE_SA_NAME, IKEPLEX_IKE_SA_ID   from a line's "name[id]" prefix
//   IKEPLEX_CHILD_SA_ID the id of the first "CHILD_SA name{id}" the line names
//   IKEPLEX_CPU         the N of the first "cpu N" the line names (an RFC 9611 resource)
// `journalctl -u ikeplexd IKEPLEX_IKE_SA_NAME=home` shows one connection's lines.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>

namespace ikeplex::daemon {

/// The journal fields of one log line, "KEY=value" each, MESSAGE first.
std::vector<std::string> journal_fields(std::string_view text, spdlog::level::level_enum level);

/// The id of the first "CHILD_SA name{id}" in `text`.
std::optional<std::uint32_t> child_sa_id_in(std::string_view text);
/// The N of the first "cpu N" (a whole word, any case) in `text`.
std::optional<std::uint32_t> cpu_in(std::string_view text);

class JournaldSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
protected:
    void sink_it_(const spdlog::details::log_msg& msg) override;
    void flush_() override {}
};

}  // namespace ikeplex::daemon
