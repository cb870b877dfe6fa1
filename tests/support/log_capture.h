// Captures the engine's log lines in tests, tagged with the node that wrote them, so a test can
// check what an operator would read ("peer answered NO_PROPOSAL_CHOSEN"). Set IKEPLEX_LOG=1 to
// also print them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ikeplex::test {

class LogCapture {
public:
    /// Installs the capturing logger at info level (debug with IKEPLEX_LOG=debug).
    static void install();
    /// Lines written while `node` acted ("a", "b"), oldest first.
    static std::vector<std::string> lines(std::string_view node);
    /// Whether any line of `node` contains `needle`.
    static bool contains(std::string_view node, std::string_view needle);
    static void clear();
    /// The node whose lines are being written (set by the harness around each call).
    static void set_current(std::string_view node);
    /// Capture off (the simulator: only warnings and errors, printed).
    static void quiet();
};

}  // namespace ikeplex::test
