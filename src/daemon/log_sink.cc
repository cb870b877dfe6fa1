#include "daemon/log_sink.h"

#include <array>
#include <charconv>
#include <cstdio>
#include <ctime>

#include <asio/post.hpp>
#include <spdlog/pattern_formatter.h>

#include "util/log.h"

namespace ikeplex::daemon {

LogLine parse_log_line(std::string_view text, spdlog::level::level_enum level) {
    LogLine l;
    l.level = log::strongswan_level(level);  // trace: 3 or 4, as the writer said
    l.group = "DMN";
    if (text.size() > 5 && text[0] == '[' && text[4] == ']' && text[5] == ' ') {
        l.group = std::string(text.substr(1, 3));
        text.remove_prefix(6);
    }
    // "name[id] " prefix of IKE SA lines.
    const auto space = text.find(' ');
    const auto open = text.find('[');
    if (space != std::string_view::npos && open != std::string_view::npos && open < space &&
        space > 0 && text[space - 1] == ']') {
        std::uint32_t id = 0;
        const std::string_view digits = text.substr(open + 1, space - 1 - open - 1);
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
        if (ec == std::errc() && end == digits.data() + digits.size() && !digits.empty()) {
            l.ike_name = std::string(text.substr(0, open));
            l.ike_id = id;
            text.remove_prefix(space + 1);
        }
    }
    l.msg = std::string(text);
    return l;
}

namespace {

/// spdlog's pattern flag for the time as ikeplexd.conf's time_format writes it (spdlog's own
/// time flags differ from strftime's: its %e is milliseconds).
class TimeFlag final : public spdlog::custom_flag_formatter {
public:
    TimeFlag(std::string format, bool add_ms) : format_(std::move(format)), add_ms_(add_ms) {}

    void format(const spdlog::details::log_msg& msg, const std::tm& /*tm_time*/,
                spdlog::memory_buf_t& dest) override {
        // Local time of our own: spdlog fills `tm_time` only for patterns with its time flags.
        const std::time_t t = std::chrono::system_clock::to_time_t(msg.time);
        std::tm local{};
        ::localtime_r(&t, &local);
        std::array<char, 256> buf{};
        const std::size_t n = std::strftime(buf.data(), buf.size(), format_.c_str(), &local);
        dest.append(buf.data(), buf.data() + n);
        if (add_ms_) {
            const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    msg.time.time_since_epoch())
                                    .count() %
                            1000;
            fmt::format_to(std::back_inserter(dest), ".{:03}", ms);
        }
    }

    [[nodiscard]] std::unique_ptr<spdlog::custom_flag_formatter> clone() const override {
        return std::make_unique<TimeFlag>(format_, add_ms_);
    }

private:
    std::string format_;
    bool add_ms_;
};

}  // namespace

std::unique_ptr<spdlog::formatter> make_line_formatter(const std::string& time_format,
                                                       bool add_ms) {
    auto f = std::make_unique<spdlog::pattern_formatter>();
    if (time_format.empty() && !add_ms) {
        f->set_pattern("%v");
    } else {
        f->add_flag<TimeFlag>('*', time_format, add_ms).set_pattern("%* %v");
    }
    return f;
}

void ViciLogSink::sink_it_(const spdlog::details::log_msg& msg) {
    if (daemon_ != nullptr && daemon_->wants_log()) {
        daemon_->on_log(parse_log_line(std::string_view(msg.payload.data(), msg.payload.size()),
                                       msg.level));
    }
}

void StderrSink::sink_it_(const spdlog::details::log_msg& msg) {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    std::fwrite(formatted.data(), 1, formatted.size(), stderr);
}

void StderrSink::flush_() {
    std::fflush(stderr);
}

void FlushSoonSink::sink_it_(const spdlog::details::log_msg& /*msg*/) {
    if (pending_) {
        return;
    }
    pending_ = true;
    asio::post(io_, [this] {
        pending_ = false;
        if (auto logger = logger_.lock()) {
            logger->flush();
        }
    });
}

}  // namespace ikeplex::daemon
