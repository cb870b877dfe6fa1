#include "tshark.h"

#include <array>
#include <regex>

#include <gtest/gtest.h>
#include <stdio.h>
#include <stdlib.h>

namespace ikeplex::test {

namespace fs = std::filesystem;

std::string tshark_path() {
    return IKEPLEX_TSHARK;
}

namespace {
std::string quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) {
        if (c == '\'') {
            q += "'\\''";
        } else {
            q += c;
        }
    }
    return q + "'";
}
}  // namespace

std::string tshark_json(const fs::path& pcap, const std::vector<std::string>& args,
                        const fs::path& config_dir) {
    std::string cmd;
    if (!config_dir.empty()) {
        cmd += "WIRESHARK_CONFIG_DIR=" + quote(config_dir.string()) + " ";
    }
    cmd += "timeout 60 " + quote(tshark_path()) + " -r " + quote(pcap.string()) + " -T json";
    for (const std::string& a : args) {
        cmd += " " + quote(a);
    }
    cmd += " 2>/dev/null";
    FILE* p = popen(cmd.c_str(), "r");
    if (p == nullptr) {
        ADD_FAILURE() << "cannot run " << cmd;
        return {};
    }
    std::string out;
    std::array<char, 65536> buf{};
    std::size_t n = 0;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) {
        out.append(buf.data(), n);
    }
    const int status = pclose(p);
    EXPECT_EQ(status, 0) << "tshark failed: " << cmd;
    return out;
}

std::vector<std::string> tshark_problems(const std::string& json) {
    std::vector<std::string> problems;
    // Frames appear in order; remember the last frame number seen before each finding.
    static const std::regex kFrame(R"re("frame\.number": "(\d+)")re");
    static const std::regex kSeverity(R"re("_ws\.expert\.severity": "(\d+)")re");
    static const std::regex kMessage(R"re("_ws\.expert\.message": "([^"]*)")re");
    std::string frame = "?";
    std::string last_message;
    std::size_t pos = 0;
    while (pos < json.size()) {
        std::size_t eol = json.find('\n', pos);
        if (eol == std::string::npos) {
            eol = json.size();
        }
        const std::string line = json.substr(pos, eol - pos);
        std::smatch m;
        if (std::regex_search(line, m, kFrame)) {
            frame = m[1];
        } else if (std::regex_search(line, m, kMessage)) {
            last_message = m[1];
        } else if (std::regex_search(line, m, kSeverity)) {
            // 0x00600000 = warning, 0x00800000 = error (epan/proto.h PI_WARN / PI_ERROR)
            if (std::stoul(m[1]) >= 0x00600000UL) {
                problems.push_back("frame " + frame + ": expert: " + last_message);
            }
        } else if (line.find("\"_ws.malformed\"") != std::string::npos) {
            problems.push_back("frame " + frame + ": malformed packet");
        }
        pos = eol + 1;
    }
    return problems;
}

std::size_t count_occurrences(const std::string& haystack, const std::string& needle) {
    std::size_t n = 0;
    for (std::size_t pos = haystack.find(needle); pos != std::string::npos;
         pos = haystack.find(needle, pos + needle.size())) {
        ++n;
    }
    return n;
}

TempDir::TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "ikeplex-test.XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) {
        ADD_FAILURE() << "mkdtemp failed";
    }
    path_ = tmpl;
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
}

}  // namespace ikeplex::test
