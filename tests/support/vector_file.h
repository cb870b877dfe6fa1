// Reader for the project's test-vector text files (tests/vectors/rfc, tests/vectors/nist):
//   # comment
//   [name]
//   field = 00 11 22        (hex, spaces allowed; empty = zero length)
//   field = "text"          (quoted ASCII)
#pragma once

#include <map>
#include <string>
#include <vector>

#include "util/bytes.h"

namespace ikeplex::test {

struct Vector {
    std::string name;
    std::map<std::string, std::string> raw;  ///< values as written (quotes removed from text)
    std::map<std::string, bool> is_text;

    [[nodiscard]] bool has(const std::string& field) const { return raw.count(field) != 0; }
    /// A hex field as bytes (fails the test if missing or not hex).
    [[nodiscard]] Bytes bytes(const std::string& field) const;
    /// A quoted field as text (fails the test if missing).
    [[nodiscard]] std::string text(const std::string& field) const;
};

/// All vectors of tests/vectors/<relative>; fails the test if the file has none.
std::vector<Vector> load_vectors(const std::string& relative);
std::vector<Vector> parse_vectors(const std::string& text);

}  // namespace ikeplex::test
