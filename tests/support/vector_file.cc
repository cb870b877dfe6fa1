#include "vector_file.h"

#include <sstream>

#include <gtest/gtest.h>

#include "util/hex.h"
#include "vectors.h"

namespace ikeplex::test {
namespace {
std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) {
        return {};
    }
    const auto e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
}
}  // namespace

Bytes Vector::bytes(const std::string& field) const {
    auto it = raw.find(field);
    if (it == raw.end()) {
        ADD_FAILURE() << name << ": no field " << field;
        return {};
    }
    auto b = from_hex(it->second);
    if (!b) {
        ADD_FAILURE() << name << ": field " << field << " is not hex";
        return {};
    }
    return *b;
}

std::string Vector::text(const std::string& field) const {
    auto it = raw.find(field);
    if (it == raw.end()) {
        ADD_FAILURE() << name << ": no field " << field;
        return {};
    }
    return it->second;
}

std::vector<Vector> parse_vectors(const std::string& text) {
    std::vector<Vector> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        line = trim(line);
        if (line.empty() || line[0] == '#') {
            continue;
        }
        if (line.front() == '[' && line.back() == ']') {
            out.push_back({line.substr(1, line.size() - 2), {}, {}});
            continue;
        }
        const auto eq = line.find('=');
        if (eq == std::string::npos || out.empty()) {
            continue;
        }
        const std::string key = trim(line.substr(0, eq));
        std::string value = trim(line.substr(eq + 1));
        bool quoted = false;
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
            value = value.substr(1, value.size() - 2);
            quoted = true;
        }
        if (out.back().raw.count(key) != 0 && !quoted) {
            out.back().raw[key] += value;  // a hex value continued on a repeated key line
        } else {
            out.back().raw[key] = value;
        }
        out.back().is_text[key] = quoted;
    }
    return out;
}

std::vector<Vector> load_vectors(const std::string& relative) {
    auto v = parse_vectors(read_vector_text(relative));
    EXPECT_FALSE(v.empty()) << relative << " has no vectors";
    return v;
}

}  // namespace ikeplex::test
