// Hex encoding and decoding (test vectors, logs of public values, config).
#pragma once

#include <string>
#include <string_view>

#include "util/bytes.h"
#include "util/result.h"

namespace ikeplex {

/// Lower-case hex, no separators.
std::string to_hex(ByteView data);
/// A hex dump for logs: 16 bytes a line, each "   0: 2a 3b ... " with its offset in hex, lines
/// joined by '\n' (no trailing newline; empty for no data).
std::string hex_dump(ByteView data);
/// Parses hex digits; ASCII whitespace and ':' separators are skipped, an optional "0x" prefix
/// is accepted. kInvalidSyntax on an odd digit count or a non-hex character.
Result<Bytes> from_hex(std::string_view text);

}  // namespace ikeplex
