// A swanctl.conf text mapped as the daemon maps it, with its diagnostics as strings (shared by
// the swanctl tests that check messages; load_secrets by those of encrypted credentials).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/swanctl.h"
#include "settings_test_util.h"

namespace ikeplex::config::test {

struct Loaded {
    SwanctlConfig config;
    std::vector<std::string> errors;
    std::vector<std::string> warnings;
};

/// `f`'s errors and warnings into `out` as `file:line: what`.
inline void add_findings(const Findings& f, Loaded& out) {
    for (const Diagnostic& d : f.errors) {
        out.errors.push_back(d.to_string());
    }
    for (const Diagnostic& d : f.warnings) {
        out.warnings.push_back(d.to_string());
    }
}

/// Maps `text` as the file "swanctl.conf" (no credential folders); `check`: also runs
/// check_secrets on it, as the daemon's load does.
inline Loaded load_swanctl_text(std::string_view text, const FileSystem& fs = no_files(),
                                bool check = false) {
    Findings f;
    Loaded out;
    const Section root = parse_ok(text, fs, "swanctl.conf");
    out.config = load_swanctl(root, CredentialDirs{}, f, fs);
    if (check) {
        check_secrets(out.config, f);
    }
    add_findings(f, out);
    return out;
}

/// Maps `text` as "swanctl.conf" and runs check_secrets on it.
inline Loaded load_checked(std::string_view text) {
    return load_swanctl_text(text, no_files(), true);
}

/// Loads the file /sw/swanctl.conf, `secrets {\n<secrets>}\n`, from `fs` (which holds the
/// credential folders under /sw/) as the daemon loads one; no error may repeat `passphrase`.
inline Loaded load_secrets(MemoryFileSystem& fs, const std::string& secrets,
                           std::string_view passphrase) {
    fs.add("/sw/swanctl.conf", "secrets {\n" + secrets + "}\n");
    Findings f;
    Loaded out;
    auto r = load_swanctl_file("/sw/swanctl.conf", f, fs);
    EXPECT_TRUE(r);
    if (r) {
        out.config = std::move(*r);
    }
    for (const Diagnostic& d : f.errors) {
        EXPECT_THAT(d.message, ::testing::Not(::testing::HasSubstr(std::string(passphrase))));
    }
    add_findings(f, out);
    return out;
}

}  // namespace ikeplex::config::test
