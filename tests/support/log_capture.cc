#include "log_capture.h"

#include <cstdlib>
#include <deque>
#include <iostream>
#include <mutex>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

namespace ikeplex::test {
namespace {

constexpr std::size_t kMaxLines = 20000;

struct Store {
    std::mutex mu;
    std::string current{"-"};
    std::deque<std::pair<std::string, std::string>> lines;
};

Store& store() {
    static Store s;
    return s;
}

class CaptureSink final : public spdlog::sinks::base_sink<std::mutex> {
protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        Store& s = store();
        std::string text(msg.payload.begin(), msg.payload.end());
        const char* env = std::getenv("IKEPLEX_LOG");
        if (env != nullptr && *env != '\0') {
            std::cerr << s.current << ": " << text << '\n';
        }
        std::lock_guard<std::mutex> lock(s.mu);
        s.lines.emplace_back(s.current, std::move(text));
        if (s.lines.size() > kMaxLines) {
            s.lines.pop_front();
        }
    }
    void flush_() override {}
};

}  // namespace

void LogCapture::install() {
    static const bool done = [] {
        auto logger =
                std::make_shared<spdlog::logger>("ikeplex-test", std::make_shared<CaptureSink>());
        spdlog::set_default_logger(logger);
        return true;
    }();
    (void)done;
    const char* env = std::getenv("IKEPLEX_LOG");
    spdlog::set_level(env != nullptr && std::string_view(env) == "debug" ? spdlog::level::debug
                                                                         : spdlog::level::info);
}

void LogCapture::quiet() {
    install();
    const char* env = std::getenv("IKEPLEX_LOG");
    if (env == nullptr || *env == '\0') {
        spdlog::set_level(spdlog::level::warn);
    }
}

std::vector<std::string> LogCapture::lines(std::string_view node) {
    Store& s = store();
    std::lock_guard<std::mutex> lock(s.mu);
    std::vector<std::string> out;
    for (const auto& [n, l] : s.lines) {
        if (n == node) {
            out.push_back(l);
        }
    }
    return out;
}

bool LogCapture::contains(std::string_view node, std::string_view needle) {
    for (const std::string& l : lines(node)) {
        if (l.find(needle) != std::string::npos) {
            return true;
        }
    }
    return false;
}

void LogCapture::clear() {
    Store& s = store();
    std::lock_guard<std::mutex> lock(s.mu);
    s.lines.clear();
}

void LogCapture::set_current(std::string_view node) {
    Store& s = store();
    std::lock_guard<std::mutex> lock(s.mu);
    s.current = std::string(node);
}

}  // namespace ikeplex::test
