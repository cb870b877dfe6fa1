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

/// Maps `text` as "swanctl.conf" and runs check_secrets on it.
inline Loaded load_checked(std::string_view text) {
    Findings f;
    Loaded out;
    const Section root = parse_ok(text, no_files(), "swanctl.conf");
    out.config = load_swanctl(root, CredentialDirs{}, f, no_files());
    check_secrets(out.config, f);
    for (const Diagnostic& d : f.errors) {
        out.errors.push_back(d.to_string());
    }
    for (const Diagnostic& d : f.warnings) {
        out.warnings.push_back(d.to_string());
    }
    return out;
}

}  // namespace ikeplex::config::test
