// Shell completion for ikeplex, generated from its CLI11 definition so that it cannot drift from
// the commands and flags the program really has: `ikeplex --completion bash` prints a bash
// script (the build writes it to share/bash-completion/completions/ikeplex; ikeplex(8)).
//
// What it completes: subcommands (at any depth), each command's own options (short and long
// names, help included), the files for options whose long name is `--file` or `--config`, and
// nothing for the other options that take a value. Hidden options (group "") are left out.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace ikeplex::apps {

/// The bash completion script for `app`, the command `program`.
std::string bash_completion(const CLI::App& app, const std::string& program);

/// Adds the hidden option `--completion SHELL` to `app`: when given, the script for SHELL
/// ("bash") is printed on stdout and parsing ends as CLI::Success (app.exit(e) returns 0);
/// another shell is a CLI::ValidationError. Call it after every subcommand and option is added.
void add_completion_option(CLI::App& app, const std::string& program);

}  // namespace ikeplex::apps
