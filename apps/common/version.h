// The `--version` text that ikeplexd and ikeplex print: the version (CMake's PROJECT_VERSION),
// the git revision of the tree it was built from (`git describe --always --dirty` at build
// time, "unknown" outside git), the backends compiled in, and the crypto libraries with the
// versions in use at run time. The version and revision live in one generated source
// (cmake/GitRevision.cmake), so a new revision recompiles that file only.
#pragma once

#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

namespace ikeplex::apps {

/// The version as built, e.g. "0.1.0".
std::string_view build_version() noexcept;

/// The git revision as built, e.g. "eed38b0" or "eed38b0-dirty"; "unknown" outside git.
std::string_view build_revision() noexcept;

/// Several lines, no final newline:
///   ikeplexd 0.1.0
///   revision: eed38b0-dirty
///   backends: userspace, xfrm, none
///   crypto: OpenSSL 3.0.17 1 Jul 2025, Intel IPsec-MB 1.3.0
std::string version_text(std::string_view program);

/// `--version` on `app`: prints version_text(program) and ends parsing (app.exit(e) returns 0).
void add_version_flag(CLI::App& app, std::string_view program);

}  // namespace ikeplex::apps
