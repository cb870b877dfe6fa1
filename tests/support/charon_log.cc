#include "charon_log.h"

#include <algorithm>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

#include "util/hex.h"
#include "vectors.h"

namespace ikeplex::test {

CharonLog::CharonLog(const std::string& text) {
    static const std::regex kHead(R"re(^\S+ (\d+)\[(\w+)\] (.*) => (\d+) bytes @ )re");
    static const std::regex kLine(
            R"re(^\S+ (\d+)\[(\w+)\]\s+\d+: ((?:[0-9A-F]{2} )*[0-9A-F]{2}))re");
    std::istringstream in(text);
    std::string line;
    std::string thread;
    std::size_t expected = 0;
    while (std::getline(in, line)) {
        std::smatch m;
        if (std::regex_search(line, m, kHead)) {
            dumps_.push_back({m[3], m[2], {}});
            thread = m[1];
            expected = std::stoul(m[4]);
            continue;
        }
        if (!dumps_.empty() && dumps_.back().bytes.size() < expected &&
            std::regex_search(line, m, kLine) && m[1] == thread) {
            const Bytes b = from_hex(m[3].str()).value();
            dumps_.back().bytes.insert(dumps_.back().bytes.end(), b.begin(), b.end());
        }
    }
}

CharonLog CharonLog::load(const std::string& relative) {
    return CharonLog(read_vector_text(relative));
}

Bytes CharonLog::get(const std::string& label, std::size_t n) const {
    std::size_t seen = 0;
    for (const LogDump& d : dumps_) {
        if (d.label == label && seen++ == n) {
            return d.bytes;
        }
    }
    ADD_FAILURE() << "no dump #" << n << " labelled '" << label << "'";
    return {};
}

std::size_t CharonLog::count(const std::string& label) const {
    return static_cast<std::size_t>(std::count_if(
            dumps_.begin(), dumps_.end(), [&](const LogDump& d) { return d.label == label; }));
}

}  // namespace ikeplex::test
