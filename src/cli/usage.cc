#include "cli/usage.h"

#include <algorithm>

#include <fmt/format.h>

namespace ikeplex::cli {

std::size_t edit_distance(std::string_view a, std::string_view b) {
    // Optimal string alignment: three rows of the dynamic programme.
    std::vector<std::size_t> before(b.size() + 1);
    std::vector<std::size_t> prev(b.size() + 1);
    std::vector<std::size_t> cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) {
        prev[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
                cur[j] = std::min(cur[j], before[j - 2] + 1);
            }
        }
        before.swap(prev);
        prev.swap(cur);
    }
    return prev[b.size()];
}

std::string nearest_command(std::string_view word, const std::vector<CommandHelp>& commands) {
    std::string best;
    std::size_t best_distance = 0;
    for (const auto& [name, help] : commands) {
        const std::size_t d = edit_distance(word, name);
        if (best.empty() || d < best_distance) {
            best = name;
            best_distance = d;
        }
    }
    if (best.empty() || best_distance > 2 || 2 * best_distance >= word.size()) {
        return {};
    }
    return best;
}

void print_unknown_command(std::string_view word, const std::vector<CommandHelp>& commands,
                           std::ostream& err) {
    if (word.empty()) {
        err << "ikeplex: a command is required\n";
    } else {
        const std::string near = nearest_command(word, commands);
        err << fmt::format("ikeplex: unknown command '{}'", word)
            << (near.empty() ? "" : fmt::format(" (did you mean '{}'?)", near)) << '\n';
    }
    std::size_t width = 0;
    for (const auto& c : commands) {
        width = std::max(width, c.first.size());
    }
    err << "commands:\n";
    for (const auto& [name, help] : commands) {
        err << fmt::format("  {:<{}}  {}\n", name, width, help);
    }
    err << "run 'ikeplex COMMAND --help' for a command's options\n";
}

}  // namespace ikeplex::cli
