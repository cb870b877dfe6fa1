// Forwards the daemon's log lines to VICI (the log and control-log events): parses the
// "[IKE] name[id] text" form every ikeplex log line has. Flushes the log once per turn of the
// event loop instead of once per line. The time of each line in a file or on stderr follows
// `log { time_format, time_add_ms }` (make_line_formatter).
#pragma once

#include <memory>
#include <mutex>

#include <asio/io_context.hpp>
#include <spdlog/details/null_mutex.h>
#include <spdlog/formatter.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>

#include "daemon/daemon.h"

namespace ikeplex::daemon {

/// "[IKE] t[3] message" -> group IKE, IKE SA t / 3, message; plain lines keep group "DMN".
LogLine parse_log_line(std::string_view text, spdlog::level::level_enum level);

/// The formatter of the lines of a file or stderr: the local time as strftime(3) `time_format`
/// writes it ("" : none), ".123" milliseconds after it if `add_ms`, a space, the message.
std::unique_ptr<spdlog::formatter> make_line_formatter(const std::string& time_format, bool add_ms);

class ViciLogSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
public:
    void attach(Daemon* d) { daemon_ = d; }

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override;
    void flush_() override {}

private:
    Daemon* daemon_{nullptr};
};

/// Log lines to stderr, buffered (spdlog's stderr sink flushes every line: one write(2) each);
/// flushed by FlushSoonSink and the logger's flush_on.
class StderrSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
protected:
    void sink_it_(const spdlog::details::log_msg& msg) override;
    void flush_() override;
};

/// Flushes a logger soon after a line, not per line: the first line after a flush posts one
/// flush to the event loop, which runs after the handlers already queued (the lines of one
/// IKE exchange, or of a burst of them, leave in one write; `tail -f` still sees each at
/// once). Warnings and errors are flushed at once by the logger (flush_on).
class FlushSoonSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
public:
    explicit FlushSoonSink(asio::io_context& io) : io_(io) {}
    void set_logger(std::weak_ptr<spdlog::logger> logger) { logger_ = std::move(logger); }

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override;
    void flush_() override {}

private:
    asio::io_context& io_;
    std::weak_ptr<spdlog::logger> logger_;
    bool pending_{false};
};

}  // namespace ikeplex::daemon
