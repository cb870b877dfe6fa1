// A swanctl.conf text mapped as the daemon maps it, with its diagnostics as strings (shared by
// the swanctl tests that check messages).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/swanctl.h"
#include "settings_test_util.h"

namespace ikeplex::config::test {

struct Loaded {
    SwanctlConfig config;
    std::vector<std::string> errors;
    std::vector<std::string> warnings;
};

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
    for (const Diagnostic& d : f.errors) {
        out.errors.push_back(d.to_string());
    }
    for (const Diagnostic& d : f.warnings) {
        out.warnings.push_back(d.to_string());
    }
    return out;
}

/// Maps `text` as "swanctl.conf" and runs check_secrets on it.
inline Loaded load_checked(std::string_view text) {
    return load_swanctl_text(text, no_files(), true);
}

}  // namespace ikeplex::config::test
