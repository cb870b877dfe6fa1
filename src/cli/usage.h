// What `ikeplex` says when the command line names no command it knows: the nearest command
// ("did you mean"), the list of commands, and the exit status of a usage error.
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ikeplex::cli {

/// The exit status of a usage error (an unknown command, or none), as most tools use it: 2.
inline constexpr int kUsageError = 2;

/// A command and its one-line description.
using CommandHelp = std::pair<std::string, std::string>;

/// Edit distance between `a` and `b` counting insertions, deletions, substitutions and swaps
/// of two neighbouring characters as one each ("lsit" is one from "list").
std::size_t edit_distance(std::string_view a, std::string_view b);

/// The command nearest to `word`, if it is near enough to be a typo (at most 2 edits, and
/// fewer than half of the word); "" otherwise. Ties go to the first in `commands`.
std::string nearest_command(std::string_view word, const std::vector<CommandHelp>& commands);

/// `ikeplex: unknown command 'W' (did you mean 'C'?)` (the hint only when a command is near),
/// then the commands with their descriptions. `word` empty: "a command is required".
void print_unknown_command(std::string_view word, const std::vector<CommandHelp>& commands,
                           std::ostream& err);

}  // namespace ikeplex::cli
