// Helpers shared by the settings-syntax tests.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "config/settings.h"

namespace ikeplex::config::test {

/// An in-memory file system with no files (includes match nothing).
inline const MemoryFileSystem& no_files() {
    static const MemoryFileSystem fs;
    return fs;
}

/// The diagnostics of parsing `text` as "test.conf", as "file:line: message" strings.
inline std::vector<std::string> errors_of(std::string_view text, const FileSystem& fs = no_files(),
                                          std::string_view file = "test.conf") {
    std::vector<Diagnostic> diags;
    auto r = parse_settings(text, file, diags, fs);
    EXPECT_EQ(r.has_value(), diags.empty());
    if (!r) {
        EXPECT_EQ(r.error().code, Errc::kConfig);
    }
    std::vector<std::string> out;
    out.reserve(diags.size());
    for (const Diagnostic& d : diags) {
        out.push_back(d.to_string());
    }
    return out;
}

/// Parses `text` that must be valid; on diagnostics the test fails and an empty tree results.
inline Section parse_ok(std::string_view text, const FileSystem& fs = no_files(),
                        std::string_view file = "test.conf") {
    std::vector<Diagnostic> diags;
    auto r = parse_settings(text, file, diags, fs);
    for (const Diagnostic& d : diags) {
        ADD_FAILURE() << d.to_string();
    }
    return r ? std::move(*r) : Section{};
}

/// The tree without positions, for comparing content.
inline Section strip_positions(Section s) {
    s.pos = {};
    for (Setting& setting : s.settings) {
        setting.pos = {};
    }
    for (Section& child : s.sections) {
        child = strip_positions(std::move(child));
    }
    return s;
}

/// An empty section with a name and references.
inline Section named(std::string name, std::vector<std::string> references = {}) {
    Section s;
    s.name = std::move(name);
    s.references = std::move(references);
    return s;
}

/// Names of the settings of a section, in order.
inline std::vector<std::string> setting_names(const Section& s) {
    std::vector<std::string> out;
    for (const Setting& setting : s.settings) {
        out.push_back(setting.name);
    }
    return out;
}

/// Names of the child sections, in order.
inline std::vector<std::string> section_names(const Section& s) {
    std::vector<std::string> out;
    for (const Section& child : s.sections) {
        out.push_back(child.name);
    }
    return out;
}

}  // namespace ikeplex::config::test
