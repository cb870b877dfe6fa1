#include "daemon/log_sink.h"

#include <charconv>
#include <cstdio>

#include <asio/post.hpp>

namespace ikeplex::daemon {

LogLine parse_log_line(std::string_view text, spdlog::level::level_enum level) {
    LogLine l;
    // spdlog levels as strongSwan's: errors and warnings are basic (0), info is audit (1),
    // debug control (2), trace raw (4).
    switch (level) {
        case spdlog::level::trace:
            l.level = 4;
            break;
        case spdlog::level::debug:
            l.level = 2;
            break;
        case spdlog::level::info:
            l.level = 1;
            break;
        default:
            l.level = 0;
            break;
    }
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
