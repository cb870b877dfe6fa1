// Forwards the daemon's log lines to VICI (the log and control-log events): parses the
// "[IKE] name[id] text" form every ikeplex log line has.
#pragma once

#include <mutex>

#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>

#include "daemon/daemon.h"

namespace ikeplex::daemon {

/// "[IKE] t[3] message" -> group IKE, IKE SA t / 3, message; plain lines keep group "DMN".
LogLine parse_log_line(std::string_view text, spdlog::level::level_enum level);

class ViciLogSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
public:
    void attach(Daemon* d) { daemon_ = d; }

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override;
    void flush_() override {}

private:
    Daemon* daemon_{nullptr};
};

}  // namespace ikeplex::daemon
